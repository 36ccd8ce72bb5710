// PostgreSQL for store tests: 127.0.0.1:5432, database `test`, trust auth (RTC_TEST_PG overrides).
// probePg() says whether it answers; tests that need it are skipped with the reason in their title
// (and a warning on stderr), never passed silently. Each run uses its own schema, dropped at the end.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
        if (!/already running|is running/i.test(String((e as { stderr?: Buffer }).stderr ?? e))) throw e;
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
