// The conversation store on PostgreSQL, for fleets: every instance shares it. Through `pg` (a pool of
// a few connections, one pool per process: the proxy opens one store and shares it between its
// conversations; appends of all the process's conversations are grouped into few statements). The
// schema is migrated at the first open() under an advisory lock, so instances starting together never
// race. Entries are rows keyed by (conversation, entry key): a batch retried after an
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
  /** Pool size (default 4: two for grouped appends, the rest for leases and reads). */
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
    this.pool = new pg.Pool({ connectionString: u.toString(), max: o.max ?? 4, connectionTimeoutMillis: o.connectTimeoutMs ?? 3_000, idleTimeoutMillis: 10_000 });
    // An idle client that loses its server (restart) emits 'error' on the pool: the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private t(name: string): string {
    return `"${this.schema}".${name}`;
  }

  private opened: Promise<void> | null = null;

  /** Migrates once per store object: every conversation of a process shares it (one pool, one migration). */
  open(): Promise<void> {
    return (this.opened ??= this.migrate().catch((e: unknown) => {
      this.opened = null; // the server may be back next time
      throw e;
    }));
  }

  private async migrate(): Promise<void> {
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

  // Appends from every conversation of this process are grouped: at most MAX_INFLIGHT statements run
  // at once, each carrying all the batches queued meanwhile (group commit across conversations), so
  // hundreds of sessions share a small pool without queueing for its connections.
  private waiting: { id: string; entries: readonly PendingEntry[]; holder: string | null; resolve(): void; reject(e: Error): void }[] = [];
  private inflight = 0;
  private static readonly MAX_INFLIGHT = 2;

  append(id: string, entries: readonly PendingEntry[], holder?: string): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ id, entries, holder: holder ?? null, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inflight < PostgresStore.MAX_INFLIGHT && this.waiting.length > 0) {
      const group = this.waiting.splice(0, 200);
      this.inflight++;
      this.appendGroup(group)
        .catch((e: Error) => group.forEach((g) => g.reject(e)))
        .finally(() => {
          this.inflight--;
          this.pump();
        });
    }
  }

  private async appendGroup(group: { id: string; entries: readonly PendingEntry[]; holder: string | null; resolve(): void; reject(e: Error): void }[]): Promise<void> {
    const convIds: string[] = [];
    const holders: (string | null)[] = [];
    const seen = new Map<string, string | null>();
    const cs: string[] = [];
    const keys: string[] = [];
    const ats: string[] = [];
    const types: string[] = [];
    const items: (string | null)[] = [];
    const bodies: string[] = [];
    for (const g of group) {
      if (!seen.has(g.id)) {
        seen.set(g.id, g.holder);
        convIds.push(g.id);
        holders.push(g.holder);
      }
      for (const e of g.entries) {
        cs.push(g.id);
        keys.push(e.key);
        ats.push(e.t);
        types.push(e.type);
        items.push(e.itemId ?? null);
        bodies.push(e.json);
      }
    }
    // One statement, so one round trip and one implicit transaction: lock the conversation rows (in id
    // order: no deadlock between instances), check each lease (fencing), insert the entries once each
    // (unnest keeps their order, so seq follows write order), and keep the listing's counters from
    // what was really inserted.
    const t = this.t.bind(this);
    const r = await this.pool.query<{ id: string; holder: string | null; allowed: boolean }>(
      `WITH c AS (SELECT id, holder FROM ${t('conversations')} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE),
       ok AS (SELECT c.id FROM c JOIN unnest($1::text[], $2::text[]) AS h(id, holder) ON h.id = c.id
              WHERE h.holder IS NULL OR c.holder IS NULL OR c.holder = h.holder),
       ins AS (
         INSERT INTO ${t('entries')} (conversation_id, key, at, type, item_id, body)
         SELECT x.c, x.k, x.a, x.ty, x.it, x.b::jsonb
         FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS x(c, k, a, ty, it, b, n)
         WHERE x.c IN (SELECT id FROM ok)
         ORDER BY x.n
         ON CONFLICT (conversation_id, key) DO NOTHING
         RETURNING conversation_id, type, at, (body->>'usd')::double precision AS usd),
       agg AS (
         SELECT conversation_id AS id, count(*) FILTER (WHERE type = 'turn') AS turns, count(*) FILTER (WHERE type = 'summary') AS summaries,
                coalesce(sum(usd) FILTER (WHERE type = 'usage'), 0) AS usd, max(at) AS last
         FROM ins GROUP BY conversation_id),
       upd AS (
         UPDATE ${t('conversations')} AS v SET turns = v.turns + agg.turns, summaries = v.summaries + agg.summaries,
           cost_usd = v.cost_usd + agg.usd, last_at = greatest(v.last_at, agg.last)
         FROM agg WHERE v.id = agg.id
         RETURNING 1)
       SELECT c.id, c.holder, c.id IN (SELECT id FROM ok) AS allowed, (SELECT count(*) FROM upd) AS updated FROM c`,
      [convIds, holders, cs, keys, ats, types, items, bodies],
    );
    const rows = new Map(r.rows.map((x) => [x.id, x]));
    for (const g of group) {
      const row = rows.get(g.id);
      if (!row) g.reject(new Error(`no conversation ${g.id} in the store`));
      else if (!row.allowed) g.reject(new LeaseLostError(`instance ${row.holder} holds it`));
      else g.resolve();
    }
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

  /**
   * One UPDATE takes the lease: the row lock serialises racers and each re-checks the condition on the
   * row as the previous one left it, so exactly one of several instances wins a free or expired lease.
   */
  async acquire(id: string, holder: string, ttlMs: number): Promise<LeaseRefusal | null> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.pool.query(
        `UPDATE ${this.t('conversations')} SET holder = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000)
         WHERE id = $1 AND (holder IS NULL OR holder = $2 OR lease_until IS NULL OR lease_until <= now())`,
        [id, holder, ttlMs],
      );
      if ((r.rowCount ?? 0) > 0) return null;
      const h = await this.pool.query<{ holder: string | null; lease_until: Date | null; live: boolean }>(
        `SELECT holder, lease_until, lease_until > now() AS live FROM ${this.t('conversations')} WHERE id = $1`,
        [id],
      );
      if (!h.rows[0]) throw new Error(`no conversation ${id} in the store`);
      const row = h.rows[0];
      // Released or expired between the two statements: try again rather than name no holder.
      if ((!row.holder || !row.live) && attempt < 3) continue;
      return { holder: row.holder ?? 'unknown', expiresAt: (row.lease_until ?? new Date()).toISOString() };
    }
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
