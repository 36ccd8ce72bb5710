// The conversation store: one interface for the embedded JSONL journal directory and for PostgreSQL.
// The store IS the journal: the same entries (src/conversation/journal.ts), keyed by conversation id.
// Entry kinds this module does not know (e.g. tool calls) are stored and read back untouched.
import type { JournalLine } from '../conversation/journal.js';

/** One entry ready to be written: serialised (and redacted) once, on the caller's side. */
export interface PendingEntry {
  /** Unique per entry (writer id + sequence): a batch retried after an unclear failure is written once. */
  key: string;
  /** ISO time the entry was made. */
  t: string;
  type: string;
  /** The whole line as JSON: {v, t, k, type, ...entry}. */
  json: string;
  /** Cost in USD carried by a `usage` entry (kept as a column by stores that summarise). */
  usd?: number;
  /** The item id the entry is about (turn, summary, delete...), for stores that index it. */
  itemId?: string;
}

/** A stored line: a journal line (known kinds typed) or any other kind, kept as written. */
export type StoredLine = JournalLine | ({ v: 1; t: string; type: string } & Record<string, unknown>);

export interface ConversationInfo {
  id: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  turns: number;
  summaries: number;
  costUsd: number;
  /** Instance holding the lease now (null when free or expired). */
  holder: string | null;
  /** Where it lives (file path for JSONL). */
  location?: string;
}

/** Why a lease was not granted: another live instance holds it until `expiresAt`. */
export interface LeaseRefusal {
  holder: string;
  expiresAt: string;
}

/** Thrown by append() when another instance took the conversation over (fencing). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** Thrown by read() when a stored line other than a torn last one is not an entry: the journal is damaged. */
export class JournalDamagedError extends Error {
  override readonly name = 'JournalDamagedError';
  constructor(readonly line: number, readonly file: string) {
    super(`line ${line} is not valid JSON: the journal is damaged`);
  }
}

export interface ConversationStore {
  readonly kind: 'jsonl' | 'postgres';
  /** For banners and errors: never holds a password. */
  readonly label: string;
  /**
   * Connects and runs the schema migration once per store object (later calls reuse it; a failed open
   * is tried again), safe with several instances at once.
   */
  open(): Promise<void>;
  /** Creates the conversation (no-op if it exists). */
  create(id: string, hint?: { file?: string }): Promise<void>;
  exists(id: string): Promise<boolean>;
  /**
   * Appends entries in order, each at most once (by key). With `holder`, refuses (LeaseLostError)
   * when another instance holds the conversation's lease.
   */
  append(id: string, entries: readonly PendingEntry[], holder?: string): Promise<void>;
  /** Every stored line of the conversation, in write order, each key once. */
  read(id: string): Promise<StoredLine[]>;
  list(): Promise<ConversationInfo[]>;
  /** Takes the lease (free, expired, or already ours); otherwise says who holds it. */
  acquire(id: string, holder: string, ttlMs: number): Promise<LeaseRefusal | null>;
  /** Extends our lease; false when another instance holds it now. */
  renew(id: string, holder: string, ttlMs: number): Promise<boolean>;
  release(id: string, holder: string): Promise<void>;
  /**
   * Called by the lease holder before it writes a resumed conversation again: repairs what a crash
   * left (the JSONL store cuts a torn last line). Returns one line saying what was done, or null.
   */
  recover?(id: string): Promise<string | null>;
  close(): Promise<void>;
}
