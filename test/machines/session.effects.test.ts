// What the session does with the mirror reducer's effects (machines/session/effects.ts), driven through
// the real session machine: the cost of each response from the published prices, cached tokens, the
// length of unmeasured output audio from the billed audio tokens, the `response` and failure emits,
// out-of-band responses, transcript hunts, the collecting summariser's TURNS, and the rollover delay.
// The socket is the testing kit's scripted double (played by hand), the clock a SimulatedClock; the
// summariser is a recording double (this file is about what the session tells it).
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, type AnyActorLogic } from 'xstate';
import { sessionMachine, type SessionEmitted, type SessionInput } from '../../machines/session.machine.js';
import { transcriptMachine } from '../../machines/transcript.machine.js';
import { resolvePolicy } from '../../src/conversation/policy.js';
import { createTestClock, retrieveItemDouble, scriptedSocket } from '../../src/testing/index.js';
import type { AgentError } from '../../src/errors.js';
import type { WireEvent } from '../../src/protocol/events.js';

const T0 = 1_767_268_800_000; // 2026-01-01T12:00:00Z, the simulated wall clock's start

interface RigOptions {
  input?: Partial<SessionInput>;
  /** session.created's session object; null: the session is not created (the socket only opens). */
  session?: Record<string, unknown> | null;
  /** Run on the real timers (setTimeout) instead of the SimulatedClock. */
  realTimers?: boolean;
}

function rig(opts: RigOptions = {}) {
  const time = createTestClock();
  time.clock.set(T0);
  const socket = scriptedSocket({ open: false });
  const retrieve = retrieveItemDouble();
  // The summariser double records what the session tells it and never reports back.
  const toSummariser: { type: string; turns?: { id: string }[] }[] = [];
  const summariser = fromCallback(({ receive }) => {
    receive((e) => void toSummariser.push(e as (typeof toSummariser)[number]));
  });
  const machine = sessionMachine.provide({
    actors: {
      realtimeSocket: socket.logic,
      transcript: transcriptMachine.provide({ actors: { retrieveItem: retrieve.logic } }),
      summariser: summariser as unknown as AnyActorLogic as never,
    },
  });
  const input: SessionInput = {
    url: 'ws://effects.test/v1/realtime', dialect: 'ga', model: 'gpt-realtime', sessionConfig: {}, policy: resolvePolicy({}),
    responseTimeoutMs: 600_000, clock: opts.realTimers ? { now: () => Date.now() } : { now: () => time.clock.now() }, ...opts.input,
  };
  const actor = createActor(machine, opts.realTimers ? { input } : { clock: time.clock, input });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => void emitted.push(e as SessionEmitted));
  const crashes: unknown[] = [];
  actor.subscribe({ error: (e) => void crashes.push(e) });
  actor.start();
  const conn = socket.current();
  conn.open();
  const server = (...events: WireEvent[]) => conn.push(...events);
  if (opts.session !== null) {
    server({ type: 'session.created', session: { id: 'sess_1', model: 'gpt-realtime', ...opts.session } });
    server({ type: 'session.updated', session: {} });
    expect(actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  }
  const of = <T extends SessionEmitted['type']>(type: T) => emitted.filter((e): e is Extract<SessionEmitted, { type: T }> => e.type === type);
  const context = () => actor.getSnapshot().context;
  return { actor, time, conn, server, retrieve, toSummariser, emitted, of, context, crashes };
}

// Usage of one response (the GA response.done's usage object).
const usage = {
  total_tokens: 2_400,
  input_tokens: 1_500,
  output_tokens: 700,
  input_token_details: { text_tokens: 1_000, audio_tokens: 500, cached_tokens: 200, cached_tokens_details: { text_tokens: 200, audio_tokens: 0 } },
  output_token_details: { text_tokens: 300, audio_tokens: 400 },
};
// Its cost from the price tables (USD per 1M tokens, docs/realtime-protocol.md section 7.3):
// gpt-realtime-mini: text in 0.6, cached 0.06, text out 2.4, audio in 10, audio out 20.
const MINI_COST = (800 * 0.6 + 200 * 0.06 + 500 * 10 + 300 * 2.4 + 400 * 20) / 1_000_000;
// gpt-realtime: text in 4, cached 0.4, text out 16, audio in 32, audio out 64.
const REALTIME_COST = (800 * 4 + 200 * 0.4 + 500 * 32 + 300 * 16 + 400 * 64) / 1_000_000;

const done = (id: string, extra: Record<string, unknown> = {}): WireEvent => ({ type: 'response.done', response: { id, status: 'completed', output: [], ...extra } });

describe('response.done: cost, window, cached tokens', () => {
  it('each response adds its cost at the prices of the model the server named, and the window is its total_tokens', () => {
    const s = rig({ input: { model: 'gpt-realtime' }, session: { model: 'gpt-realtime-mini' } });
    s.server({ type: 'response.created', response: { id: 'r1' } }, done('r1', { usage }));
    s.server({ type: 'response.created', response: { id: 'r2' } }, done('r2', { usage: { ...usage, total_tokens: 3_100 } }));
    const windows = s.of('window').map((e) => e.window);
    expect(windows.map((w) => [w.responseId, w.tokens])).toEqual([['r1', 2_400], ['r2', 3_100]]);
    expect(windows[0].costUsd).toBeCloseTo(MINI_COST, 12);
    expect(windows[1].costUsd).toBeCloseTo(2 * MINI_COST, 12);
    expect(s.context().costUsd).toBeCloseTo(2 * MINI_COST, 12);
  });

  it('a response.done before session.created is costed at the requested model', () => {
    const s = rig({ input: { model: 'gpt-realtime' }, session: null });
    s.server(done('r0', { usage }));
    expect(s.crashes).toEqual([]);
    expect(s.of('window').map((e) => e.window.costUsd)).toEqual([expect.closeTo(REALTIME_COST, 12)]);
  });

  it('the cached input tokens of the last response are kept; a response without usage keeps them and reports no window', () => {
    const s = rig();
    s.server(done('r1', { usage }));
    expect(s.context().cachedTokens).toBe(200);
    s.server(done('r2'));
    expect(s.context().cachedTokens).toBe(200);
    expect(s.of('window').map((e) => e.window.responseId)).toEqual(['r1']);
    expect(s.context().window).toBe(2_400);
  });
});

describe('response.done: the response and failure emits', () => {
  it('a response is announced when created and when done, with its status', () => {
    const s = rig();
    s.server({ type: 'response.created', response: { id: 'r1' } }, done('r1'));
    s.server({ type: 'response.created', response: { id: 'r2' } }, done('r2', { status: 'cancelled' }));
    expect(s.of('response')).toEqual([
      { type: 'response', phase: 'created', responseId: 'r1' },
      { type: 'response', phase: 'done', responseId: 'r1', status: 'completed' },
      { type: 'response', phase: 'created', responseId: 'r2' },
      { type: 'response', phase: 'done', responseId: 'r2', status: 'cancelled' },
    ]);
    expect(s.of('error')).toEqual([]);
  });

  it('a failed response is reported as a non-fatal server_error with its code and one-line message; the session stays live', () => {
    const s = rig();
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.server(done('r1', { status: 'failed', status_details: { type: 'failed', error: { type: 'server_error', code: 'rate_limit_exceeded', message: 'too many\n   requests ' } } }));
    const errors = s.of('error').map((e) => e.error as AgentError);
    expect(errors.map((e) => [e.code, e.message, e.fatal, e.serverCode])).toEqual([
      ['server_error', 'the response failed (rate_limit_exceeded: too many requests); the session continues', false, 'rate_limit_exceeded'],
    ]);
    expect(s.actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  });

  it('a failure without a code or type is reported as unknown, with no server code', () => {
    const s = rig();
    s.server(done('r1', { status: 'failed', status_details: { error: { message: 'boom' } } }));
    const errors = s.of('error').map((e) => e.error as AgentError);
    expect(errors.map((e) => [e.code, e.message, e.fatal, e.serverCode])).toEqual([['server_error', 'the response failed (unknown: boom); the session continues', false, null]]);
  });
});

describe('response.done: output audio nobody measured', () => {
  const audioItem = (id: string, transcript?: string) => ({ id, type: 'message', role: 'assistant', content: [{ type: 'output_audio', ...(transcript ? { transcript } : {}) }] });

  it('gets its length from the billed audio tokens (20 per second), shared by the response audio items; a measured one keeps its length', () => {
    const s = rig();
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.server({ type: 'conversation.item.added', item: audioItem('a1') }, { type: 'conversation.item.added', item: audioItem('a2') });
    s.actor.send({ type: 'AUDIO.MS', itemId: 'a1', ms: 3_210 });
    // 200 audio tokens over two items: 100 each = 5 s at 20 tokens/s.
    s.server(done('r1', { output: [audioItem('a1', 'hello'), audioItem('a2', 'there')], usage: { ...usage, output_token_details: { text_tokens: 0, audio_tokens: 200 } } }));
    expect(s.context().audioMs).toEqual({ a1: 3_210, a2: 5_000 });
    // A barge-in past the estimated end truncates at the end of the audio.
    s.actor.send({ type: 'INTERRUPT', itemId: 'a2', playedMs: 9_000, audioMs: 0 });
    expect(s.conn.sent.filter((e) => e.type === 'conversation.item.truncate')).toEqual([
      { type: 'conversation.item.truncate', item_id: 'a2', content_index: 0, audio_end_ms: 5_000 },
    ]);
  });

  it('a single audio item gets the whole estimate', () => {
    const s = rig();
    s.server({ type: 'conversation.item.added', item: audioItem('a1') });
    s.server(done('r1', { output: [audioItem('a1', 'hi')], usage: { ...usage, output_token_details: { audio_tokens: 50 } } }));
    expect(s.context().audioMs).toEqual({ a1: 2_500 });
  });

  it('without billed audio tokens nothing is estimated', () => {
    const s = rig();
    s.server({ type: 'conversation.item.added', item: audioItem('a1') });
    s.server(done('r1', { output: [audioItem('a1', 'hi')], usage: { ...usage, output_token_details: { text_tokens: 12, audio_tokens: 0 } } }));
    expect(s.context().audioMs).toEqual({});
  });
});

describe('out-of-band responses (our summaries)', () => {
  it('a response created out of band is not counted at its response.done, even when the done carries no metadata', () => {
    const s = rig();
    s.server({ type: 'response.created', response: { id: 'oob_1', conversation_id: null, metadata: { purpose: 'rtc-summary' } } });
    s.server(done('oob_1', { usage }));
    expect(s.of('response')).toEqual([]);
    expect(s.of('window')).toEqual([]);
    expect(s.context().costUsd).toBe(0);
    expect(s.context().oobResponses).toEqual(['oob_1']);
  });
});

describe('transcript hunts', () => {
  const userAudio = { type: 'conversation.item.added', item: { id: 'u1', type: 'message', role: 'user', content: [{ type: 'input_audio' }] } };

  it('a user audio turn without transcript is hunted: a retrieve after the policy transcript wait', async () => {
    const s = rig(); // default policy: transcriptWaitMs 3000
    s.server(userAudio);
    expect(s.context().hunting).toEqual(['u1']);
    await s.time.expectDelay(3_000, () => s.retrieve.calls.length > 0, 'the transcript retrieve');
    expect(s.retrieve.calls.map((c) => c.input)).toEqual([{ itemId: 'u1', attempt: 1 }]);
  });

  it('a transcript wait under a second still waits a second before retrieving', async () => {
    const s = rig({ input: { policy: resolvePolicy({ transcriptWaitMs: 200 }) } });
    s.server(userAudio);
    await s.time.expectDelay(1_000, () => s.retrieve.calls.length > 0, 'the transcript retrieve');
  });

  it('at response.done a missing transcript is fetched at once', async () => {
    const s = rig();
    s.server(userAudio, { type: 'response.created', response: { id: 'r1' } });
    expect(s.retrieve.calls).toHaveLength(0);
    s.server(done('r1'));
    await s.time.advance(0);
    expect(s.retrieve.calls.map((c) => c.input)).toEqual([{ itemId: 'u1', attempt: 1 }]);
  });
});

describe('a collecting summariser hears of every turn change', () => {
  const text = (id: string, t: string) => ({ type: 'conversation.item.added', item: { id, type: 'message', role: 'user', content: [{ type: 'input_text', text: t }] } });
  const turnsSent = (s: ReturnType<typeof rig>) => s.toSummariser.filter((e) => e.type === 'TURNS').map((e) => e.turns!.map((t) => t.id));

  it('TURNS only while collecting, on new and deleted turns, not on other events', () => {
    const s = rig();
    s.server(text('i1', 'before'));
    expect(turnsSent(s)).toEqual([]); // not collecting yet
    s.actor.send({ type: 'SUMMARISE_NOW' });
    expect(s.toSummariser.map((e) => e.type)).toContain('SUMMARISE');
    s.server(text('i2', 'while collecting'));
    expect(turnsSent(s)).toEqual([['i1', 'i2']]);
    s.server({ type: 'response.created', response: { id: 'r1' } }); // no turn changed
    expect(turnsSent(s)).toEqual([['i1', 'i2']]);
    s.server({ type: 'conversation.item.deleted', item_id: 'i1' });
    expect(turnsSent(s)).toEqual([['i1', 'i2'], ['i2']]);
  });
});

describe('session ids from the server', () => {
  it('a session.created whose id is not a string is announced as unknown', () => {
    const s = rig({ session: { id: 42 } });
    expect(s.of('session').map((e) => e.info.id)).toEqual(['unknown']);
  });
});

describe('the rollover delay', () => {
  const expiresAt = T0 / 1000 + 3_600; // an hour after the start (seconds, as the server sends it)

  it('rolls over rolloverMarginMs before expires_at, read on the session clock', async () => {
    const s = rig({ session: { expires_at: expiresAt }, input: { rolloverMarginMs: 60_000 } });
    const closes = () => s.conn.commands.filter((c) => c.type === 'CLOSE').length;
    await s.time.expectDelay(3_540_000, () => closes() > 0, 'the rollover');
    expect(s.of('reconnect').map((e) => e.reason)).toEqual(['rollover']);
  });

  it('a session without expires_at never rolls over', async () => {
    const s = rig({ input: { rolloverMarginMs: 60_000 } });
    await s.time.advance(24 * 3_600_000);
    expect(s.conn.commands.filter((c) => c.type === 'CLOSE')).toEqual([]);
    expect(s.actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  });

  // setTimeout fires at once for a delay it cannot hold (NaN, or more than 2**31-1 ms), which the
  // SimulatedClock does not imitate: these sessions run on the real timers.
  it('on the real timers, neither a session with the rollover off nor one without expires_at rolls over', async () => {
    const noMargin = rig({ realTimers: true, session: { expires_at: Math.floor(Date.now() / 1000) + 3_600 }, input: { rolloverMarginMs: undefined } });
    const noExpiry = rig({ realTimers: true, input: { rolloverMarginMs: 60_000 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const s of [noMargin, noExpiry]) {
      expect(s.conn.commands.filter((c) => c.type === 'CLOSE')).toEqual([]);
      expect(s.of('reconnect')).toEqual([]);
      s.actor.stop();
    }
  });
});
