// The embedded conversation store: a directory of JSONL journals, one file per conversation (mode
// 0600), nothing to install. Appends are asynchronous (fs.promises, batched by the writer) so the
// event loop never waits on the disk. Each line carries its entry key `k`; a batch retried after an
// unclear failure may repeat lines, and read() keeps the first of each key. A conversation's id is in
// its first `conversation` line; journals written before ids existed are known by their file name.
// The lease is a small JSON file next to the journal: one machine, so a dead holder process (same
// host, pid gone) frees it at once; otherwise it expires.
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { journalLine, type JournalEntry } from '../src/conversation/journal.js';
import { LeaseLostError, type ConversationInfo, type ConversationStore, type LeaseRefusal, type PendingEntry, type StoredLine } from '../src/store/types.js';

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

/** Parses JSONL text into lines, first of each key kept; a torn last line (crash mid-write) is skipped. */
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
      throw new Error(`${where} line ${i + 1} is not valid JSON: the journal is damaged`);
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

/** The conversation id a journal file holds: its `conversation` line, else the file name. */
export function conversationIdOfFile(path: string): string {
  const text = readFileSync(path, 'utf8');
  for (const l of text.split('\n', 20)) {
    try {
      const v = JSON.parse(l) as { type?: string; id?: string };
      if (v.type === 'conversation' && typeof v.id === 'string') return v.id;
    } catch {
      // not a line we need
    }
  }
  return basename(path).replace(/\.jsonl$/, '');
}

interface LeaseFile {
  holder: string;
  host: string;
  pid: number;
  expiresAt: number;
}

export class JsonlStore implements ConversationStore {
  readonly kind = 'jsonl' as const;
  readonly label: string;
  private index: Map<string, string> | null = null;

  constructor(readonly dir: string) {
    // Absolute, so a message never ends in a bare ".:" for the current directory.
    this.label = `journal directory ${resolve(dir)}`;
  }

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
  }

  /** A journal file outside the directory (--resume FILE) joins the index under its own id. */
  adopt(path: string): string {
    const id = conversationIdOfFile(path);
    this.files().set(id, resolve(path));
    return id;
  }

  pathOf(id: string): string | undefined {
    return this.files().get(id);
  }

  private files(): Map<string, string> {
    if (this.index) return this.index;
    const m = new Map<string, string>();
    if (existsSync(this.dir)) {
      for (const f of readdirSync(this.dir).sort()) {
        if (!f.endsWith('.jsonl')) continue;
        const p = join(this.dir, f);
        try {
          const id = conversationIdOfFile(p);
          if (!m.has(id)) m.set(id, resolve(p));
        } catch {
          // unreadable file: not a conversation we can list
        }
      }
    }
    this.index = m;
    return m;
  }

  async create(id: string, hint?: { file?: string }): Promise<void> {
    this.createSync(id, hint?.file);
  }

  /** Creates the journal file at once (mode 0600), so a bad path fails before the session starts. */
  createSync(id: string, file?: string): void {
    if (this.files().has(id)) return;
    const path = resolve(file ?? join(this.dir, `${id}.jsonl`));
    createPrivateFile(path);
    this.files().set(id, path);
  }

  async exists(id: string): Promise<boolean> {
    return this.files().has(id);
  }

  private need(id: string): string {
    const p = this.files().get(id);
    if (!p) throw new Error(`no conversation ${id} in ${this.dir}`);
    return p;
  }

  async append(id: string, entries: readonly PendingEntry[], holder?: string): Promise<void> {
    const path = this.need(id);
    if (holder) {
      const l = this.readLease(path);
      if (l && l.holder !== holder && !this.expired(l)) {
        throw new LeaseLostError(`instance ${l.holder} holds it`);
      }
    }
    await appendFile(path, entries.map((e) => e.json + '\n').join(''), { mode: 0o600 });
  }

  async read(id: string): Promise<StoredLine[]> {
    const path = this.need(id);
    return parseStoredLines(await readFile(path, 'utf8'), path);
  }

  async list(): Promise<ConversationInfo[]> {
    this.index = null; // files may have appeared since
    const out: ConversationInfo[] = [];
    for (const [id, path] of this.files()) {
      let lines: StoredLine[];
      try {
        lines = parseStoredLines(readFileSync(path, 'utf8'), path);
      } catch {
        continue;
      }
      out.push({ ...summarise(id, lines), holder: this.liveHolder(path), location: path });
    }
    return out.sort((a, b) => (b.lastActivityAt ?? '').localeCompare(a.lastActivityAt ?? ''));
  }

  private leasePath(path: string): string {
    return `${path}.lease`;
  }

  private readLease(path: string): LeaseFile | null {
    try {
      return JSON.parse(readFileSync(this.leasePath(path), 'utf8')) as LeaseFile;
    } catch {
      return null;
    }
  }

  private expired(l: LeaseFile): boolean {
    if (l.expiresAt <= Date.now()) return true;
    if (l.host === hostname() && l.pid !== process.pid) {
      try {
        process.kill(l.pid, 0);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH'; // the holder process is gone
      }
    }
    return false;
  }

  private liveHolder(path: string): string | null {
    const l = this.readLease(path);
    return l && !this.expired(l) ? l.holder : null;
  }

  private writeLease(path: string, l: LeaseFile): void {
    const tmp = `${this.leasePath(path)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(l), { mode: 0o600 });
    renameSync(tmp, this.leasePath(path));
  }

  async acquire(id: string, holder: string, ttlMs: number): Promise<LeaseRefusal | null> {
    const path = this.need(id);
    const l = this.readLease(path);
    if (l && l.holder !== holder && !this.expired(l)) return { holder: l.holder, expiresAt: new Date(l.expiresAt).toISOString() };
    this.writeLease(path, { holder, host: hostname(), pid: process.pid, expiresAt: Date.now() + ttlMs });
    return null;
  }

  async renew(id: string, holder: string, ttlMs: number): Promise<boolean> {
    const path = this.need(id);
    const l = this.readLease(path);
    if (l && l.holder !== holder && !this.expired(l)) return false;
    this.writeLease(path, { holder, host: hostname(), pid: process.pid, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async release(id: string, holder: string): Promise<void> {
    const path = this.files().get(id);
    if (!path) return;
    const l = this.readLease(path);
    if (l?.holder === holder) rmSync(this.leasePath(path), { force: true });
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
