// The `live` state's regions (machines/session/live.ts) seen from outside: what goes on the wire, what
// the summariser is allowed to do while a response is in flight, when a due rollover closes the
// socket, and what the user is warned about. The real session, summariser, transcript and tools
// machines run under a SimulatedClock; the socket is the kit's scripted double and the effects
// (summarise, insert, delete, retrieve, execute) are the kit's controlled actors, settled by the test.
// Expected values come from the protocol and the behaviour documented in machines/README.md.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { sessionMachine, type SessionEmitted, type SessionInput } from '../../machines/session.machine.js';
import { summariserMachine } from '../../machines/summariser.machine.js';
import { transcriptMachine } from '../../machines/transcript.machine.js';
import { resolvePolicy } from '../../src/conversation/policy.js';
import { hysteresisStrategy, type ContextStrategy } from '../../src/conversation/strategy.js';
import { createTestClock, retrieveItemDouble, scriptedSocket, summariserDoubles, toolDoubles } from '../../src/testing/index.js';
import type { WireEvent } from '../../src/protocol/events.js';

const RESPONSE_TIMEOUT_MS = 10_000;
// expires_at 65 s and a 60 s margin: a rollover is due 5 s into the session (simulated time).
const EXPIRES_AT = 65;
const MARGIN_MS = 60_000;
const DUE_MS = 5_000;

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((res) => setImmediate(res));
};

interface RigOptions {
  observer?: boolean;
  /** Expire so that a rollover is due at DUE_MS. */
  rollover?: boolean;
  tools?: boolean;
  strategy?: ContextStrategy;
}

/** A live session: summariser, transcript hunts and tools run for real, their effects are controlled doubles. */
async function rig(opts: RigOptions = {}) {
  const time = createTestClock();
  const socket = scriptedSocket({
    onOpen: [{ type: 'session.created', event_id: 'evt_c', session: { id: 'sess_1', ...(opts.rollover ? { expires_at: EXPIRES_AT } : {}) } }],
    always: [{ expect: 'session.update', reply: [{ type: 'session.updated', event_id: 'evt_u', session: {} }] }],
  });
  const summariser = summariserDoubles();
  const retrieve = retrieveItemDouble();
  const { runs, machine: tools } = toolDoubles();
  const input: SessionInput = {
    url: 'ws://live.test/v1/realtime', dialect: 'ga', model: 'gpt-realtime', sessionConfig: {},
    // Summaries only when asked for (summariseNow), folding every turn.
    policy: resolvePolicy({ triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 }),
    responseTimeoutMs: RESPONSE_TIMEOUT_MS,
    observer: opts.observer,
    clock: { now: () => time.clock.now() },
    ...(opts.rollover ? { rolloverMarginMs: MARGIN_MS } : {}),
    ...(opts.tools ? { tools: { timeouts: {}, defaultTimeoutMs: 30_000 } } : {}),
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
  };
  const actor = createActor(
    sessionMachine.provide({
      actors: {
        realtimeSocket: socket.logic,
        summariser: summariserMachine.provide({ actors: summariser.actors }),
        transcript: transcriptMachine.provide({ actors: { retrieveItem: retrieve.logic } }),
        tools,
      },
    }),
    { input, clock: time.clock },
  );
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as SessionEmitted));
  actor.start();
  await flush();
  expect(actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  const server = (...events: WireEvent[]) => socket.current().push(...events);
  const sent = (type: string) => socket.current().sent.filter((e) => e.type === type);
  const warnings = () => emitted.flatMap((e) => (e.type === 'error' ? [e.error.message] : []));
  const summariserStates = () => emitted.flatMap((e) => (e.type === 'summariser' ? [e.state] : []));
  // Rolling over closes this connection's socket (1000) and opens the next one.
  const rollingOver = () => socket.connections[0].commands.some((c) => c.type === 'CLOSE');
  const interrupt = (itemId: string, playedMs: number) => actor.send({ type: 'INTERRUPT', itemId, playedMs, audioMs: 5_000 });
  return { actor, time, socket, summariser, retrieve, runs, server, sent, emitted, warnings, summariserStates, rollingOver, interrupt };
}
type Rig = Awaited<ReturnType<typeof rig>>;

const message = (id: string, role: 'user' | 'assistant', text: string, previous: string | null): WireEvent => ({
  type: 'conversation.item.added', event_id: `evt_${id}`, previous_item_id: previous,
  item: { id, type: 'message', role, status: 'completed', content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] },
});
const created = (id: string): WireEvent => ({ type: 'response.created', event_id: `evt_rc_${id}`, response: { id, status: 'in_progress', output: [] } });
const done = (id: string, output: unknown[] = []): WireEvent => ({
  type: 'response.done', event_id: `evt_rd_${id}`, response: { id, status: 'completed', output, usage: { total_tokens: 5_000, input_tokens: 4_000, output_tokens: 1_000 } },
});
const rejecting = (eventId: unknown): WireEvent => ({ type: 'error', event_id: 'evt_e', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'bad response', event_id: eventId } });
const BUSY: WireEvent = { type: 'error', event_id: 'evt_b', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' } };

const LONG = 'Once upon a time there was a very long story about a lighthouse keeper. '.repeat(30).trim();

/** One answered turn (something to fold), then summariseNow: the summariser waits on its model. */
async function summarising(r: Rig) {
  r.server(message('item_u1', 'user', 'tell me a story', null), created('resp_1'), message('item_a1', 'assistant', LONG, 'item_u1'));
  r.server(done('resp_1', [{ id: 'item_a1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: LONG }] }]));
  r.actor.send({ type: 'SUMMARISE_NOW' });
  await flush();
  expect(r.summariser.summarise.pending()).toHaveLength(1);
}

/** The model wrote the summary: inserting it must wait while a response is in flight (README, summariser). */
async function summaryWritten(r: Rig) {
  r.summariser.summarise.resolve({ text: 'They told a story.' });
  await flush();
}
const inserting = (r: Rig) => r.summariser.insertSummary.pending().length === 1;

describe('the summariser is told when a response is in flight (no summary is inserted under it)', () => {
  it('a response the server starts on its own (server VAD) holds the insert until its response.done', async () => {
    const r = await rig();
    await summarising(r);
    r.server(created('resp_vad'));
    await summaryWritten(r);
    expect(inserting(r)).toBe(false);
    expect(r.summariserStates().at(-1)).toBe('awaitingQuiet');
    r.server(done('resp_vad'));
    await flush();
    expect(inserting(r)).toBe(true);
  });

  it('our response.create holds the insert until the error answering it (same event_id) ends the request', async () => {
    const r = await rig();
    await summarising(r);
    r.actor.send({ type: 'USER.TEXT', text: 'and then?' });
    const [create] = r.sent('response.create');
    await summaryWritten(r);
    expect(inserting(r)).toBe(false);
    r.server(rejecting(create.event_id));
    await flush();
    expect(inserting(r)).toBe(true);
    expect(r.warnings()).toEqual(['server error invalid_value: bad response']); // reported once
  });

  it('conversation_already_has_active_response ends our request: the insert goes ahead, then the turn is asked for again', async () => {
    const r = await rig();
    await summarising(r);
    r.actor.send({ type: 'USER.TEXT', text: 'and then?' });
    await summaryWritten(r);
    expect(inserting(r)).toBe(false);
    r.server(BUSY);
    await flush();
    expect(inserting(r)).toBe(true);
    // No response.create while the summary is inserted and the old items deleted.
    expect(r.sent('response.create')).toHaveLength(1);
    r.summariser.insertSummary.resolve();
    await flush();
    expect(r.sent('response.create')).toHaveLength(1);
    r.summariser.deleteItems.resolve({ deleted: ['item_u1', 'item_a1'], missing: [], failed: [] });
    await flush();
    expect(r.sent('response.create')).toHaveLength(2);
  });

  it('a response.create never answered stops holding the insert after the response timeout, with a warning', async () => {
    const r = await rig();
    await summarising(r);
    r.actor.send({ type: 'USER.TEXT', text: 'and then?' });
    const [create] = r.sent('response.create');
    await summaryWritten(r);
    await r.time.advance(RESPONSE_TIMEOUT_MS - 1);
    expect(inserting(r)).toBe(false);
    await r.time.advance(1);
    expect(r.warnings()).toEqual([`no response.created for ${create.event_id} after 10 s: treating the response as ended; check the server`]);
    expect(inserting(r)).toBe(true);
  });

  it('a response never done stops holding the insert after the response timeout, with a warning naming it', async () => {
    const r = await rig();
    await summarising(r);
    r.server(created('resp_stuck'));
    await summaryWritten(r);
    await r.time.advance(RESPONSE_TIMEOUT_MS - 1);
    expect(inserting(r)).toBe(false);
    await r.time.advance(1);
    expect(r.warnings()).toEqual(['no response.done for resp_stuck after 10 s: treating the response as ended; check the server']);
    expect(inserting(r)).toBe(true);
  });

  it("observer: a client's response.create holds the insert; a second one keeps holding it; the proxy's clear releases it", async () => {
    const r = await rig({ observer: true });
    await summarising(r);
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    await summaryWritten(r);
    expect(inserting(r)).toBe(false);
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    await flush();
    expect(inserting(r)).toBe(false);
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: false }); // rejected: nothing started
    await flush();
    expect(inserting(r)).toBe(true);
  });
});

describe('the response timeout warning names what was lost', () => {
  it('our response.create answered by response.created, then no response.done: the warning names the response', async () => {
    const r = await rig();
    r.actor.send({ type: 'USER.TEXT', text: 'hello' });
    r.server(created('resp_1'));
    await r.time.advance(RESPONSE_TIMEOUT_MS);
    expect(r.warnings()).toEqual(['no response.done for resp_1 after 10 s: treating the response as ended; check the server']);
  });

  it('a response.create never answered: after the timeout the next turn asks for a response at once', async () => {
    const r = await rig();
    r.actor.send({ type: 'USER.TEXT', text: 'one' });
    await r.time.advance(RESPONSE_TIMEOUT_MS);
    r.actor.send({ type: 'USER.TEXT', text: 'two' });
    expect(r.sent('response.create')).toHaveLength(2);
  });

  it('a second response.created names the newer response', async () => {
    const r = await rig();
    r.server(created('resp_1'), created('resp_2'));
    await r.time.advance(RESPONSE_TIMEOUT_MS);
    expect(r.warnings()).toEqual(['no response.done for resp_2 after 10 s: treating the response as ended; check the server']);
  });

  it('after a response ended (done, or timed out), a later unanswered response.create is named, not the old response', async () => {
    const r = await rig();
    r.server(created('resp_1'), done('resp_1'));
    r.actor.send({ type: 'USER.TEXT', text: 'one' });
    await r.time.advance(RESPONSE_TIMEOUT_MS);
    r.server(created('resp_2'));
    await r.time.advance(RESPONSE_TIMEOUT_MS);
    r.actor.send({ type: 'USER.TEXT', text: 'two' });
    await r.time.advance(RESPONSE_TIMEOUT_MS);
    const [first, second] = r.sent('response.create').map((e) => e.event_id);
    expect(r.warnings()).toEqual([
      `no response.created for ${first} after 10 s: treating the response as ended; check the server`,
      'no response.done for resp_2 after 10 s: treating the response as ended; check the server',
      `no response.created for ${second} after 10 s: treating the response as ended; check the server`,
    ]);
  });
});

describe('barge-in (INTERRUPT): the heard part of the playing item is kept', () => {
  const truncate = (item: string, ms: number) => ({ type: 'conversation.item.truncate', item_id: item, content_index: 0, audio_end_ms: ms });

  it('before response.created (nothing to cancel yet) the playing item is truncated to what was heard', async () => {
    const r = await rig();
    r.actor.send({ type: 'USER.TEXT', text: 'hello' });
    r.interrupt('item_a0', 1_500);
    expect(r.sent('conversation.item.truncate')).toEqual([truncate('item_a0', 1_500)]);
    expect(r.sent('response.cancel')).toEqual([]);
    expect(r.emitted.filter((e) => e.type === 'truncated').map((e) => (e as { id: string }).id)).toEqual(['item_a0']);
  });

  it('while streaming: response.cancel and a truncate; a second barge-in while it cancels truncates again, no second cancel', async () => {
    const r = await rig();
    r.server(created('resp_1'));
    r.interrupt('item_a1', 1_200);
    expect(r.sent('response.cancel')).toHaveLength(1);
    expect(r.sent('conversation.item.truncate')).toEqual([truncate('item_a1', 1_200)]);
    r.interrupt('item_a1', 900); // still playing locally: the later, shorter position wins
    expect(r.sent('response.cancel')).toHaveLength(1);
    expect(r.sent('conversation.item.truncate')).toEqual([truncate('item_a1', 1_200), truncate('item_a1', 900)]);
  });
});

describe('observer mode: the client owns the responses', () => {
  it("an audio commit goes on the wire, without a response.create of the session's", async () => {
    const r = await rig({ observer: true });
    r.actor.send({ type: 'USER.COMMIT' });
    expect(r.sent('input_audio_buffer.commit')).toHaveLength(1);
    expect(r.sent('response.create')).toEqual([]);
  });

  it("a clear with no client response.create pending holds nothing: a due rollover goes on time", async () => {
    const r = await rig({ observer: true, rollover: true });
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: false });
    await r.time.advance(DUE_MS);
    expect(r.rollingOver()).toBe(true);
  });

  it("a client's second response.create during a response holds a due rollover past that response; the clear lets it go", async () => {
    const r = await rig({ observer: true, rollover: true });
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    r.server(created('resp_1'));
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: true }); // not started by the server yet
    await r.time.advance(DUE_MS);
    r.server(done('resp_1'));
    await flush();
    expect(r.rollingOver()).toBe(false);
    r.actor.send({ type: 'CLIENT.RESPONSE', pending: false });
    await flush();
    expect(r.rollingOver()).toBe(true);
  });
});

describe('turns that wait for a response.create still go on the wire at once', () => {
  it('text and audio commits while a turn is queued behind a response', async () => {
    const r = await rig();
    r.server(created('resp_1'));
    r.actor.send({ type: 'USER.TEXT', text: 'one' });
    r.actor.send({ type: 'USER.TEXT', text: 'two' });
    r.actor.send({ type: 'USER.COMMIT' });
    expect(r.sent('conversation.item.create').map((e) => (e.item as { content: { text: string }[] }).content[0].text)).toEqual(['one', 'two']);
    expect(r.sent('input_audio_buffer.commit')).toHaveLength(1);
    expect(r.sent('response.create')).toEqual([]);
  });

  it('an audio commit while the server said it is busy', async () => {
    const r = await rig();
    r.actor.send({ type: 'USER.TEXT', text: 'one' });
    r.server(BUSY);
    r.actor.send({ type: 'USER.COMMIT' });
    expect(r.sent('input_audio_buffer.commit')).toHaveLength(1);
    expect(r.sent('response.create')).toHaveLength(1);
  });
});

describe('the summary follows the summariser', () => {
  it('a user turn while the summary is inserted waits for the insert and the deletes, then goes out', async () => {
    const r = await rig();
    await summarising(r);
    await summaryWritten(r);
    expect(inserting(r)).toBe(true);
    r.actor.send({ type: 'USER.TEXT', text: 'still there?' });
    expect(r.sent('response.create')).toEqual([]);
    r.summariser.insertSummary.resolve();
    await flush();
    expect(r.sent('response.create')).toEqual([]);
    r.summariser.deleteItems.resolve({ deleted: ['item_u1', 'item_a1'], missing: [], failed: [] });
    await flush();
    expect(r.sent('response.create')).toHaveLength(1);
  });

  it('after a summary is done, summariseNow starts the next one', async () => {
    const r = await rig();
    await summarising(r);
    await summaryWritten(r);
    r.summariser.insertSummary.resolve();
    await flush();
    r.summariser.deleteItems.resolve({ deleted: ['item_u1', 'item_a1'], missing: [], failed: [] });
    await flush();
    expect(r.summariserStates().at(-1)).toBe('idle');
    r.server(message('item_u2', 'user', 'another story', 'item_a1'), created('resp_2'), message('item_a2', 'assistant', LONG, 'item_u2'), done('resp_2'));
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    expect(r.summariser.summarise.calls).toHaveLength(2);
  });

  it('summariseNow during a response starts the summary at its response.done', async () => {
    const r = await rig();
    r.server(message('item_u1', 'user', 'tell me a story', null), created('resp_1'), message('item_a1', 'assistant', LONG, 'item_u1'));
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await flush();
    expect(r.summariser.summarise.calls).toHaveLength(0);
    r.server(done('resp_1'));
    await flush();
    expect(r.summariser.summarise.calls).toHaveLength(1);
  });
});

describe('a due rollover waits for a turn boundary', () => {
  it('it waits for the summary the model is writing, and goes once the summary is done', async () => {
    const r = await rig({ rollover: true });
    await summarising(r);
    await r.time.advance(DUE_MS);
    expect(r.rollingOver()).toBe(false);
    await summaryWritten(r);
    r.summariser.insertSummary.resolve();
    await flush();
    expect(r.rollingOver()).toBe(false);
    r.summariser.deleteItems.resolve({ deleted: ['item_u1', 'item_a1'], missing: [], failed: [] });
    await flush();
    expect(r.rollingOver()).toBe(true);
  });

  it('summariseNow during a response, due at its response.done: the summary starts and the rollover waits for it', async () => {
    const r = await rig({ rollover: true });
    r.server(message('item_u1', 'user', 'tell me a story', null), created('resp_1'), message('item_a1', 'assistant', LONG, 'item_u1'));
    r.actor.send({ type: 'SUMMARISE_NOW' });
    await r.time.advance(DUE_MS);
    r.server(done('resp_1'));
    expect(r.rollingOver()).toBe(false);
    await flush();
    expect(r.summariser.summarise.calls).toHaveLength(1);
    expect(r.rollingOver()).toBe(false);
  });

  it('a pending transcript holds it for transcriptWaitMs, then it goes at a boundary without it', async () => {
    const r = await rig({ rollover: true });
    // A user audio turn whose transcript has not arrived: a hunt runs (its retrieve stays unanswered).
    r.server({ type: 'conversation.item.added', event_id: 'evt_u', previous_item_id: null, item: { id: 'item_v1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] } });
    r.server(created('resp_1'));
    await r.time.advance(DUE_MS);
    const transcriptWaitMs = resolvePolicy({}).transcriptWaitMs;
    await r.time.advance(transcriptWaitMs); // past the transcript wait, but a response is in flight
    expect(r.rollingOver()).toBe(false);
    r.server(done('resp_1'));
    await flush();
    expect(r.rollingOver()).toBe(true);
  });

  it('the transcript wait starts when the rollover is due', async () => {
    const r = await rig({ rollover: true });
    r.server({ type: 'conversation.item.added', event_id: 'evt_u', previous_item_id: null, item: { id: 'item_v1', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] } });
    const transcriptWaitMs = resolvePolicy({}).transcriptWaitMs;
    await r.time.advance(DUE_MS);
    expect(r.rollingOver()).toBe(false);
    await r.time.expectDelay(transcriptWaitMs, r.rollingOver, 'the rollover after the transcript wait');
  });
});

describe('tools: the calls of a response, their outputs, one follow-up response', () => {
  const call = { id: 'item_fc1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'lookup', arguments: '{"q":"weather"}' };
  const calling = async (opts: RigOptions = {}) => {
    const r = await rig({ tools: true, ...opts });
    r.server(created('resp_1'), done('resp_1', [call]));
    await flush();
    expect(r.runs.calls.map((x) => x.input.callId)).toEqual(['call_1']);
    return r;
  };

  it('a barge-in while a call runs aborts it: its output goes in, no follow-up response.create; a due rollover then goes', async () => {
    const r = await calling({ rollover: true });
    await r.time.advance(DUE_MS);
    expect(r.rollingOver()).toBe(false);
    r.interrupt('item_a1', 1_000);
    await flush();
    expect(r.runs.calls[0].aborted).toBe(true);
    expect(r.sent('conversation.item.create').map((e) => (e.item as { type: string; call_id: string }).call_id)).toEqual(['call_1']);
    expect(r.sent('response.create')).toEqual([]);
    expect(r.rollingOver()).toBe(true); // nothing in flight: a turn boundary
  });

  it('outputs answered while another response runs: the follow-up response.create goes out at its response.done', async () => {
    const r = await calling();
    r.server(created('resp_vad'));
    r.runs.calls[0].resolve('sunny');
    await flush();
    expect(r.sent('conversation.item.create')).toHaveLength(1);
    expect(r.sent('response.create')).toEqual([]);
    r.server(done('resp_vad'));
    expect(r.sent('response.create')).toHaveLength(1);
  });

  it('a due rollover waits for a running call; after its follow-up response it goes at the boundary', async () => {
    const r = await calling({ rollover: true });
    await r.time.advance(DUE_MS);
    expect(r.rollingOver()).toBe(false);
    r.runs.calls[0].resolve('sunny');
    await flush();
    expect(r.sent('response.create')).toHaveLength(1);
    expect(r.rollingOver()).toBe(false);
    r.server(created('resp_2'), done('resp_2'));
    await flush();
    expect(r.rollingOver()).toBe(true);
  });

  it('the follow-up response.create rejected: the turn is not over until the response timeout', async () => {
    const r = await calling({ rollover: true });
    r.runs.calls[0].resolve('sunny');
    await flush();
    const [create] = r.sent('response.create');
    r.server(rejecting(create.event_id));
    await r.time.advance(DUE_MS);
    expect(r.rollingOver()).toBe(false);
    await r.time.advance(RESPONSE_TIMEOUT_MS - DUE_MS);
    expect(r.rollingOver()).toBe(true);
  });

  it("a summary the strategy asks for at the calls' response starts at the follow-up response's end (never folds a call without its output)", async () => {
    // Summarise while the prompt cache is cold (a strategy of the user's, decided from the usage).
    const coldCache: ContextStrategy = { ...hysteresisStrategy, name: 'cold-cache', shouldSummarise: ({ cachedTokens }) => (cachedTokens ?? 0) === 0 };
    const r = await rig({ tools: true, strategy: coldCache });
    r.server(message('item_u1', 'user', 'what is the weather?', null), created('resp_1'), done('resp_1', [call]));
    await flush();
    expect(r.summariser.summarise.calls).toHaveLength(0);
    r.runs.calls[0].resolve('sunny');
    await flush();
    r.server(created('resp_2'), message('item_a2', 'assistant', LONG, 'item_fc1'));
    r.server({
      type: 'response.done', event_id: 'evt_rd_2',
      response: { id: 'resp_2', status: 'completed', output: [], usage: { total_tokens: 6_000, input_tokens: 5_000, output_tokens: 1_000, input_token_details: { cached_tokens: 4_000 } } },
    });
    await flush();
    expect(r.summariser.summarise.calls).toHaveLength(1);
  });
});
