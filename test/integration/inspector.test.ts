// The live inspector without a browser: frames, sanitising, coalescing, the HTTP/SSE server and
// its security (token, loopback only, read-only, no key anywhere), --trace and the Stately bridge.
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assign, createActor, setup, type AnyActorRef } from 'xstate';
import { WebSocket } from 'ws';
import { readTrace, startInspector, startStatelyBridge, startTrace, type LiveInspector } from '../../adapters/inspector.js';
import { FrameHub, sanitize, shorten, type Frame } from '../../src/inspector/frames.js';
import { renderPage } from '../../src/inspector/page.js';
import { createDemoAgent, emitLeakyError, type DemoAgent } from '../helpers/inspector-demo.js';
import { httpRequest, openSse, sleep, until } from '../helpers/inspector-http.js';
import { rig } from '../helpers/engine.js';

const API_KEY = 'sk-proj-InspectorTestKey_0123456789abcdefABCDEF';
const OTHER_SECRET = 'azure-secret-0f9e8d7c6b5a';

const tmp = mkdtempSync(join(tmpdir(), 'rtc-inspector-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function demo(opts: Partial<Parameters<typeof createDemoAgent>[0]> = {}): DemoAgent {
  const agent = createDemoAgent({ apiKey: API_KEY, stepMs: 25, transcriptMs: 15, trigger: 2500, target: 1000, ...opts });
  cleanups.push(() => agent.stop());
  return agent;
}

async function inspector(opts: Parameters<typeof startInspector>[0] = {}): Promise<LiveInspector> {
  const insp = await startInspector({ secrets: [API_KEY, OTHER_SECRET], ...opts });
  cleanups.push(() => insp.close());
  return insp;
}

const ofKind = <K extends Frame['k']>(frames: readonly Frame[], k: K) => frames.filter((f): f is Extract<Frame, { k: K }> => f.k === k);

describe('sanitize', () => {
  it('replaces buffers, typed arrays, actor refs, functions, cycles and bigints; shortens long strings', () => {
    const ref = createActor(setup({}).createMachine({ id: 'x' }), { id: 'child-1' });
    const cyc: Record<string, unknown> = { name: 'loop' };
    cyc.self = cyc;
    const shared = { a: 1 };
    const out = sanitize({
      pcm: Buffer.alloc(3840),
      f32: new Float32Array(960),
      ab: new ArrayBuffer(16),
      ref,
      fn: function namedFn() {},
      cyc,
      both: [shared, shared],
      big: 12n,
      long: 'x'.repeat(5000),
      when: new Date(0),
      nested: { deeper: { deepest: { level4: { level5: { level6: { level7: 1 } } } } } },
    }) as Record<string, unknown>;
    expect(out.pcm).toBe('[Buffer 3840B]');
    expect(out.f32).toBe('[Float32Array 3840B]');
    expect(out.ab).toBe('[ArrayBuffer 16B]');
    expect(out.ref).toBe('[actor child-1]');
    expect(out.fn).toBe('[function namedFn]');
    expect((out.cyc as Record<string, unknown>).self).toBe('[circular]');
    expect(out.both).toEqual([{ a: 1 }, { a: 1 }]); // shared refs are not cycles
    expect(out.big).toBe('12n');
    expect((out.long as string).length).toBeLessThan(260);
    expect(out.long).toMatch(/\[5000 chars\]/);
    expect(out.when).toBe('1970-01-01T00:00:00.000Z');
    expect(JSON.stringify(out.nested)).toContain('[Object]');
  });

  it('redacts configured secrets, anything like an OpenAI key, and values under key-like names', () => {
    const out = JSON.stringify(
      sanitize(
        {
          apiKey: 'whatever-it-is',
          headers: { Authorization: 'Bearer abc' },
          note: `key=${OTHER_SECRET}; other sk-abcdefghijkl1234`,
          tokens: 1234, // a token *count* is not a secret
          [`k-${API_KEY}`]: 1,
        },
        { secrets: [OTHER_SECRET, API_KEY] },
      ),
    );
    expect(out).not.toContain('whatever-it-is');
    expect(out).not.toContain('Bearer abc');
    expect(out).not.toContain(OTHER_SECRET);
    expect(out).not.toContain(API_KEY);
    expect(out).not.toMatch(/sk-[A-Za-z0-9_-]{8,}/);
    expect(out).toContain('"tokens":1234');
  });

  it('redacts before shortening, so no fragment of a key survives a cut', () => {
    const s = 'a'.repeat(150) + API_KEY + 'b'.repeat(150);
    const out = sanitize(s, { secrets: [API_KEY] }) as string;
    expect(out).not.toContain(API_KEY.slice(0, 20));
    expect(shorten('short')).toBe('short');
  });

  it('keeps the most recent items of long arrays', () => {
    const out = sanitize(Array.from({ length: 100 }, (_, i) => i), { maxArray: 10 }) as unknown[];
    expect(out[0]).toBe('[… 90 earlier items]');
    expect(out.at(-1)).toBe(99);
    expect(out).toHaveLength(11);
  });
});

describe('frames', () => {
  it('announces every actor with its definition, snapshots with active states, events, and stops done children', async () => {
    const agent = demo();
    agent.start();
    const hub = new FrameHub({ secrets: [API_KEY] });
    cleanups.push(() => hub.close());
    hub.attach(agent);
    for (let i = 0; i < 4; i++) await agent.turn(`hello ${i}`);
    await sleep(200);
    const frames = hub.frames();
    const actors = ofKind(frames, 'actor');
    const ids = actors.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['session', 'socket', 'summariser', 'transcript-item_001', 'transcript-item_004']));
    const session = actors.find((a) => a.id === 'session')!;
    expect(session.kind).toBe('machine');
    expect((session.def as { id: string }).id).toBe('session');
    expect(actors.find((a) => a.id === 'socket')!.kind).toBe('actor');
    const summariser = actors.find((a) => a.id === 'summariser')!;
    expect(summariser.parent).toBe(session.sid);
    expect(summariser.systemId).toBe('summariser');

    const snaps = ofKind(frames, 'snap').filter((s) => s.sid === session.sid);
    expect(snaps.at(-1)!.active).toEqual(['session', 'session.ready', 'session.ready.listening']);
    const ctx = snaps.at(-1)!.context as Record<string, unknown>;
    expect(ctx.apiKey).toBe('[redacted]');
    expect(ctx.audio).toBe('[Buffer 3840B]');
    expect(ctx.mic).toBe('[Int16Array 1920B]');

    // The summariser's quick round trip is visible (as frames or as `via` of a coalesced frame).
    const seen = ofKind(frames, 'snap')
      .filter((s) => s.sid === summariser.sid)
      .flatMap((s) => [...(s.via ?? []).map((v) => v.join()), (s.active ?? []).filter((a) => a !== 'summariser').join()]);
    const order = ['summariser.summarising', 'summariser.inserting', 'summariser.pruning'].map((s) => seen.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // Done transcript children: a final snapshot, then a stop frame.
    const t1 = actors.find((a) => a.id === 'transcript-item_001')!;
    const t1frames = frames.filter((f) => 'sid' in f && f.sid === t1.sid);
    expect(t1frames.at(-2)).toMatchObject({ k: 'snap', status: 'done' });
    expect(t1frames.at(-1)).toMatchObject({ k: 'stop' });

    const events = ofKind(frames, 'event');
    expect(events.some((e) => e.id === 'summariser' && e.type === 'SUMMARISE' && e.from === 'session')).toBe(true);
    expect(ofKind(frames, 'window').map((w) => w.tokens)).toEqual([1100, 1800, 2500, 1500]);
    expect(ofKind(frames, 'summary')).toHaveLength(1);
    expect(ofKind(frames, 'summary')[0]).toMatchObject({ id: 'sum_1', before: 2500, after: 800 });
    expect(JSON.stringify(frames)).not.toContain(API_KEY);
  });

  it('backfills actors that existed before attaching, and a late joiner gets only live actors', async () => {
    const agent = demo({ transcriptMs: 10_000 });
    agent.start();
    await agent.turn('first');
    await agent.turn('second');
    const hub = new FrameHub({ secrets: [API_KEY] });
    cleanups.push(() => hub.close());
    hub.attach(agent);
    const backlog = hub.backlog();
    expect(backlog[0]).toMatchObject({ k: 'hello', v: 1 });
    const names = ofKind(backlog, 'actor').map((a) => a.id);
    expect(names).toEqual(['session', 'socket', 'summariser', 'transcript-item_001', 'transcript-item_002']);
    expect(ofKind(backlog, 'snap').length).toBe(5);
    // Parents come before children.
    const sids = ofKind(backlog, 'actor').map((a) => a.sid);
    for (const a of ofKind(backlog, 'actor')) if (a.parent) expect(sids.indexOf(a.parent)).toBeLessThan(sids.indexOf(a.sid));
  });

  it('detach removes the observer: no new frames afterwards', async () => {
    const agent = demo();
    agent.start();
    const hub = new FrameHub();
    const detach = hub.attach(agent);
    const before = hub.frames().length;
    await agent.turn('one');
    await sleep(100);
    // Frames did arrive while attached (so "none afterwards" below means something).
    const during = hub.frames().slice(before);
    expect(during.length).toBeGreaterThan(0);
    expect(during.some((f) => f.k === 'event' || f.k === 'snap')).toBe(true);
    detach();
    const n = hub.frames().length;
    await agent.turn('two');
    await sleep(100);
    expect(hub.frames().length).toBe(n);
  });

  it('coalesces snapshots to at most 20 per second per actor and keeps the last state', async () => {
    const counter = setup({ types: { context: {} as { n: number; log: string[] } } }).createMachine({
      id: 'counter',
      context: { n: 0, log: [] },
      initial: 'a',
      states: {
        a: { on: { TICK: { target: 'b', actions: assign({ n: ({ context }) => context.n + 1 }) } } },
        b: { on: { TICK: { target: 'a', actions: assign({ n: ({ context }) => context.n + 1 }) } } },
      },
    });
    const actor = createActor(counter, { id: 'counter' }).start();
    cleanups.push(() => actor.stop());
    for (let i = 0; i < 4000; i++) actor.send({ type: 'TICK' }); // warm up (JIT)
    const base = actor.getSnapshot().context.n;
    const hub = new FrameHub({ keepFrames: 1_000_000 });
    hub.attach({ actor, on: (() => () => {}) as never });
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 600) {
      for (let i = 0; i < 200; i++, sent++) actor.send({ type: 'TICK' });
      await new Promise((r) => setImmediate(r));
    }
    const elapsed = (Date.now() - started) / 1000;
    await sleep(120);
    const snaps = ofKind(hub.frames(), 'snap');
    expect(sent).toBeGreaterThan(1000);
    // leading + trailing edges: at most one per 50 ms window, plus the backfill frame.
    expect(snaps.length).toBeLessThanOrEqual(Math.ceil(elapsed * 20) + 2);
    expect(snaps.length).toBeGreaterThanOrEqual(3);
    expect((snaps.at(-1)!.context as { n: number }).n).toBe(base + sent);
    expect(snaps.reduce((a, s) => a + s.n, 0)).toBe(sent + 1); // every snapshot accounted for (+1: backfill)
    hub.close();
  });
});

describe('the agent\'s public state', () => {
  it('a real agent over the emulator: a state frame per change of agent.state, the current one in a late joiner\'s backlog', async () => {
    const r = await rig({ latencyMs: 50 });
    cleanups.push(() => r.close());
    const hub = new FrameHub({ secrets: [API_KEY] });
    cleanups.push(hub.attach(r.agent));
    await r.agent.start();
    r.agent.sendText('hello');
    await r.agent.idle();
    // The order one turn goes through (docs/architecture.md, "Public state").
    expect(ofKind(hub.frames(), 'state').map((f) => f.state)).toEqual(['connecting', 'listening', 'thinking', 'speaking', 'listening']);
    expect(hub.backlog().filter((f) => f.k === 'state')).toEqual([expect.objectContaining({ state: 'listening' })]);
  });
});

describe('live view server', () => {
  it('serves the page and the SSE stream only with the token (401 otherwise)', async () => {
    const insp = await inspector();
    expect(insp.url).toBe(`http://127.0.0.1:${insp.port}/?token=${insp.token}`);
    expect(insp.token).toMatch(/^[0-9a-f]{32}$/);
    const base = `http://127.0.0.1:${insp.port}`;
    for (const path of ['/', '/events', '/trace.jsonl', '/index.html', '/nope']) {
      expect((await httpRequest(base + path)).status, `${path} without token`).toBe(401);
      expect((await httpRequest(`${base}${path}?token=${'0'.repeat(32)}`)).status, `${path} wrong token`).toBe(401);
      expect((await httpRequest(`${base}${path}?token=${insp.token.slice(0, 31)}`)).status, `${path} short token`).toBe(401);
    }
    const page = await httpRequest(insp.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(String(page.headers['content-security-policy'])).toMatch(/default-src 'none'.*connect-src 'self'/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect((await httpRequest(`${base}/nope?token=${insp.token}`)).status).toBe(404);
  });

  it('is read-only: every method but GET is 405, with or without the token', async () => {
    const insp = await inspector();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
      for (const path of ['/', '/events', `/?token=${insp.token}`, `/events?token=${insp.token}`]) {
        const res = await httpRequest(`http://127.0.0.1:${insp.port}${path}`, { method, body: method === 'POST' ? '{"type":"X"}' : undefined });
        expect(res.status, `${method} ${path}`).toBe(405);
      }
    }
  });

  it('rejects foreign Host headers (DNS rebinding)', async () => {
    const insp = await inspector();
    const res = await httpRequest(insp.url, { host: `evil.example:${insp.port}` });
    expect(res.status).toBe(403);
    expect((await httpRequest(insp.url.replace('127.0.0.1', 'localhost'))).status).toBe(200);
  });

  it('is not reachable on a non-loopback address of this machine', async (ctx) => {
    const insp = await inspector();
    const addrs = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    if (!addrs.length) {
      ctx.skip('this machine has no non-loopback IPv4 address (only lo)');
      return;
    }
    for (const address of addrs) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const sock = connect({ host: address, port: insp.port });
        sock.once('connect', () => {
          sock.destroy();
          resolve(null);
        });
        sock.once('error', (e) => resolve(e));
      });
      expect(err?.code, `connect ${address}:${insp.port}`).toBe('ECONNREFUSED');
    }
    // ...while loopback works.
    expect((await httpRequest(insp.url)).status).toBe(200);
  });

  it('sends late joiners the actors, last snapshots, window series and recent log, then live frames', async () => {
    const insp = await inspector();
    const agent = demo();
    agent.start();
    insp.attach(agent);
    for (let i = 0; i < 4; i++) await agent.turn(`turn ${i}`);
    await sleep(100);
    const sse = await openSse(`http://127.0.0.1:${insp.port}/events?token=${insp.token}`);
    cleanups.push(() => sse.close());
    expect(sse.status).toBe(200);
    await sse.waitFor((f) => f.some((x) => x.k === 'window'));
    expect(sse.text()).toMatch(/^retry: 1000\nevent: reset\n/);
    const first = sse.frames();
    expect(first[0]).toMatchObject({ k: 'hello' });
    expect(first.filter((f) => f.k === 'actor').map((f) => f.id)).toEqual(expect.arrayContaining(['session', 'summariser']));
    expect(first.filter((f) => f.k === 'window')).toHaveLength(4);
    expect(first.filter((f) => f.k === 'summary')).toHaveLength(1);
    expect(first.some((f) => f.k === 'event')).toBe(true);
    // no stopped transcript child in the backlog
    expect(first.filter((f) => f.k === 'actor' && String(f.id).startsWith('transcript-')).length).toBeLessThanOrEqual(1);
    const before = first.length;
    await agent.turn('live one');
    await sse.waitFor((f) => f.length > before && f.slice(before).some((x) => x.k === 'window'));
    expect(insp.clients()).toBe(1);
  });

  it('never lets the API key out: frames, SSE stream, page, trace download and trace file', async () => {
    const tracePath = join(tmp, 'secret-check.jsonl');
    const insp = await inspector({ tracePath });
    const agent = demo();
    agent.start();
    insp.attach(agent);
    const sse = await openSse(`http://127.0.0.1:${insp.port}/events?token=${insp.token}`);
    cleanups.push(() => sse.close());
    // the key in context (apiKey), in an event payload, in a turn text, in an error message
    await agent.turn(`my key is ${API_KEY} and ${OTHER_SECRET}`);
    emitLeakyError(agent, API_KEY);
    agent.emit('turn', { id: 'item_k', kind: 'message', role: 'user', text: `again ${API_KEY}`, textState: 'final', audio: false, at: Date.now() });
    for (let i = 0; i < 4; i++) await agent.turn(`turn ${i}`);
    await sleep(150);
    await sse.waitFor((f) => f.some((x) => x.k === 'error'));
    const page = await httpRequest(insp.url);
    const download = await httpRequest(`http://127.0.0.1:${insp.port}/trace.jsonl?token=${insp.token}`);
    await insp.close();
    const trace = readFileSync(tracePath, 'utf8');
    const haystacks = {
      frames: JSON.stringify(insp.frames()),
      sse: sse.text(),
      page: page.body,
      download: download.body,
      trace,
    };
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.length, where).toBeGreaterThan(100);
      expect(text.includes(API_KEY), `API key in ${where}`).toBe(false);
      expect(text.includes(OTHER_SECRET), `secret in ${where}`).toBe(false);
      expect(/sk-(?!\[redacted\])[A-Za-z0-9_-]{8,}/.test(text), `sk- key in ${where}`).toBe(false);
    }
    expect(haystacks.sse).toContain('[redacted]');
    expect(haystacks.trace).toContain('Incorrect API key provided: [redacted]');
  });

  it('the page is self-contained: no external scripts, styles, fonts or images', () => {
    const html = renderPage({ nonce: 'abc' });
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href="(?!data:)/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/fetch\(|XMLHttpRequest|WebSocket|sendBeacon|method:\s*['"]POST/i);
    expect(html).not.toMatch(/ style=/); // the CSP forbids inline style attributes
  });

  it('a fixed port and token survive a restart (the page reconnects to the same URL)', async () => {
    const first = await startInspector({ port: 0 });
    const { port, token } = first;
    await first.close();
    const second = await inspector({ port, token });
    expect(second.url).toBe(`http://127.0.0.1:${port}/?token=${token}`);
    expect((await httpRequest(second.url)).status).toBe(200);
  });
});

describe('--trace', () => {
  it('writes the same frames as JSONL (mode 0600) and reads them back', async () => {
    const path = join(tmp, 'trace.jsonl');
    const trace = startTrace(path, [API_KEY], { trigger: 2500, target: 1000 });
    const agent = demo();
    agent.start();
    trace.attach(agent);
    for (let i = 0; i < 4; i++) await agent.turn(`t ${i}`);
    await sleep(100);
    await trace.close();
    const frames = readTrace(path);
    expect(frames[0]).toMatchObject({ k: 'hello', v: 1, trigger: 2500, target: 1000 });
    const kinds = new Set(frames.map((f) => f.k));
    for (const k of ['actor', 'snap', 'event', 'window', 'summary', 'turn', 'stop']) expect(kinds.has(k as Frame['k']), k).toBe(true);
    const { statSync } = await import('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).not.toContain(API_KEY);
  });
});

describe('--inspect=stately bridge (local relay; the hosted UI itself needs internet and is not loaded)', () => {
  it('relays @statelyai/inspect events over a loopback, token-protected WebSocket, sanitised', async () => {
    const bridge = await startStatelyBridge({ secrets: [API_KEY] });
    cleanups.push(() => bridge.close());
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}/?token=${bridge.token}`);
    // The bridge page needs the token and embeds Stately's hosted inspector.
    expect((await httpRequest(`http://127.0.0.1:${bridge.port}/`)).status).toBe(401);
    const page = await httpRequest(bridge.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('https://stately.ai/inspect');
    // A WebSocket without the token is refused.
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/`);
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('open', () => resolve('open'));
      ws.on('error', (e) => resolve(e.message));
    });
    expect(refused).toBe('401');

    const messages: { type: string; [k: string]: unknown }[] = [];
    const raw: string[] = [];
    const receiver = new WebSocket(bridge.wsUrl);
    cleanups.push(() => receiver.close());
    receiver.on('message', (d) => {
      raw.push(d.toString());
      messages.push(JSON.parse(d.toString()));
    });
    await new Promise((r) => receiver.once('open', r));

    const agent = demo();
    agent.start();
    bridge.attach(agent);
    for (let i = 0; i < 4; i++) await agent.turn(`hi ${API_KEY}`);
    await until(() => messages.some((m) => m.type === '@xstate.snapshot' && JSON.stringify(m).includes('inserting')), 5000, 'summariser snapshots');
    const actorNames = messages.filter((m) => m.type === '@xstate.actor').map((m) => m.name);
    expect(actorNames).toEqual(expect.arrayContaining(['session', 'summariser']));
    const sessionMsg = messages.find((m) => m.type === '@xstate.actor' && m.name === 'session')!;
    expect(typeof sessionMsg.definition).toBe('string');
    expect(messages.every((m) => typeof m._version === 'string')).toBe(true);
    const all = raw.join('\n');
    expect(all).not.toContain(API_KEY);
    expect(all).toContain('[Buffer 3840B]');
  });
});

describe('cost', () => {
  let results: string[] = [];
  beforeAll(() => {
    results = [];
  });
  afterAll(() => {
    if (results.length) console.log('[inspector cost]\n' + results.join('\n'));
  });

  it('measures events/s without an inspector, with one attached, and with one attached and a live client', async () => {
    const machine = setup({ types: { context: {} as { history: { id: number; text: string }[]; pcm: Buffer } } }).createMachine({
      id: 'bench',
      context: { history: [], pcm: Buffer.alloc(4800) },
      initial: 'a',
      states: {
        a: {
          on: {
            TICK: {
              target: 'b',
              actions: assign({ history: ({ context }) => [...context.history.slice(-199), { id: context.history.length, text: 'some words '.repeat(20) }] }),
            },
          },
        },
        b: { on: { TICK: 'a' } },
      },
    });
    const N = 20_000;
    const run = async (mode: 'none' | 'attached' | 'client') => {
      const actor = createActor(machine, { id: 'bench' }).start();
      let insp: LiveInspector | null = null;
      let close = () => {};
      if (mode !== 'none') {
        insp = await startInspector({});
        insp.attach({ actor: actor as AnyActorRef, on: (() => () => {}) as never });
        if (mode === 'client') {
          const sse = await openSse(`http://127.0.0.1:${insp.port}/events?token=${insp.token}`);
          close = () => sse.close();
        }
      }
      const t0 = performance.now();
      for (let i = 0; i < N; i++) {
        actor.send({ type: 'TICK' });
        if (i % 500 === 0) await new Promise((r) => setImmediate(r)); // let timers and sockets run, as in a real session
      }
      const ms = performance.now() - t0;
      const snaps = insp ? ofKind(insp.frames(), 'snap').length : 0;
      close();
      await insp?.close();
      actor.stop();
      return { rate: Math.round((N / ms) * 1000), snaps, ms: Math.round(ms) };
    };
    await run('none'); // warm-up
    const none = await run('none');
    const attached = await run('attached');
    const client = await run('client');
    results.push(
      `  no inspector:            ${none.rate} events/s (${none.ms} ms for ${N})`,
      `  inspector attached:      ${attached.rate} events/s (${attached.ms} ms; ${attached.snaps} snapshot frames)`,
      `  attached + live client:  ${client.rate} events/s (${client.ms} ms; ${client.snaps} snapshot frames)`,
    );
    expect(attached.rate).toBeGreaterThan(none.rate / 10);
    expect(client.snaps).toBeLessThanOrEqual(Math.ceil((client.ms / 1000) * 20) + 3);
  });
});
