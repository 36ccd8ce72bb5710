// A misbehaving client affects only its own connection; auth works in both modes and keys never
// leak into the proxy's log. Real sockets (ws), the real engine, the emulator upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startProxy, type RealtimeProxy } from '../../src/proxy/index.js';
import { RawClient } from '../helpers/emulator-client.js';
import { proxyOnEmulator } from '../helpers/proxy-rig.js';

const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';
let emu: Emulator;
let proxy: RealtimeProxy;
const logs: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({ seed: 5, apiKey: UPSTREAM_KEY, audioPacing: 'fast', replyWords: 30 });
  proxy = await startProxy({
    port: 0,
    connection: { url: emu.url, model: 'gpt-realtime', apiKey: UPSTREAM_KEY },
    summariser: { baseURL: emu.httpUrl, apiKey: UPSTREAM_KEY },
    auth: { mode: 'proxy-key', clientTokens: ['client-token-aaaaaaaaaaaa', 'client-token-bbbbbbbbbbbb'] },
    engine: { policy: { triggerTokens: 400, targetTokens: 150, keepLastTurns: 1, transcriptWaitMs: 300 }, reconnect: false },
    journal: false,
    log: (l) => logs.push(l),
    onEvent: (e) => logs.push(JSON.stringify(e)),
  });
});

afterAll(async () => {
  await proxy?.close();
  await emu?.close();
});

async function client(token = 'client-token-aaaaaaaaaaaa'): Promise<RawClient> {
  const c = await RawClient.connect(proxy.url, { key: token });
  await c.waitFor('session.created');
  return c;
}

/** One text turn: the response must complete. */
async function turn(c: RawClient, text: string): Promise<void> {
  const m = c.mark();
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
  const done = await c.waitFor('response.done', m, 10_000);
  expect(done.response.status).toBe('completed');
}

describe('auth', () => {
  it('refuses an unknown client token with 401 and never forwards the token upstream', async () => {
    await expect(RawClient.connect(proxy.url, { key: 'not-a-valid-token-zzzz' })).rejects.toThrow('HTTP 401');
    await expect(RawClient.connect(proxy.url, { key: null })).rejects.toThrow('HTTP 401');
    // A valid token works, and the emulator (which accepts only the upstream key) let it in: the proxy's key went upstream.
    const c = await client('client-token-bbbbbbbbbbbb');
    await turn(c, 'hello');
    c.ws.close();
    await c.closed;
  });

  it('pass-through: the client key goes upstream; a wrong one fails at the upstream, and no key reaches the log', async () => {
    const lines: string[] = [];
    const pt = await startProxy({
      port: 0,
      connection: { url: emu.url, model: 'gpt-realtime' },
      summariser: { baseURL: emu.httpUrl },
      auth: { mode: 'passthrough' },
      journal: false,
      log: (l) => lines.push(l),
    });
    try {
      await expect(RawClient.connect(pt.url, { key: null })).rejects.toThrow('HTTP 401');
      const bad = 'sk-wrong-client-key-999999';
      const refused = await RawClient.connect(pt.url, { key: bad }).then(
        async (c) => {
          // Upstream answered 101 + error + close: the client sees the error and the close.
          const closed = await c.closed;
          return `close ${closed.code} ${c.events.map((e) => e.error?.code).join(',')}`;
        },
        (e: Error) => e.message,
      );
      expect(refused).toMatch(/401|invalid_api_key|3000/);
      const ok = await RawClient.connect(pt.url, { key: UPSTREAM_KEY });
      await ok.waitFor('session.created');
      await turn(ok, 'hello through pass-through');
      ok.ws.close();
      await ok.closed;
      expect(lines.join('\n')).not.toContain(bad);
      expect(lines.join('\n')).not.toContain(UPSTREAM_KEY);
    } finally {
      await pt.close();
    }
  });
});

describe('a misbehaving client affects only its own connection', () => {
  it('garbage frames: the sender gets the server errors, stays usable; a neighbour is untouched', async () => {
    const bad = await client();
    const good = await client();
    const m = bad.mark();
    bad.sendRaw('this is not json');
    bad.sendRaw('{"type":');
    bad.ws.send(Buffer.from([0xff, 0x00, 0x13, 0x37]), { binary: true });
    bad.sendRaw(JSON.stringify({ type: 'no.such.event' }));
    await bad.waitFor((e) => e.type === 'error' && e.error?.code === 'invalid_value', m);
    await turn(good, 'are you still there?');
    await turn(bad, 'and me?');
    good.ws.close();
    bad.ws.close();
  }, 30_000);

  it('a flood of appends: the flooding client is slowed, its neighbour still gets answers', async () => {
    const flood = await client();
    const good = await client();
    const chunk = Buffer.alloc(48_000).toString('base64'); // 1 s of silence per append
    const frame = JSON.stringify({ type: 'input_audio_buffer.append', audio: chunk });
    for (let i = 0; i < 600; i++) flood.sendRaw(frame); // ~38 MB at once
    await turn(good, 'answer me while someone floods');
    flood.ws.close();
    good.ws.close();
  }, 60_000);

  it('closing mid-summary: only that upstream ends; the proxy and others carry on', async () => {
    const leaving = await client();
    const conn = proxy.connections().at(-1)!;
    const good = await client();
    let t = 0;
    let reached = false;
    // Turns until the engine starts summarising, then the client leaves at once.
    const summarising = new Promise<void>((resolve) => {
      conn.agent.on('state', (s) => {
        if (s.summariser !== 'idle' && s.summariser !== 'cooldown') resolve();
      });
    });
    while (t < 20) {
      await turn(leaving, `filler turn ${++t} with a few words to grow the window`);
      const raced = await Promise.race([summarising.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
      if (raced) {
        reached = true;
        break;
      }
    }
    expect(reached).toBe(true);
    const before = emu.sessions().length;
    leaving.ws.close();
    await leaving.closed;
    for (let i = 0; i < 200 && emu.sessions().length >= before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(emu.sessions().length).toBe(before - 1);
    expect(proxy.connections()).not.toContain(conn);
    await turn(good, 'still fine?');
    good.ws.close();
  }, 60_000);
});

describe('the upstream drops mid-response', () => {
  it('the client gets a failed response.done for the response it saw created, then carries on in the new session', async () => {
    // A pause before the first output delta keeps the response in flight long enough to drop under it.
    const { emu: slow, proxy: p, close } = await proxyOnEmulator(
      { seed: 8, replyWords: 12, latencyMs: 400 },
      { engine: { reconnect: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 } } },
    );
    try {
      const c = await RawClient.connect(p.url, { key: 'anything' });
      await c.waitFor('session.created');
      const m = c.mark();
      c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'tell me a story' }] } });
      c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
      const created = await c.waitFor('response.created', m);
      slow.sessions().at(-1)!.drop(); // terminate: no close frame, as a network failure
      const done = await c.waitFor('response.done', m, 10_000);
      // GA response.done for a response that failed: status "failed", status_details { type, error }.
      expect(done.response.id).toBe(created.response.id);
      expect(done.response.status).toBe('failed');
      expect(done.response.status_details).toMatchObject({ type: 'failed', error: { type: 'server_error', code: expect.any(String), message: expect.stringMatching(/dropped/) } });
      expect(c.events.filter((e) => e.type === 'error')).toEqual([]);
      expect(c.events.filter((e) => e.type === 'session.created')).toHaveLength(1);
      // The new upstream session answers the next turn.
      const next = c.mark();
      c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'are you back?' }] } });
      c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
      const again = await c.waitFor('response.done', next, 10_000);
      expect(again.response.status).toBe('completed');
      expect(c.events.filter((e) => e.type === 'error')).toEqual([]);
      c.close();
    } finally {
      await close();
    }
  }, 30_000);
});
