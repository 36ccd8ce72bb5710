// The journal format (JSONL, one entry per line, append-only). The mirror may be pruned; the journal
// keeps the whole conversation. Version 1.
import { redact } from '../errors.js';

export type JournalEntry =
  /** First line of a conversation's journal, and again at each resume (`resumed: true`). */
  | { type: 'conversation'; id: string; resumed?: boolean; holder?: string }
  /** One in-band response's usage: window tokens and its cost in USD (the listing sums these). */
  | { type: 'usage'; responseId: string; tokens: number; usd: number }
  | { type: 'session'; sessionId: string; model: string; url: string; dialect: string; expiresAt: number | null }
  | {
      type: 'turn';
      id: string;
      role: string | null;
      kind: string;
      text: string | null;
      textState: string;
      /** The item before this one in the server conversation when it was written (null = first). */
      prev?: string | null;
      callId?: string;
      name?: string;
      heardMs?: number;
    }
  | { type: 'summary'; id: string; text: string; replaces: string[]; windowBefore: number }
  | { type: 'delete'; id: string }
  | { type: 'truncate'; id: string; audioEndMs: number; text: string | null }
  /** A transcript that arrived after the turn was journaled as [inaudible]. */
  | { type: 'transcript'; id: string; text: string }
  /**
   * A tool call and what the model was told (the function_call / function_call_output items are
   * journaled as turns too, paired by callId).
   */
  | ({ type: 'tool' } & ToolCallRecord)
  | { type: 'error'; code: string; message: string }
  | { type: 'end'; reason: string };

export type JournalLine = JournalEntry & { v: 1; t: string };

/** One JSONL line, with every secret removed. */
export function journalLine(entry: JournalEntry, secrets: readonly (string | undefined)[], now = new Date()): string {
  const line: JournalLine = { v: 1, t: now.toISOString(), ...entry };
  return `${redact(JSON.stringify(line), secrets)}\n`;
}

/** Parses a journal file's text; throws on a malformed line (the journal must stay valid JSONL). */
export function parseJournal(text: string): JournalLine[] {
  return text.split('\n').flatMap((l, i) => {
    if (l.length === 0) return [];
    try {
      return [JSON.parse(l) as JournalLine];
    } catch {
      throw new Error(`journal line ${i + 1} is not valid JSON`);
    }
  });
}

/**
 * Rebuilds every turn of the conversation from a journal, once each, in conversation order: a turn is
 * written when its text is final (a late user transcript comes after the answer to it), so order
 * follows each entry's `prev` link, not the line order. Summaries are separate entries.
 */
export function conversationFromJournal(lines: readonly JournalLine[]): { id: string; role: string | null; text: string | null }[] {
  const turns = new Map<string, { id: string; role: string | null; text: string | null; prev?: string | null }>();
  for (const l of lines) {
    if (l.type === 'turn') turns.set(l.id, { id: l.id, role: l.role, text: l.text, prev: l.prev });
    if (l.type === 'truncate' || l.type === 'transcript') {
      const t = turns.get(l.id);
      if (t) t.text = l.text;
    }
  }
  // Line order first; then move each turn right after its recorded predecessor when that one is known.
  const order = [...turns.keys()];
  for (const t of turns.values()) {
    if (!t.prev || !turns.has(t.prev)) continue;
    const from = order.indexOf(t.id);
    const after = order.indexOf(t.prev);
    if (from < after) {
      order.splice(from, 1);
      order.splice(order.indexOf(t.prev) + 1, 0, t.id);
    }
  }
  return order.map((id) => {
    const { prev: _prev, ...rest } = turns.get(id)!;
    return rest;
  });
}

/** One settled tool call: name, the model's arguments (JSON text), what the model was told, how it ended. */
export type ToolCallRecord = {
  callId: string;
  name: string;
  arguments: string;
  status: 'done' | 'failed' | 'cancelled' | 'timedOut';
  /** What was sent back to the model. */
  output: string;
  error: string | null;
  durationMs: number;
  responseId: string;
};
