// End-to-end: the real realtime-agent binary against the real emulator (in-process in the CLI, or
// started here when a test needs a particular server). Nothing is mocked.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav, wavHeader } from '../../adapters/wav.js';
import { startEmulator } from '../../src/emulator/index.js';
import { speechLikePcm } from '../../src/cli/synth.js';
import { SHARED_AUDIO } from '../helpers/audio-env.js';
import { cleanEnv, runCli, spawnCli } from '../helpers/cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-e2e-'));
const SECRET = 'sk-test-DO-NOT-PRINT-0123456789abcdef';
/** A sound setup with no device at all, whatever this machine has: the probe must say so, safely. */
const NO_AUDIO = { ALSA_CONFIG_PATH: join(SHARED_AUDIO, 'asound-pulse-only.conf'), PULSE_SERVER: 'unix:/nonexistent/native', PULSE_RUNTIME_PATH: '/nonexistent' };

const oneLine = (s: string) => s.trim().split('\n').length === 1;
const readJournal = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('realtime-agent conventions', () => {
  it('--help lists every option with default and env var; --version prints the version', async () => {
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--trigger TOKENS .*default: /);
    expect(h.stdout).toMatch(/--api-key KEY .*env: OPENAI_API_KEY/);
    expect(h.stdout).toMatch(/--no-color .*env: NO_COLOR/);
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^realtime-agent \d+\.\d+\.\d+$/);
  });

  const usage: Array<[string[], RegExp]> = [
    [['--foo'], /^realtime-agent: unknown flag --foo \(see --help\)$/],
    [['extra'], /unexpected argument "extra"/],
    [['--trigger'], /--trigger needs a value/],
    [['--trigger', 'lots'], /--trigger must be a whole number/],
    [['--dialect', 'v3'], /--dialect must be one of ga, beta/],
    [['--input', 'camera'], /--input must be mic, text or wav:PATH/],
    [['--output', 'hdmi'], /--output must be speaker, text or wav:PATH/],
    [['--preset', 'huge'], /--preset must be one of/],
    [['--summary-role', 'robot'], /--summary-role must be one of/],
    [['--half-duplex', '--headphones'], /exclude each other/],
    [['--url', 'https://example.com'], /--url must start with ws:\/\//],
    [['--azure-endpoint', 'https://r.openai.azure.com'], /--azure-deployment/],
    [['--trigger', '100', '--target', '500'], /--target \(500\) must be below --trigger \(100\)/],
    [['--demo', '--output', 'speaker'], /--demo runs a fixed script/],
    [['--json=1'], /--json takes no value/],
  ];
  it.each(usage)('usage error %j exits 2 with one line', async (args, msg) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr.trim()).toMatch(msg);
  });

  it('a bad environment variable is a usage error naming the variable', async () => {
    const r = await runCli([], { env: cleanEnv({ REALTIME_URL: 'http://x' }) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('realtime-agent: REALTIME_URL must start with ws:// or wss://, got "http://x"');
  });

  it('an OpenAI URL without a key is a usage error', async () => {
    const r = await runCli(['--url', 'wss://api.openai.com/v1/realtime', '--input', 'text', '--output', 'text']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('realtime-agent: wss://api.openai.com/v1/realtime needs an API key: set OPENAI_API_KEY or pass --api-key');
  });

  it('asking for a missing device is a one-line runtime error', async () => {
    const r = await runCli(['--input', 'mic', '--output', 'text'], { env: cleanEnv(NO_AUDIO) });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^realtime-agent: --input mic: no microphone \(.+\); use --input text or wav:PATH/);
  });

  it('without devices the default is text, and the banner says why', async () => {
    const r = await runCli(['--no-journal'], { env: cleanEnv(NO_AUDIO), stdin: '/quit\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no API key: using the built-in emulator; replies are synthetic');
    expect(r.stdout).toMatch(/input text, output text; no audio devices: .+/);
  });
});

describe('text mode on the built-in emulator', () => {
  it('--json streams session, turn, transcript-free text turns, window and summary events; the journal is written', async () => {
    const journal = join(dir, 'text.jsonl');
    const lines = ['Can you tell me a quick story?', 'Can you tell me three extremely funny stories?', '/summarise', 'What language was the first summary you gave me?'];
    const r = await runCli(
      ['--json', '--input', 'text', '--output', 'text', '--preset', 'seed-demo', '--trigger', '150', '--target', '60', '--summary-language', 'French', '--journal', journal],
      { stdin: lines.join('\n') + '\n' },
    );
    expect(r.stderr).not.toMatch(/realtime-agent: /);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['session', 'turn', 'window', 'summary']) expect(types, t).toContain(t);
    expect([...types].every((t) => ['session', 'turn', 'transcript', 'window', 'summary', 'error'].includes(t as string))).toBe(true);
    const session = events.find((e) => e.type === 'session')!;
    expect(session).toMatchObject({ backend: 'emulator', input: 'text', output: 'text', dialect: 'ga' });
    const win = events.find((e) => e.type === 'window')!;
    expect(win).toMatchObject({ trigger: 150 });
    expect(typeof win.tokens).toBe('number');
    expect(typeof win.costUsd).toBe('number');
    const summary = events.find((e) => e.type === 'summary')!;
    expect(summary.text).toMatch(/^\[Summary in French\]/);
    expect((summary.replacedIds as string[]).length).toBeGreaterThan(0);
    const answers = events.filter((e) => e.type === 'turn' && e.role === 'assistant' && e.textState === 'final');
    expect(answers.at(-1)!.text).toBe('The first summary was in French.');
    expect(existsSync(journal)).toBe(true);
    const entries = readJournal(journal);
    expect(entries.length).toBeGreaterThan(3);
    expect(JSON.stringify(entries)).toContain('Can you tell me a quick story?');
  });

  it('human mode prints the transcript, the window gauge and the summary line', async () => {
    const r = await runCli(['--input', 'text', '--output', 'text', '--trigger', '100', '--target', '50', '--no-journal'], {
      stdin: 'Hello there\nTell me more please\n/history\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^you: Hello there$/m);
    expect(r.stdout).toMatch(/^assistant: You said: Hello there/m);
    expect(r.stdout).toMatch(/-- window [\d,]+ \/ 100 \[[#.]{20}\] \d+% · cost \$\d+\.\d{4}/);
    expect(r.stdout).toMatch(/-- summarised \d+ turns? into 1, window [\d,]+ -> ≈[\d,]+ \(estimate until the next response\)/);
    expect(r.stdout).toContain('—— Conversation so far ———————————————');
    expect(r.stdout).not.toContain('\x1b['); // not a TTY: no colour codes
  });

  it('npm start (--demo) replays the notebook: summary in French, then the model says so', async () => {
    const r = await runCli(['--demo', '--no-journal'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no API key: using the built-in emulator; replies are synthetic');
    expect(r.stdout).toMatch(/\[user {5}\] Can you tell me a quick story\? \(item_/);
    // Issue 10: figures from the server's usage are plain; estimates carry ≈, and the legend says so.
    expect(r.stdout).toMatch(/⚠️ Token window [\d,]+ ≥ 2,000\. Summarising…/);
    expect(r.stdout).toMatch(/—— response\.done \(window [\d,]+ tokens, server usage\) ——/);
    expect(r.stdout).toMatch(/✅ Summary inserted \(sum_001\): summarised \d+ turns? into 1, window [\d,]+ -> ≈[\d,]+ \(estimate until the next response\)/);
    expect(r.stdout).toContain("(window figures: N = the server's usage of the last response; ≈N = an estimate, until the next response reports usage)");
    expect(r.stdout).not.toMatch(/window ≈[\d,]+ tokens/);
    expect(r.stdout).toMatch(/\[system {3}\] \[Summary in French\].*\(sum_001\)/);
    expect(r.stdout).toMatch(/✅ Summary inserted \(sum_001\)/);
    expect(r.stdout).toMatch(/\[user {5}\] What language was the first summary you gave me\? \(item_/);
    expect(r.stdout.trim().split('\n').at(-1)!.trim()).toBe('The first summary was in French.');
  });

  it('--input wav: converts a 48 kHz stereo file, and --output wav: records the reply', async () => {
    const mono = speechLikePcm('Please book a table for two');
    // 48 kHz stereo: every sample doubled in time and duplicated across channels.
    const st = Buffer.alloc(mono.length * 4);
    for (let i = 0; i < mono.length / 2; i++) {
      const v = mono.readInt16LE(i * 2);
      for (let k = 0; k < 4; k++) st.writeInt16LE(v, i * 8 + k * 2);
    }
    const inPath = join(dir, 'in48k.wav');
    writeFileSync(inPath, Buffer.concat([wavHeader(st.length, 48000, 2, 16), st]));
    const outPath = join(dir, 'reply.wav');
    const r = await runCli(['--input', `wav:${inPath}`, '--output', `wav:${outPath}`, '--no-journal', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/converted 48000 Hz, 2 channel\(s\), 16-bit to 24 kHz mono pcm16/);
    const reply = readWav(outPath);
    expect(reply.converted).toBe(false);
    expect(reply.pcm.length).toBeGreaterThan(48_000); // more than a second of assistant audio
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.some((e) => e.type === 'turn' && e.role === 'user')).toBe(true);
  });

  it('refuses a compressed WAV with one line', async () => {
    const p = join(dir, 'mulaw.wav');
    const h = wavHeader(800, 8000, 1, 8);
    h.writeUInt16LE(7, 20);
    writeFileSync(p, Buffer.concat([h, Buffer.alloc(800, 0xff)]));
    const r = await runCli(['--input', `wav:${p}`, '--output', 'text', '--no-journal']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/mu-law, not PCM: convert it first/);
  });
});

describe('failures against a server', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let beta: Awaited<ReturnType<typeof startEmulator>>;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, host: '127.0.0.1', apiKey: 'right-key-123456', audioPacing: 'fast' });
    beta = await startEmulator({ port: 0, host: '127.0.0.1', audioPacing: 'fast' });
  });
  afterAll(async () => {
    await emu?.close();
    await beta?.close();
  });

  it('unreachable URL: exit 1, one line, no stack', async () => {
    const port = await freePort();
    const r = await runCli(['--url', `ws://127.0.0.1:${port}/v1/realtime`, '--input', 'text', '--output', 'text', '--no-journal']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^realtime-agent: .*(unreachable|connect|ECONNREFUSED|refused)/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('401: exit 1, one line, and the key never appears', async () => {
    const r = await runCli(['--url', emu.url, '--api-key', SECRET, '--input', 'text', '--output', 'text', '--no-journal', '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^realtime-agent: .*(key|401|auth)/im);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(SECRET.slice(8));
  });

  it('the right key works, and is redacted from output and journal', async () => {
    const journal = join(dir, 'keyed.jsonl');
    const r = await runCli(['--url', emu.url, '--api-key', 'right-key-123456', '--input', 'text', '--output', 'text', '--json', '--debug', '--journal', journal], {
      stdin: 'my key is right-key-123456, remember it\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('right-key-123456');
    expect(r.stdout).toContain('[redacted]');
    expect(readFileSync(journal, 'utf8')).not.toContain('right-key-123456');
  });

  it('wrong dialect (close 4000): exit 1 with the fix', async () => {
    const r = await runCli(['--url', beta.url, '--api-key', 'any-key-1234', '--dialect', 'beta', '--input', 'text', '--output', 'text', '--no-journal'], { stdin: 'hello\n' });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^realtime-agent: .*--dialect ga/);
  });
});

describe('signals', () => {
  it('SIGINT mid-response ends within 2 s: exit 0, journal flushed, WAV finalised', async () => {
    const journal = join(dir, 'sigint.jsonl');
    const wav = join(dir, 'sigint.wav');
    const p = spawnCli(['--json', '--input', 'text', '--output', `wav:${wav}`, '--emulator-pacing', 'realtime', '--journal', journal], { stdin: 'pipe' });
    p.proc.stdin!.write('Can you tell me a quick story?\n');
    await p.waitJson((e) => e.type === 'session', 20_000);
    // Mid-response: the reply's audio is paced in real time, so it is still streaming now.
    await p.waitJson((e) => e.type === 'turn' && e.role === 'assistant', 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    p.proc.kill('SIGINT');
    const r = await p.exited;
    const took = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(took).toBeLessThan(2000);
    expect(r.stderr).not.toMatch(/realtime-agent: /);
    const entries = readJournal(journal);
    expect(entries.length).toBeGreaterThan(0);
    const audio = readWav(wav);
    expect(audio.pcm.length).toBeGreaterThan(0);
    expect(readFileSync(wav).readUInt32LE(40)).toBe(audio.pcm.length); // header patched on close
  });

  it('SIGTERM while idle ends within 2 s with exit 0', async () => {
    const p = spawnCli(['--input', 'text', '--output', 'text', '--no-journal'], { env: cleanEnv(NO_AUDIO), stdin: 'pipe' });
    await p.waitText(/input text, output text/);
    const t0 = Date.now();
    p.proc.kill('SIGTERM');
    const r = await p.exited;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.code).toBe(0);
  });
});
