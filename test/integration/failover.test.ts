// Failover across instances sharing one PostgreSQL. Instances are real `realtime-agent --input text`
// processes; the test is the scripted client, talking to one emulator (context echo on: every reply
// lists what the model has in its context) through a WebSocket proxy that can hold frames back.
//   1. instance A talks three turns, then is killed (SIGKILL) between turns;
//   2. resuming elsewhere while A lives is refused; after the kill A's lease outlives it until it expires,
//      then instance B resumes the
//      same conversation id and the model sees the earlier turns (the seed);
//   3. B talks two turns and summarises; the summary is inserted and acknowledged, the deletes are
//      held back by the proxy; B is killed mid-summary (summary stored, deletes never acknowledged);
//   4. instance C resumes after B's lease expires, talks one turn and ends normally.
// Afterwards every turn is in the store exactly once, no summary is duplicated, and C's seed holds
// the summary once and only the turns it does not cover.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../adapters/store-postgres.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { StoredLine } from '../../src/store/types.js';
import { cleanEnv, runCli, spawnCli, type CliProcess } from '../helpers/cli-run.js';
import { dropSchema, pgShared, pgUrlWithFreshSchema, probePg } from '../helpers/pg.js';
import { startWsProxy, type WsProxy } from '../helpers/reliability-proxy.js';

const pgMissing = await probePg();
if (pgMissing) process.stderr.write(`failover.test: skipped: ${pgMissing}\n`);

const KEY = 'sk-failover-test-0123456789';
const LEASE_S = 10;

type Line = StoredLine & { id?: string; role?: string | null; text?: string | null; replaces?: string[] };

async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!!pgMissing)(`failover between instances sharing PostgreSQL${pgMissing ? ` (skipped: ${pgMissing})` : ''}`, () => {
  let emu: Emulator;
  let proxy: WsProxy;
  let dir: string;
  let store: PostgresStore;
  let schema: string;
  let url: string;
  let holdDeletes = false;
  let heldDeletes = 0;
  const procs: CliProcess[] = [];
  let release: () => void = () => undefined;

  beforeAll(async () => {
    release = await pgShared(); // the fault test may not stop the server meanwhile
    ({ url, schema } = pgUrlWithFreshSchema('failover'));
    emu = await startEmulator({ apiKey: KEY, contextEcho: true, audioPacing: 'fast' });
    proxy = await startWsProxy(emu.url);
    proxy.onServerFrame = (frame) => {
      if (holdDeletes && frame.includes('"conversation.item.deleted"')) {
        heldDeletes++;
        return 'swallow';
      }
      return 'forward';
    };
    dir = mkdtempSync(join(tmpdir(), 'rtc-failover-'));
    store = new PostgresStore({ url });
  });
  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await store?.close();
    await proxy?.close();
    await emu?.close();
    if (schema) await dropSchema(schema);
    release();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = () => [
    '--url', proxy.url, '--api-key', KEY, '--summary-base-url', emu.httpUrl, '--summary-api-key', KEY,
    '--input', 'text', '--output', 'text', '--json', '--store', url, '--lease-ttl', String(LEASE_S),
  ];
  const instance = (extra: string[] = []) => {
    const p = spawnCli([...args(), ...extra], { cwd: dir, env: cleanEnv(), stdin: 'pipe' });
    procs.push(p);
    return p;
  };
  /** One client turn: the reply is the one whose context listing ends with this user text. */
  const say = async (p: CliProcess, text: string): Promise<string> => {
    p.proc.stdin!.write(`${text}\n`);
    const reply = await p.waitJson((e) => e.type === 'turn' && e.role === 'assistant' && e.textState === 'final' && String(e.text).includes(`"${text}"`), 30_000);
    return String(reply.text);
  };
  const lines = async (id: string) => (await store.read(id)) as Line[];
  const turnsIn = async (id: string) => (await lines(id)).filter((l) => l.type === 'turn');
  const leaseFree = (id: string) => waitUntil('the lease to expire', async () => (await store.list()).find((c) => c.id === id)?.holder === null, (LEASE_S + 20) * 1000);
  const kill = async (p: CliProcess) => {
    p.proc.kill('SIGKILL');
    expect((await p.exited).signal).toBe('SIGKILL');
  };

  it('SIGKILL between turns and mid-summary: the conversation continues on another instance, every turn stored once, no summary twice, the seed holds nothing twice', async () => {
    const said: string[] = [];
    const talk = async (p: CliProcess, text: string) => {
      said.push(text);
      return say(p, text);
    };

    // 1. Instance A.
    const a = instance();
    const sessionA = await a.waitJson((e) => e.type === 'session', 30_000);
    const id = String(sessionA.conversation);
    expect(sessionA).toMatchObject({ resumed: false, store: 'postgres' });
    await talk(a, 'the code word is heron');
    await talk(a, 'my dog is called Biscuit');
    await talk(a, 'we meet on Tuesday');
    await waitUntil('A\'s six turns in the store', async () => (await turnsIn(id)).length === 6);
    // 2. While A lives, resuming elsewhere is refused, in one line.
    const early = await runCli([...args(), '--resume', id], { cwd: dir, env: cleanEnv(), stdin: '' });
    expect(early.code).toBe(1);
    expect(early.stderr.trim()).toMatch(new RegExp(`^realtime-agent: conversation ${id} is held by another live instance \\(.+\\) until .+: stop that instance or wait for its lease to expire$`));
    await kill(a);
    // Killed, A still holds the lease until it expires; then B takes over.
    expect((await store.list()).find((c) => c.id === id)?.holder).toMatch(/:\d+:/);
    await leaseFree(id);
    const b = instance(['--resume', id]);
    expect(await b.waitJson((e) => e.type === 'session', 30_000)).toMatchObject({ conversation: id, resumed: true });
    const first = await talk(b, 'what is the code word');
    // The model's context starts with the seed, which holds A's turns.
    expect(first).toMatch(/^Context: 1\. system seed_1 "Most recent turns, verbatim: user: the code word is heron/);
    await talk(b, 'and the name of my dog');

    // 3. Mid-summary: the insert is acknowledged, the deletes are not.
    holdDeletes = true;
    b.proc.stdin!.write('/summarise\n');
    const summary = await waitUntil('the summary in the store', async () => (await lines(id)).find((l) => l.type === 'summary' && /^sum_/.test(l.id ?? '')));
    await waitUntil('a delete held back', async () => heldDeletes > 0);
    expect((await lines(id)).filter((l) => l.type === 'delete')).toEqual([]);
    await kill(b);
    holdDeletes = false;

    // 4. Instance C resumes after B's lease expires, and ends normally.
    await leaseFree(id);
    const c = instance(['--resume', id]);
    expect(await c.waitJson((e) => e.type === 'session', 30_000)).toMatchObject({ conversation: id, resumed: true });
    const last = await talk(c, 'are you still there');
    expect(last).toMatch(/^Context: 1\. system seed_2 "Summary of the conversation so far: /);
    c.proc.stdin!.end();
    expect((await c.exited).code).toBe(0);

    // ---- the store afterwards ----
    const all = await lines(id);
    const turns = all.filter((l) => l.type === 'turn');
    const ids = turns.map((t) => t.id);
    expect(ids.length, 'turn ids stored more than once').toBe(new Set(ids).size);
    for (const text of said) expect(turns.filter((t) => t.role === 'user' && t.text === text).length, `user turn "${text}"`).toBe(1);
    expect(turns.filter((t) => t.role === 'assistant').length).toBe(said.length);
    const summaries = all.filter((l) => l.type === 'summary');
    expect(summaries.map((s) => s.id).sort()).toEqual(['seed_1', 'seed_2', summary.id].sort());

    // C's seed: the summary once, then exactly the turns the summary does not cover, in order.
    const seed2 = summaries.find((s) => s.id === 'seed_2')!;
    const covered = new Set(summary.replaces);
    expect(covered.has('seed_1')).toBe(true);
    const at = (sid: string) => all.findIndex((l) => l.type === 'summary' && l.id === sid);
    const bTurns = turns.filter((t) => all.indexOf(t) > at('seed_1') && all.indexOf(t) < at(summary.id!));
    const uncovered = bTurns.filter((t) => !covered.has(t.id!));
    expect(uncovered.length, JSON.stringify({ replaces: summary.replaces, bTurns: bTurns.map((t) => t.id), order: all.map((l) => `${l.type}:${l.id ?? ""}`) })).toBeGreaterThan(0);
    expect(seed2.text).toBe(
      `Summary of the conversation so far: ${String(summary.text).trim()}\n\nMost recent turns, verbatim:\n${uncovered.map((t) => `${t.role}: ${t.text}`).join('\n')}`,
    );
    expect(seed2.replaces).toEqual([summary.id, ...uncovered.map((t) => t.id)]);
    // The server conversation C talked to starts with that seed.
    const cItems = emu.sessions().at(-1)?.items() as { id: string }[] | undefined;
    if (cItems) expect(cItems[0].id).toBe('seed_2');
    // The listing agrees with the entries.
    const row = (await store.list()).find((r) => r.id === id)!;
    expect(row).toMatchObject({ turns: turns.length, summaries: 3, holder: null });
  }, 240_000);

  it('the store URL\'s password never appears in output (banner, --json, --debug, listing)', async () => {
    const secretUrl = url.replace('postgres://postgres@', 'postgres://postgres:pw-9f8e7d6c5b@');
    const base = ['--url', proxy.url, '--api-key', KEY, '--input', 'text', '--output', 'text', '--debug', '--store', secretUrl];
    const r = await runCli(base, { cwd: dir, env: cleanEnv(), stdin: 'hello there\n', timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('conversation conv_');
    expect(r.stdout + r.stderr).not.toContain('pw-9f8e7d6c5b');
    const j = await runCli([...base, '--json'], { cwd: dir, env: cleanEnv(), stdin: 'hello again\n', timeoutMs: 60_000 });
    expect(j.stdout + j.stderr).not.toContain('pw-9f8e7d6c5b');
    const listing = await runCli(['conversations', '--store', secretUrl], { cwd: dir, env: cleanEnv(), timeoutMs: 60_000 });
    expect(listing.code).toBe(0);
    expect(listing.stdout.split('\n').length).toBeGreaterThan(2);
    expect(listing.stdout + listing.stderr).not.toContain('pw-9f8e7d6c5b');
  }, 120_000);
});
