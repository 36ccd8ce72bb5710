// One PostgreSQL pool per proxy process, one migration: 150 clients hold 150 stored conversations
// (?conversation=) open at once through the real proxy on the emulator, and the server's own view of
// its sessions (pg_stat_activity, by this test's application_name) never shows more than the pool's
// size plus a margin; the schema migration runs once. Before, each conversation opened its own pool
// and migrated: about 95 conversations exhausted max_connections.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PostgresStore } from '../../adapters/store-postgres.js';
import { RawClient } from '../helpers/emulator-client.js';
import { dropSchema, PG_BASE, pgShared, pgUrlWithFreshSchema, probePg } from '../helpers/pg.js';
import { proxyOnEmulator } from '../helpers/proxy-rig.js';

const pgMissing = await probePg();
if (pgMissing) process.stderr.write(`proxy.store-pg.test: skipped: ${pgMissing}\n`);

const CONVERSATIONS = 150;
const POOL_MAX = 4; // PostgresStore's default pool size
const BATCH = 15;

describe.skipIf(!!pgMissing)(`PostgreSQL store behind the proxy${pgMissing ? ` (skipped: ${pgMissing})` : ''}`, () => {
  const { url, schema } = pgUrlWithFreshSchema('pool');
  const app = `rtc_t_pool_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await dropSchema(schema).catch(() => undefined);
  });

  it(`${CONVERSATIONS} conversations open at once share one pool (<= ${POOL_MAX} + 2 server sessions) and one migration`, async () => {
    const release = await pgShared();
    const migrate = vi.spyOn(PostgresStore.prototype as unknown as { migrate(): Promise<void> }, 'migrate');
    const probe = new pg.Client({ connectionString: PG_BASE });
    await probe.connect();
    const sessions = async () => Number((await probe.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n);
    const rig = await proxyOnEmulator({ seed: 41, replyWords: 4 }, { store: `${url}&application_name=${app}` });
    const clients: RawClient[] = [];
    const seen: number[] = [];
    try {
      for (let i = 0; i < CONVERSATIONS; i += BATCH) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(BATCH, CONVERSATIONS - i) }, async (_, j) => {
            const c = await RawClient.connect(`${rig.proxy.url}?conversation=pool-${i + j}`, { key: 'x' });
            await c.waitFor('session.created', 0, 20_000);
            return c;
          }),
        );
        clients.push(...batch);
        seen.push(await sessions());
        if (process.env.RTC_SHOW_FIGURES) process.stderr.write(`pg sessions after ${clients.length} conversations: ${seen.at(-1)}\n`);
        expect(seen.at(-1), `after ${clients.length} conversations: ${seen.join(', ')}`).toBeLessThanOrEqual(POOL_MAX + 2);
      }
      expect(rig.proxy.connections()).toHaveLength(CONVERSATIONS);
      expect(migrate).toHaveBeenCalledTimes(1);
      // Every conversation is in the store (its first entry was written through the shared pool).
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(clients.map((c) => c.closed));
      for (let i = 0; i < 500 && rig.proxy.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      const n = await probe.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".conversations WHERE id LIKE '%.pool-%' AND holder IS NULL`);
      expect(Number(n.rows[0].n)).toBe(CONVERSATIONS);
      // A conversation's close released its lease and left the shared store open: the next connect works.
      const again = await RawClient.connect(`${rig.proxy.url}?conversation=pool-0`, { key: 'x' });
      await again.waitFor('session.created');
      again.close();
      await again.closed;
      expect(migrate).toHaveBeenCalledTimes(1);
    } finally {
      for (const c of clients) c.close();
      await rig.close();
      // The proxy closed its store: no session of this test's application is left on the server.
      for (let i = 0; i < 50 && (await sessions()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      const left = await sessions();
      await probe.end();
      migrate.mockRestore();
      release();
      expect(left).toBe(0);
    }
  }, 180_000);
});
