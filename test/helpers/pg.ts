// PostgreSQL for store tests: 127.0.0.1:5432, database `test`, trust auth (RTC_TEST_PG overrides).
// probePg() says whether it answers; tests that need it are skipped with the reason in their title
// (and a warning on stderr), never passed silently. Each run uses its own schema, dropped at the end.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readdirSync as ls, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_BASE = process.env.RTC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function probePg(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return null;
  } catch (e) {
    return `PostgreSQL not reachable at ${PG_BASE.replace(/:[^:@/]*@/, '@')} (${(e as Error).message.split('\n')[0]})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A store URL with a schema of its own, so parallel runs never collide. */
export function pgUrlWithFreshSchema(tag: string): { url: string; schema: string } {
  const schema = `rtc_t_${tag}_${randomBytes(4).toString('hex')}`;
  return { url: `${PG_BASE}?schema=${schema}`, schema };
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 5_000 });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The local cluster's control (Debian pg_ctlcluster); null when this machine has none. */
export function pgCluster(): { stop(): void; start(): void } | null {
  let version: string;
  try {
    version = readdirSync('/etc/postgresql').sort().at(-1)!;
    if (!version) return null;
  } catch {
    return null;
  }
  const run = (action: 'stop' | 'start') => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'pipe' });
  return {
    stop: () => run('stop'),
    start: () => {
      try {
        run('start');
      } catch (e) {
        // Already running is fine.
        const x = e as { stderr?: Buffer; stdout?: Buffer };
        if (!/already running/i.test(`${String(x.stdout ?? '')} ${String(x.stderr ?? '')}`)) throw e;
      }
    },
  };
}

/** Waits until PostgreSQL answers again (after a start). */
export async function waitPg(timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if ((await probePg()) === null) return;
    if (Date.now() > end) throw new Error('PostgreSQL did not come back');
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- a cross-process readers/writer lock for the PostgreSQL server itself --------------------------
// Test files run in parallel; the fault test stops the server. Every test that uses PostgreSQL holds
// the shared side for its duration; the fault test takes the exclusive side, which waits until no
// live reader is left (readers whose process is gone do not count) and holds new readers back.

// Shared by every test file, so not under the file's private TMPDIR (test/helpers/tmp-setup.ts).
const LOCK_DIR = join((globalThis as { __rtcOuterTmp?: string }).__rtcOuterTmp ?? tmpdir(), 'rtc-pg-server-lock');
const WRITER = join(LOCK_DIR, 'writer');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function writerHeld(): boolean {
  try {
    const pid = Number(ls(WRITER)[0]?.split('.')[0]);
    if (pid && !alive(pid)) {
      rmSync(WRITER, { recursive: true, force: true }); // stale: its process died
      return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Shared side: resolves with the release function. */
export async function pgShared(): Promise<() => void> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const me = join(LOCK_DIR, `r-${process.pid}-${Math.random().toString(36).slice(2)}`);
  for (;;) {
    while (writerHeld()) await sleep(100);
    writeFileSync(me, '');
    if (!writerHeld()) return () => rmSync(me, { force: true });
    rmSync(me, { force: true });
  }
}

/** Exclusive side (stops the server): resolves with the release function. */
export async function pgExclusive(timeoutMs = 240_000): Promise<() => void> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(WRITER);
      writeFileSync(join(WRITER, `${process.pid}.pid`), '');
      break;
    } catch {
      if (!writerHeld()) continue;
      if (Date.now() > end) throw new Error('could not get exclusive use of PostgreSQL');
      await sleep(200);
    }
  }
  const readers = () => ls(LOCK_DIR).filter((f) => f.startsWith('r-') && alive(Number(f.split('-')[1])));
  while (readers().length > 0) {
    if (Date.now() > end) {
      rmSync(WRITER, { recursive: true, force: true });
      throw new Error(`PostgreSQL still in use by ${readers().join(', ')}`);
    }
    await sleep(200);
  }
  return () => rmSync(WRITER, { recursive: true, force: true });
}
