// Appends journal lines to a file created with mode 0600. Synchronous appends: a turn is on disk
// before the next event is handled, so a crash loses nothing that was acknowledged.
import { appendFileSync, chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { journalLine, type JournalEntry } from '../src/conversation/journal.js';

export interface JournalWriter {
  readonly path: string;
  write(entry: JournalEntry): void;
}

export function openJournal(path: string, secrets: readonly (string | undefined)[]): JournalWriter {
  mkdirSync(dirname(path), { recursive: true });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600); // an existing file keeps its mode otherwise
  return {
    path,
    write(entry) {
      appendFileSync(path, journalLine(entry, secrets));
    },
  };
}
