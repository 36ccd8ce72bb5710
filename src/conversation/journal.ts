// The journal format (JSONL, one entry per line, append-only). The mirror may be pruned; the journal
// keeps the whole conversation. Version 1.
import { redact } from '../errors.js';

export type JournalEntry =
  | { type: 'session'; sessionId: string; model: string; url: string; dialect: string; expiresAt: number | null }
  | { type: 'turn'; id: string; role: string | null; kind: string; text: string | null; textState: string; callId?: string; name?: string; heardMs?: number }
  | { type: 'summary'; id: string; text: string; replaces: string[]; windowBefore: number }
  | { type: 'delete'; id: string }
  | { type: 'truncate'; id: string; audioEndMs: number; text: string | null }
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

/** Rebuilds every turn of the conversation from a journal, once each (summaries are separate entries). */
export function conversationFromJournal(lines: readonly JournalLine[]): { id: string; role: string | null; text: string | null }[] {
  const out = new Map<string, { id: string; role: string | null; text: string | null }>();
  for (const l of lines) {
    if (l.type === 'turn') out.set(l.id, { id: l.id, role: l.role, text: l.text });
    if (l.type === 'truncate') {
      const t = out.get(l.id);
      if (t) t.text = l.text;
    }
  }
  return [...out.values()];
}
