// The JSONL store's lease: `<journal>.lease` holds {holder, host, pid, expiresAt}. Every change (take,
// renew, release) is read-decide-write under `<journal>.lease.lock`, created with O_EXCL ('wx'), so
// across processes exactly one instance changes a lease at a time: two instances can never both take
// it (free or expired), and a renewal or release only touches a lease its holder still has (fencing).
// The lock is held for a few synchronous file operations and never across an await; a lock left by a
// process that died inside them is broken once it is older than STALE_LOCK_MS.
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { LeaseRefusal } from '../src/store/types.js';

interface LeaseFile {
  holder: string;
  host: string;
  pid: number;
  expiresAt: number;
}

const STALE_LOCK_MS = 2_000;
const LOCK_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function leasePath(journal: string): string {
  return `${journal}.lease`;
}

export function readLease(journal: string): LeaseFile | null {
  try {
    const l = JSON.parse(readFileSync(leasePath(journal), 'utf8')) as LeaseFile;
    return typeof l.holder === 'string' && typeof l.expiresAt === 'number' ? l : null;
  } catch {
    return null; // absent, or not a lease: free
  }
}

/** Expired, or its holder process (same host) is gone. */
export function leaseExpired(l: LeaseFile): boolean {
  if (l.expiresAt <= Date.now()) return true;
  if (l.host === hostname() && l.pid !== process.pid) {
    try {
      process.kill(l.pid, 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return false;
}

export function liveHolder(journal: string): string | null {
  const l = readLease(journal);
  return l && !leaseExpired(l) ? l.holder : null;
}

/** Takes the lock when it is free: true if taken. Breaks a lock left by a dead process. */
function tryLock(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx', 0o600);
    writeSync(fd, `${hostname()}:${process.pid}`);
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  try {
    const s = statSync(lock);
    // Held for microseconds normally: one this old was left by a process that died holding it.
    if (Date.now() - s.mtimeMs > STALE_LOCK_MS && statSync(lock).ino === s.ino) rmSync(lock, { force: true });
  } catch {
    // gone meanwhile: retry
  }
  return false;
}

/**
 * Runs `fn` (synchronous) holding the lease lock. When the lock is free this happens on the caller's
 * stack, before the first await: callers in one process are serialised by the event loop anyway.
 */
async function withLock<T>(journal: string, fn: () => T): Promise<T> {
  const lock = `${leasePath(journal)}.lock`;
  const end = Date.now() + LOCK_WAIT_MS;
  while (!tryLock(lock)) {
    if (Date.now() > end) throw new Error(`the lease lock ${lock} stays taken: remove it if no instance is running`);
    await sleep(1 + Math.floor(Math.random() * 3));
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function writeLease(journal: string, holder: string, ttlMs: number): void {
  const tmp = `${leasePath(journal)}.${process.pid}.${holder.replace(/[^\w.-]/g, '_').slice(0, 40)}.tmp`;
  writeFileSync(tmp, JSON.stringify({ holder, host: hostname(), pid: process.pid, expiresAt: Date.now() + ttlMs } satisfies LeaseFile), { mode: 0o600 });
  renameSync(tmp, leasePath(journal));
}

/** Takes the lease when it is free, expired, or already ours; otherwise says who holds it. */
export function acquireLease(journal: string, holder: string, ttlMs: number): Promise<LeaseRefusal | null> {
  return withLock(journal, () => {
    const l = readLease(journal);
    if (l && l.holder !== holder && !leaseExpired(l)) return { holder: l.holder, expiresAt: new Date(l.expiresAt).toISOString() };
    writeLease(journal, holder, ttlMs);
    return null;
  });
}

/** Extends the lease only while `holder` still has it (an expired lease nobody took is still ours). */
export function renewLease(journal: string, holder: string, ttlMs: number): Promise<boolean> {
  return withLock(journal, () => {
    if (readLease(journal)?.holder !== holder) return false;
    writeLease(journal, holder, ttlMs);
    return true;
  });
}

export function releaseLease(journal: string, holder: string): Promise<void> {
  return withLock(journal, () => {
    if (readLease(journal)?.holder === holder) rmSync(leasePath(journal), { force: true });
  });
}

/** For appends (fencing): does another live instance hold the lease? */
export function heldByOther(journal: string, holder: string): string | null {
  const l = readLease(journal);
  return l && l.holder !== holder && !leaseExpired(l) ? l.holder : null;
}
