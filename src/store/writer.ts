// Writes one conversation's entries to a store off the audio path: write() only queues (O(1), no I/O
// on the caller's stack); a flush runs on the next turn of the event loop and takes everything queued
// so far as one batch (group commit: while a batch is in flight the next one accumulates).
// A store that fails is reported ONCE per outage (onWarn); the conversation goes on, entries stay
// queued (bounded) and are retried with back-off until the store answers again. Entries beyond the
// bound, and whatever is still unwritten at close, go to a local spill file, and the warning says so:
// nothing is dropped silently. Once the lease is lost (another instance took the conversation over)
// nothing more goes to the store: what was queued and every later entry go to the spill file.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstLine, redact } from '../errors.js';
import { LeaseLostError, type ConversationStore, type PendingEntry } from './types.js';

export interface WriterOptions {
  /** Lease holder id: appends are fenced against it. */
  holder?: string;
  secrets?: readonly (string | undefined)[];
  /** Most entries kept in memory while the store is down (default 10,000). */
  maxBuffered?: number;
  /** Most entries per batch (default 500). */
  maxBatch?: number;
  /** Where entries that cannot be kept in memory or written at close go (JSONL). */
  spillPath?: string;
  /** One line per outage, per spill, per lost lease. */
  onWarn(message: string, code: 'store_unavailable' | 'lease_lost'): void;
  /** Diagnostics (recovery, retries). */
  log?(line: string): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class ConversationWriter {
  private readonly queue: PendingEntry[] = [];
  private readonly writerId = randomBytes(4).toString('hex');
  private seq = 0;
  private inFlight = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private down = false;
  private leaseLost = false;
  private spilled = 0;
  private overflowSaid = false;
  private waiters: (() => void)[] = [];
  /** Entries the store acknowledged (for tests and benchmarks). */
  written = 0;
  /** Batch round trips, in ms (the benchmark reads these). */
  readonly latencies: number[] = [];

  constructor(
    private readonly store: ConversationStore,
    readonly conversationId: string,
    private readonly o: WriterOptions,
  ) {
    this.retryMs = o.retryMinMs ?? 200;
  }

  /** True while the store is failing (entries are buffered). */
  get outage(): boolean {
    return this.down;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues one entry (any kind); never throws, never waits. After a lost lease it goes to the spill file. */
  write(entry: { type: string } & Record<string, unknown>, now = new Date()): void {
    const t = now.toISOString();
    const key = `${this.writerId}.${(++this.seq).toString(36)}`;
    const json = redact(JSON.stringify({ v: 1, t, k: key, ...entry }), this.o.secrets ?? []);
    const usd = entry.type === 'usage' && typeof entry.usd === 'number' ? entry.usd : undefined;
    const pending: PendingEntry = { key, t, type: entry.type, json, usd, itemId: typeof entry.id === 'string' ? entry.id : undefined };
    if (this.leaseLost) {
      this.spill([pending], 'another instance holds the conversation now', false);
      return;
    }
    this.queue.push(pending);
    const max = this.o.maxBuffered ?? 10_000;
    if (this.queue.length > max) {
      // Said once per outage (the first overflow); the total is said again at close.
      this.spill(this.queue.splice(0, this.queue.length - max), `the store buffer of ${max} entries is full: the oldest go to the spill file until the store is back`, !this.overflowSaid);
      this.overflowSaid = true;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return this.settle();
    this.inFlight = true;
    const batch = this.queue.slice(0, this.o.maxBatch ?? 500);
    const started = performance.now();
    try {
      await this.store.append(this.conversationId, batch, this.o.holder);
      this.latencies.push(performance.now() - started);
      // The front of the queue may have been spilled meanwhile: drop exactly the entries written.
      const written = new Set(batch.map((e) => e.key));
      let n = 0;
      while (n < this.queue.length && written.has(this.queue[n].key)) n++;
      this.queue.splice(0, n);
      this.written += batch.length;
      this.retryMs = this.o.retryMinMs ?? 200;
      if (this.down) {
        this.down = false;
        this.overflowSaid = false;
        this.o.log?.(`store ${this.store.label} is back: buffered entries written`);
      }
    } catch (e) {
      if (e instanceof LeaseLostError) this.loseLease(e.message);
      else {
        if (!this.down) {
          this.down = true;
          this.o.onWarn(
            `conversation store ${this.store.label} is unavailable (${firstLine(e)}); the conversation goes on, entries are kept in memory and written when it is back`,
            'store_unavailable',
          );
        } else this.o.log?.(`store still unavailable: ${firstLine(e)}`);
        const delay = this.retryMs;
        this.retryMs = Math.min(this.o.retryMaxMs ?? 2_000, this.retryMs * 2);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.schedule();
        }, delay);
      }
    } finally {
      this.inFlight = false;
    }
    if (this.queue.length > 0 && !this.retryTimer && !this.leaseLost) this.schedule();
    else this.settle();
  }

  /**
   * The lease is gone (a fenced append, or a renewal that found another holder): said once, as
   * `lease_lost`; what is queued and everything written from now on goes to the spill file.
   */
  loseLease(why: string): void {
    if (this.leaseLost) return;
    this.leaseLost = true;
    this.spill(this.queue.splice(0), 'another instance holds the conversation now', true);
    this.o.onWarn(`lost the lease on conversation ${this.conversationId}: ${why}`, 'lease_lost');
    this.settle();
  }

  /** True once the lease was lost: nothing more reaches the store. */
  get lostLease(): boolean {
    return this.leaseLost;
  }

  private settle(): void {
    if (this.queue.length > 0 && !this.down) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when everything queued is written, or at once while the store is down. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && !this.inFlight) return Promise.resolve();
    if (this.down || this.leaseLost) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * Tries to write what is queued for up to `timeoutMs` (retrying), then spills the rest to the spill
   * file and says how many entries that was. Returns the number of entries not in the store.
   */
  async close(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.inFlight) && !this.leaseLost && Date.now() < deadline) {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      if (!this.inFlight) await this.flush();
      else await new Promise((r) => setTimeout(r, 10));
      if (this.queue.length > 0 && this.down) await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const rest = this.queue.splice(0);
    const before = this.spilled;
    if (rest.length) this.spill(rest, `the store ${this.store.label} did not come back before the end`, false);
    if (this.spilled > 0) {
      const where = this.o.spillPath ? `saved to ${this.o.spillPath}` : 'lost (no spill file was set)';
      this.o.onWarn(`${this.spilled} journal entries in all could not be written to the store${rest.length ? ` (${countKinds(rest)} at the end, ${before} earlier)` : ''}: ${where}`, 'store_unavailable');
    }
    return this.spilled;
  }

  /** Entries the store cannot take go to the spill file (said when `announce`, and always on failure). */
  private spill(entries: PendingEntry[], why: string, announce: boolean): void {
    if (entries.length === 0) return;
    this.spilled += entries.length;
    const kinds = countKinds(entries);
    if (this.o.spillPath) {
      try {
        mkdirSync(dirname(this.o.spillPath), { recursive: true });
        appendFileSync(this.o.spillPath, entries.map((e) => e.json + '\n').join(''), { mode: 0o600 });
        if (announce) this.o.onWarn(`${why}; ${entries.length} journal entries (${kinds}) so far saved to ${this.o.spillPath}`, 'store_unavailable');
        return;
      } catch (e) {
        this.o.onWarn(`${entries.length} journal entries (${kinds}) could not be written to the store (${why}) nor to ${this.o.spillPath} (${firstLine(e)}): they are lost`, 'store_unavailable');
        return;
      }
    }
    this.o.onWarn(`${entries.length} journal entries (${kinds}) could not be written to the store (${why}) and no spill file is set: they are lost`, 'store_unavailable');
  }
}

function countKinds(entries: readonly PendingEntry[]): string {
  const n = new Map<string, number>();
  for (const e of entries) n.set(e.type, (n.get(e.type) ?? 0) + 1);
  return [...n].map(([k, v]) => `${v} ${k}`).join(', ');
}

