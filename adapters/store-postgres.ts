// The conversation store on PostgreSQL, for fleets: every instance shares it. Through `pg` (a pool of
// a few connections). The schema is migrated at open() under an advisory lock, so instances starting
// together never race. Entries are rows keyed by (conversation, entry key): a batch retried after an
// unclear failure (the commit reached the server, the answer did not) is written once. Each append
// runs in one transaction that locks the conversation row: it checks the lease (fencing: an instance
// that lost its lease cannot write) and keeps the per-conversation counters the listing shows.
// Times come from the database clock (now()), so instances on different machines agree on expiry.
import pg from 'pg';
import { LeaseLostError, type ConversationInfo, type ConversationStore, type LeaseRefusal, type PendingEntry, type StoredLine } from '../src/store/types.js';

export const SCHEMA_VERSION = 1;

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL; `?schema=NAME` picks the schema (default rtc). */
  url: string;
  schema?: string;
  /** Pool size (default 3). */
  max?: number;
  /** Fail a connection attempt after this long (default 3000 ms). */
  connectTimeoutMs?: number;
}

/** postgres://user:secret@host/db -> postgres://user@host/db (for banners and errors). */
export function safePgUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

export class PostgresStore implements ConversationStore {
  readonly kind = 'postgres' as const;
  readonly label: string;
  readonly schema: string;
  private readonly pool: pg.Pool;

  constructor(o: PostgresStoreOptions) {
    const u = new URL(o.url);
    const schema = o.schema ?? u.searchParams.get('schema') ?? 'rtc';
    u.searchParams.delete('schema');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema "${schema}" must be lower-case letters, digits and _`);
    this.schema = schema;
    this.label = `${safePgUrl(u.toString())} (schema ${schema})`;
    this.pool = new pg.Pool({ connectionString: u.toString(), max: o.max ?? 3, connectionTimeoutMillis: o.connectTimeoutMs ?? 3_000, idleTimeoutMillis: 10_000 });
    // An idle client that loses its server (restart) emits 'error' on the pool: the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private t(name: string): string {
    return `"${this.schema}".${name}`;
  }

  async open(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rtc-migrate-${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.t('meta')} (key text PRIMARY KEY, value text NOT NULL)`);
      const v = await c.query<{ value: string }>(`SELECT value FROM ${this.t('meta')} WHERE key = 'schema_version'`);
      const have = v.rows[0] ? Number(v.rows[0].value) : 0;
      if (have > SCHEMA_VERSION) throw new Error(`the store's schema is version ${have}, newer than this program's ${SCHEMA_VERSION}: upgrade realtime-context`);
      if (have < 1) {
        await c.query(`CREATE TABLE IF NOT EXISTS ${this.t('conversations')} (
          id text PRIMARY KEY,
          started_at timestamptz NOT NULL DEFAULT now(),
          last_at timestamptz NOT NULL DEFAULT now(),
          turns integer NOT NULL DEFAULT 0,
          summaries integer NOT NULL DEFAULT 0,
          cost_usd double precision NOT NULL DEFAULT 0,
          holder text,
          lease_until timestamptz)`);
        await c.query(`CREATE TABLE IF NOT EXISTS ${this.t('entries')} (
          conversation_id text NOT NULL REFERENCES ${this.t('conversations')}(id) ON DELETE CASCADE,
          key text NOT NULL,
          seq bigserial,
          at timestamptz NOT NULL,
          type text NOT NULL,
          item_id text,
          body jsonb NOT NULL,
          PRIMARY KEY (conversation_id, key))`);
        await c.query(`CREATE INDEX IF NOT EXISTS entries_by_seq ON ${this.t('entries')} (conversation_id, seq)`);
        await c.query(`INSERT INTO ${this.t('meta')} (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [String(SCHEMA_VERSION)]);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async create(id: string): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.t('conversations')} (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [id]);
  }

  async exists(id: string): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM ${this.t('conversations')} WHERE id = $1`, [id]);
    return (r.rowCount ?? 0) > 0;
  }

  async append(id: string, entries: readonly PendingEntry[], holder?: string): Promise<void> {
    if (entries.length === 0) return;
    const keys: string[] = [];
    const ats: string[] = [];
    const types: string[] = [];
    const items: (string | null)[] = [];
    const bodies: string[] = [];
    for (const e of entries) {
      keys.push(e.key);
      ats.push(e.t);
      types.push(e.type);
      items.push(e.itemId ?? null);
      bodies.push(e.json);
    }
    // One statement, so one round trip and one implicit transaction: lock the conversation row, check
    // the lease (fencing), insert the entries once each (unnest keeps their order, so seq follows write
    // order), and keep the listing's counters from what was really inserted.
    const t = this.t.bind(this);
    const r = await this.pool.query<{ found: string; allowed: string; holder: string | null }>(
      `WITH c AS (SELECT id, holder FROM ${t('conversations')} WHERE id = $1 FOR UPDATE),
       ok AS (SELECT id FROM c WHERE $7::text IS NULL OR holder IS NULL OR holder = $7),
       ins AS (
         INSERT INTO ${t('entries')} (conversation_id, key, at, type, item_id, body)
         SELECT ok.id, x.k, x.a, x.ty, x.it, x.b::jsonb
         FROM ok, unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS x(k, a, ty, it, b, n)
         ORDER BY x.n
         ON CONFLICT (conversation_id, key) DO NOTHING
         RETURNING type, (body->>'usd')::double precision AS usd),
       upd AS (
         UPDATE ${t('conversations')} SET
           turns = turns + (SELECT count(*) FROM ins WHERE type = 'turn'),
           summaries = summaries + (SELECT count(*) FROM ins WHERE type = 'summary'),
           cost_usd = cost_usd + coalesce((SELECT sum(usd) FROM ins WHERE type = 'usage'), 0),
           last_at = greatest(last_at, $8::timestamptz)
         WHERE id IN (SELECT id FROM ok)
         RETURNING 1)
       SELECT (SELECT count(*) FROM c) AS found, (SELECT count(*) FROM upd) AS allowed, (SELECT holder FROM c) AS holder`,
      [id, keys, ats, types, items, bodies, holder ?? null, ats[ats.length - 1]],
    );
    const row = r.rows[0];
    if (Number(row.found) === 0) throw new Error(`no conversation ${id} in the store`);
    if (Number(row.allowed) === 0) throw new LeaseLostError(`instance ${row.holder} holds it`);
  }

  async read(id: string): Promise<StoredLine[]> {
    const r = await this.pool.query<{ body: StoredLine }>(`SELECT body FROM ${this.t('entries')} WHERE conversation_id = $1 ORDER BY seq`, [id]);
    return r.rows.map((x) => x.body);
  }

  async list(): Promise<ConversationInfo[]> {
    const r = await this.pool.query<{ id: string; started_at: Date; last_at: Date; turns: number; summaries: number; cost_usd: number; holder: string | null }>(
      `SELECT id, started_at, last_at, turns, summaries, cost_usd, CASE WHEN lease_until > now() THEN holder END AS holder
       FROM ${this.t('conversations')} ORDER BY last_at DESC`,
    );
    return r.rows.map((x) => ({
      id: x.id,
      startedAt: x.started_at.toISOString(),
      lastActivityAt: x.last_at.toISOString(),
      turns: x.turns,
      summaries: x.summaries,
      costUsd: x.cost_usd,
      holder: x.holder,
    }));
  }

  async acquire(id: string, holder: string, ttlMs: number): Promise<LeaseRefusal | null> {
    const r = await this.pool.query(
      `UPDATE ${this.t('conversations')} SET holder = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND (holder IS NULL OR holder = $2 OR lease_until IS NULL OR lease_until <= now())`,
      [id, holder, ttlMs],
    );
    if ((r.rowCount ?? 0) > 0) return null;
    const h = await this.pool.query<{ holder: string; lease_until: Date }>(`SELECT holder, lease_until FROM ${this.t('conversations')} WHERE id = $1`, [id]);
    if (!h.rows[0]) throw new Error(`no conversation ${id} in the store`);
    return { holder: h.rows[0].holder, expiresAt: h.rows[0].lease_until.toISOString() };
  }

  async renew(id: string, holder: string, ttlMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE ${this.t('conversations')} SET lease_until = now() + make_interval(secs => $3::double precision / 1000) WHERE id = $1 AND holder = $2`,
      [id, holder, ttlMs],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async release(id: string, holder: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.t('conversations')} SET holder = NULL, lease_until = NULL WHERE id = $1 AND holder = $2`, [id, holder]);
  }

  /** Drops the whole schema (tests clean up after themselves). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
