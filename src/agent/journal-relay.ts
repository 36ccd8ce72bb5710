// Relays the session's emitted events to the journal (append-only JSONL): each turn once, when its
// text is final; summaries and seeds as `summary` entries; a transcript that arrives after the turn
// was journaled as [inaudible]; deletes, truncations, errors; one `usage` entry per in-band response
// (its cost, so a store can list what a conversation cost); at stop, every turn not yet written.
import { isSummary } from '../conversation/policy.js';
import { AgentError, redact } from '../errors.js';
import type { SessionEmitted } from '../../machines/session.machine.js';
import type { JournalEntry } from '../conversation/journal.js';
import type { Turn } from '../conversation/turn.js';
import type { ToolCallEvent } from '../tools/types.js';

export interface JournalSink {
  /** The journal file (null: a database store). */
  readonly path: string | null;
  write(entry: JournalEntry): void;
}

export interface JournalRelay {
  /** Journals what this emitted event means (no-op for events the journal does not keep). */
  relay(e: SessionEmitted): void;
  /** At stop: turns that never became final still belong in the journal; then the end line. */
  end(mirror: readonly Turn[], reason: string): void;
  /** A settled tool call with its duration (measured by the agent). */
  tool(call: ToolCallEvent): void;
}

export function createJournalRelay(
  journal: JournalSink | null,
  secrets: readonly string[],
  view: { mirror(): readonly Turn[]; window(): number; safeUrl(url: string): string },
  onError: (e: AgentError) => void,
): JournalRelay {
  const journaled = new Set<string>();
  const inaudible = new Set<string>();
  let costJournaled = 0;
  const safely = (fn: () => void) => {
    if (!journal) return;
    try {
      fn();
    } catch (e) {
      onError(new AgentError('journal_failed', `cannot write the journal${journal.path ? ` ${journal.path}` : ''}: ${(e as Error).message}; check the path and free space`));
    }
  };
  const turn = (t: Turn) => {
    // Summaries and seeds are journaled as `summary` entries, never as turns.
    if (!journal || journaled.has(t.id) || isSummary(t) || t.textState === 'pending') return;
    journaled.add(t.id);
    if (t.textState === 'inaudible') inaudible.add(t.id);
    const mirror = view.mirror();
    const at = mirror.findIndex((m) => m.id === t.id);
    const prev = at > 0 ? mirror[at - 1].id : at === 0 ? null : undefined;
    journal.write({ type: 'turn', id: t.id, role: t.role, kind: t.kind, text: t.text, textState: t.textState, prev, callId: t.callId, name: t.name });
  };
  return {
    relay(e) {
      switch (e.type) {
        case 'turn':
          safely(() => turn(e.turn));
          break;
        case 'transcript':
          // A transcript that arrives after the retry loop gave up still reaches the journal.
          if (e.transcript.final && e.transcript.source !== 'inaudible' && inaudible.has(e.transcript.itemId)) {
            inaudible.delete(e.transcript.itemId);
            safely(() => journal!.write({ type: 'transcript', id: e.transcript.itemId, text: e.transcript.text }));
          }
          break;
        case 'window':
          safely(() => journal!.write({ type: 'usage', responseId: e.window.responseId, tokens: e.window.tokens, usd: e.window.costUsd - costJournaled }));
          costJournaled = e.window.costUsd;
          break;
        case 'summary.inserted':
          safely(() => journal!.write({ type: 'summary', id: e.id, text: e.text, replaces: e.replaces, windowBefore: view.window() }));
          break;
        case 'deleted':
          safely(() => journal!.write({ type: 'delete', id: e.id }));
          break;
        case 'truncated':
          safely(() => journal!.write({ type: 'truncate', id: e.id, audioEndMs: e.audioEndMs, text: e.text }));
          break;
        case 'error':
          safely(() => journal!.write({ type: 'error', code: e.error.code, message: redact(e.error.message, secrets) }));
          break;
        case 'session':
          safely(() => journal!.write({ type: 'session', sessionId: e.info.id, model: e.info.model, url: view.safeUrl(e.info.url), dialect: e.info.dialect, expiresAt: e.info.expiresAt }));
          break;
        default:
          break;
      }
    },
    tool(call) {
      safely(() => journal!.write({ type: 'tool', ...call }));
    },
    end(mirror, reason) {
      safely(() => {
        for (const t of mirror) {
          if (journaled.has(t.id) || isSummary(t)) continue;
          journaled.add(t.id);
          journal!.write({ type: 'turn', id: t.id, role: t.role, kind: t.kind, text: t.text, textState: t.textState });
        }
        journal!.write({ type: 'end', reason });
      });
    },
  };
}
