// Store faults of issue 27, against the real stores: a torn last journal line is cut (kept in a side
// file) so a conversation resumes again and again; a damaged journal is a conversation error, not an
// unavailable store; the lease is taken by exactly one of many instances racing for it (free or
// expired), for the JSONL directory (racers in worker threads: each its own event loop, so they really
// race on the file system) and for PostgreSQL; a writer that lost its lease spills, never drops.
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonlStore } from '../../adapters/journal-file.js';
import { PostgresStore } from '../../adapters/store-postgres.js';
import { createRealtimeAgent } from '../../src/agent.js';
import { startEmulator } from '../../src/emulator/index.js';
import { AgentError } from '../../src/errors.js';
import { openConversation } from '../../src/store/open.js';
import { ConversationWriter } from '../../src/store/writer.js';
import { dropSchema, pgShared, pgUrlWithFreshSchema, probePg } from '../helpers/pg.js';

const pgMissing = await probePg();
if (pgMissing) process.stderr.write(`store.hardening.test: PostgreSQL tests skipped: ${pgMissing}\n`);

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rtc-store-hard-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const line = (o: Record<string, unknown>) => JSON.stringify({ v: 1, t: '2026-01-01T00:00:00.000Z', ...o }) + '\n';

describe('torn and damaged journals', () => {
  it('a torn last line: resume works twice, the fragment is kept in a side file, no whole line is lost', async () => {
    const dir = freshDir();
    const file = join(dir, 'torn.jsonl');
    const whole = line({ k: 'a.1', type: 'conversation', id: 'torn' }) + line({ k: 'a.2', type: 'turn', id: 'i1', role: 'user', kind: 'message', text: 'Ada here', textState: 'final' }) + line({ k: 'a.3', type: 'turn', id: 'i2', role: 'assistant', kind: 'message', text: 'Hello Ada', textState: 'final' });
    const fragment = '{"v":1,"t":"2026-01-01T00:00:01.000Z","k":"a.4","type":"turn","id":"i3","role":"us';
    writeFileSync(file, whole + fragment);
    const logs: string[] = [];
    for (const round of [1, 2]) {
      const conv = await openConversation({ store: dir, resume: 'torn', log: (l) => logs.push(l) });
      expect(conv.plan?.seed?.text, `resume ${round}`).toContain('Ada here');
      // What a resumed instance writes first (the writer's batch), after the repaired tail.
      await conv.store.append('torn', [{ key: `r${round}`, t: '2026-01-01T00:00:02.000Z', type: 'conversation', json: JSON.stringify({ v: 1, t: '2026-01-01T00:00:02.000Z', k: `r${round}`, type: 'conversation', id: 'torn', resumed: true }) }], conv.holder);
      await conv.close();
    }
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(whole)).toBe(true);
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).k)).toEqual(['a.1', 'a.2', 'a.3', 'r1', 'r2']);
    const side = readdirSync(dir).filter((f) => f.startsWith('torn.jsonl.torn-'));
    expect(side).toHaveLength(1);
    expect(readFileSync(join(dir, side[0]), 'utf8')).toBe(fragment);
    expect(logs.filter((l) => /torn last line/.test(l))).toHaveLength(1);
  });

  it('a whole last entry that only lost its newline is kept, not cut', async () => {
    const dir = freshDir();
    const file = join(dir, 'nl.jsonl');
    writeFileSync(file, line({ k: 'a.1', type: 'conversation', id: 'nl' }) + line({ k: 'a.2', type: 'turn', id: 'i1', role: 'user', kind: 'message', text: 'first', textState: 'final' }).trimEnd());
    const conv = await openConversation({ store: dir, resume: 'nl' });
    expect(conv.plan?.turns).toEqual(['i1']);
    await conv.close();
    expect(readFileSync(file, 'utf8').endsWith('"textState":"final"}\n')).toBe(true);
    expect(readdirSync(dir).some((f) => f.includes('.torn-'))).toBe(false);
  });

  it('a bad line in the middle is a journal_damaged conversation error (not store_unavailable), naming the file and line for the operator', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'bad.jsonl'), line({ k: 'a.1', type: 'conversation', id: 'bad' }) + 'not json at all\n' + line({ k: 'a.3', type: 'end', reason: 'x' }));
    const e = await openConversation({ store: dir, resume: 'bad' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe('journal_damaged');
    // The operator's message (the CLI's error, the proxy's log) names the file and line; what a proxy
    // client is told never does (test/integration/proxy.tenants.test.ts).
    expect((e as AgentError).message).toMatch(/^conversation bad: line 2 of its journal \S*bad\.jsonl is not valid JSON/);
    expect((e as AgentError).message).toContain(join(dir, 'bad.jsonl'));
    expect(existsSync(join(dir, 'bad.jsonl.lease'))).toBe(false); // the refused resume leaves no lease
  });
});

/** Worker threads racing for one conversation's JSONL lease, `rounds` times; returns winners per round. */
async function raceJsonl(dir: string, racers: number, rounds: number, prepare: (id: string) => void): Promise<number[]> {
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const workers = Array.from({ length: racers }, (_, i) => new Worker(new URL('../helpers/lease-racer.mjs', import.meta.url), { workerData: { dir, holder: `racer-${i}`, signal } }));
  const next = (w: Worker) => new Promise<{ ready?: number; won?: boolean }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  try {
    const store = new JsonlStore(dir);
    const winners: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const id = `race-${round}`;
      await store.create(id);
      prepare(join(dir, `${id}.jsonl`));
      const ready = workers.map(next);
      workers.forEach((w) => w.postMessage({ round, id }));
      await Promise.all(ready);
      const results = workers.map(next);
      Atomics.store(flag, 0, round);
      Atomics.notify(flag, 0);
      winners.push((await Promise.all(results)).filter((r) => r.won).length);
    }
    return winners;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe('the lease is taken by exactly one racer', () => {
  it('JSONL: 30 rounds of 6 instances acquiring a free lease at once: one winner each time', async () => {
    const winners = await raceJsonl(freshDir(), 6, 30, () => undefined);
    expect(winners).toEqual(Array(30).fill(1));
  }, 120_000);

  it('JSONL: an expired lease is taken over by exactly one of 6 racers, 30 times', async () => {
    const expired = (journal: string) => writeFileSync(`${journal}.lease`, JSON.stringify({ holder: 'stalled', host: hostname(), pid: process.pid, expiresAt: Date.now() - 1 }));
    const winners = await raceJsonl(freshDir(), 6, 30, expired);
    expect(winners).toEqual(Array(30).fill(1));
  }, 120_000);

  describe.skipIf(!!pgMissing)(`PostgreSQL${pgMissing ? ` (skipped: ${pgMissing})` : ''}`, () => {
    it('30 rounds of 6 instances (own pools) acquiring at once, free then expired: one winner each time', async () => {
      const release = await pgShared();
      const { url, schema } = pgUrlWithFreshSchema('race');
      const stores = Array.from({ length: 6 }, () => new PostgresStore({ url, max: 1 }));
      try {
        await Promise.all(stores.map((s) => s.open()));
        const free: number[] = [];
        const expired: number[] = [];
        for (let round = 1; round <= 30; round++) {
          const id = `race-${round}`;
          await stores[0].create(id);
          const race = async () => (await Promise.all(stores.map((s, i) => s.acquire(id, `racer-${i}`, 60_000)))).filter((r) => r === null).length;
          free.push(await race());
          // Every lease expires (as after a stall): the next race is a takeover.
          await stores[0]['pool'].query(`UPDATE "${schema}".conversations SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
          const before = await race();
          expired.push(before);
        }
        expect(free).toEqual(Array(30).fill(1));
        expect(expired).toEqual(Array(30).fill(1));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await dropSchema(schema);
        release();
      }
    }, 120_000);
  });
});

describe('a writer that lost its lease', () => {
  it('spills what is queued and everything written later, says lease_lost once, drops nothing', async () => {
    const dir = freshDir();
    const store = new JsonlStore(dir);
    await store.create('w');
    const spill = join(dir, 'w.unwritten');
    const warnings: string[] = [];
    const w = new ConversationWriter(store, 'w', { holder: 'me', spillPath: spill, onWarn: (_m, code) => warnings.push(code) });
    w.write({ type: 'turn', id: 'stored' });
    await w.drained();
    w.write({ type: 'turn', id: 'queued' });
    w.loseLease('another instance took over conversation w'); // as keepLease's renewal reports it
    w.write({ type: 'turn', id: 'later' });
    w.write({ type: 'end', reason: 'stop' });
    await w.close(1_000);
    expect(warnings.filter((c) => c === 'lease_lost')).toHaveLength(1);
    const ids = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id ?? JSON.parse(l).type);
    expect(ids(join(dir, 'w.jsonl'))).toEqual(['stored']);
    expect(ids(spill)).toEqual(['queued', 'later', 'end']);
  });

  it('a real renewal that finds another holder reaches the writer through keepLease', async () => {
    const dir = freshDir();
    const conv = await openConversation({ store: dir, conversationId: 'k', leaseTtlMs: 150 });
    const lost = new Promise<string>((resolve) => conv.keepLease(resolve));
    // Another instance takes the conversation once this one's lease looks expired to it.
    const file = join(dir, 'k.jsonl');
    const thief = new JsonlStore(dir);
    expect(await thief.exists('k')).toBe(true);
    // No timer runs between these two lines (only microtasks): our renewal cannot slip in.
    writeFileSync(`${file}.lease`, JSON.stringify({ holder: conv.holder, host: hostname(), pid: process.pid, expiresAt: Date.now() - 1 }));
    expect(await thief.acquire('k', 'thief', 60_000)).toBeNull();
    expect(await lost).toBe('another instance took over conversation k');
    await conv.close();
    expect(JSON.parse(readFileSync(`${file}.lease`, 'utf8')).holder).toBe('thief'); // our close left theirs alone
  });
});

describe('the index of a long-lived directory store', () => {
  it('a journal moved aside is no longer found; the id can start afresh, the moved file is untouched', async () => {
    const dir = freshDir();
    const store = new JsonlStore(dir);
    await store.open();
    await store.create('m');
    await store.append('m', [{ key: 'k1', t: '2026-01-01T00:00:00.000Z', type: 'conversation', json: line({ k: 'k1', type: 'conversation', id: 'm' }).trim() }]);
    renameSync(join(dir, 'm.jsonl'), join(dir, 'm.jsonl.damaged'));
    expect(await store.exists('m')).toBe(false);
    await store.create('m');
    expect(await store.read('m')).toEqual([]);
    expect(readFileSync(join(dir, 'm.jsonl.damaged'), 'utf8')).toContain('"k":"k1"');
  });
});

describe('the agent that lost its lease', () => {
  it('reports one fatal lease_lost; what it says afterwards is in the spill file, not dropped', async () => {
    const dir = freshDir();
    const emu = await startEmulator({ audioPacing: 'fast' });
    const conversation = await openConversation({ store: dir, conversationId: 'agent-lease', leaseTtlMs: 150 });
    const spill = join(dir, 'spill.jsonl');
    const agent = createRealtimeAgent({ connection: { url: emu.url, apiKey: 'sk-x' }, session: { turnDetection: null, outputModalities: ['text'] }, conversation, storeSpillPath: spill });
    const errors: AgentError[] = [];
    const lost = new Promise<void>((resolve) => agent.on('error', (e) => (errors.push(e), e.code === 'lease_lost' ? resolve() : undefined)));
    try {
      await agent.start();
      const thief = new JsonlStore(dir);
      expect(await thief.exists('agent-lease')).toBe(true);
      const file = join(dir, 'agent-lease.jsonl');
      writeFileSync(`${file}.lease`, JSON.stringify({ holder: conversation.holder, host: hostname(), pid: process.pid, expiresAt: Date.now() - 1 }));
      expect(await thief.acquire('agent-lease', 'thief', 60_000)).toBeNull();
      await lost; // the next renewal (every 50 ms) finds the thief
      const reply = new Promise<void>((resolve) => agent.on('turn', (t) => (t.role === 'assistant' && t.textState === 'final' ? resolve() : undefined)));
      agent.sendText('said after the loss');
      await reply;
    } finally {
      await agent.stop();
      await emu.close();
    }
    const spilled = readFileSync(spill, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; text?: string });
    expect(spilled.some((l) => l.type === 'turn' && l.text === 'said after the loss')).toBe(true);
    expect(spilled.at(-1)?.type).toBe('end');
    expect(readFileSync(join(dir, 'agent-lease.jsonl'), 'utf8')).not.toContain('said after the loss');
    expect(errors.filter((e) => e.code === 'lease_lost').map((e) => e.fatal)).toEqual([true]);
  });
});
