// One client must not hurt the others (issue 27, items 5-7): a client that stops reading, drops
// during the handshake, floods events, trickles its headers or goes quiet costs the proxy a bounded
// amount and is closed with a clear reason, while a neighbour still completes its responses.
// Real sockets (ws and raw TCP), the real proxy and engine, the emulator upstream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator } from '../../src/emulator/index.js';
import { startProxy, type ProxyOptions, type RealtimeProxy } from '../../src/proxy/index.js';
import type { AgentOptions } from '../../src/types.js';
import { RawClient, textTurn } from '../helpers/emulator-client.js';
import { proxyOnEmulator, type ProxyRig } from '../helpers/proxy-rig.js';
import { rawUpgrade, readUntilClosed, slowRelay, type Relay } from '../helpers/raw-sockets.js';

const KiB = 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(extra: Partial<ProxyOptions>, replyWords = 12): Promise<ProxyRig & { events: Record<string, any>[] }> {
  const events: Record<string, any>[] = [];
  const r = await proxyOnEmulator({ seed: 27, replyWords }, { ...extra, onEvent: (e) => events.push(e) });
  cleanups.push(() => r.close());
  return { ...r, events };
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms && !pred(); t += 10) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

async function client(proxy: RealtimeProxy, query = ''): Promise<RawClient> {
  const c = await RawClient.connect(`${proxy.url}${query}`, { key: 'x' });
  await c.waitFor('session.created');
  return c;
}

/** A client that asks for long spoken answers and never reads a byte of them. */
async function nonReader(proxy: RealtimeProxy, responses: number): Promise<WebSocket> {
  const ws = new WebSocket(`${proxy.url}?model=gpt-realtime`, { headers: { Authorization: 'Bearer x' } });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  for (let i = 0; i < responses; i++) {
    ws.send(JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `tell me story ${i}` }] } }));
    ws.send(JSON.stringify({ type: 'response.create', response: { output_modalities: ['audio'] } }));
    await new Promise((r) => setTimeout(r, 60));
  }
  return ws;
}

describe('a client that stops reading (send budget)', () => {
  it('past the soft limit its upstream is paused; still not reading, it is closed 1008 and its queue stays bounded; a neighbour completes', async () => {
    const soft = 256 * KiB;
    const hard = 1024 * KiB;
    const { proxy, events } = await rig({ limits: { clientSoftLimitBytes: soft, clientLowWaterBytes: 64 * KiB, clientHardLimitBytes: hard, clientStallTimeoutMs: 1500 } }, 400);
    const good = await client(proxy);
    const known = new Set(proxy.connections());
    const stuck = await nonReader(proxy, 12);
    const conn = proxy.connections().find((c) => !known.has(c))!;
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, conn.client?.bufferedAmount ?? 0)), 5);
    try {
      const { done } = await textTurn(good, 'are you still answering me?');
      expect(done.response.status).toBe('completed');
      await until(() => events.some((e) => e.type === 'closed' && e.conn === conn.id), 'the non-reading client to be closed', 15_000);
    } finally {
      clearInterval(sampler);
    }
    const closed = events.find((e) => e.type === 'closed' && e.conn === conn.id)!;
    expect(closed.code).toBe(1008);
    expect(closed.why).toMatch(/^client not reading: [\d.]+ MiB unsent/);
    // It filled its queue past the soft limit (so the test exercised the budget)...
    expect(maxQueued).toBeGreaterThan(soft);
    // ...and never past the hard limit by more than the last frame queued (an audio delta: a few KiB).
    expect(maxQueued).toBeLessThan(hard + 64 * KiB);
    await until(() => !proxy.connections().includes(conn), 'the connection to leave the live set');
    // The neighbour is untouched.
    const { done } = await textTurn(good, 'and once more?');
    expect(done.response.status).toBe('completed');
    stuck.terminate();
    good.close();
  }, 40_000);

  it('a queue past the hard limit closes the client at once with the reason, and ends its upstream', async () => {
    const limit = 192 * KiB;
    // soft = hard: no pause stage, the hard limit alone.
    const { proxy, emu, events } = await rig({ limits: { clientSoftLimitBytes: limit, clientLowWaterBytes: 64 * KiB, clientHardLimitBytes: limit, clientStallTimeoutMs: 0 } }, 400);
    const before = emu.sessions().length;
    const stuck = await nonReader(proxy, 12);
    await until(() => events.some((e) => e.type === 'closed'), 'the non-reading client to be closed', 15_000);
    const closed = events.find((e) => e.type === 'closed')!;
    expect(closed.code).toBe(1008);
    expect(closed.why).toMatch(/client not reading: [\d.]+ MiB unsent, limit 0\.2 MiB/);
    // Its upstream session is gone too (the engine and its socket were stopped).
    await until(() => emu.sessions().length === before, 'the upstream session to close');
    expect(proxy.connections()).toEqual([]);
    stuck.terminate();
  }, 40_000);
});

describe('a client that drops during the handshake', () => {
  let relay: Relay;

  async function slowUpstream(extra: Partial<ProxyOptions>) {
    const emu = await startEmulator({ seed: 6, audioPacing: 'fast' });
    relay = await slowRelay(emu.url, 600);
    const events: Record<string, any>[] = [];
    const proxy = await startProxy({
      port: 0,
      connection: { url: relay.url, model: 'gpt-realtime', apiKey: 'sk-relay' },
      summariser: { baseURL: emu.httpUrl, apiKey: 'sk-relay' },
      auth: { mode: 'proxy-key' },
      journal: false,
      onEvent: (e) => events.push(e),
      ...extra,
    });
    cleanups.push(async () => {
      await proxy.close();
      await relay.close();
      await emu.close();
    });
    return { emu, proxy, events };
  }

  for (const how of ['end', 'destroy'] as const) {
    it(`leaves nothing behind when it ${how === 'end' ? 'half-closes' : 'destroys'} its socket while the upstream opens`, async () => {
      const { emu, proxy } = await slowUpstream({});
      const s = rawUpgrade(`${proxy.url}?model=gpt-realtime`, { Authorization: 'Bearer x' });
      await until(() => proxy.connections().length === 1, 'the proxy to start the connection');
      s[how]();
      await until(() => proxy.connections().length === 0, 'the connection to be closed');
      // Past the relay's delay: no upstream session was left open behind the gone client.
      await new Promise((r) => setTimeout(r, 900));
      await until(() => relay.open() === 0, 'the upstream socket to close');
      expect(emu.sessions()).toEqual([]);
      expect(proxy.connections()).toEqual([]);
    }, 20_000);
  }

  it('a proxy shut down mid-handshake leaves no upstream session and no lease behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-proxy-shutdown-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // The per-connection seam takes its time: the stored conversation is open (its lease held), and
    // no connection exists yet, when the proxy is told to shut down.
    let inSetup = false;
    const setupConnection = async (_req: unknown, options: AgentOptions) => {
      inSetup = true;
      await new Promise((r) => setTimeout(r, 400));
      return options;
    };
    const { emu, proxy } = await slowUpstream({ store: dir, leaseTtlMs: 60_000, setupConnection });
    const s = rawUpgrade(`${proxy.url}?model=gpt-realtime&conversation=shut-1`, { Authorization: 'Bearer x' });
    const answer = readUntilClosed(s);
    await until(() => inSetup, 'the handshake to reach the per-connection setup');
    await proxy.close();
    expect(await answer).not.toMatch(/^HTTP\/1\.1 101/);
    await new Promise((r) => setTimeout(r, 1500)); // past the setup and the relay's delay
    await until(() => relay.open() === 0, 'the upstream socket to close');
    await until(() => emu.sessions().length === 0, 'no upstream session');
    // The lease was released (not left to a zombie for its 60 s): another proxy on the same store opens the id.
    const other = await startProxy({ port: 0, connection: { url: emu.url, model: 'gpt-realtime', apiKey: 'k' }, summariser: { baseURL: emu.httpUrl }, auth: { mode: 'proxy-key' }, journal: false, store: dir });
    cleanups.push(() => other.close());
    let c: RawClient | undefined;
    const tries: string[] = [];
    for (let i = 0; i < 20 && !c; i++) {
      c = await RawClient.connect(`${other.url}?conversation=shut-1`, { key: 'x' }).catch((e: Error) => (tries.push(e.message), undefined));
      if (!c) await new Promise((r) => setTimeout(r, 250));
    }
    if (!c) throw new Error(`the conversation stayed locked: ${tries.join(', ')}`);
    await c.waitFor('session.created');
    c.close();
    await c.closed;
  }, 20_000);

  it('with a store, the same conversation id opens again at once (no zombie holds its lease)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtc-proxy-drop-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { proxy } = await slowUpstream({ store: dir, leaseTtlMs: 60_000 });
    const s = rawUpgrade(`${proxy.url}?model=gpt-realtime&conversation=drop-1`, { Authorization: 'Bearer x' });
    await until(() => proxy.connections().length === 1, 'the proxy to start the connection');
    s.end();
    await until(() => proxy.connections().length === 0, 'the connection to be closed');
    const again = await RawClient.connect(`${proxy.url}?conversation=drop-1`, { key: 'x' });
    await again.waitFor('session.created');
    again.close();
    await again.closed;
  }, 20_000);
});

describe('a client that floods events (rate limit)', () => {
  it('excess events are refused with a rate_limit_exceeded error and never reach the upstream; a neighbour completes', async () => {
    const { proxy, emu } = await rig({ limits: { clientEventsPerSecond: 50, clientEventBurst: 100, clientAbuseRefusals: 100_000 } });
    const good = await client(proxy);
    const flood = await client(proxy);
    const floodSession = emu.sessions().at(-1)!;
    const N = 1000;
    const m = flood.mark();
    for (let i = 0; i < N; i++) {
      flood.send({ type: 'conversation.item.create', event_id: `evt_f${i}`, item: { id: `item_f${i}`, type: 'message', role: 'user', content: [{ type: 'input_text', text: `flood ${i}` }] } });
    }
    const { done } = await textTurn(good, 'answer me while someone floods');
    expect(done.response.status).toBe('completed');
    // Every flood event is either created upstream or refused, never both, never lost.
    const isRefusal = (e: any) => e.type === 'error' && e.error?.code === 'rate_limit_exceeded';
    await until(() => {
      const refused = flood.events.slice(m).filter(isRefusal).length;
      const created = (floodSession.items() as any[]).filter((it) => String(it.id).startsWith('item_f')).length;
      return refused + created === N;
    }, 'every flood event to be accounted for');
    const refusals = flood.events.slice(m).filter(isRefusal);
    // Burst 100 + 50/s while sending: far fewer than N got through.
    expect(refusals.length).toBeGreaterThan(N / 2);
    expect(refusals[0].error).toMatchObject({ type: 'rate_limit_error', param: null });
    const refusedIds = new Set(refusals.map((e) => String(e.error.event_id).replace('evt_f', 'item_f')));
    expect(refusedIds.size).toBe(refusals.length); // each names the event it refused
    const created = (floodSession.items() as any[]).map((it) => String(it.id));
    expect(created.filter((id) => refusedIds.has(id))).toEqual([]);
    good.close();
    flood.close();
  }, 40_000);

  it('persistent abuse closes the connection 1008', async () => {
    const { proxy } = await rig({ limits: { clientEventsPerSecond: 20, clientEventBurst: 20, clientAbuseRefusals: 200 } });
    const flood = await client(proxy);
    for (let i = 0; i < 600; i++) flood.send({ type: 'input_audio_buffer.append', audio: 'AAAA' });
    const closed = await flood.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^rate limit: \d+ events refused/);
  }, 20_000);
});

describe('per-process and handshake limits', () => {
  it('over the connection cap: HTTP 503 with a JSON error and Retry-After', async () => {
    const { proxy } = await rig({ limits: { maxConnections: 1 } });
    const first = await client(proxy);
    const s = rawUpgrade(`${proxy.url}?model=gpt-realtime`, { Authorization: 'Bearer x' });
    const answer = await readUntilClosed(s);
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toMatch(/\r\nRetry-After: \d+\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body.error.code).toBe('too_many_connections');
    first.close();
    await first.closed;
    await until(() => proxy.connections().length === 0, 'the first connection to end');
    const next = await client(proxy); // a free slot admits the next one
    next.close();
  }, 20_000);

  for (const tls of [false, true]) {
    it(`a slowloris client (headers never finished) is closed after the handshake timeout; an upgraded one is not (${tls ? 'wss' : 'ws'})`, async () => {
      const { proxy } = await rig({ tls, limits: { handshakeTimeoutMs: 300 } });
      const good = await RawClient.connect(proxy.url, { key: 'x', ca: proxy.certificatePem });
      await good.waitFor('session.created');
      const u = new URL(proxy.url);
      const s = tls
        ? (await import('node:tls')).connect({ port: Number(u.port), host: u.hostname, ca: proxy.certificatePem, servername: u.hostname })
        : (await import('node:net')).connect(Number(u.port), u.hostname);
      s.on('error', () => {});
      s.write(`GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n`);
      const drip = setInterval(() => s.write('X-Slow: 1\r\n'), 100);
      try {
        await readUntilClosed(s as import('node:net').Socket); // the test's own timeout is the bound
      } finally {
        clearInterval(drip);
      }
      expect(s.destroyed).toBe(true);
      // The client that completed its upgrade long before is past the handshake timeout and unharmed.
      const { done } = await textTurn(good, 'still here?');
      expect(done.response.status).toBe('completed');
      good.close();
    }, 8_000);
  }

  it('a client that sends nothing is closed 1001 after the idle timeout', async () => {
    const { proxy, events } = await rig({ limits: { idleTimeoutMs: 400 } });
    const quiet = await client(proxy);
    const closed = await quiet.closed;
    expect(closed.code).toBe(1001);
    expect(closed.reason).toMatch(/^idle: no client frame for \d+ s$/);
    await until(() => events.some((e) => e.type === 'closed' && e.why === 'idle'), 'the closed event');
  }, 10_000);

  it('a quiet client that pings is not idle', async () => {
    const { proxy } = await rig({ limits: { idleTimeoutMs: 400 } });
    const listener = await client(proxy);
    const pinger = setInterval(() => listener.ws.ping(), 100);
    try {
      await new Promise((r) => setTimeout(r, 1200)); // three idle timeouts
      expect(listener.ws.readyState).toBe(WebSocket.OPEN);
      const { done } = await textTurn(listener, 'still listening');
      expect(done.response.status).toBe('completed');
    } finally {
      clearInterval(pinger);
    }
    listener.close();
  }, 10_000);
});
