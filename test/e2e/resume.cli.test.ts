// Resume in the CLI, end to end with the real binary against the emulator (context echo on, so the
// model's reply lists what is in its context): a conversation written to a JSONL journal continues in
// a new process with `--resume FILE` (and by id), the model can quote the earlier turns, a conversation
// another live instance holds is refused with one clear line, and `conversations` lists it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cleanEnv, runCli, spawnCli } from '../helpers/cli-run.js';

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

// Defects a new user hit (issue 24): a file that is not a journal, lease files left behind, --store
// ignored, zero-turn runs listed as conversations, "1 summaries".
describe('realtime-agent --resume and --store, as a newcomer uses them', () => {
  const fresh = (name: string) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const leases = (d: string) => readdirSync(d).filter((f) => f.endsWith('.lease') || f.includes('.lease.'));

  it('--resume on a file that is not a journal: one line naming the file and the fix, exit 1, the file byte-for-byte unchanged, no lease left', async () => {
    const d = fresh('notes');
    // One line of plain text: the store would skip it as a torn tail and append the session to it.
    for (const [name, text] of [['notes.txt', 'buy milk\n'], ['two.txt', 'buy milk\ncall Ada\n'], ['data.jsonl', '{"a":1}\n']] as const) {
      const file = join(d, name);
      writeFileSync(file, text);
      const r = await runCli([...base(), '--resume', file], { cwd: d, env: env(), stdin: 'hello\n' });
      expect(r.code, r.stderr).toBe(1);
      const err = r.stderr.trim().split('\n');
      expect(err).toHaveLength(1);
      expect(err[0]).toBe(`realtime-agent: --resume ${file}: not a journal (line 1 is not a journal entry); nothing was written to it: give a journal written by realtime-agent (.rtc/*.jsonl) or a conversation id from \`realtime-agent conversations\``);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
    expect(leases(d)).toEqual([]);
    // Nothing else was made either (no .rtc/ with a new journal).
    expect(readdirSync(d).sort()).toEqual(['data.jsonl', 'notes.txt', 'two.txt']);
  });

  it('a resume that fails after taking the lease (damaged journal, unreachable server) leaves no lease file', async () => {
    const d = fresh('damaged');
    const file = join(d, 'talk.jsonl');
    const good = (k: number, type: string, extra: string) => `{"v":1,"t":"2026-01-01T00:00:0${k}.000Z","k":"x.${k}","type":"${type}"${extra}}`;
    writeFileSync(file, [good(1, 'conversation', ',"id":"conv_damaged"'), 'not json at all', good(2, 'end', ',"reason":"stopped"'), ''].join('\n'));
    const before = readFileSync(file, 'utf8');
    const r = await runCli([...base(), '--resume', file], { cwd: d, env: env(), stdin: '' });
    expect(r.code).toBe(1);
    expect(leases(d)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(r.stderr.trim().split('\n')).toEqual([`realtime-agent: --resume ${file}: line 2 is not a journal entry, so the journal is damaged; nothing was written to it: repair or remove that line`]);
    // A good journal whose server is unreachable: the lease was taken, and is given back.
    const ok = join(d, 'ok.jsonl');
    writeFileSync(ok, `${good(1, 'conversation', ',"id":"conv_ok"')}\n`);
    const down = await runCli(['--url', 'ws://127.0.0.1:9/v1/realtime', '--api-key', KEY, '--input', 'text', '--output', 'text', '--reconnect-attempts', '0', '--connect-timeout', '2000', '--resume', ok], { cwd: d, env: env(), stdin: '' });
    expect(down.code).toBe(1);
    expect(leases(d)).toEqual([]);
  });

  it('--store DIR: the journal is written there, `conversations --store DIR` lists it, nothing goes to .rtc/', async () => {
    const d = fresh('store-opt');
    const r = await runCli([...base(), '--store', 'st'], { cwd: d, env: env(), stdin: 'hello store\n' });
    expect(r.code, r.stderr).toBe(0);
    const id = String(lines(r.stdout).find((e) => e.type === 'session')!.conversation);
    expect(existsSync(join(d, '.rtc'))).toBe(false);
    const files = readdirSync(join(d, 'st')).filter((f) => f.endsWith('.jsonl'));
    expect(files).toHaveLength(1);
    expect(readFileSync(join(d, 'st', files[0]), 'utf8')).toContain(`"id":"${id}"`);
    const listed = await runCli(['conversations', '--store', 'st', '--json'], { cwd: d, env: env() });
    expect(lines(listed.stdout).map((e) => e.id)).toEqual([id]);
    // RTC_STORE means the same.
    const viaEnv = await runCli(['conversations', '--json'], { cwd: d, env: cleanEnv({ RTC_STORE: 'st' }) });
    expect(lines(viaEnv.stdout).map((e) => e.id)).toEqual([id]);
  });

  it('conversations hides runs with no turns (a failed start); --all lists them, marked "no turns"', async () => {
    const d = fresh('empties');
    const talk = await runCli([...base(), '--store', d], { cwd: d, env: env(), stdin: 'hello\n' });
    const kept = String(lines(talk.stdout).find((e) => e.type === 'session')!.conversation);
    // A run that fails at once (a WAV file that does not exist) still made a conversation with no turns.
    const failed = await runCli([...base(), '--store', d, '--input', 'wav:missing.wav'], { cwd: d, env: env(), stdin: '' });
    expect(failed.code).toBe(1);
    const all = await runCli(['conversations', '--store', d, '--json', '--all'], { cwd: d, env: env() });
    const rows = lines(all.stdout);
    expect(rows).toHaveLength(2);
    const empty = rows.find((e) => e.id !== kept)!;
    expect(empty).toMatchObject({ turns: 0, empty: true });
    const shown = await runCli(['conversations', '--store', d, '--json'], { cwd: d, env: env() });
    expect(lines(shown.stdout).map((e) => e.id)).toEqual([kept]);
    const text = await runCli(['conversations', '--store', d], { cwd: d, env: env() });
    expect(text.stdout).not.toContain(String(empty.id));
    expect(text.stdout.trim().split('\n').at(-1)).toBe('1 conversation with no turns hidden: --all shows them');
    const textAll = await runCli(['conversations', '--store', d, '--all'], { cwd: d, env: env() });
    expect(textAll.stdout.split('\n')[0]).toMatch(/held by\s+note$/);
    expect(textAll.stdout.split('\n').find((l) => l.startsWith(String(empty.id)))).toMatch(/no turns$/);
  });

  it('the resume banner counts in words: "1 summary, 1 verbatim turn"', async () => {
    const d = fresh('plural');
    const file = join(d, 'one.jsonl');
    const at = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
    writeFileSync(
      file,
      [
        { v: 1, t: at(1), type: 'conversation', id: 'conv_plural' },
        { v: 1, t: at(2), type: 'turn', id: 'item_a', role: 'user', kind: 'message', text: 'my name is Ada', textState: 'final', prev: null },
        { v: 1, t: at(3), type: 'turn', id: 'item_b', role: 'assistant', kind: 'message', text: 'hello Ada', textState: 'final', prev: 'item_a' },
        { v: 1, t: at(4), type: 'summary', id: 'sum_1', text: 'The user is Ada.', replaces: ['item_a', 'item_b'] },
        { v: 1, t: at(5), type: 'turn', id: 'item_c', role: 'user', kind: 'message', text: 'still there?', textState: 'final', prev: 'sum_1' },
      ].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    const r = await runCli(['--url', emu.url, '--api-key', KEY, '--input', 'text', '--output', 'text', '--resume', file], { cwd: d, env: env(), stdin: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('resuming conv_plural (1 summary, 1 verbatim turn in the seed)');
  });

  it('errors name the file and the fix, never a bare errno code or a stray ".:"', async () => {
    const d = fresh('messages');
    const wav = await runCli([...base(), '--store', d, '--input', 'wav:nope.wav'], { cwd: d, env: env(), stdin: '' });
    // (--json: the banner lines go to stderr before the error, the last line.)
    expect(wav.stderr.trim().split('\n').at(-1)).toBe('realtime-agent: --input wav:nope.wav: cannot read nope.wav: no such file or directory: check the path');
    const unknown = await runCli([...base(), '--store', '.', '--resume', 'conv_nope'], { cwd: d, env: env(), stdin: '' });
    expect(unknown.stderr.trim()).toBe(`realtime-agent: no conversation conv_nope in journal directory ${d}: list them with \`realtime-agent conversations\``);
  });
}, 180_000);
