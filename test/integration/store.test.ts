// The conversation store contract, run against both stores (JSONL directory and PostgreSQL): entries
// exactly once by key (a retried batch adds nothing), unknown kinds kept, the listing's counters, the
// lease (refused while held, free after expiry, fencing), and a migration that tolerates instances
// starting together. Then the resume plan (pure) and the writer's bounded buffer.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlStore } from '../../adapters/journal-file.js';
import { PostgresStore } from '../../adapters/store-postgres.js';
import { planResume } from '../../src/store/resume.js';
import { ConversationWriter } from '../../src/store/writer.js';
import { LeaseLostError, type ConversationStore, type PendingEntry, type StoredLine } from '../../src/store/types.js';
import { dropSchema, pgShared, pgUrlWithFreshSchema, probePg } from '../helpers/pg.js';

const pgMissing = await probePg();
if (pgMissing) process.stderr.write(`store.test: PostgreSQL tests skipped: ${pgMissing}\n`);

let n = 0;
function entry(type: string, extra: Record<string, unknown> = {}): PendingEntry {
  const key = `w.${++n}`;
  const t = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  return { key, t, type, json: JSON.stringify({ v: 1, t, k: key, type, ...extra }), usd: typeof extra.usd === 'number' ? extra.usd : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function contract(name: string, make: () => Promise<{ store: ConversationStore; twin: () => ConversationStore; cleanup(): Promise<void> }>, skip: string | null) {
  describe.skipIf(!!skip)(`${name} store${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let store: ConversationStore;
    let twin: () => ConversationStore;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, twin, cleanup } = await make());
      await store.open();
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('appends in order, each key once even when a batch is retried, and keeps unknown kinds', async () => {
      await store.create('c1');
      const a = [entry('conversation', { id: 'c1' }), entry('turn', { id: 'item_1', role: 'user', text: 'hello' })];
      const b = [entry('tool_call', { id: 'call_1', name: 'lookup', args: { q: 1 } }), entry('usage', { responseId: 'r1', tokens: 10, usd: 0.25 })];
      await store.append('c1', a);
      await store.append('c1', a); // the answer to the first try was lost: the same batch again
      await store.append('c1', b);
      const lines = await store.read('c1');
      expect(lines.map((l) => (l as unknown as { k: string }).k)).toEqual([...a, ...b].map((e) => e.key));
      const tool = lines.find((l) => l.type === 'tool_call') as StoredLine & { args: unknown };
      expect(tool.args).toEqual({ q: 1 });
    });

    it('lists conversations with start, last activity, turns, summaries and cost', async () => {
      await store.create('c2');
      await store.append('c2', [
        entry('turn', { id: 'item_a', role: 'user', text: 'x' }),
        entry('turn', { id: 'item_b', role: 'assistant', text: 'y' }),
        entry('summary', { id: 'sum_001', text: 's', replaces: ['item_a'] }),
        entry('usage', { responseId: 'r', tokens: 5, usd: 0.5 }),
        entry('usage', { responseId: 'r2', tokens: 6, usd: 0.25 }),
      ]);
      const rows = await store.list();
      const c2 = rows.find((r) => r.id === 'c2')!;
      expect(c2).toMatchObject({ turns: 2, summaries: 1, costUsd: 0.75 });
      expect(Date.parse(c2.lastActivityAt!)).toBeGreaterThanOrEqual(Date.parse(c2.startedAt!));
      expect(rows.find((r) => r.id === 'c1')).toMatchObject({ turns: 1, summaries: 0, costUsd: 0.25 });
    });

    it('a lease is refused while another holder has it, granted after expiry, and fences appends', async () => {
      await store.create('c3');
      expect(await store.acquire('c3', 'A', 600)).toBeNull();
      expect(await store.acquire('c3', 'A', 600)).toBeNull(); // ours again: fine
      const refused = await store.acquire('c3', 'B', 600);
      expect(refused?.holder).toBe('A');
      expect((await store.list()).find((r) => r.id === 'c3')?.holder).toBe('A');
      expect(await store.renew('c3', 'A', 600)).toBe(true);
      await sleep(800);
      expect(await store.acquire('c3', 'B', 5_000)).toBeNull();
      expect(await store.renew('c3', 'A', 600)).toBe(false);
      await expect(store.append('c3', [entry('turn', { id: 'late' })], 'A')).rejects.toBeInstanceOf(LeaseLostError);
      await store.append('c3', [entry('turn', { id: 'ok' })], 'B');
      expect((await store.read('c3')).map((l) => (l as { id?: string }).id)).toEqual(['ok']);
      await store.release('c3', 'B');
      expect(await store.acquire('c3', 'A', 600)).toBeNull();
    });

    it('many conversations appending at once: each gets its own entries, in order; a fenced one alone is refused', async () => {
      const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
      for (const id of ids) await store.create(id);
      expect(await store.acquire('m7', 'other', 60_000)).toBeNull();
      const batches = ids.map((id) => [entry('turn', { id: `${id}_a` }), entry('turn', { id: `${id}_b` })]);
      const results = await Promise.allSettled(ids.map((id, i) => store.append(id, batches[i], 'me')));
      expect(results.map((r, i) => (r.status === 'rejected' ? ids[i] : null)).filter(Boolean)).toEqual(['m7']);
      expect((results[7] as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLostError);
      for (const [i, id] of ids.entries()) {
        const got = (await store.read(id)).map((l) => (l as { id?: string }).id);
        expect(got, id).toEqual(id === 'm7' ? [] : [`${id}_a`, `${id}_b`]);
      }
      const listed = await store.list();
      expect(listed.find((r) => r.id === 'm3')?.turns).toBe(2);
      expect(listed.find((r) => r.id === 'm7')?.turns).toBe(0);
    });

    it('a second instance opening the same store at once migrates nothing twice', async () => {
      const others = [twin(), twin(), twin()];
      await Promise.all(others.map((s) => s.open()));
      expect(await others[0].exists('c1')).toBe(true);
      await Promise.all(others.map((s) => s.close()));
    });
  });
}

contract(
  'JSONL',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-store-'));
    return { store: new JsonlStore(dir), twin: () => new JsonlStore(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  null,
);

contract(
  'PostgreSQL',
  async () => {
    const release = await pgShared(); // the fault test may not stop the server meanwhile
    const { url, schema } = pgUrlWithFreshSchema('contract');
    return {
      store: new PostgresStore({ url }),
      twin: () => new PostgresStore({ url }),
      cleanup: async () => {
        await dropSchema(schema);
        release();
      },
    };
  },
  pgMissing,
);

describe('JSONL store specifics', () => {
  it('a torn last line (crash mid-write) is skipped; damage elsewhere is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-store-'));
    try {
      const s = new JsonlStore(dir);
      await s.create('t', { file: join(dir, 't.jsonl') });
      await s.append('t', [entry('conversation', { id: 't' }), entry('turn', { id: 'i1' })]);
      const { appendFileSync, writeFileSync } = await import('node:fs');
      appendFileSync(join(dir, 't.jsonl'), '{"v":1,"t":"x","type":"tu');
      expect((await s.read('t')).length).toBe(2);
      writeFileSync(join(dir, 't.jsonl'), '{"v":1}\nnot json\n{"v":1}\n');
      await expect(s.read('t')).rejects.toThrow(/line 2 is not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a lease held by a process that is gone (same host) is free at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-store-'));
    try {
      const s = new JsonlStore(dir);
      await s.create('d');
      const { writeFileSync } = await import('node:fs');
      const { hostname } = await import('node:os');
      // pid 2^22 + 7 does not exist on Linux (pid_max is at most 2^22).
      writeFileSync(join(dir, 'd.jsonl.lease'), JSON.stringify({ holder: 'dead', host: hostname(), pid: 4194311, expiresAt: Date.now() + 60_000 }));
      expect(await s.acquire('d', 'me', 1_000)).toBeNull();
      writeFileSync(join(dir, 'd.jsonl.lease'), JSON.stringify({ holder: 'alive', host: hostname(), pid: process.ppid, expiresAt: Date.now() + 60_000 }));
      expect((await s.acquire('d', 'me', 1_000))?.holder).toBe('alive');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- the resume plan (pure) ------------------------------------------------------------------------
const L = (o: Record<string, unknown>) => ({ v: 1, t: '2026-01-01T00:00:00.000Z', ...o }) as unknown as StoredLine;

describe('planResume', () => {
  it('nothing said yet: no seed; numbering starts at 1', () => {
    expect(planResume([L({ type: 'conversation', id: 'c' })])).toMatchObject({ seed: null, firstSummaryNumber: 1, firstGeneration: 1 });
  });

  it('a summary whose deletes never came (instance died mid-prune): summary once, covered turns left out', () => {
    const lines = [
      L({ type: 'turn', id: 'u1', role: 'user', kind: 'message', text: 'alpha one', prev: null }),
      L({ type: 'turn', id: 'a1', role: 'assistant', kind: 'message', text: 'reply one', prev: 'u1' }),
      L({ type: 'turn', id: 'u2', role: 'user', kind: 'message', text: 'bravo two', prev: 'a1' }),
      L({ type: 'turn', id: 'a2', role: 'assistant', kind: 'message', text: 'reply two', prev: 'u2' }),
      L({ type: 'summary', id: 'sum_003', text: 'They said alpha one.', replaces: ['u1', 'a1'] }),
    ];
    const p = planResume(lines);
    expect(p.summaries).toEqual(['sum_003']);
    expect(p.turns).toEqual(['u2', 'a2']);
    expect(p.seed!.text).toBe('Summary of the conversation so far: They said alpha one.\n\nMost recent turns, verbatim:\nuser: bravo two\nassistant: reply two');
    expect(p.seed!.covers).toEqual(['sum_003', 'u2', 'a2']);
    expect(p.firstSummaryNumber).toBe(4);
    expect(p.seed!.id).toBe('seed_1');
  });

  it('a seed supersedes what it covers; a later summary folding the seed supersedes it in turn', () => {
    const lines = [
      L({ type: 'turn', id: 'u1', role: 'user', kind: 'message', text: 'one' }),
      L({ type: 'summary', id: 'seed_2', text: 'Most recent turns, verbatim:\nuser: one', replaces: ['u1'] }),
      L({ type: 'turn', id: 'u2', role: 'user', kind: 'message', text: 'two', prev: 'seed_2' }),
      L({ type: 'turn', id: 'u3', role: 'user', kind: 'message', text: 'three', prev: 'u2' }),
      L({ type: 'summary', id: 'sum_001', text: 'S', replaces: ['seed_2', 'u2'] }),
      L({ type: 'delete', id: 'u2' }),
    ];
    const p = planResume(lines);
    expect(p.summaries).toEqual(['sum_001']);
    expect(p.turns).toEqual(['u3']);
    expect(p.firstGeneration).toBe(3);
    expect(p.seed!.id).toBe('seed_3');
    expect(p.seed!.text).not.toContain('one');
  });

  it('late transcripts and truncations update the seeded text; function items keep their shape', () => {
    const p = planResume([
      L({ type: 'turn', id: 'u1', role: 'user', kind: 'message', text: '[inaudible]', textState: 'inaudible' }),
      // A function_call turn's text is `name(arguments)`, its output's the output (src/conversation/items.ts).
      L({ type: 'turn', id: 'f1', role: null, kind: 'function_call', name: 'lookup', callId: 'call_1', text: 'lookup({"q":1})', prev: 'u1' }),
      L({ type: 'turn', id: 'f2', role: null, kind: 'function_call_output', callId: 'call_1', text: '{"hits":3}', prev: 'f1' }),
      L({ type: 'transcript', id: 'u1', text: 'found it late' }),
    ]);
    expect(p.seed!.text).toContain('user: found it late');
    // The seed states the call and its result as sentences naming the tool (README "Tools").
    expect(p.seed!.text).toContain('assistant called the tool lookup({"q":1})');
    expect(p.seed!.text).toContain('the tool lookup returned: {"hits":3}');
  });
});

// ---- the writer: bounded buffer, spill file, one warning per outage -------------------------------
/** A store that is down until `up` is set (the writer is what is under test here). */
class FlakyStore extends JsonlStore {
  up = false;
  calls = 0;
  override async append(id: string, entries: readonly PendingEntry[], holder?: string): Promise<void> {
    this.calls++;
    if (!this.up) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return super.append(id, entries, holder);
  }
}

describe('ConversationWriter', () => {
  it('down: one warning, buffered up to the bound, overflow spilled and said; back: the rest written once, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-writer-'));
    try {
      const store = new FlakyStore(dir);
      await store.create('w');
      const warnings: string[] = [];
      const spill = join(dir, 'spill.jsonl');
      const w = new ConversationWriter(store, 'w', { maxBuffered: 5, spillPath: spill, retryMinMs: 20, retryMaxMs: 40, onWarn: (m) => warnings.push(m) });
      for (let i = 1; i <= 8; i++) w.write({ type: 'turn', id: `t${i}`, text: `turn ${i}` });
      await sleep(150); // several retries while down
      expect(store.calls).toBeGreaterThan(1);
      const down = warnings.filter((m) => /unavailable/.test(m));
      expect(down).toHaveLength(1);
      // The overflow is said once (at the first spilled entry), not once per entry.
      const spilledSaid = warnings.filter((m) => /saved to/.test(m));
      expect(spilledSaid).toHaveLength(1);
      expect(spilledSaid[0]).toMatch(/buffer of 5 entries is full.*1 journal entries \(1 turn\) so far saved to/);
      expect(readFileSync(spill, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['t1', 't2', 't3']);
      store.up = true;
      await sleep(100);
      await w.drained();
      expect((await store.read('w')).map((l) => (l as { id?: string }).id)).toEqual(['t4', 't5', 't6', 't7', 't8']);
      expect(await w.close(100)).toBe(3);
      expect(warnings.filter((m) => /unavailable/.test(m))).toHaveLength(1);
      expect(warnings.at(-1)).toMatch(/^3 journal entries in all could not be written to the store: saved to /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still down at close: everything left goes to the spill file and the warning says how much', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-writer-'));
    try {
      const store = new FlakyStore(dir);
      await store.create('w');
      const warnings: string[] = [];
      const spill = join(dir, 'spill.jsonl');
      const w = new ConversationWriter(store, 'w', { spillPath: spill, retryMinMs: 20, onWarn: (m) => warnings.push(m) });
      w.write({ type: 'turn', id: 'x' });
      w.write({ type: 'summary', id: 'sum_001' });
      expect(await w.close(100)).toBe(2);
      expect(warnings.at(-1)).toMatch(/^2 journal entries in all could not be written to the store \(1 turn, 1 summary at the end, 0 earlier\): saved to /);
      expect(existsSync(spill)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
