// The embedded conversation store: a directory of JSONL journals, one file per conversation (mode
// 0600), nothing to install. Appends are asynchronous (fs.promises, batched by the writer) so the
// event loop never waits on the disk. Each line carries its entry key `k`; a batch retried after an
// unclear failure may repeat lines, and read() keeps the first of each key. A conversation's id is in
// its first `conversation` line; journals written before ids existed are known by their file name.
// The store keeps an index (id -> file) built once from the files' heads, so a connect reads no journal
// but its own. The lease (adapters/journal-lease.ts) is a small JSON file next to the journal, changed
// under an O_EXCL lock; a torn last line is repaired before a resumed conversation is written again
// (adapters/journal-tail.ts).
import { appendFileSync, chmodSync, closeSync, constants as fsConstants, mkdirSync, openSync, readSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { journalLine, type JournalEntry } from '../src/conversation/journal.js';
import { JournalDamagedError, LeaseLostError, type ConversationInfo, type ConversationStore, type LeaseRefusal, type PendingEntry, type StoredLine } from '../src/store/types.js';
import { acquireLease, heldByOther, liveHolder, releaseLease, renewLease } from './journal-lease.js';
import { repairTornTail } from './journal-tail.js';

/** The original synchronous writer, kept for callers that want a plain file. */
export interface JournalWriter {
  readonly path: string;
  write(entry: JournalEntry): void;
}

export function openJournal(path: string, secrets: readonly (string | undefined)[]): JournalWriter {
  createPrivateFile(path);
  return {
    path,
    write(entry) {
      appendFileSync(path, journalLine(entry, secrets));
    },
  };
}

function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600); // an existing file keeps its mode otherwise
}

/**
 * Parses JSONL text into lines, first of each key kept; a torn last line (crash mid-write) is skipped.
 * Any other line that is not JSON throws JournalDamagedError.
 */
export function parseStoredLines(text: string, where: string): StoredLine[] {
  const out: StoredLine[] = [];
  const seen = new Set<string>();
  const raw = text.split('\n');
  raw.forEach((l, i) => {
    if (l.length === 0) return;
    let v: StoredLine;
    try {
      v = JSON.parse(l) as StoredLine;
    } catch {
      if (i === raw.length - 1 || (i === raw.length - 2 && raw[raw.length - 1] === '')) return; // torn tail
      throw new JournalDamagedError(i + 1, where);
    }
    const k = (v as { k?: unknown }).k;
    if (typeof k === 'string') {
      if (seen.has(k)) return;
      seen.add(k);
    }
    out.push(v);
  });
  return out;
}

// A conversation's id is in its first line: only the head of a file is read to index it.
const HEAD_BYTES = 16 * 1024;

function idFromHead(head: string, path: string): string {
  for (const l of head.split('\n', 20)) {
    try {
      const v = JSON.parse(l) as { type?: string; id?: string };
      if (v.type === 'conversation' && typeof v.id === 'string') return v.id;
    } catch {
      // not a line we need (or cut by the head's end)
    }
  }
  return basename(path).replace(/\.jsonl$/, '');
}

/** The conversation id a journal file holds: its `conversation` line, else the file name. */
export function conversationIdOfFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return idFromHead(buf.toString('utf8', 0, readSync(fd, buf, 0, HEAD_BYTES, 0)), path);
  } finally {
    closeSync(fd);
  }
}

/** The same, asynchronously; null when the path is not a regular file (a FIFO would block a read). */
async function conversationIdOfFileAsync(path: string): Promise<string | null> {
  const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) return null;
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return idFromHead(buf.toString('utf8', 0, bytesRead), path);
  } finally {
    await fh.close();
  }
}

export class JsonlStore implements ConversationStore {
  readonly kind = 'jsonl' as const;
  readonly label: string;
  // The index, id -> journal file: built once from the files' heads (asynchronously), kept up to date
  // by create() and adopt(); an id it does not know is looked for at its default file name (another
  // instance may have created it since). No connect reads any journal but the one it resumes.
  private readonly known = new Map<string, string>();
  private scanning: Promise<void> | null = null;

  constructor(readonly dir: string) {
    // Absolute, so a message never ends in a bare ".:" for the current directory.
    this.label = `journal directory ${resolve(dir)}`;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.indexed();
  }

  private indexed(): Promise<void> {
    return (this.scanning ??= this.scan());
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => f.endsWith('.jsonl')).sort();
    } catch {
      return; // no directory yet: nothing to index
    }
    const found: [string, string][] = [];
    for (const f of names) {
      const p = resolve(join(this.dir, f));
      try {
        const id = await conversationIdOfFileAsync(p);
        if (id !== null) found.push([id, p]);
      } catch {
        // unreadable file: not a conversation we can list
      }
    }
    // First file (by name) of each id wins; ids created meanwhile keep their file.
    const seen = new Set<string>();
    for (const [id, p] of found) {
      if (seen.has(id)) continue;
      seen.add(id);
      if (!this.known.has(id)) this.known.set(id, p);
    }
  }

  /** A journal file outside the directory (--resume FILE) joins the index under its own id. */
  adopt(path: string): string {
    const id = conversationIdOfFile(path);
    this.known.set(id, resolve(path));
    return id;
  }

  /** The journal file of a conversation this store has indexed, created or found. */
  pathOf(id: string): string | undefined {
    return this.known.get(id);
  }

  private async find(id: string): Promise<string | undefined> {
    await this.indexed();
    const p = this.known.get(id);
    if (p) return p;
    const guess = resolve(join(this.dir, `${id}.jsonl`));
    try {
      if ((await conversationIdOfFileAsync(guess)) !== id) return undefined;
    } catch {
      return undefined;
    }
    this.known.set(id, guess);
    return guess;
  }

  /** find(), then checks the file is still there (an operator may have moved a journal aside). */
  private async locate(id: string): Promise<string | undefined> {
    const p = await this.find(id);
    if (!p || (await stat(p).then((s) => s.isFile(), () => false))) return p;
    this.known.delete(id);
    return this.find(id);
  }

  async create(id: string, hint?: { file?: string }): Promise<void> {
    if (await this.locate(id)) return;
    this.createSync(id, hint?.file);
  }

  /** Creates the journal file at once (mode 0600), so a bad path fails before the session starts. */
  createSync(id: string, file?: string): void {
    if (this.known.has(id)) return;
    const path = resolve(file ?? join(this.dir, `${id}.jsonl`));
    createPrivateFile(path);
    this.known.set(id, path);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.locate(id)) !== undefined;
  }

  private async need(id: string): Promise<string> {
    const p = await this.find(id);
    if (!p) throw new Error(`no conversation ${id} in ${this.dir}`);
    return p;
  }

  async append(id: string, entries: readonly PendingEntry[], holder?: string): Promise<void> {
    const path = await this.need(id);
    const other = holder ? heldByOther(path, holder) : null;
    if (other) throw new LeaseLostError(`instance ${other} holds it`);
    await appendFile(path, entries.map((e) => e.json + '\n').join(''), { mode: 0o600 });
  }

  async read(id: string): Promise<StoredLine[]> {
    const path = await this.need(id);
    return parseStoredLines(await readFile(path, 'utf8'), path);
  }

  async recover(id: string): Promise<string | null> {
    return repairTornTail(await this.need(id));
  }

  async list(): Promise<ConversationInfo[]> {
    this.scanning = this.scan(); // files may have appeared since
    await this.scanning;
    const out: ConversationInfo[] = [];
    for (const [id, path] of this.known) {
      let lines: StoredLine[];
      try {
        lines = parseStoredLines(await readFile(path, 'utf8'), path);
      } catch {
        continue;
      }
      out.push({ ...summarise(id, lines), holder: liveHolder(path), location: path });
    }
    return out.sort((a, b) => (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? ''));
  }

  async acquire(id: string, holder: string, ttlMs: number): Promise<LeaseRefusal | null> {
    return acquireLease(await this.need(id), holder, ttlMs);
  }

  async renew(id: string, holder: string, ttlMs: number): Promise<boolean> {
    return renewLease(await this.need(id), holder, ttlMs);
  }

  async release(id: string, holder: string): Promise<void> {
    const path = this.known.get(id);
    if (path) await releaseLease(path, holder);
  }

  async close(): Promise<void> {}
}

/** start, last activity, turns, summaries and cost of one conversation's lines. */
export function summarise(id: string, lines: readonly StoredLine[]): Omit<ConversationInfo, 'holder'> {
  const turnIds = new Set<string>();
  const summaryIds = new Set<string>();
  let cost = 0;
  for (const l of lines) {
    const v = l as { type: string; id?: unknown; usd?: unknown };
    if (v.type === 'turn' && typeof v.id === 'string') turnIds.add(v.id);
    if (v.type === 'summary' && typeof v.id === 'string') summaryIds.add(v.id);
    if (v.type === 'usage' && typeof v.usd === 'number') cost += v.usd;
  }
  return {
    id,
    startedAt: lines[0]?.t ?? null,
    lastActivityAt: lines.at(-1)?.t ?? null,
    turns: turnIds.size,
    summaries: summaryIds.size,
    costUsd: cost,
  };
}
