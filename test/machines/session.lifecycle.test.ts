// The session's connection lifecycle outside the model walk (test/machines/session.model.test.ts): a rejected
// session configuration, the wording of a close that ends the session, seeding a resumed session (and a
// seed the server rejects), a rollover whose old socket fails or never closes, stop() while the socket
// closes, a connect failure after a drop, and what the socket actor is given. The real machine runs
// under a SimulatedClock; only its socket is a scripted double. Expected texts are the documented
// user-facing messages (machines/session.machine.ts, README), written out here.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import { CONTINUATION_NOTE, sessionMachine, type SessionEmitted, type SessionEvent, type SessionInput, type SocketCommand } from '../../machines/session.machine.js';
import { toolsMachine } from '../../machines/tools.machine.js';
import { summariserMachine } from '../../machines/summariser.machine.js';
import { DEFAULT_POLICY } from '../../src/conversation/policy.js';
import { summariserDoubles, toolDoubles } from '../../src/testing/index.js';
import { AgentError } from '../../src/errors.js';
import { resolvePolicy } from '../../src/conversation/policy.js';
import type { WireEvent } from '../../src/protocol/events.js';

interface Socket {
  input: unknown;
  sent: WireEvent[];
  closes: number;
  report(e: SessionEvent): void;
}

const URL_ = 'ws://lifecycle.test/v1/realtime';
const T0 = 1_767_268_800_000; // 2026-01-01T12:00:00Z, the simulated wall clock's start

function rig(extra: Partial<SessionInput> = {}, actors: { tools?: typeof toolsMachine; summariser?: typeof summariserMachine } = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const sockets: Socket[] = [];
  const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack, receive, input }) => {
    const s: Socket = { input, sent: [], closes: 0, report: (e) => sendBack(e as never) };
    sockets.push(s);
    receive((cmd) => (cmd.type === 'SEND' ? s.sent.push(cmd.event) : s.closes++));
  });
  const input: SessionInput = {
    url: URL_, dialect: 'ga', model: 'gpt-realtime', sessionConfig: { type: 'realtime', instructions: 'be brief' }, policy: resolvePolicy({}),
    connectTimeoutMs: 5_000, clock, ...extra,
  };
  const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket, ...actors } }), { input, clock });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as SessionEmitted));
  const crashes: unknown[] = [];
  actor.subscribe({ error: (e) => crashes.push(e) });
  actor.start();
  const last = () => sockets[sockets.length - 1];
  const server = (event: WireEvent) => last().report({ type: 'SERVER.EVENT', event });
  const errors = () => emitted.flatMap((e) => (e.type === 'error' ? [e.error] : []));
  const snap = () => actor.getSnapshot();
  /** Opens the current socket and answers session.created / session.updated (a seed stays unanswered). */
  const connect = (expiresAt?: number) => {
    last().report({ type: 'SOCKET.OPEN' });
    server({ type: 'session.created', event_id: 'evt_c', session: { id: `sess_${sockets.length}`, model: 'gpt-realtime', ...(expiresAt ? { expires_at: expiresAt } : {}) } });
    server({ type: 'session.updated', event_id: 'evt_u', session: {} });
  };
  const ended = () => {
    expect(crashes).toEqual([]);
    const s = snap();
    expect(s.status).toBe('done');
    return (s.output as { error: AgentError | null }).error;
  };
  return { actor, clock, sockets, last, server, emitted, errors, snap, connect, ended, crashes };
}

const isLive = (r: ReturnType<typeof rig>) => r.snap().matches({ online: 'live' } as never);

describe('a session.update the server rejects ends the session', () => {
  // The error event's shape (Realtime API): { type: 'error', error: { type, code, message, param, event_id } }.
  it('unknown_parameter (even without the update\'s event_id): fatal server_error naming the code and the one-line message', () => {
    const r = rig();
    r.last().report({ type: 'SOCKET.OPEN' });
    r.server({ type: 'session.created', event_id: 'evt_c', session: { id: 'sess_1' } });
    r.server({
      type: 'error', event_id: 'evt_e',
      error: { type: 'invalid_request_error', code: 'unknown_parameter', message: '  Unknown parameter:\n   \'session.voicee\'.  ', param: 'session.voicee' },
    });
    const error = r.ended()!;
    expect(r.snap().value).toBe('failed');
    expect(error).toBeInstanceOf(AgentError);
    expect({ code: error.code, fatal: error.fatal, serverCode: error.serverCode, message: error.message }).toEqual({
      code: 'server_error', fatal: true, serverCode: 'unknown_parameter',
      message: "the server rejected the session configuration (unknown_parameter: Unknown parameter: 'session.voicee'.): check --dialect and the session options",
    });
    expect(r.errors()).toEqual([error]); // reported once, as the fatal error
  });

  it('an error without a code answering the session.update (same event_id): "error" stands in for the code', () => {
    const r = rig();
    r.last().report({ type: 'SOCKET.OPEN' });
    r.server({ type: 'session.created', event_id: 'evt_c', session: { id: 'sess_1' } });
    const update = r.last().sent.find((e) => e.type === 'session.update')!;
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', message: 'Invalid session.', event_id: update.event_id } });
    const error = r.ended()!;
    expect({ code: error.code, fatal: error.fatal, serverCode: error.serverCode, message: error.message }).toEqual({
      code: 'server_error', fatal: true, serverCode: null,
      message: 'the server rejected the session configuration (error: Invalid session.): check --dialect and the session options',
    });
  });

  it('an unrelated error while configuring is reported (not fatal) and the session goes on', () => {
    const r = rig();
    r.last().report({ type: 'SOCKET.OPEN' });
    r.server({ type: 'session.created', event_id: 'evt_c', session: { id: 'sess_1' } });
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'bad value', event_id: 'evt_other' } });
    expect(r.errors().map((e) => [e.code, e.fatal, e.message])).toEqual([['server_error', false, 'server error invalid_value: bad value']]);
    r.server({ type: 'session.updated', event_id: 'evt_u', session: {} });
    expect(isLive(r)).toBe(true);
  });
});

describe('a close that ends the session says what happened', () => {
  it('closed before the session was ever live: "the server closed the connection", fatal socket_closed', () => {
    const r = rig(); // no reconnect configured
    r.last().report({ type: 'SOCKET.OPEN' });
    r.last().report({ type: 'SOCKET.CLOSED', code: 1008, reason: 'policy violation' });
    const error = r.ended()!;
    expect([error.code, error.fatal, error.message]).toEqual([
      'socket_closed', true, "the server closed the connection (code 1008, policy violation): check the URL and the server's logs",
    ]);
    expect(r.errors()).toEqual([error]);
  });

  it('a close without a reason before live: only the code', () => {
    const r = rig({ reconnect: { maxAttempts: 0, baseDelayMs: 100, maxDelayMs: 100 } });
    r.last().report({ type: 'SOCKET.OPEN' });
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    expect(r.ended()!.message).toBe("the server closed the connection (code 1006): check the URL and the server's logs");
  });

  it('a drop after having been live, with the attempts used up: "the connection dropped … and N reconnect attempts failed"', () => {
    const r = rig({ reconnect: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect();
    expect(isLive(r)).toBe(true);
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100); // the one attempt's back-off (at most the 100 ms cap)
    expect(r.sockets).toHaveLength(2);
    r.last().report({ type: 'SOCKET.OPEN' });
    r.last().report({ type: 'SOCKET.CLOSED', code: 1011, reason: 'internal error' });
    const error = r.ended()!;
    expect([error.code, error.fatal, error.message]).toEqual([
      'socket_closed', true,
      'the connection dropped (code 1011, internal error) and 1 reconnect attempts failed: check the network and the server, then start again',
    ]);
  });

  it('a drop after live without any reconnect configured: 0 attempts', () => {
    const r = rig();
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    expect(r.ended()!.message).toBe('the connection dropped (code 1006) and 0 reconnect attempts failed: check the network and the server, then start again');
  });
});

describe('connecting again', () => {
  it('the socket is given the URL and the connection generation (0, then 1 after a drop)', () => {
    const r = rig({ reconnect: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 } });
    expect(r.sockets.map((s) => s.input)).toEqual([{ url: URL_, generation: 0 }]);
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    expect(r.sockets.map((s) => s.input)).toEqual([{ url: URL_, generation: 0 }, { url: URL_, generation: 1 }]);
  });

  it('a turn the server answered "busy" when the connection dropped gets its response.create on the next connection', () => {
    const r = rig({ reconnect: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'hello' });
    r.server({ type: 'error', event_id: 'evt_b', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' } });
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    r.connect(); // nothing mirrored yet, so nothing to seed: live at once
    expect(r.last().sent.filter((e) => e.type === 'response.create')).toHaveLength(1);
  });

  it('a reconnect attempt that cannot reach the server is one more drop: back-off, then the next attempt', () => {
    const r = rig({ reconnect: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 } });
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    expect(r.sockets).toHaveLength(2);
    r.last().report({ type: 'SOCKET.FAILED', error: new AgentError('unreachable', 'could not reach ws://lifecycle.test (ECONNREFUSED)', true) });
    const reconnects = r.emitted.filter((e) => e.type === 'reconnect') as Extract<SessionEmitted, { type: 'reconnect' }>[];
    expect(reconnects.map((e) => [e.reason, e.attempt])).toEqual([['drop', 1], ['drop', 2]]);
    // Attempt 2 waits min(max, base x 2) = 200 ms, jitter off (no random source: the midpoint, 3/4 of it).
    expect(reconnects[1].delayMs).toBe(150);
    r.clock.increment(149);
    expect(r.sockets).toHaveLength(2);
    r.clock.increment(1);
    expect(r.sockets).toHaveLength(3);
    expect(r.errors()).toEqual([]);
  });
});

describe('seeding', () => {
  const SEED = { id: 'seed_7', text: 'Summary of the conversation so far: they planned a trip.', covers: ['item_u1', 'item_a1'] };

  it('a resumed session is seeded on its first connection; the acknowledged seed replaces what it covers', () => {
    const r = rig({ seed: SEED, firstGeneration: 7 });
    r.connect();
    expect(isLive(r)).toBe(false);
    const create = r.last().sent.find((e) => e.type === 'conversation.item.create')!;
    expect(create).toMatchObject({
      previous_item_id: 'root',
      item: { id: SEED.id, type: 'message', role: 'system', content: [{ type: 'input_text', text: SEED.text }] },
    });
    r.server({ type: 'conversation.item.added', event_id: 'evt_s', previous_item_id: null, item: create.item as WireEvent });
    expect(isLive(r)).toBe(true);
    expect(r.emitted.filter((e) => e.type === 'summary.inserted' || e.type === 'seeded')).toEqual([
      { type: 'summary.inserted', id: SEED.id, text: SEED.text, replaces: SEED.covers },
      { type: 'seeded', id: SEED.id, generation: 7 },
    ]);
  });

  it('a seed the server rejects (error for its event_id): reported, not fatal, and the session goes live unseeded', () => {
    const r = rig({ seed: SEED });
    r.connect();
    const create = r.last().sent.find((e) => e.type === 'conversation.item.create')!;
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Invalid\n item.', event_id: create.event_id } });
    expect(isLive(r)).toBe(true);
    expect(r.errors().map((e) => [e.code, e.fatal, e.message])).toEqual([
      ['server_error', false, 'could not seed the new session (Invalid item.); the journal still holds the whole conversation'],
    ]);
    expect(r.emitted.some((e) => e.type === 'seeded')).toBe(false);
    // The seed is not retried on this connection.
    expect(r.last().sent.filter((e) => e.type === 'conversation.item.create')).toHaveLength(1);
  });

  it('an unrelated error while seeding is reported and the seed is still awaited', () => {
    const r = rig({ seed: SEED });
    r.connect();
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'other', event_id: 'evt_someone_else' } });
    expect(r.errors().map((e) => [e.code, e.fatal, e.message])).toEqual([['server_error', false, 'server error invalid_value: other']]);
    expect(isLive(r)).toBe(false);
    const create = r.last().sent.find((e) => e.type === 'conversation.item.create')!;
    r.server({ type: 'conversation.item.added', event_id: 'evt_s', previous_item_id: null, item: create.item as WireEvent });
    expect(isLive(r)).toBe(true);
    expect(r.emitted.filter((e) => e.type === 'seeded')).toHaveLength(1);
  });
});

describe('rolling over', () => {
  // expires_at T0 + 65 s with a 60 s margin: the rollover is due 5 s after going live.
  const rolling = () => {
    const r = rig({ rolloverMarginMs: 60_000, reconnect: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect(T0 / 1000 + 65);
    r.clock.increment(5_001);
    expect(r.last().closes).toBe(1); // the old socket is asked to close
    return r;
  };
  const reconnects = (r: ReturnType<typeof rig>) => r.emitted.filter((e) => e.type === 'reconnect');

  it('the old socket failing while it closes still switches at once to the next connection (a rollover, not a drop)', () => {
    const r = rolling();
    r.last().report({ type: 'SOCKET.FAILED', error: new AgentError('unreachable', 'socket error', true) });
    expect(reconnects(r)).toEqual([{ type: 'reconnect', reason: 'rollover', attempt: 0, delayMs: 0 }]);
    r.clock.increment(0);
    expect(r.sockets.map((s) => s.input)).toEqual([{ url: URL_, generation: 0 }, { url: URL_, generation: 1 }]);
  });

  it('an old socket that never reports its close is given up after the 1 s grace', () => {
    const r = rolling();
    r.clock.increment(999);
    expect(reconnects(r)).toEqual([]);
    r.clock.increment(1);
    expect(reconnects(r)).toEqual([{ type: 'reconnect', reason: 'rollover', attempt: 0, delayMs: 0 }]);
    r.clock.increment(0);
    expect(r.sockets).toHaveLength(2);
    expect(r.errors()).toEqual([]);
  });
});

describe('stop()', () => {
  const stopped = () => {
    const r = rig({ reconnect: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect();
    r.actor.send({ type: 'STOP' });
    expect(r.last().closes).toBe(1);
    expect(r.snap().status).toBe('active'); // until the socket has closed
    return r;
  };

  it('ends closed (no error) when the socket reports its close', () => {
    const r = stopped();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1000, reason: 'client closing' });
    expect(r.ended()).toBeNull();
    expect(r.snap().value).toBe('closed');
  });

  it('ends closed when the socket fails while closing', () => {
    const r = stopped();
    r.last().report({ type: 'SOCKET.FAILED', error: new AgentError('unreachable', 'socket error', true) });
    expect(r.ended()).toBeNull();
    expect(r.snap().value).toBe('closed');
    expect(r.errors()).toEqual([]);
  });

  it('ends closed after the 1 s grace when the socket never reports', () => {
    const r = stopped();
    r.clock.increment(999);
    expect(r.snap().status).toBe('active');
    r.clock.increment(1);
    expect(r.ended()).toBeNull();
    expect(r.sockets).toHaveLength(1);
  });

  it('nothing the server says after stop() is mirrored', () => {
    const r = stopped();
    r.server({ type: 'conversation.item.added', event_id: 'evt_t', previous_item_id: null, item: { id: 'item_late', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'too late' }] } });
    expect(r.emitted.filter((e) => e.type === 'turn')).toEqual([]);
  });
});

describe('reports from the children and the agent', () => {
  it('a user audio turn gets its transcript from the transcription event (the hunt ends, the turn has its text)', () => {
    const r = rig();
    r.connect();
    r.server({ type: 'conversation.item.added', event_id: 'evt_u', previous_item_id: null, item: { id: 'item_u1', type: 'message', role: 'user', content: [{ type: 'input_audio', transcript: null }] } });
    r.server({ type: 'conversation.item.input_audio_transcription.completed', event_id: 'evt_tc', item_id: 'item_u1', content_index: 0, transcript: 'book a table for two' });
    const last = r.emitted.filter((e) => e.type === 'turn').at(-1) as Extract<SessionEmitted, { type: 'turn' }>;
    expect([last.turn.id, last.turn.text, last.turn.textState]).toEqual(['item_u1', 'book a table for two', 'final']);
    expect(r.emitted.filter((e) => e.type === 'transcript')).toHaveLength(1);
  });

  it('a barge-in truncates to the audio length the agent recorded (never past the end of the item)', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'AUDIO.MS', itemId: 'item_a1', ms: 2_000 });
    r.actor.send({ type: 'INTERRUPT', itemId: 'item_a1', playedMs: 3_000, audioMs: 0 });
    expect(r.last().sent.filter((e) => e.type === 'conversation.item.truncate')).toEqual([
      { type: 'conversation.item.truncate', item_id: 'item_a1', content_index: 0, audio_end_ms: 2_000 },
    ]);
  });
});

describe('tools', () => {
  /** A session with one tool whose runs the test settles by hand (the real tools and toolCall machines). */
  const withTool = () => {
    const { runs, machine: tools } = toolDoubles();
    const r = rig({ tools: { timeouts: {}, defaultTimeoutMs: 30_000 } }, { tools });
    r.connect();
    r.server({ type: 'response.created', event_id: 'evt_r', response: { id: 'resp_1', status: 'in_progress', output: [] } });
    const call = { id: 'item_fc1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'lookup', arguments: '{"q":"weather"}' };
    r.server({ type: 'response.done', event_id: 'evt_d', response: { id: 'resp_1', status: 'completed', output: [call] } });
    return { r, runs };
  };
  const flush = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((res) => setImmediate(res));
  };

  it('a function call of a response runs the tool; the call and its result are reported', async () => {
    const { r, runs } = withTool();
    await flush();
    expect(runs.calls.map((x) => x.input.callId)).toEqual(['call_1']);
    expect(r.emitted.filter((e) => e.type === 'tool.call')).toEqual([{ type: 'tool.call', responseId: 'resp_1', callId: 'call_1', name: 'lookup', arguments: '{"q":"weather"}' }]);
    runs.calls[0].resolve('sunny');
    await flush();
    const results = r.emitted.filter((e) => e.type === 'tool.result') as Extract<SessionEmitted, { type: 'tool.result' }>[];
    expect(results.map((e) => [e.responseId, e.result.callId, e.result.status, e.result.output])).toEqual([['resp_1', 'call_1', 'done', 'sunny']]);
  });

  it('the settled outputs go in and exactly one response.create follows; it is in flight until response.created', async () => {
    const { r, runs } = withTool();
    await flush();
    runs.calls[0].resolve('sunny');
    await flush();
    const after = r.last().sent.slice(r.last().sent.findIndex((e) => e.type === 'session.update') + 1);
    expect(after).toEqual([
      { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_1', output: 'sunny' } },
      { type: 'response.create', event_id: expect.any(String) },
    ]);
    r.actor.send({ type: 'USER.TEXT', text: 'and tomorrow?' }); // waits for the follow-up response
    expect(r.last().sent.filter((e) => e.type === 'response.create')).toHaveLength(1);
  });

  it('stop() aborts a running tool call', async () => {
    const { r, runs } = withTool();
    await flush();
    expect(runs.calls[0].aborted).toBe(false);
    r.actor.send({ type: 'STOP' });
    await flush();
    expect(runs.calls[0].aborted).toBe(true);
  });
});

describe('server errors and closes: the one-line messages', () => {
  it('a non-fatal error without a code: "server error: <message on one line>"', () => {
    const r = rig();
    r.connect();
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'server_error', message: 'The server had\n an error.  ' } });
    expect(r.errors().map((e) => [e.code, e.fatal, e.serverCode, e.message])).toEqual([['server_error', false, null, 'server error: The server had an error.']]);
    expect(isLive(r)).toBe(true);
  });

  it('a fatal server error: its one-line text (or the rule\'s summary) and the fix (src/protocol/server-errors.ts)', () => {
    const r = rig();
    r.connect();
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota,\nplease check your plan.' } });
    const error = r.ended()!;
    expect([error.code, error.fatal, error.serverCode, error.message]).toEqual([
      'insufficient_quota', true, 'insufficient_quota', 'You exceeded your current quota, please check your plan.: add credit to the account or use another key',
    ]);
    const r2 = rig();
    r2.connect();
    r2.server({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided: sk-abc***xyz.' } });
    const e2 = r2.ended()!;
    expect([e2.code, e2.serverCode, e2.message]).toEqual(['bad_api_key', 'invalid_api_key', 'the server refused the API key (invalid_api_key): check OPENAI_API_KEY (or --api-key)']);
    expect(r2.errors()).toEqual([e2]);
  });

  it('a fatal close: the close rule\'s message, fatal, reported once', () => {
    const r = rig();
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 3000, reason: 'invalid_request_error.insufficient_quota' });
    const error = r.ended()!;
    expect([error.code, error.fatal, error.message]).toEqual(['insufficient_quota', true, 'add credit to the account or use another key (server closed the session: 3000 invalid_request_error.insufficient_quota)']);
    expect(r.errors()).toEqual([error]);
  });

  it('missing_required_parameter while configuring is fatal even without the update\'s event_id', () => {
    const r = rig();
    r.last().report({ type: 'SOCKET.OPEN' });
    r.server({ type: 'session.created', event_id: 'evt_c', session: { id: 'sess_1' } });
    r.server({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', code: 'missing_required_parameter', message: 'Missing session.type.' } });
    expect(r.ended()!.message).toBe('the server rejected the session configuration (missing_required_parameter: Missing session.type.): check --dialect and the session options');
  });
});

describe('the session announced and configured', () => {
  it('session.created is announced with its id, model, expiry, URL and dialect; without id or model: "unknown" and the input model', () => {
    const r = rig();
    r.last().report({ type: 'SOCKET.OPEN' });
    r.server({ type: 'session.created', event_id: 'evt_c', session: { id: 'sess_A', model: 'gpt-realtime-2025', expires_at: 1_767_272_400 } });
    expect(r.emitted.filter((e) => e.type === 'session')).toEqual([
      { type: 'session', info: { id: 'sess_A', model: 'gpt-realtime-2025', expiresAt: 1_767_272_400, url: URL_, dialect: 'ga' } },
    ]);
    const r2 = rig();
    r2.last().report({ type: 'SOCKET.OPEN' });
    r2.server({ type: 'session.created', event_id: 'evt_c', session: {} });
    expect(r2.emitted.filter((e) => e.type === 'session')).toEqual([
      { type: 'session', info: { id: 'unknown', model: 'gpt-realtime', expiresAt: null, url: URL_, dialect: 'ga' } },
    ]);
  });

  it('the first connection sends the session config as given; a later one adds the continuation note to the instructions', () => {
    const r = rig({ reconnect: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    r.connect();
    const updates = r.sockets.map((s) => s.sent.find((e) => e.type === 'session.update'));
    expect(updates.map((u) => u!.session)).toEqual([
      { type: 'realtime', instructions: 'be brief' },
      { type: 'realtime', instructions: `be brief\n\n${CONTINUATION_NOTE}` },
    ]);
    expect(new Set(updates.map((u) => u!.event_id)).size).toBe(2); // each answerable on its own
  });

  it('without instructions of its own, a later connection gets the continuation note alone', () => {
    const r = rig({ sessionConfig: { type: 'realtime' }, reconnect: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    r.connect();
    expect(r.last().sent.find((e) => e.type === 'session.update')!.session).toEqual({ type: 'realtime', instructions: CONTINUATION_NOTE });
  });

  it('a connection that stays up (stableAfterMs) earns its reconnect attempts back; a flapping one runs out', () => {
    const r = rig({ reconnect: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 }, stableAfterMs: 30_000 });
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    r.connect();
    r.clock.increment(30_000); // stable
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    expect(r.snap().status).toBe('active');
    r.clock.increment(100);
    expect(r.sockets).toHaveLength(3);
    r.connect();
    r.clock.increment(29_999); // not yet stable
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    expect(r.ended()!.code).toBe('socket_closed');
    const reconnects = r.emitted.filter((e) => e.type === 'reconnect') as Extract<SessionEmitted, { type: 'reconnect' }>[];
    expect(reconnects.map((e) => e.attempt)).toEqual([1, 1]);
  });

  it('a reconnect attempt that times out is retried; one refused for its key is not', () => {
    const r = rig({ reconnect: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 100 } });
    r.connect();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    r.clock.increment(100);
    r.last().report({ type: 'SOCKET.FAILED', error: new AgentError('connect_timeout', 'no answer in time', true) });
    r.clock.increment(100);
    expect(r.sockets).toHaveLength(3);
    const refused = new AgentError('bad_api_key', 'the server refused the API key (HTTP 401): check OPENAI_API_KEY or --api-key', true);
    r.last().report({ type: 'SOCKET.FAILED', error: refused });
    expect(r.ended()).toBe(refused);
  });
});

describe('barge-in and the response timer', () => {
  it('a barge-in before anything was heard deletes the item instead of truncating it to 0 ms', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'INTERRUPT', itemId: 'item_a1', playedMs: 0.4, audioMs: 2_000 });
    expect(r.last().sent.filter((e) => e.type.startsWith('conversation.item.'))).toEqual([{ type: 'conversation.item.delete', item_id: 'item_a1' }]);
    r.actor.send({ type: 'INTERRUPT', itemId: 'item_a2', playedMs: 1.4, audioMs: 2_000 }); // 1 ms heard: truncated to it
    expect(r.last().sent.at(-1)).toEqual({ type: 'conversation.item.truncate', item_id: 'item_a2', content_index: 0, audio_end_ms: 1 });
  });

  it('a response.create never answered ends after responseTimeoutMs with a warning naming it', () => {
    const r = rig({ responseTimeoutMs: 20_000 });
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'hello?' });
    const create = r.last().sent.find((e) => e.type === 'response.create')!;
    r.clock.increment(20_000);
    expect(r.errors().map((e) => [e.code, e.fatal, e.message])).toEqual([
      ['server_error', false, `no response.created for ${create.event_id} after 20 s: treating the response as ended; check the server`],
    ]);
  });
});

describe('a summary that fails or is interrupted is reported (not fatal), the conversation unchanged', () => {
  const LONG = 'Once upon a time there was a very long story. '.repeat(40).trim();
  /** Live with one answered turn, a summary asked for (fold everything old, never on its own). */
  const summarising = () => {
    const doubles = summariserDoubles();
    const r = rig(
      { policy: { ...DEFAULT_POLICY, triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 }, reconnect: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 } },
      { summariser: summariserMachine.provide({ actors: doubles.actors }) },
    );
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'tell me a story' });
    r.server({ type: 'conversation.item.added', event_id: 'evt_t', previous_item_id: null, item: { id: 'item_u1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'tell me a story' }] } });
    r.server({ type: 'response.created', event_id: 'evt_r', response: { id: 'resp_1', status: 'in_progress', output: [] } });
    const item = { id: 'item_a1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: LONG }] };
    r.server({ type: 'conversation.item.added', event_id: 'evt_a', previous_item_id: 'item_u1', item });
    r.server({ type: 'response.done', event_id: 'evt_d', response: { id: 'resp_1', status: 'completed', output: [item], usage: { total_tokens: 5000, input_tokens: 4000, output_tokens: 1000 } } });
    r.actor.send({ type: 'SUMMARISE_NOW' });
    return { r, doubles };
  };
  const flush = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((res) => setImmediate(res));
  };
  const summaryErrors = (r: ReturnType<typeof rig>) => r.errors().filter((e) => e.code === 'summariser_failed').map((e) => [e.fatal, e.message]);

  it('the summariser fails while summarising', async () => {
    const { r, doubles } = summarising();
    await flush();
    doubles.summarise.reject(new Error('model overloaded'));
    await flush();
    expect(summaryErrors(r)).toEqual([[false, 'summary failed while summarising: model overloaded; the conversation is unchanged']]);
    expect(isLive(r)).toBe(true);
  });

  it('a drop while summarising interrupts the summary', async () => {
    const { r } = summarising();
    await flush();
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    await flush();
    expect(summaryErrors(r)).toEqual([[false, 'summary while summarising interrupted by a reconnect: the next session carries these turns verbatim instead']]);
  });

  it('a drop while pruning interrupts the pruning', async () => {
    const { r, doubles } = summarising();
    await flush();
    doubles.summarise.resolve({ text: 'They told a story.' });
    await flush();
    doubles.insertSummary.resolve();
    await flush();
    expect(doubles.deleteItems.pending()).toHaveLength(1);
    r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
    await flush();
    expect(summaryErrors(r)).toEqual([[false, 'summary pruning interrupted by a reconnect: the next session carries these turns verbatim instead']]);
  });
});
