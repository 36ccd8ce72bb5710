// Is this file a journal? `--resume FILE` must never append to a file that is not one (a notes file,
// a recording, a CSV): it is checked, read-only, before any store opens it or any lease is taken.
import { readFileSync } from 'node:fs';
import { AgentError, fsReason } from '../errors.js';

/** A journal line: {"v":1,"t":"<ISO time>","type":"<kind>",...} (src/conversation/journal.ts). */
function isJournalLine(text: string): boolean {
  try {
    const v = JSON.parse(text) as { v?: unknown; t?: unknown; type?: unknown } | null;
    return v !== null && typeof v === 'object' && v.v === 1 && typeof v.t === 'string' && typeof v.type === 'string';
  } catch {
    return false;
  }
}

/**
 * Throws a one-line bad_input error naming the file and the fix unless every line is a journal line.
 * The last line may be torn (a crash mid-write), as the store reads it, if a whole line comes before.
 */
export function assertJournalFile(path: string): void {
  const fix = 'give a journal written by realtime-agent (.rtc/*.jsonl) or a conversation id from `realtime-agent conversations`';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AgentError('bad_input', `--resume ${path}: cannot read it: ${fsReason(e)}`, true);
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new AgentError('bad_input', `--resume ${path}: the file is empty, not a journal; nothing was written to it: ${fix}`, true);
  const bad = lines.findIndex((l, i) => !isJournalLine(l) && !(i === lines.length - 1 && i > 0 && !text.endsWith('\n')));
  if (bad === 0) throw new AgentError('bad_input', `--resume ${path}: not a journal (line 1 is not a journal entry); nothing was written to it: ${fix}`, true);
  if (bad > 0) throw new AgentError('bad_input', `--resume ${path}: line ${bad + 1} is not a journal entry, so the journal is damaged; nothing was written to it: repair or remove that line`, true);
}
