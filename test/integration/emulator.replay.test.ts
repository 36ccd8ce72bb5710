// Recordings as conformance tests: the recorder (library option `record`), the replay checker
// (replayRecording, realtime-emulator --replay) and the fixtures built from the captured service.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareServerEvents, parseRecording, replayRecording, startEmulator } from '../../src/emulator/index.js';
import { createRealtimeAgent } from '../../src/agent.js';
import { stripAudio } from '../../adapters/recorder.js';
import { cleanEnv, runCli } from '../helpers/cli-run.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'recordings');
const dir = mkdtempSync(join(tmpdir(), 'rtc-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** Rewrites a recording line by line (JSON objects), for deliberately altered fixtures. */
function alter(text: string, edit: (lines: any[]) => any[]): string {
  return `${edit(text.trim().split('\n').map((l) => JSON.parse(l))).map((l) => JSON.stringify(l)).join('\n')}\n`;
}

describe('fixtures built from the captured service', () => {
  const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')).sort();
  it('ships the six captured scenarios', () => {
    expect(names).toEqual(['bad-key.jsonl', 'beta-header.jsonl', 'invalid-inputs.jsonl', 'missing-model.jsonl', 'text-session.jsonl', 'transcription-session.jsonl']);
  });
  it.each(names)('%s: the emulator replays it with no difference', async (name) => {
    const r = await replayRecording(fixture(name));
    expect(r.differences).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.connections).toBe(1);
  });
});

describe('a deliberately altered fixture is reported with the difference', () => {
  it('swapped order (output_item.done before conversation.item.done) -> order', async () => {
    const text = alter(fixture('text-session.jsonl'), (ls) => {
      const i = ls.findIndex((l) => l.event?.type === 'conversation.item.done' && l.event.item.role === 'assistant');
      [ls[i], ls[i + 1]] = [ls[i + 1], ls[i]];
      return ls;
    });
    const r = await replayRecording(text);
    expect(r.ok).toBe(false);
    expect(r.differences.map((d) => d.kind)).toContain('order');
    expect(r.differences.some((d) => d.message.includes('conversation.item.done') || d.message.includes('response.output_item.done'))).toBe(true);
  });

  it('another error code -> code; another close code -> close; a null turned string -> shape', async () => {
    const oldCode = alter(fixture('invalid-inputs.jsonl'), (ls) =>
      ls.map((l) => (l.event?.error?.code === 'item_delete_invalid_item_id' ? { ...l, event: { ...l.event, error: { ...l.event.error, code: 'item_not_found' } } } : l)),
    );
    const r = await replayRecording(oldCode);
    expect(r.differences.map((d) => d.kind)).toEqual(['code']);
    expect(r.differences[0].message).toBe('recorded error(item_not_found) (after error(item_retrieve_invalid_item_id)); the emulator sent error(item_delete_invalid_item_id)');
    const closed = await replayRecording(alter(fixture('bad-key.jsonl'), (ls) => ls.map((l) => (l.dir === 'close' ? { ...l, code: 4000 } : l))));
    expect(closed.differences.map((d) => d.kind)).toEqual(['close']);
    expect(closed.differences[0].message).toContain('recorded close 4000');
    const created = alter(fixture('text-session.jsonl'), (ls) =>
      ls.map((l) => (l.event?.type === 'response.created' ? { ...l, event: { ...l.event, response: { ...l.event.response, usage: 'x' } } } : l)),
    );
    const s = await replayRecording(created);
    expect(s.differences).toHaveLength(1);
    expect(s.differences[0]).toMatchObject({ kind: 'shape' });
    expect(s.differences[0].message).toBe('response.created: response.usage: string recorded, null from the emulator');
  });

  it('compareServerEvents: ids, texts and delta counts do not count; a missing event does', () => {
    const rec = [{ type: 'a', id: 'x1' }, { type: 'r.delta', delta: 'one' }, { type: 'r.delta', delta: 'two' }, { type: 'b', text: 'hello' }];
    expect(compareServerEvents(rec, [{ type: 'a', id: 'zz' }, { type: 'r.delta', delta: 'x' }, { type: 'b', text: 'other' }], false)).toEqual([]);
    const d = compareServerEvents(rec, [{ type: 'a', id: 'zz' }, { type: 'b', text: 'hello' }], false);
    expect(d.map((x) => x.kind)).toEqual(['missing']);
  });

  it('realtime-emulator --replay: prints each difference, exits 1; exits 0 on a fixture', async () => {
    const altered = join(dir, 'altered.jsonl');
    writeFileSync(altered, alter(fixture('missing-model.jsonl'), (ls) => ls.map((l) => (l.dir === 'close' ? { ...l, code: 3000 } : l))));
    const run = (file: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/cli.ts', '--replay', file], { cwd: process.cwd() });
        let out = '';
        p.stdout.on('data', (d) => (out += d.toString()));
        p.on('close', (code) => resolve({ code, out }));
      });
    const bad = await run(altered);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^connection 1, event \d+: close: recorded close 3000/m);
    expect(bad.out).toContain('1 difference(s)');
    const good = await run(join(FIXTURES, 'beta-header.jsonl'));
    expect(good.code).toBe(0);
    expect(good.out).toContain('no differences');
  }, 120_000);
});

describe('the recorder (library option `record`)', () => {
  it('records both ways with monotonic timestamps, audio as byte counts, no key, mode 0600; the recording replays clean', async () => {
    const key = 'sk-record-secret-0123456789abcdef';
    const emu = await startEmulator({ audioPacing: 'fast', apiKey: key });
    const file = join(dir, 'session.jsonl');
    const agent = createRealtimeAgent({ connection: { url: emu.url, apiKey: key }, session: { turnDetection: null, outputModalities: ['text'] }, journal: false, record: file });
    try {
      await agent.start();
      const done = new Promise((resolve) => agent.on('response.done', resolve));
      agent.sendText('Hello, recorder');
      await done;
      await agent.idle();
      // The service sends rate_limits.updated ~40 ms after response.done (captured): wait until the
      // recording has it, so the recording holds the whole response cycle the replay will see.
      for (let i = 0; i < 100 && !readFileSync(file, 'utf8').includes('"rate_limits.updated"'); i++) await new Promise((r) => setTimeout(r, 50));
      agent.appendAudio(Buffer.alloc(4800));
    } finally {
      await agent.stop();
      await emu.close();
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(-12));
    expect(text).not.toMatch(/Bearer\s+sk/);
    const lines = parseRecording(text);
    expect(lines[0].dir).toBe('meta');
    expect(lines[1]).toMatchObject({ dir: 'connect', handshake: { dialect: 'ga', auth: 'bearer' } });
    const ts = lines.map((l) => l.t ?? 0);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(lines.some((l) => l.dir === 'send' && l.event?.type === 'session.update')).toBe(true);
    expect(lines.some((l) => l.dir === 'recv' && l.event?.type === 'response.done')).toBe(true);
    const append = lines.find((l) => l.dir === 'send' && l.event?.type === 'input_audio_buffer.append');
    expect(append?.event?.audio).toEqual({ $bytes: 4800 });
    // a recording of the emulator replays against the emulator with no difference, its close included
    expect(lines.at(-1)).toMatchObject({ dir: 'close', code: 1000, by: 'client' });
    const r = await replayRecording(text);
    expect(r.differences).toEqual([]);
  });

  it('stripAudio replaces base64 audio fields (append, retrieve, audio deltas) by their decoded length', () => {
    const b64 = Buffer.alloc(300).toString('base64');
    expect(stripAudio({ type: 'input_audio_buffer.append', audio: b64 })).toEqual({ type: 'input_audio_buffer.append', audio: { $bytes: 300 } });
    expect(stripAudio({ type: 'response.output_audio.delta', delta: b64 })).toEqual({ type: 'response.output_audio.delta', delta: { $bytes: 300 } });
    expect(stripAudio({ type: 'response.output_text.delta', delta: 'hi' })).toEqual({ type: 'response.output_text.delta', delta: 'hi' });
    expect(stripAudio({ type: 'conversation.item.retrieved', item: { content: [{ type: 'input_audio', audio: b64 }] } })).toEqual({
      type: 'conversation.item.retrieved',
      item: { content: [{ type: 'input_audio', audio: { $bytes: 300 } }] },
    });
  });
});

describe('recorder errors', () => {
  it('a recording path that cannot be written is a one-line bad_input error naming the path', () => {
    const bad = join(dir, 'no-such-folder', 'x.jsonl');
    expect(() => createRealtimeAgent({ connection: { url: 'ws://127.0.0.1:9/v1/realtime', apiKey: 'k' }, journal: false, record: bad })).toThrow(
      expect.objectContaining({ code: 'bad_input', message: expect.stringContaining(`cannot write the recording ${bad}`) }),
    );
  });
});

// Issue 24: a fresh recording of our own emulator must replay clean. It reported the client's normal
// close 1000 as a difference (the replay waited for the server to close) and, when the client closed
// before the service's rate_limits.updated (~40 ms after response.done), that event as extra.
describe('a recording of the built-in emulator replays clean', () => {
  it('realtime-agent --record, then realtime-emulator --replay: no differences, exit 0', async () => {
    const file = join(dir, 'agent.jsonl');
    const rec = await runCli(['--record', file, '--input', 'text', '--output', 'text', '--no-journal'], { cwd: dir, env: cleanEnv(), stdin: 'hello there\nand a second turn\n' });
    expect(rec.code, rec.stderr).toBe(0);
    const closeLine = parseRecording(readFileSync(file, 'utf8')).at(-1);
    expect(closeLine).toMatchObject({ dir: 'close', code: 1000 });
    const out = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/cli.ts', '--replay', file], { cwd: process.cwd() });
      let text = '';
      p.stdout.on('data', (d) => (text += d.toString()));
      p.on('close', (code) => resolve({ code, out: text }));
    });
    expect(out.out.trim()).toBe(`no differences in 1 connection(s) of ${file}`);
    expect(out.code).toBe(0);
  }, 120_000);

  it('a client that closed 5 ms after response.done (before rate_limits.updated): the replay closes as early, nothing extra', async () => {
    const emu = await startEmulator({ audioPacing: 'fast' });
    const file = join(dir, 'quick-close.jsonl');
    const agent = createRealtimeAgent({ connection: { url: emu.url, apiKey: 'sk-quick' }, session: { turnDetection: null, outputModalities: ['text'] }, journal: false, record: file, reconnect: false });
    try {
      await agent.start();
      const done = new Promise((resolve) => agent.on('response.done', resolve));
      agent.sendText('Hello, quick close');
      await done;
    } finally {
      await agent.stop();
      await emu.close();
    }
    // The recording as a client that closes 5 ms after response.done makes it (how fast our agent
    // stops depends on the machine's load): no rate_limits.updated, which comes ~40 ms later.
    const quick = alter(readFileSync(file, 'utf8'), (ls) => {
      const doneAt = ls.findLast((l) => l.dir === 'recv' && l.event?.type === 'response.done').t as number;
      return ls.filter((l) => !(l.dir === 'recv' && l.event?.type === 'rate_limits.updated' && l.t > doneAt)).map((l) => (l.dir === 'close' ? { ...l, t: doneAt + 5 } : l));
    });
    const lines = parseRecording(quick);
    expect(lines.at(-2)?.event?.type).toBe('response.done');
    expect(lines.at(-1)).toMatchObject({ dir: 'close', code: 1000, by: 'client' });
    const r = await replayRecording(quick);
    expect(r.differences).toEqual([]);
  }, 60_000);
});
