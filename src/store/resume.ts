// What a resumed conversation starts with: the store's live summaries (those no later summary or seed
// replaced) and the turns none of them covers, as one seed item (the reconnect path's buildSeed), plus
// the numbers a new instance must continue from so its summary and seed ids never collide with the
// ids already in the store. Items deleted from the server conversation (a `delete` entry: the client's
// deletes as well as the engine's) stay deleted: a resume brings back nothing that was removed. Pure.
import type { JournalLine } from '../conversation/journal.js';
import { conversationFromJournal } from '../conversation/journal.js';
import { buildSeed } from '../conversation/seed.js';
import type { Role, Turn } from '../conversation/turn.js';
import type { StoredLine } from './types.js';

export interface ResumePlan {
  /** Seed for the first new session (null: nothing was said yet). */
  seed: { id: string; text: string; covers: string[] } | null;
  /** The summariser's first number (sum_<n>), above every sum_ id in the store. */
  firstSummaryNumber: number;
  /** The session machine's first generation (seed_<g>), above every seed_ id in the store. */
  firstGeneration: number;
  /** Ids of the live summaries and of the verbatim turns the seed holds. */
  summaries: string[];
  turns: string[];
}

type SummaryLine = Extract<JournalLine, { type: 'summary' }>;

/** Ids whose last word in the journal is a `delete` (an item re-added after its delete is live again). */
function deletedIds(journal: readonly JournalLine[]): Set<string> {
  const gone = new Set<string>();
  for (const l of journal) {
    if (l.type === 'delete') gone.add(l.id);
    else if ((l.type === 'turn' || l.type === 'summary') && gone.has(l.id)) gone.delete(l.id);
  }
  return gone;
}

export function planResume(lines: readonly StoredLine[]): ResumePlan {
  const journal = lines as readonly JournalLine[];
  const deleted = deletedIds(journal);
  const summaries = new Map<string, SummaryLine>();
  for (const l of journal) if (l.type === 'summary' && !summaries.has(l.id)) summaries.set(l.id, l);
  let maxSum = 0;
  let maxSeed = 0;
  for (const id of summaries.keys()) {
    const s = /^sum_0*(\d+)$/.exec(id);
    if (s) maxSum = Math.max(maxSum, Number(s[1]));
    const g = /^seed_(\d+)$/.exec(id);
    if (g) maxSeed = Math.max(maxSeed, Number(g[1]));
  }
  const turnLines = new Map<string, Extract<JournalLine, { type: 'turn' }>>();
  for (const l of journal) if (l.type === 'turn') turnLines.set(l.id, l);
  const covered = new Set([...summaries.values()].flatMap((s) => s.replaces));
  const live = [...summaries.values()].filter((s) => !covered.has(s.id) && !deleted.has(s.id));
  const turns = conversationFromJournal(journal).filter((t) => !covered.has(t.id) && !summaries.has(t.id) && !deleted.has(t.id));
  const mirror: Turn[] = [
    ...live.map((s): Turn => ({ id: s.id, kind: 'message', role: 'system', text: s.text, textState: 'final', audio: false, summaryOf: s.replaces, at: 0 })),
    ...turns.map((t): Turn => {
      const line = turnLines.get(t.id);
      const kind = (['message', 'function_call', 'function_call_output'].includes(line?.kind ?? '') ? line!.kind : 'other') as Turn['kind'];
      return { id: t.id, kind, role: (t.role ?? null) as Role | null, text: t.text, textState: t.text === null ? 'none' : 'final', audio: false, name: line?.name, callId: line?.callId, at: 0 };
    }),
  ];
  const firstGeneration = maxSeed + 1;
  const plan = buildSeed(mirror);
  return {
    seed: plan ? { id: `seed_${firstGeneration}`, text: plan.text, covers: plan.covers } : null,
    firstSummaryNumber: maxSum + 1,
    firstGeneration,
    summaries: live.map((s) => s.id),
    turns: turns.map((t) => t.id),
  };
}
