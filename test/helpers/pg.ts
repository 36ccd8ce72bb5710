// PostgreSQL for store tests: 127.0.0.1:5432, database `test`, trust auth (RTC_TEST_PG overrides).
// probePg() says whether it answers; tests that need it are skipped with the reason in their title
// (and a warning on stderr), never passed silently. Each run uses its own schema, dropped at the end.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readdirSync as ls, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
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

// ---- the shared side of a cross-process lock on the shared PostgreSQL server --------------------------
// Tests that use the shared server hold it for their duration. Nothing stops the shared server any
// more (the restart test has a throw-away cluster of its own, below); the lock stays so a future fault
// test that must stop it can wait for readers (a `writer` directory in LOCK_DIR holds new readers back).

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

// ---- a throw-away cluster (initdb + pg_ctl in a temporary directory, on a free port) ---------------
// For tests that stop and start the server: they get a cluster of their own, never the machine's shared
// one. initdb refuses to run as root: as root the cluster belongs to the `postgres` user (runuser).

export interface ThrowawayCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  stop(): void;
  start(): void;
  /** Stops the server and removes its directory. */
  remove(): void;
}

/** The newest PostgreSQL server binaries on this machine (Debian layout), or null. */
export function pgBinDir(): string | null {
  try {
    const v = readdirSync('/usr/lib/postgresql').filter((d) => existsSync(join('/usr/lib/postgresql', d, 'bin', 'initdb'))).sort((a, b) => Number(a) - Number(b)).at(-1);
    return v ? join('/usr/lib/postgresql', v, 'bin') : null;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Creates and starts a cluster of its own; the reason instead when this machine has no initdb. */
export async function throwawayCluster(): Promise<ThrowawayCluster | string> {
  const bin = pgBinDir();
  if (!bin) return 'no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) to make a throw-away cluster';
  const asRoot = process.getuid?.() === 0;
  // Outside the test file's private TMPDIR: the postgres user must be able to reach it.
  const root = mkdtempSync(join((globalThis as { __rtcOuterTmp?: string }).__rtcOuterTmp ?? tmpdir(), 'rtc-pg-cluster-'));
  const data = join(root, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(root, uid, gid);
  }
  const run = (cmd: string, args: string[]) => execFileSync(asRoot ? 'runuser' : join(bin, cmd), asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args, { stdio: 'pipe', cwd: root });
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=20`;
  const running = () => {
    try {
      run('pg_ctl', ['-D', data, 'status']);
      return true;
    } catch {
      return false; // exit status 3: not running
    }
  };
  const start = () => {
    if (!running()) run('pg_ctl', ['-D', data, '-o', opts, '-l', join(root, 'log'), '-w', '-t', '30', 'start']);
  };
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  start();
  let removed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    remove: () => {
      if (removed) return;
      removed = true;
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Waits until the server at `url` answers. */
export async function waitPgAt(url: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(200);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}
