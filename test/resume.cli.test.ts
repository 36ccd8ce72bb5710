// Resume in the CLI, end to end with the real binary against the emulator (context echo on, so the
// model's reply lists what is in its context): a conversation written to a JSONL journal continues in
// a new process with `--resume FILE` (and by id), the model can quote the earlier turns, a conversation
// another live instance holds is refused with one clear line, and `conversations` lists it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { cleanEnv, runCli, spawnCli } from './helpers/cli-run.js';

const KEY = 'sk-resume-test-0123456789';
let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: KEY, contextEcho: true, audioPacing: 'fast' });
  dir = mkdtempSync(join(tmpdir(), 'rtc-resume-'));
});
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = () => ['--url', emu.url, '--api-key', KEY, '--input', 'text', '--output', 'text', '--json'];
const env = () => cleanEnv();
const lines = (out: string) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const assistantTexts = (out: string) => lines(out).filter((e) => e.type === 'turn' && e.role === 'assistant' && e.textState === 'final').map((e) => String(e.text));

describe('realtime-agent --resume', () => {
  const journal = () => join(dir, 'talk.jsonl');
  let id = '';

  it('first run: the conversation id is printed (banner and --json) and is the journal\'s first line', async () => {
    const r = await runCli([...base(), '--journal', journal()], { cwd: dir, env: env(), stdin: 'my name is Ada Lovelace\nmy favourite number is 1815\n' });
    expect(r.code, r.stderr).toBe(0);
    const session = lines(r.stdout).find((e) => e.type === 'session')!;
    id = String(session.conversation);
    expect(id).toMatch(/^conv_[0-9a-f]{32}$/); // 128 random bits: unguessable
    expect(session).toMatchObject({ resumed: false, store: 'jsonl' });
    expect(r.stderr).toContain(`conversation ${id}`);
    const first = JSON.parse(readFileSync(journal(), 'utf8').split('\n')[0]) as Record<string, unknown>;
    expect(first).toMatchObject({ type: 'conversation', id });
  });

  it('--resume FILE continues it: the new session is seeded and the model quotes the earlier turns', async () => {
    const r = await runCli([...base(), '--resume', journal()], { cwd: dir, env: env(), stdin: 'what did I tell you\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).find((e) => e.type === 'session')).toMatchObject({ conversation: id, resumed: true });
    const [reply] = assistantTexts(r.stdout);
    // Context echo: the first item the model sees is the seed, holding the earlier turns verbatim.
    expect(reply).toMatch(/^Context: 1\. system seed_1 "Most recent turns, verbatim: user: my name is Ada Lovelace/);
    expect(reply).toContain('2. user');
    expect(reply).toContain('"what did I tell you"');
    // Same file, same conversation: the seed is journaled as a summary covering the first run's turns.
    const entries = readFileSync(journal(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const seed = entries.find((e) => e.type === 'summary' && e.id === 'seed_1')!;
    const firstRunTurns = entries.filter((e) => e.type === 'turn').slice(0, 4).map((e) => e.id);
    expect(seed.replaces).toEqual(firstRunTurns);
  });

  it('--resume ID finds it in the store directory; the seed then builds on the earlier seed (nothing twice)', async () => {
    const r = await runCli([...base(), '--store', dir, '--resume', id], { cwd: dir, env: env(), stdin: 'and now?\n' });
    expect(r.code, r.stderr).toBe(0);
    const entries = readFileSync(journal(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const seed2 = entries.find((e) => e.type === 'summary' && e.id === 'seed_2')!;
    const text = String(seed2.text);
    // The first run's user turn is in seed_2 once, as a line of its own (inside seed_1's text); the
    // assistant replies that quote it are other lines.
    expect(text.match(/^user: my name is Ada Lovelace$/gm)).toHaveLength(1);
    expect(text.match(/^user: what did I tell you$/gm)).toHaveLength(1);
    expect(text.match(/^Summary of the conversation so far: /gm)).toHaveLength(1);
  });

  it('a conversation another live instance holds is refused with one line; free again once that one ends', async () => {
    const holder = spawnCli([...base(), '--store', dir, '--resume', id], { cwd: dir, env: env(), stdin: 'pipe' });
    await holder.waitJson((e) => e.type === 'session');
    const r = await runCli([...base(), '--store', dir, '--resume', id], { cwd: dir, env: env(), stdin: '' });
    expect(r.code).toBe(1);
    const err = r.stderr.trim().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`^realtime-agent: conversation ${id} is held by another live instance \\(.+\\) until .+: stop that instance or wait for its lease to expire$`));
    const listed = await runCli(['conversations', '--store', dir, '--json'], { cwd: dir, env: env() });
    expect(lines(listed.stdout).find((e) => e.id === id)?.holder).toMatch(/:\d+:/);
    holder.proc.stdin!.end();
    expect((await holder.exited).code).toBe(0);
    const after = await runCli(['conversations', '--store', dir, '--json'], { cwd: dir, env: env() });
    const row = lines(after.stdout).find((e) => e.id === id)!;
    expect(row).toMatchObject({ holder: null, turns: 8 });
    expect(Number(row.costUsd)).toBeGreaterThan(0);
  });

  it('an unknown id or a missing file says so in one line', async () => {
    const r = await runCli([...base(), '--store', dir, '--resume', 'conv_nope'], { cwd: dir, env: env(), stdin: '' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^realtime-agent: no conversation conv_nope in journal directory .+: list them with `realtime-agent conversations`$/);
  });

  it('conversations (text) shows a table with the conversation', async () => {
    const r = await runCli(['conversations', '--store', dir], { cwd: dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^id\s+started\s+last activity\s+turns\s+summaries\s+cost\s+held by$/);
    expect(r.stdout).toContain(id);
  });
}, 120_000);
