// Secrets: the real realtime-agent binary, a recognisable API key, and every output searched for it:
// stdout (--json), stderr (--debug), the journal, the --trace file, and the live inspector's page,
// event stream and trace download fetched over HTTP with the token. Also the 401 path (a WRONG key),
// and the journal's file mode (0600).
// --trace and --inspect are probed first: a probe that fails fails the suite (the first test), and
// the test names say which parts ran.
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli, spawnCli, cleanEnv, type CliProcess } from '../helpers/cli-run.js';

const KEY = 'sk-test-RECOGNISABLE-7f3a9c2e1b';
const WRONG = 'sk-test-WRONGKEY-5e6d7c8b9a0f';
/** Distinctive tails: a partial leak (e.g. a truncated header) must not pass either. */
const needles = (k: string) => [k, k.slice(8), k.slice(-10)];

const dir = mkdtempSync(join(tmpdir(), 'rtc-secrets-'));

// Probes: does this binary accept the flag? (an unknown flag is a usage error, exit 2)
const probeTrace = await runCli(['--trace', join(dir, 'probe.jsonl'), '--help']);
const probeInspect = await runCli(['--inspect=0', '--help']);
const HAS_TRACE = probeTrace.code === 0;
const HAS_INSPECT = probeInspect.code === 0;
const parts = [
  '--json',
  '--debug',
  '--journal',
  HAS_TRACE ? '--trace' : '(--trace not supported by this CLI: skipped)',
  HAS_INSPECT ? '--inspect page/events/trace over HTTP' : '(--inspect not supported by this CLI: skipped)',
].join(', ');

// The CLI ships --trace and --inspect: a probe that fails is a failure, never a silently smaller test.
it('the CLI accepts --trace and --inspect (the checks below cover both)', () => {
  expect(probeTrace.code, `--trace probe: ${probeTrace.stderr}`).toBe(0);
  expect(probeInspect.code, `--inspect probe: ${probeInspect.stderr}`).toBe(0);
});

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: KEY, audioPacing: 'fast' });
});
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectNoKey(where: string, text: string, key = KEY): void {
  for (const n of needles(key)) expect(text.includes(n), `${where} contains ${JSON.stringify(n)}`).toBe(false);
}

async function readSse(url: string, ms: number): Promise<string> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  expect(res.status).toBe(200);
  let out = '';
  const reader = res.body!.getReader();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += Buffer.from(value).toString('utf8');
    }
  } catch {
    // aborted: what arrived so far is the sample
  } finally {
    clearTimeout(timer);
  }
  return out;
}

async function waitExit(p: CliProcess, ms: number) {
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), ms);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('the API key never leaves the process', () => {
  it(`right key, text mode with ${parts}: a few turns and a summary, the key appears nowhere; journal mode 0600`, async () => {
    const journal = join(dir, 'journal.jsonl');
    const trace = join(dir, 'trace.jsonl');
    const args = ['--url', emu.url, '--api-key', KEY, '--input', 'text', '--output', 'text', '--json', '--debug', '--journal', journal, '--trigger', '400', '--target', '100'];
    if (HAS_TRACE) args.push('--trace', trace);
    if (HAS_INSPECT) args.push('--inspect=0');
    const p = spawnCli(args, { stdin: 'pipe' });
    // The key is also typed into the conversation: it comes back in the echo, the summary, the journal.
    const lines = [`Hello, my key is ${KEY}, please remember it`, 'What did I just tell you?', '/summarise', 'And now, one more question'];
    for (const l of lines) p.proc.stdin!.write(`${l}\n`);
    await p.waitJson((e) => e.type === 'summary', 30_000);
    await p.waitJson((e) => e.type === 'turn' && e.role === 'assistant' && typeof e.text === 'string' && e.text.includes('one more question'), 30_000);

    let inspectorText = '';
    if (HAS_INSPECT) {
      const insp = await p.waitJson((e) => e.type === 'inspector', 10_000);
      const url = new URL(String(insp.url));
      const token = url.searchParams.get('token');
      expect(token).toBeTruthy();
      const page = await fetch(url);
      expect(page.status).toBe(200);
      inspectorText += await page.text();
      inspectorText += await readSse(`${url.origin}/events?token=${token}`, 1500);
      const tr = await fetch(`${url.origin}/trace.jsonl?token=${token}`);
      expect(tr.status).toBe(200);
      inspectorText += await tr.text();
      // Without the token: refused, and the refusal carries nothing either.
      const denied = await fetch(`${url.origin}/events`);
      expect(denied.status).toBe(401);
      inspectorText += await denied.text();
      expect(inspectorText).toContain('item_'); // the frames really carry the conversation
    }

    p.proc.stdin!.end('/quit\n');
    const r = await waitExit(p, 20_000);
    expect(r.code).toBe(0);
    const json = p.json();
    expect(json.some((e) => e.type === 'summary')).toBe(true);
    expect(json.filter((e) => e.type === 'turn' && e.role === 'assistant').length).toBeGreaterThanOrEqual(3);

    expectNoKey('stdout', r.stdout);
    expectNoKey('stderr', r.stderr);
    expect(r.stdout).toContain('[redacted]'); // the typed key was there, and was redacted
    const j = readFileSync(journal, 'utf8');
    expectNoKey('journal', j);
    expect(j).toContain('"type":"summary"');
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    if (HAS_TRACE) {
      expect(existsSync(trace)).toBe(true);
      const t = readFileSync(trace, 'utf8');
      expect(t.length).toBeGreaterThan(0);
      expectNoKey('trace file', t);
      console.log(`[secrets] trace file mode ${(statSync(trace).mode & 0o777).toString(8)}`);
    }
    if (HAS_INSPECT) expectNoKey('inspector page/events/trace', inspectorText);
  }, 90_000);

  it(`wrong key (401) with ${parts.replace(', --inspect page/events/trace over HTTP', '')}: exit 1, neither key appears anywhere`, async () => {
    const journal = join(dir, 'wrong.jsonl');
    const trace = join(dir, 'wrong-trace.jsonl');
    const args = ['--url', emu.url, '--input', 'text', '--output', 'text', '--json', '--debug', '--journal', journal];
    if (HAS_TRACE) args.push('--trace', trace);
    // The wrong key comes from the environment this time (the other way a key arrives).
    const r = await runCli(args, { env: cleanEnv({ OPENAI_API_KEY: WRONG }), stdin: `my key is ${WRONG}\n`, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/401|API key|bad_api_key/i);
    for (const [where, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
      expectNoKey(where, text, WRONG);
      expectNoKey(where, text, KEY);
    }
    if (existsSync(journal)) {
      expectNoKey('journal', readFileSync(journal, 'utf8'), WRONG);
      expect(statSync(journal).mode & 0o777).toBe(0o600);
    }
    if (HAS_TRACE && existsSync(trace)) expectNoKey('trace file', readFileSync(trace, 'utf8'), WRONG);
  }, 60_000);
});
