// What one client frame cannot do to the proxy (issue 27, items 1-4): reach a prototype, nest deep
// enough to blow the stack, hide its type behind a nested one, smuggle invalid UTF-8 upstream, or take
// down more than its own connection. Real ws clients, the real proxy and engine, the emulator upstream;
// where the test must see what went upstream, a ws man-in-the-middle sits between proxy and emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startProxy, type RealtimeProxy } from '../../src/proxy/index.js';
import type { ProxyConnection } from '../../src/proxy/connection.js';
import { RawClient, type Ev } from '../helpers/emulator-client.js';
import { startWsProxy, type WsProxy } from '../helpers/reliability-proxy.js';
import { sortedJson } from '../helpers/canonical-json.js';

const KEY = 'sk-frames-upstream';
let emu: Emulator;
let mitm: WsProxy;
let proxy: RealtimeProxy;
const events: Record<string, unknown>[] = [];
/** Client->server frames as the emulator received them, per upstream connection index. */
const upstreamFrames: { conn: number; frame: string }[] = [];

beforeAll(async () => {
  emu = await startEmulator({ seed: 27, apiKey: KEY, audioPacing: 'fast', replyWords: 30 });
  mitm = await startWsProxy(emu.url);
  mitm.onClientFrame = (frame, c) => {
    upstreamFrames.push({ conn: c.index, frame });
    return 'forward';
  };
  proxy = await startProxy({
    port: 0,
    connection: { url: mitm.url, model: 'gpt-realtime', apiKey: KEY },
    summariser: { baseURL: emu.httpUrl, apiKey: KEY },
    auth: { mode: 'proxy-key' },
    engine: {
      policy: { triggerTokens: 400, targetTokens: 150, keepLastTurns: 1, transcriptWaitMs: 300 },
      reconnect: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
    },
    journal: false,
    onEvent: (e) => events.push(e),
  });
});

afterAll(async () => {
  await proxy?.close();
  await mitm?.close();
  await emu?.close();
});

async function connect(url = proxy.url): Promise<{ c: RawClient; conn: ProxyConnection | undefined }> {
  const c = await RawClient.connect(url, { key: KEY });
  await c.waitFor('session.created');
  return { c, conn: url === proxy.url ? proxy.connections().at(-1) : undefined };
}

const userItem = (text: string) => ({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });

async function turn(c: RawClient, text: string): Promise<Ev> {
  const m = c.mark();
  c.send(userItem(text));
  c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
  const done = await c.waitFor('response.done', m, 10_000);
  expect(done.response.status).toBe('completed');
  return done;
}

/** A fresh client completes a response: the proxy serves newcomers. */
async function freshClientWorks(url = proxy.url): Promise<void> {
  const { c } = await connect(url);
  await turn(c, 'are you still there?');
  c.close();
}


const polluted = () => ({}) as Record<string, unknown>;

describe('prototype keys in client JSON', () => {
  const hostile = [
    '{"type":"session.update","session":{"type":"realtime","__proto__":{"polluted":"top"}}}',
    '{"type":"session.update","session":{"type":"realtime","tracing":{"metadata":{"a":"1"}}}}',
    '{"type":"session.update","session":{"type":"realtime","tracing":{"metadata":{"__proto__":{"polluted":"nested"}}}}}',
    '{"type":"session.update","session":{"type":"realtime","tracing":{"constructor":{"prototype":{"polluted":"ctor"}}}}}',
    '{"type":"session.update","session":{"type":"realtime","prompt":{"id":"p","variables":{"constructor":{"prototype":{"polluted":"ctor2"}}}}}}',
  ];

  it('through the proxy: nothing reaches Object.prototype, and a fresh client completes a response', async () => {
    const { c } = await connect();
    for (const f of hostile) {
      const m = c.mark();
      c.sendRaw(f);
      await c.waitFor((e) => e.type === 'session.updated' || e.type === 'error', m);
    }
    // A rollover replays what the client configured: the copy must not pollute either.
    mitm.connections.at(-1)!.kill();
    await turn(c, 'after the rollover');
    expect(polluted().polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    c.close();
    await freshClientWorks();
  }, 30_000);

  it('the emulator directly: nothing reaches Object.prototype, and a fresh client completes a response', async () => {
    const { c } = await connect(emu.url);
    for (const f of hostile) {
      const m = c.mark();
      c.sendRaw(f);
      await c.waitFor((e) => e.type === 'session.updated' || e.type === 'error', m);
    }
    // A tool whose schema names its properties after prototype keys: the emulator synthesises arguments.
    const tool = {
      type: 'function',
      name: 'get_weather',
      parameters: { type: 'object', properties: { constructor: { type: 'string' } }, required: ['__proto__', 'constructor'] },
    };
    // "__proto__" spliced in as text: in a JS object literal it would set the prototype instead.
    const tools = JSON.stringify([tool]).replace('"properties":{', '"properties":{"__proto__":{"type":"object","default":{"polluted":"tool"}},');
    c.sendRaw(`{"type":"session.update","session":{"type":"realtime","tools":${tools}}}`);
    const m = c.mark();
    c.send(userItem('get weather for Paris'));
    c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    await c.waitFor('response.done', m, 10_000);
    expect(polluted().polluted).toBeUndefined();
    c.close();
    await freshClientWorks(emu.url);
  }, 30_000);
});

describe('depth and exceptions', () => {
  const deep = (n: number) => `{"type":"session.update","session":{"type":"realtime","tracing":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}}`;

  it('a session.update nested 5,000 levels deep gets invalid_request_error, is not forwarded, and the proxy carries on', async () => {
    const { c } = await connect();
    const sentBefore = upstreamFrames.length;
    const m = c.mark();
    c.sendRaw(deep(5_000));
    const err = await c.waitFor('error', m);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json', param: null });
    // Not forwarded: the emulator never received it.
    expect(upstreamFrames.slice(sentBefore).some((f) => f.frame.includes('{"a":{"a":{"a":'))).toBe(false);
    await turn(c, 'the same connection still answers');
    c.close();
    await freshClientWorks();
  }, 30_000);

  it('the emulator answers a 5,000-level frame with invalid_json and keeps the session', async () => {
    const { c } = await connect(emu.url);
    const m = c.mark();
    c.sendRaw(deep(5_000));
    const err = await c.waitFor('error', m);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    await turn(c, 'still here?');
    c.close();
  });

  it('an exception in one client-frame handler closes only that connection (1011); a neighbour carries on', async () => {
    const { c, conn } = await connect();
    const neighbour = await connect();
    // Provoked on this one connection object (no hook in the proxy): its session.update path throws.
    (conn as unknown as { clientSessionUpdate: () => void }).clientSessionUpdate = () => {
      throw new Error('provoked failure');
    };
    c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'x' } });
    const closed = await c.closed;
    expect(closed.code).toBe(1011);
    await turn(neighbour.c, 'the neighbour is fine');
    neighbour.c.close();
    await freshClientWorks();
  });

  it('an exception in one upstream-frame handler closes only that connection (1011); the proxy carries on', async () => {
    const { c, conn } = await connect();
    (conn as unknown as { clientView: () => void }).clientView = () => {
      throw new Error('provoked failure');
    };
    c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'y' } }); // answered by session.updated
    const closed = await c.closed;
    expect(closed.code).toBe(1011);
    await freshClientWorks();
  });
});

describe('sorted keys: the top-level type wherever it stands', () => {
  it('a session.update with sorted keys is recorded: its instructions survive a rollover', async () => {
    const { c } = await connect();
    const instructions = 'Always answer as a ship captain would.';
    const frame = sortedJson({ type: 'session.update', event_id: 'evt_sorted_1', session: { type: 'realtime', instructions } });
    expect(frame.indexOf('"type":"realtime"')).toBeLessThan(frame.indexOf('"type":"session.update"'));
    const m = c.mark();
    c.sendRaw(frame);
    await c.waitFor('session.updated', m);
    const upstream = mitm.connections.at(-1)!;
    const before = mitm.attempts;
    upstream.kill();
    await turn(c, 'after the rollover');
    // The engine's session.update on the new upstream replays the client's instructions.
    const replay = upstreamFrames
      .filter((f) => f.conn >= before)
      .map((f) => JSON.parse(f.frame) as Ev)
      .find((e) => e.type === 'session.update');
    expect(replay?.session?.instructions).toMatch(/^Always answer as a ship captain would\./);
    c.close();
  }, 30_000);

  it('a rejected session.update is not replayed at a rollover (the service refused it)', async () => {
    const { c } = await connect();
    c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Accepted instructions.' } });
    await c.waitFor('session.updated');
    const m = c.mark();
    c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Refused instructions.', audio: { input: { format: { type: 'audio/pcmu', rate: 8000 } } } } });
    const err = await c.waitFor('error', m);
    expect(err.error).toMatchObject({ code: 'unknown_parameter', param: 'session.audio.input.format.rate' });
    const before = mitm.attempts;
    mitm.connections.at(-1)!.kill();
    await turn(c, 'after the rollover');
    const replay = upstreamFrames
      .filter((f) => f.conn >= before)
      .map((f) => JSON.parse(f.frame) as Ev)
      .find((e) => e.type === 'session.update');
    expect(replay?.session?.instructions).toMatch(/^Accepted instructions\./);
    expect(replay?.session?.audio?.input?.format).toBeUndefined();
    c.close();
  }, 30_000);

  it('a response.create with sorted keys (a nested type first) is held during a summary edit, then answered', async () => {
    const { c, conn } = await connect();
    const held = sortedJson({ type: 'response.create', response: { output_modalities: ['text'], audio: { output: { format: { type: 'audio/pcm', rate: 24000 } } } } });
    expect(held.indexOf('"type":"audio/pcm"')).toBeLessThan(held.indexOf('"type":"response.create"'));
    let started = false;
    let askedAt = -1;
    let asked!: () => void;
    const askedNow = new Promise<void>((r) => (asked = r));
    const sub = conn!.agent.actor.on('summariser', (e) => {
      if (e.state === 'collecting') started = true;
      if (e.state !== 'inserting' || askedAt >= 0) return;
      askedAt = c.mark();
      c.send(userItem('a question asked while the engine inserts its summary'));
      c.sendRaw(held);
      asked();
    });
    try {
      for (let t = 1; t <= 30 && !started; t++) await turn(c, `filler turn ${t} with a few words to grow the window`);
      expect(started).toBe(true);
      await askedNow;
      const done = await c.waitFor('response.done', askedAt, 10_000);
      expect(done.response.status).toBe('completed');
      const after = c.events.slice(askedAt);
      const deleted = after.findIndex((e) => e.type === 'conversation.item.deleted');
      const created = after.findIndex((e) => e.type === 'response.created');
      // Held: old items went out (the prune) before the client's response started.
      expect(deleted).toBeGreaterThanOrEqual(0);
      expect(deleted).toBeLessThan(created);
      expect(after.filter((e) => e.type === 'error')).toEqual([]);
    } finally {
      sub.unsubscribe();
      c.close();
    }
  }, 60_000);
});

describe('invalid UTF-8 from a client', () => {
  it('is refused at the edge with 1007; nothing reaches the upstream, no rollover', async () => {
    const { c } = await connect();
    const rolloversBefore = events.filter((e) => e.type === 'rollover').length;
    const sentBefore = upstreamFrames.length;
    const bad = Buffer.concat([Buffer.from('{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}}')]);
    c.ws.send(bad, { binary: false });
    const closed = await c.closed;
    expect(closed.code).toBe(1007);
    await new Promise((r) => setTimeout(r, 200));
    expect(upstreamFrames.slice(sentBefore).some((f) => f.frame.includes('input_text'))).toBe(false);
    expect(events.filter((e) => e.type === 'rollover').length).toBe(rolloversBefore);
    await freshClientWorks();
  });
});

describe('an invalid audio.input format is answered as the service answers', () => {
  for (const [name, format, code, param] of [
    ['a rate on audio/pcmu', { type: 'audio/pcmu', rate: 8000 }, 'unknown_parameter', 'session.audio.input.format.rate'],
    ['a rate on audio/pcma', { type: 'audio/pcma', rate: 16000 }, 'unknown_parameter', 'session.audio.input.format.rate'],
    ['no type', { rate: 24000 }, 'missing_required_parameter', 'session.audio.input.format.type'],
    ['rate 16000 (captured)', { type: 'audio/pcm', rate: 16000 }, 'integer_below_min_value', 'session.audio.input.format.rate'],
  ] as const) {
    it(`${name}: ${code} naming ${param}, and the whole update is discarded`, async () => {
      for (const url of [emu.url, proxy.url]) {
        const { c } = await connect(url);
        const m = c.mark();
        c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'discarded', audio: { input: { format } } } });
        const e = await c.waitFor((x) => x.type === 'error' || x.type === 'session.updated', m);
        expect(e.type, url).toBe('error');
        expect(e.error).toMatchObject({ type: 'invalid_request_error', code, param });
        const ok = await c.request({ type: 'session.update', session: { type: 'realtime' } }, 'session.updated');
        expect(ok.session.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
        expect(ok.session.instructions).not.toBe('discarded');
        c.close();
      }
    });
  }
});
