// Determinism: the session machine reads time and chance only through its input (clock, random) and
// XState delays, so a run under SimulatedClock with a seeded random source is reproducible: same
// seed, same trace (states, back-off delays, every client event sent); another seed, other jitter.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import { sessionMachine, type SessionEvent, type SocketCommand } from '../../machines/session.machine.js';
import { resolvePolicy } from '../../src/conversation/policy.js';
import { prng as seeded } from '../../bench/lib/stats.js'; // mulberry32: the test's own seeded source, not the engine's


const flush = () => new Promise<void>((r) => setImmediate(r));

/** A scripted run: live, two turns, three drops with reconnects, a rollover at expiry. Returns its trace. */
async function run(seed: number): Promise<string[]> {
  const clock = new SimulatedClock();
  clock.set(1_700_000_000_000);
  const trace: string[] = [];
  const sockets: ((e: SessionEvent) => void)[] = [];
  const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack, receive }) => {
    const n = sockets.length;
    sockets.push((e) => sendBack(e as never));
    receive((cmd) => trace.push(`socket${n} ${cmd.type === 'SEND' ? JSON.stringify(cmd.event) : 'CLOSE'}`));
  });
  const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket } }), {
    clock,
    input: {
      url: 'ws://sim.invalid/v1/realtime',
      dialect: 'ga',
      model: 'gpt-realtime',
      sessionConfig: { type: 'realtime' },
      policy: resolvePolicy({}),
      reconnect: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 },
      rolloverMarginMs: 60_000,
      clock,
      random: seeded(seed),
    },
  });
  actor.on('*', (e) => trace.push(`emit ${JSON.stringify(e, (k, v) => (k === 'at' ? undefined : v))}`));
  let last = '';
  actor.subscribe((s) => {
    const v = JSON.stringify(s.value);
    if (v !== last) trace.push(`state ${v}`);
    last = v;
  });
  actor.start();
  const server = (e: Record<string, unknown>) => sockets.at(-1)!({ type: 'SERVER.EVENT', event: e as never });
  const connect = async (expiresIn: number) => {
    sockets.at(-1)!({ type: 'SOCKET.OPEN' });
    server({ type: 'session.created', session: { id: `sess_${sockets.length}`, model: 'gpt-realtime', expires_at: Math.floor(clock.now() / 1000) + expiresIn } });
    server({ type: 'session.updated', session: {} });
    await flush();
    const seed = trace.filter((l) => l.includes('"conversation.item.create"') && l.includes('seed_')).at(-1);
    if (seed && actor.getSnapshot().matches({ online: 'seeding' })) {
      const id = /"id":"(seed_\d+)"/.exec(seed)![1];
      server({ type: 'conversation.item.added', previous_item_id: null, item: { id, type: 'message', role: 'system', content: [{ type: 'input_text', text: 'seed' }] } });
    }
  };
  await connect(3_600);
  for (let i = 1; i <= 2; i++) {
    actor.send({ type: 'USER.TEXT', text: `turn ${i}` });
    const prev = i === 1 ? null : `a${i - 1}`;
    server({ type: 'conversation.item.added', previous_item_id: prev, item: { id: `u${i}`, type: 'message', role: 'user', content: [{ type: 'input_text', text: `turn ${i}` }] } });
    server({ type: 'response.created', response: { id: `r${i}` } });
    server({ type: 'conversation.item.added', previous_item_id: `u${i}`, item: { id: `a${i}`, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `answer ${i}` }] } });
    server({ type: 'response.done', response: { id: `r${i}`, status: 'completed', usage: { total_tokens: 100 * i } } });
  }
  for (let drop = 0; drop < 3; drop++) {
    sockets.at(-1)!({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    await flush();
    clock.increment(60_000); // longer than any back-off
    await flush();
    await connect(drop === 2 ? 90 : 3_600);
  }
  // The last session expires in 90 s with a 60 s margin: the rollover is due in 30 s.
  clock.increment(31_000);
  await flush();
  sockets.at(-1)!({ type: 'SOCKET.CLOSED', code: 1000, reason: '' });
  await flush();
  actor.stop();
  return trace;
}

describe('session determinism (SimulatedClock, seeded random)', () => {
  it('the same seed gives the same trace; another seed changes only the jitter', async () => {
    const a = await run(42);
    const b = await run(42);
    const c = await run(7);
    expect(a).toEqual(b);
    const delays = (t: string[]) => t.filter((l) => l.startsWith('emit {"type":"reconnect"')).map((l) => JSON.parse(l.slice(5)));
    const da = delays(a);
    // three drops with back-off, then the planned rollover (no delay)
    expect(da.map((d) => d.reason)).toEqual(['drop', 'drop', 'drop', 'rollover']);
    expect(da[3].delayMs).toBe(0);
    // exponential back-off with jitter in [0.5, 1) of 1 s, 2 s, 4 s
    da.slice(0, 3).forEach((d, i) => {
      expect(d.delayMs).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(d.delayMs).toBeLessThan(1000 * 2 ** i);
    });
    expect(delays(c).map((d) => d.delayMs)).not.toEqual(da.map((d) => d.delayMs));
    // Event ids the session must match are derived from data, so they repeat exactly.
    expect(a.filter((l) => l.includes('"session.update"')).map((l) => /"event_id":"([^"]+)"/.exec(l)![1])).toEqual(['rtc_cfg_0', 'rtc_cfg_1', 'rtc_cfg_2', 'rtc_cfg_3']);
  });
});
