// The session's named guards and actions (machines/session/setup.ts), seen from outside: what goes on
// the wire, what users are told through actor.on(...), which state the session is in. The real machine
// runs under a SimulatedClock with the testing kit's scripted socket (played by hand, synchronously)
// and, for summaries, its answering summariser actors. Expected values come from the Realtime protocol
// (event shapes, close codes) and the documented behaviour (machines/README.md, docs/reliability.md).
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { sessionMachine, type SessionEmitted, type SessionInput } from '../../machines/session.machine.js';
import { summariserMachine } from '../../machines/summariser.machine.js';
import { transcriptMachine } from '../../machines/transcript.machine.js';
import { toolsMachine } from '../../machines/tools.machine.js';
import { DEFAULT_POLICY, resolvePolicy } from '../../src/conversation/policy.js';
import { hysteresisStrategy, type ContextStrategy } from '../../src/conversation/strategy.js';
import type { WireEvent } from '../../src/protocol/events.js';
import { retrieveItemDouble, scriptedSocket, summariserDoubles, toolDoubles } from '../../src/testing/index.js';

const T0 = 1_767_268_800_000; // 2026-01-01T12:00:00Z, the simulated wall clock's start

type Emitted<T extends SessionEmitted['type']> = Extract<SessionEmitted, { type: T }>;

interface Children {
  summariser?: typeof summariserMachine;
  transcript?: typeof transcriptMachine;
  tools?: typeof toolsMachine;
}

function rig(extra: Partial<SessionInput> = {}, children: Children = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  // Opened by hand: every server event is delivered synchronously by push().
  const socket = scriptedSocket({ open: false });
  const input: SessionInput = {
    url: 'ws://setup.test/v1/realtime', dialect: 'ga', model: 'gpt-realtime', sessionConfig: {}, policy: resolvePolicy({}),
    responseTimeoutMs: 10_000, connectTimeoutMs: 5_000, clock, ...extra,
  };
  const actors = { realtimeSocket: socket.logic, ...children };
  const actor = createActor(sessionMachine.provide({ actors }), { input, clock });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as SessionEmitted));
  const crashes: unknown[] = [];
  actor.subscribe({ error: (e) => crashes.push(e) });
  actor.start();
  const server = (...events: WireEvent[]) => socket.current().push(...events);
  const connect = (expiresAt?: number) => {
    socket.current().open();
    server({ type: 'session.created', session: { id: `sess_${socket.connections.length}`, model: 'gpt-realtime', ...(expiresAt ? { expires_at: expiresAt } : {}) } });
    server({ type: 'session.updated', session: {} });
  };
  const snap = () => actor.getSnapshot();
  const isLive = () => snap().matches({ online: 'live' } as never);
  const region = (name: string) => (snap().value as { online: { live: Record<string, unknown> } }).online.live[name];
  const of = <T extends SessionEmitted['type']>(type: T) => emitted.filter((e): e is Emitted<T> => e.type === type);
  const errors = () => of('error').map((e) => e.error);
  const sent = () => socket.sent();
  return { actor, clock, socket, server, connect, snap, isLive, region, emitted, of, errors, sent, crashes };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((res) => setImmediate(res));
};

const userItem = (id: string, text: string, prev: string | null = null): WireEvent => ({
  type: 'conversation.item.added', previous_item_id: prev,
  item: { id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] },
});
const assistantItem = (id: string, text: string) => ({ id, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] });

describe('server errors: which ones end the session, which are reported, which are noise', () => {
  it('a failed input transcription is not a session error, whatever its code', () => {
    const r = rig();
    r.connect();
    // Same error object shape as an `error` event, but it belongs to one item's transcription.
    r.server({
      type: 'conversation.item.input_audio_transcription.failed', item_id: 'item_u1', content_index: 0,
      error: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model whisper-9 does not exist' },
    });
    expect(r.crashes).toEqual([]);
    expect(r.isLive()).toBe(true);
    expect(r.errors().filter((e) => e.fatal)).toEqual([]);
  });

  it('an `error` event without an error object does not break the session', () => {
    const r = rig();
    r.connect();
    r.server({ type: 'error', event_id: 'evt_e' });
    expect(r.crashes).toEqual([]);
    expect(r.isLive()).toBe(true);
  });

  it('benign errors are not reported; session_expired is not either (close 1001 follows and rolls over)', () => {
    const r = rig();
    r.connect();
    r.server({ type: 'error', error: { type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'no active response' } });
    r.server({ type: 'error', error: { type: 'invalid_request_error', code: 'session_expired', message: 'Your session hit the maximum duration of 60 minutes.' } });
    expect(r.errors()).toEqual([]);
    expect(r.isLive()).toBe(true);
    r.socket.current().close(1001, 'session expired');
    expect(r.of('reconnect').map((e) => e.reason)).toEqual(['expired']);
    expect(r.errors()).toEqual([]);
  });

  it('audio-plane events are not the session\'s business: no error, still live', () => {
    const r = rig();
    r.connect();
    r.server(
      { type: 'input_audio_buffer.speech_started', audio_start_ms: 100, item_id: 'item_u1' },
      { type: 'response.output_audio.delta', response_id: 'r1', item_id: 'item_a1', delta: 'AAAA' },
      { type: 'response.output_text.delta', response_id: 'r1', item_id: 'item_a1', delta: 'Hi' },
    );
    expect(r.crashes).toEqual([]);
    expect(r.errors()).toEqual([]);
    expect(r.isLive()).toBe(true);
  });
});

describe('reconnecting: only a session that opened once, and only maxAttempts times', () => {
  const reconnect = { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 };

  it('a first connection that cannot reach the server fails with that error (no reconnect loop)', () => {
    const r = rig({ reconnect: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 100 } });
    r.socket.current().fail('unreachable', 'could not reach ws://setup.test (ECONNREFUSED)');
    expect(r.crashes).toEqual([]);
    expect(r.snap().value).toBe('failed');
    expect(r.of('reconnect')).toEqual([]);
    expect(r.errors().map((e) => [e.code, e.message])).toEqual([['unreachable', 'could not reach ws://setup.test (ECONNREFUSED)']]);
  });

  it('the last allowed attempt failing to connect ends the session with its error', () => {
    const r = rig({ reconnect });
    r.connect();
    r.socket.current().close(1006, '');
    // jitter off: the midpoint of min(max, base) = 3/4 of 100 ms.
    expect(r.of('reconnect')).toEqual([{ type: 'reconnect', attempt: 1, delayMs: 75, reason: 'drop' }]);
    r.clock.increment(75);
    expect(r.socket.connections).toHaveLength(2);
    r.socket.current().fail('unreachable', 'could not reach ws://setup.test (ECONNREFUSED)');
    expect(r.snap().value).toBe('failed');
    expect(r.of('reconnect')).toHaveLength(1);
    expect(r.errors().map((e) => e.code)).toEqual(['unreachable']);
  });

  it('without reconnect configured, a live socket that fails ends the session with its error', () => {
    const r = rig();
    r.connect();
    r.socket.current().fail('connect_timeout', 'the socket stopped answering');
    expect(r.crashes).toEqual([]);
    expect(r.snap().value).toBe('failed');
    expect(r.errors().map((e) => [e.code, e.message])).toEqual([['connect_timeout', 'the socket stopped answering']]);
  });
});

describe('seeding a resumed session', () => {
  const SEED = { id: 'seed_3', text: 'Summary of the conversation so far: they planned a trip.', covers: ['item_u1', 'item_a1'] };
  const seedEvent = (r: ReturnType<typeof rig>) => r.sent().find((e) => e.type === 'conversation.item.create')!;

  for (const ack of ['conversation.item.added', 'conversation.item.created'] as const) {
    it(`the seed is acknowledged by ${ack}: summary.inserted and seeded are emitted, the session goes live`, () => {
      const r = rig({ seed: SEED, firstGeneration: 3 });
      r.connect();
      expect(r.isLive()).toBe(false);
      const item = (seedEvent(r).item as { id: string });
      expect(item.id).toBe('seed_3');
      r.server({ type: ack, previous_item_id: null, item: { id: 'seed_3', type: 'message', role: 'system', content: [{ type: 'input_text', text: SEED.text }] } });
      expect(r.of('summary.inserted')).toEqual([{ type: 'summary.inserted', id: 'seed_3', text: SEED.text, replaces: SEED.covers }]);
      expect(r.of('seeded')).toEqual([{ type: 'seeded', id: 'seed_3', generation: 3 }]);
      expect(r.isLive()).toBe(true);
    });
  }

  it('another item added while seeding is not the acknowledgement', () => {
    const r = rig({ seed: SEED, firstGeneration: 3 });
    r.connect();
    r.server(userItem('item_x', 'hello'));
    expect(r.of('seeded')).toEqual([]);
    expect(r.isLive()).toBe(false);
  });

  it('an error for another event while seeding is reported; the seed is still awaited; its own error ends the wait', () => {
    const r = rig({ seed: SEED, firstGeneration: 3 });
    r.connect();
    const eventId = seedEvent(r).event_id as string;
    r.server({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'bad value', event_id: 'evt_other' } });
    expect(r.errors().map((e) => e.message)).toEqual(['server error invalid_value: bad value']);
    expect(r.isLive()).toBe(false);
    r.server({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'seed rejected', event_id: eventId } });
    expect(r.errors().map((e) => e.message)[1]).toBe('could not seed the new session (seed rejected); the journal still holds the whole conversation');
    expect(r.isLive()).toBe(true);
  });
});

describe('observer mode: the client owns response.create', () => {
  it('a client response reported settled when none was pending changes nothing', () => {
    const r = rig({ observer: true });
    r.connect();
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: false });
    expect(r.region('queue')).toBe('empty');
    expect(r.region('response')).toBe('idle');
  });

  it('a second "pending" keeps the client request pending and in flight', () => {
    const r = rig({ observer: true });
    r.connect();
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    expect(r.region('queue')).toBe('clientPending');
    expect(r.region('response')).toBe('requested');
  });

  it("an error naming no event is not taken as the rejection of the client's request", () => {
    const r = rig({ observer: true });
    r.connect();
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    r.server({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'something else' } });
    expect(r.region('response')).toBe('requested');
  });

  it('a client request never created ends after the response timeout, the warning naming a response.create', () => {
    const r = rig({ observer: true });
    r.connect();
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    r.clock.increment(10_000);
    expect(r.region('response')).toBe('idle');
    expect(r.errors().map((e) => e.message)).toEqual(['no response.created for response.create after 10 s: treating the response as ended; check the server']);
  });
});

describe('turns and responses on the wire', () => {
  it('a text turn is a user message with one input_text part, then a response.create with its own event id', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'what time is it?' });
    const [item, create] = r.sent().slice(1);
    // Realtime API: conversation.item.create { item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } }
    expect(item).toEqual({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what time is it?' }] } });
    expect(create.type).toBe('response.create');
  });

  it('response.create event ids are distinct, rtc_resp_<generation>_<n>, under the 32-character limit', () => {
    const r = rig();
    r.connect();
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      r.actor.send({ type: 'USER.TEXT', text });
      r.server({ type: 'response.created', response: { id: `r${i}` } }, { type: 'response.done', response: { id: `r${i}`, status: 'completed', output: [] } });
    }
    const ids = r.sent().filter((e) => e.type === 'response.create').map((e) => e.event_id as string);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      expect(id).toMatch(/^rtc_resp_0_[1-9]\d*$/);
      expect(id.length).toBeLessThanOrEqual(32);
    }
  });

  it('our response created but never done: the timeout warning names the response', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'hello' });
    r.server({ type: 'response.created', response: { id: 'resp_7' } });
    r.clock.increment(10_000);
    expect(r.errors().map((e) => e.message)).toEqual(['no response.done for resp_7 after 10 s: treating the response as ended; check the server']);
  });

  it('after a finished response, the next unanswered response.create is named by its event id, not the old response', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'one' });
    r.server({ type: 'response.created', response: { id: 'resp_1' } }, { type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [] } });
    r.actor.send({ type: 'USER.TEXT', text: 'two' });
    const second = r.sent().filter((e) => e.type === 'response.create')[1];
    r.clock.increment(10_000);
    expect(r.errors().map((e) => e.message)).toEqual([`no response.created for ${second.event_id} after 10 s: treating the response as ended; check the server`]);
  });

  it('summariseNow while our response.create is still unanswered waits for that response', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'one' });
    expect(r.region('response')).toBe('requested');
    r.actor.send({ type: 'SUMMARISE_NOW' });
    expect(r.region('summary')).toBe('requested');
  });

  it('stop() closes the socket with a normal closure (1000) and a reason', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'STOP' });
    const closes = r.socket.current().commands.filter((c) => c.type === 'CLOSE');
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ type: 'CLOSE', code: 1000 });
    expect((closes[0] as { reason?: string }).reason).toBeTruthy();
  });

  it('turns carry the wall-clock time they were first seen', () => {
    const r = rig();
    r.connect();
    r.clock.increment(1_234);
    r.server(userItem('item_u1', 'hello'));
    expect(r.of('turn').map((e) => [e.turn.id, e.turn.at])).toEqual([['item_u1', T0 + 1_234]]);
  });
});

describe('interrupting a reply', () => {
  const playing = () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'tell me' });
    r.server({ type: 'response.created', response: { id: 'resp_1' } });
    r.server({
      type: 'conversation.item.added', previous_item_id: null,
      item: { id: 'item_a1', type: 'message', role: 'assistant', status: 'in_progress', content: [{ type: 'output_audio', transcript: 'one two three four' }] },
    });
    r.actor.send({ type: 'AUDIO.MS', itemId: 'item_a1', ms: 2_000 });
    return r;
  };

  it('truncates the playing item to what was heard: wire truncate, `truncated` and the trimmed turn', () => {
    const r = playing();
    const before = r.emitted.length;
    r.actor.send({ type: 'INTERRUPT', itemId: 'item_a1', playedMs: 1_000, audioMs: 0 });
    // Realtime API: conversation.item.truncate { item_id, content_index, audio_end_ms }.
    expect(r.sent().filter((e) => e.type === 'conversation.item.truncate')).toEqual([
      { type: 'conversation.item.truncate', item_id: 'item_a1', content_index: 0, audio_end_ms: 1_000 },
    ]);
    expect(r.of('truncated')).toEqual([{ type: 'truncated', id: 'item_a1', audioEndMs: 1_000, text: 'one two…' }]);
    const turns = r.emitted.slice(before).filter((e): e is Emitted<'turn'> => e.type === 'turn');
    expect(turns.map((e) => [e.turn.id, e.turn.text, e.turn.heardMs])).toEqual([['item_a1', 'one two…', 1_000]]);
    expect(r.snap().context.mirror.find((t) => t.id === 'item_a1')).toMatchObject({ text: 'one two…', heardMs: 1_000 });
  });

  it('an interrupt with no item playing only cancels the response', () => {
    const r = playing();
    r.actor.send({ type: 'INTERRUPT', itemId: '', playedMs: 500, audioMs: 0 });
    expect(r.sent().slice(3).map((e) => e.type)).toEqual(['response.cancel']);
    expect(r.of('truncated')).toEqual([]);
  });
});

/** Connects, plays one text exchange (3,000 tokens), then a spoken user turn whose transcript has not come yet. */
function oneExchangeThenUntranscribedTurn(r: ReturnType<typeof rig>) {
    r.connect();
    r.server(userItem('item_u1', 'first question'));
    const item = assistantItem('item_a1', 'first answer');
    r.server({ type: 'response.created', response: { id: 'resp_1' } }, { type: 'conversation.item.added', previous_item_id: 'item_u1', item });
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [item], usage: { total_tokens: 3000, input_tokens: 2500, output_tokens: 500 } } });
    r.server({
      type: 'conversation.item.added', previous_item_id: 'item_a1',
      item: { id: 'item_u2', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] },
    });
}

describe('the summariser, as users see it', () => {
  const LONG = 'Once upon a time there was a very long story. '.repeat(40).trim();
  const answered = (extra: Partial<SessionInput> = {}) => {
    const doubles = summariserDoubles();
    const r = rig(
      { policy: { ...DEFAULT_POLICY, triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 }, ...extra },
      { summariser: summariserMachine.provide({ actors: doubles.actors }) },
    );
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'tell me a story' });
    r.server(userItem('item_u1', 'tell me a story'));
    r.server({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress', output: [] } });
    const item = assistantItem('item_a1', LONG);
    r.server({ type: 'conversation.item.added', previous_item_id: 'item_u1', item });
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [item], usage: { total_tokens: 5000, input_tokens: 4000, output_tokens: 1000 } } });
    return { r, doubles };
  };

  it('a summary: its phases, the inserted summary (replacing the folded turns), then the summary report', async () => {
    const { r, doubles } = answered();
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    expect(r.region('summary')).toBe('summarising');
    doubles.summarise.resolve({ text: 'They asked for a story.' });
    await flush();
    expect(r.region('summary')).toBe('writing');
    // The server acknowledges the summary item (what the real insert actor waits for).
    const { id, text, role } = doubles.insertSummary.pending()[0].input;
    r.server({ type: 'conversation.item.added', previous_item_id: null, item: { id, type: 'message', role, content: [{ type: 'input_text', text }] } });
    doubles.insertSummary.resolve();
    await flush();
    expect(r.of('summary.inserted')).toEqual([{ type: 'summary.inserted', id, text: 'They asked for a story.', replaces: ['item_u1', 'item_a1'] }]);
    // The session's mirror marks the summary item as standing for what it replaced.
    expect(r.snap().context.mirror.find((t) => t.id === id)?.summaryOf).toEqual(['item_u1', 'item_a1']);
    expect(r.region('summary')).toBe('writing');
    doubles.deleteItems.resolve({ deleted: ['item_u1', 'item_a1'], missing: [], failed: [] } as never);
    await flush();
    // A summary that went in ends idle (only a failure cools down).
    expect(r.region('summary')).toBe('idle');
    expect(r.of('summariser').map((e) => e.state)).toEqual(['collecting', 'planning', 'summarising', 'awaitingQuiet', 'inserting', 'pruning', 'idle']);
    const summary = r.of('summary');
    expect(summary).toHaveLength(1);
    expect(summary[0].summary).toMatchObject({ id, text: 'They asked for a story.', replacedIds: ['item_u1', 'item_a1'], turns: 2, windowBefore: 5000 });
  });

  it('deletes that partly fail after the summary went in: reported (not fatal), naming the acknowledged deletes', async () => {
    const { r, doubles } = answered();
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    doubles.summarise.resolve({ text: 'They asked for a story.' });
    await flush();
    doubles.insertSummary.resolve();
    await flush();
    doubles.deleteItems.resolve({ deleted: ['item_u1'], missing: [], failed: ['item_a1'] } as never);
    await flush();
    const failures = r.errors().filter((e) => e.code === 'summariser_failed');
    expect(failures.map((e) => e.fatal)).toEqual([false]);
    expect(failures[0].message).toMatch(/^summary failed while pruning: .*item_a1.*; the conversation is unchanged apart from the acknowledged deletes$/);
  });

  it('summariseNow during a streaming response waits for its end', () => {
    const { r } = answered();
    r.server({ type: 'response.created', response: { id: 'resp_2' } });
    r.actor.send({ type: 'SUMMARISE_NOW' });
    expect(r.region('summary')).toBe('requested');
  });

  it('a summary waits in `collecting` for a pending user transcript, fetching it at once, and goes on when it is in', async () => {
    const doubles = summariserDoubles();
    const retrieve = retrieveItemDouble();
    const r = rig(
      { policy: { ...DEFAULT_POLICY, triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 } },
      { summariser: summariserMachine.provide({ actors: doubles.actors }), transcript: transcriptMachine.provide({ actors: { retrieveItem: retrieve.logic } }) },
    );
    oneExchangeThenUntranscribedTurn(r);
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    expect(r.region('summary')).toBe('collecting');
    expect(r.of('summariser').map((e) => e.state)).toEqual(['collecting']);
    // Asked for now, not after the transcript wait.
    expect(retrieve.pending().map((c) => c.input.itemId)).toEqual(['item_u2']);
    retrieve.resolve({ transcript: 'second question' });
    await flush();
    expect(r.region('summary')).toBe('summarising');
    expect(doubles.summarise.pending()).toHaveLength(1);
  });

  it('a summary waiting for a quiet moment to insert holds the next response.create back (summary region `writing`)', async () => {
    const { r, doubles } = answered();
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    // The server starts a response on its own (server VAD) while the summary is written.
    r.server({ type: 'response.created', response: { id: 'resp_vad' } });
    doubles.summarise.resolve({ text: 'They asked for a story.' });
    await flush();
    expect(r.of('summariser').map((e) => e.state).at(-1)).toBe('awaitingQuiet');
    expect(r.region('summary')).toBe('writing');
    r.server({ type: 'response.done', response: { id: 'resp_vad', status: 'completed', output: [] } });
    const creates = r.sent().filter((e) => e.type === 'response.create').length;
    r.actor.send({ type: 'USER.TEXT', text: 'are you there?' });
    expect(r.sent().filter((e) => e.type === 'response.create')).toHaveLength(creates);
    expect(r.region('queue')).toBe('queued');
  });

  it('a summary that fails cools down (summary region `cooldown`) for cooldownMs, then is idle again', async () => {
    const { r, doubles } = answered();
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    doubles.summarise.reject(new Error('model overloaded'));
    await flush();
    expect(r.region('summary')).toBe('cooldown');
    expect(r.of('summariser').map((e) => e.state).at(-1)).toBe('cooldown');
    r.clock.increment(DEFAULT_POLICY.cooldownMs);
    await flush();
    expect(r.region('summary')).toBe('idle');
  });

  it('a strategy that declines to fold: summary.skipped with its reason, the summary region back to idle', async () => {
    const declining: ContextStrategy = { ...hysteresisStrategy, name: 'declining', planFold: () => ({ skip: 'nothing worth folding yet' }) };
    const { r } = answered({ strategy: declining });
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    expect(r.of('summary.skipped')).toEqual([{ type: 'summary.skipped', reason: 'nothing worth folding yet' }]);
    expect(r.region('summary')).toBe('idle');
  });

  it("the strategy sees the audio lengths the player measured", () => {
    const seen: (number | undefined)[] = [];
    const watching: ContextStrategy = { ...hysteresisStrategy, name: 'watching', shouldSummarise: (v) => (seen.push(v.audioMs?.('item_a9')), false) };
    const r = rig({ strategy: watching });
    r.connect();
    r.actor.send({ type: 'AUDIO.MS', itemId: 'item_a9', ms: 4_321 });
    r.actor.send({ type: 'USER.TEXT', text: 'hi' });
    r.server({ type: 'response.created', response: { id: 'r1' } }, { type: 'response.done', response: { id: 'r1', status: 'completed', output: [] } });
    expect(seen).toEqual([4_321]);
  });
});

describe('a due rollover and pending transcripts', () => {
  /** Due at 5 s (expires_at 65 s, margin 60 s), with one spoken turn whose transcript is pending. */
  const dueWithPendingTranscript = (extra: Partial<SessionInput> = {}) => {
    const doubles = summariserDoubles();
    const retrieve = retrieveItemDouble();
    const r = rig(
      { rolloverMarginMs: 60_000, policy: { ...DEFAULT_POLICY, triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 }, ...extra },
      { summariser: summariserMachine.provide({ actors: doubles.actors }), transcript: transcriptMachine.provide({ actors: { retrieveItem: retrieve.logic } }) },
    );
    r.connect(T0 / 1000 + 65);
    r.server(userItem('item_u1', 'first question'));
    const item = assistantItem('item_a1', 'first answer');
    r.server({ type: 'response.created', response: { id: 'resp_1' } }, { type: 'conversation.item.added', previous_item_id: 'item_u1', item });
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [item], usage: { total_tokens: 3000, input_tokens: 2500, output_tokens: 500 } } });
    r.server({
      type: 'conversation.item.added', previous_item_id: 'item_a1',
      item: { id: 'item_u2', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] },
    });
    return { r, doubles, retrieve };
  };

  it('a rollover due while a summary plans and summarises never closes the socket under it', async () => {
    const { r, doubles, retrieve } = dueWithPendingTranscript();
    r.clock.increment(5_001);
    expect(r.region('rollover')).toBe('waitingForBoundary');
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    retrieve.resolve({ transcript: 'second question' });
    await flush();
    expect(r.of('summariser').map((e) => e.state)).toEqual(['collecting', 'planning', 'summarising']);
    expect(r.isLive()).toBe(true);
    expect(r.region('summary')).toBe('summarising');
    expect(doubles.summarise.pending()).toHaveLength(1);
  });

  it('waits for a pending user transcript at most transcriptWaitMs, then rolls over', () => {
    // expires_at 65 s, margin 60 s: due at 5 s.
    const r = rig({ rolloverMarginMs: 60_000, policy: resolvePolicy({ transcriptWaitMs: 3_000 }) });
    r.connect(T0 / 1000 + 65);
    r.server({
      type: 'conversation.item.added', previous_item_id: null,
      item: { id: 'item_u1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] },
    });
    r.clock.increment(5_001);
    expect(r.region('rollover')).toBe('waitingForBoundary');
    r.clock.increment(2_998);
    expect(r.snap().matches({ online: 'rollingOver' } as never)).toBe(false);
    r.clock.increment(2);
    expect(r.snap().matches({ online: 'rollingOver' } as never)).toBe(true);
  });
});

describe('a drop while a summary collects transcripts', () => {
  it('the pending user turn is settled as inaudible and the summary is skipped, not run on the old connection', async () => {
    const doubles = summariserDoubles();
    const retrieve = retrieveItemDouble();
    const r = rig(
      { reconnect: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 }, policy: { ...DEFAULT_POLICY, triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 } },
      { summariser: summariserMachine.provide({ actors: doubles.actors }), transcript: transcriptMachine.provide({ actors: { retrieveItem: retrieve.logic } }) },
    );
    oneExchangeThenUntranscribedTurn(r);
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    expect(r.region('summary')).toBe('collecting');
    r.socket.current().close(1006, '');
    await flush();
    expect(r.of('turn').filter((e) => e.turn.id === 'item_u2').at(-1)?.turn).toMatchObject({ text: '[inaudible]', textState: 'inaudible' });
    expect(r.of('summary.skipped').map((e) => e.reason)).toEqual(['aborted: the connection changed']);
    expect(doubles.summarise.calls).toEqual([]);
  });
});

describe('the composition root provides the socket', () => {
  it('a session started without a realtimeSocket actor fails saying so', () => {
    const actor = createActor(sessionMachine, {
      input: { url: 'ws://setup.test', dialect: 'ga', model: 'gpt-realtime', sessionConfig: {}, policy: resolvePolicy({}) },
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(String((errors[0] as Error | undefined)?.message)).toMatch(/realtimeSocket not provided/);
  });
});

describe('function calls without tools configured', () => {
  it('a response.done with a function_call starts nothing when the agent has no tools', () => {
    const r = rig();
    r.connect();
    r.actor.send({ type: 'USER.TEXT', text: 'weather?' });
    const call = { id: 'item_f1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'weather', arguments: '{}' };
    r.server({ type: 'response.created', response: { id: 'resp_1' } });
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [call] } });
    expect(r.crashes).toEqual([]);
    expect(r.region('tools')).toBe('idle');
    expect(r.of('tool.call')).toEqual([]);
  });
});

describe('function calls with tools configured', () => {
  /** One tool whose runs the test settles by hand (the real tools and toolCall machines). */
  const withTool = () => {
    const { runs, machine: tools } = toolDoubles();
    const r = rig({ tools: { timeouts: {}, defaultTimeoutMs: 30_000 } }, { tools });
    r.connect();
    return { r, runs };
  };
  const call = { id: 'item_fc1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'lookup', arguments: '{"q":"weather"}' };
  const creates = (r: ReturnType<typeof rig>) => r.sent().filter((e) => e.type === 'response.create').length;

  it('a response without function calls runs nothing and asks for no follow-up response', async () => {
    const { r, runs } = withTool();
    r.actor.send({ type: 'USER.TEXT', text: 'hi' });
    r.server({ type: 'response.created', response: { id: 'resp_1' } });
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [assistantItem('item_a1', 'hello')] } });
    await flush();
    expect(runs.calls).toEqual([]);
    expect(r.of('tool.call')).toEqual([]);
    expect(creates(r)).toBe(1);
    expect(r.region('tools')).toBe('idle');
    // Nothing runs, so a summary asked for now starts at once.
    r.actor.send({ type: 'SUMMARISE_NOW' });
    expect(r.region('summary')).not.toBe('requested');
  });

  it('a call added while its arguments were still streaming runs once, at response.done', async () => {
    const { r, runs } = withTool();
    r.server({ type: 'response.created', response: { id: 'resp_1' } });
    r.server({ type: 'conversation.item.added', previous_item_id: null, item: { ...call, status: 'in_progress', arguments: '' } });
    await flush();
    expect(runs.calls).toEqual([]);
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [call] } });
    await flush();
    expect(runs.calls.map((x) => x.input.callId)).toEqual(['call_1']);
  });

  it('a function call in an out-of-band response (not in the conversation) is not run', async () => {
    const { r, runs } = withTool();
    r.server({ type: 'response.created', response: { id: 'resp_oob', conversation_id: null } });
    r.server({ type: 'response.done', response: { id: 'resp_oob', conversation_id: null, status: 'completed', output: [call] } });
    await flush();
    expect(runs.calls).toEqual([]);
    expect(r.of('tool.call')).toEqual([]);
  });

  it('while a tool runs, summariseNow waits; once it settled the tools region answers until the follow-up response starts', async () => {
    const { r, runs } = withTool();
    r.server({ type: 'response.created', response: { id: 'resp_1' } });
    r.server({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [call] } });
    await flush();
    expect(r.region('tools')).toBe('running');
    // A call is never folded before its output is in.
    r.actor.send({ type: 'SUMMARISE_NOW' });
    expect(r.region('summary')).toBe('requested');
    runs.calls[0].resolve('sunny');
    await flush();
    expect(creates(r)).toBe(1);
    expect(r.region('tools')).toBe('answering');
    r.server({ type: 'response.created', response: { id: 'resp_2' } });
    expect(r.region('tools')).toBe('idle');
  });
});
