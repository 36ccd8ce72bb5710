// The live regions of the session statechart, driven through the real machine with a scripted socket:
// response.create sequencing (queue), the response timer, summariseNow during a response.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, SimulatedClock } from 'xstate';
import { sessionMachine, type SessionEvent, type SocketCommand } from '../../machines/session.machine.js';
import type { WireEvent } from '../../src/protocol/events.js';
import { resolvePolicy } from '../../src/conversation/policy.js';

function live(extra: { observer?: boolean; rolloverMarginMs?: number; expiresAt?: number } = {}) {
  const clock = new SimulatedClock();
  const sent: WireEvent[] = [];
  let report: (e: SessionEvent) => void = () => {};
  const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack, receive }) => {
    report = (e) => sendBack(e as never);
    receive((c) => c.type === 'SEND' && sent.push(c.event));
  });
  const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket } }), {
    clock,
    input: {
      url: 'ws://sim.invalid', dialect: 'ga', model: 'gpt-realtime', sessionConfig: {}, policy: resolvePolicy({}), responseTimeoutMs: 10_000,
      observer: extra.observer, rolloverMarginMs: extra.rolloverMarginMs, clock: extra.expiresAt ? { now: () => clock.now() } : undefined,
    },
  }).start();
  const server = (event: WireEvent) => report({ type: 'SERVER.EVENT', event });
  report({ type: 'SOCKET.OPEN' });
  server({ type: 'session.created', session: { id: 's1', expires_at: extra.expiresAt } });
  server({ type: 'session.updated', session: {} });
  expect(actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  const creates = () => sent.filter((e) => e.type === 'response.create').length;
  const region = (name: string) => (actor.getSnapshot().value as { online: { live: Record<string, unknown> } }).online.live[name];
  return { actor, clock, server, creates, region, sent };
}

describe('live regions', () => {
  // XState copies the context on every assign (Object.assign({}, context, patch)); V8 keeps such a copy
  // in fast mode only up to about 18 properties, past that every copy and read is a hash-table one
  // (2x the CPU per server event: docs/performance.md, section 6). New fields go into a group.
  it('the session context keeps at most 18 top-level fields', () => {
    const s = live();
    s.actor.send({ type: 'USER.TEXT', text: 'one' });
    s.server({ type: 'response.created', response: { id: 'r1' } });
    expect(Object.keys(s.actor.getSnapshot().context).length).toBeLessThanOrEqual(18);
  });

  it('a turn during a response is queued and sent once at response.done', () => {
    const s = live();
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.actor.send({ type: 'USER.TEXT', text: 'one' });
    s.actor.send({ type: 'USER.TEXT', text: 'two' });
    expect(s.creates()).toBe(0);
    expect(s.region('queue')).toBe('queued');
    s.server({ type: 'response.done', response: { id: 'r1', status: 'completed', output: [] } });
    expect(s.creates()).toBe(1);
    expect(s.region('queue')).toBe('empty');
  });

  it('conversation_already_has_active_response: no create/error loop; one retry after the response ends', () => {
    const s = live();
    s.actor.send({ type: 'USER.TEXT', text: 'hello' });
    expect(s.creates()).toBe(1);
    s.server({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' } });
    expect(s.region('queue')).toBe('busy');
    expect(s.creates()).toBe(1);
    s.server({ type: 'response.done', response: { id: 'r0', status: 'completed', output: [] } });
    expect(s.creates()).toBe(2);
  });

  it('a response without response.done ends after responseTimeoutMs with a warning; the queued turn goes out', () => {
    const s = live();
    const errors: string[] = [];
    s.actor.on('error', (e) => errors.push((e as unknown as { error: Error }).error.message));
    s.server({ type: 'response.created', response: { id: 'r_stuck' } });
    s.actor.send({ type: 'USER.TEXT', text: 'anyone there?' });
    s.clock.increment(9_999);
    expect(s.region('response')).toEqual({ active: 'streaming' });
    s.clock.increment(2);
    expect(errors.join()).toMatch(/no response\.done for r_stuck after 10 s/);
    expect(s.creates()).toBe(1);
    // The queued turn's response.create is in flight from the moment it is sent.
    expect(s.region('response')).toBe('requested');
  });

  it('a response.create is in flight from the moment it is sent: a second turn waits for its response.done', () => {
    const s = live();
    s.actor.send({ type: 'USER.TEXT', text: 'one' });
    expect(s.creates()).toBe(1);
    expect(s.region('response')).toBe('requested');
    s.actor.send({ type: 'USER.TEXT', text: 'two' }); // before response.created
    expect(s.creates()).toBe(1);
    expect(s.region('queue')).toBe('queued');
    s.server({ type: 'response.created', response: { id: 'r1' } });
    expect(s.creates()).toBe(1);
    s.server({ type: 'response.done', response: { id: 'r1', status: 'completed', output: [] } });
    expect(s.creates()).toBe(2);
    expect(s.region('queue')).toBe('empty');
  });

  it('an error answering our response.create (same event_id) ends `requested`; an unrelated error does not', () => {
    const s = live();
    const errors: string[] = [];
    s.actor.on('error', (e) => errors.push((e as unknown as { error: Error }).error.message));
    s.actor.send({ type: 'USER.TEXT', text: 'one' });
    const create = s.sent.find((e) => e.type === 'response.create')!;
    expect(typeof create.event_id).toBe('string');
    s.server({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'other', event_id: 'evt_someone_else' } });
    expect(s.region('response')).toBe('requested');
    s.server({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'bad response', event_id: create.event_id } });
    expect(s.region('response')).toBe('idle');
    expect(errors).toHaveLength(2); // both reported, once each
    s.actor.send({ type: 'USER.TEXT', text: 'two' });
    expect(s.creates()).toBe(2);
  });

  it('an interrupt during a response cancels it once (cancelling), and summariseNow waits for its end', () => {
    const s = live();
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.actor.send({ type: 'SUMMARISE_NOW' });
    expect(s.region('summary')).toBe('requested');
    s.actor.send({ type: 'INTERRUPT', itemId: 'a1', playedMs: 0, audioMs: 0 });
    s.actor.send({ type: 'INTERRUPT', itemId: 'a1', playedMs: 0, audioMs: 0 });
    expect(s.sent.filter((e) => e.type === 'response.cancel')).toHaveLength(1);
    expect(s.region('response')).toEqual({ active: 'cancelling' });
    s.server({ type: 'response.done', response: { id: 'r1', status: 'cancelled', output: [] } });
    expect(s.region('response')).toBe('idle');
    expect(s.region('summary')).not.toBe('requested');
  });
});

// Paths the model walk (test/machines/session.model.test.ts) does not take: audio commits, a busy retry after
// the response timeout, a second server-VAD response, the observer's own turns while a client's is pending.
describe('live regions: audio commits, busy, restarts', () => {
  it('an audio commit asks for a response like a text turn; during a response it waits for response.done', () => {
    const s = live();
    s.actor.send({ type: 'USER.COMMIT' });
    expect(s.sent.map((e) => e.type)).toEqual(['session.update', 'input_audio_buffer.commit', 'response.create']);
    s.actor.send({ type: 'USER.COMMIT' }); // before response.created: the create is already in flight
    expect(s.creates()).toBe(1);
    s.server({ type: 'response.created', response: { id: 'r1' } });
    expect(s.creates()).toBe(1);
    s.server({ type: 'response.done', response: { id: 'r1', status: 'completed', output: [] } });
    expect(s.sent.filter((e) => e.type === 'input_audio_buffer.commit')).toHaveLength(2);
    expect(s.creates()).toBe(2);
    // The second create is in flight: a third commit waits for it.
    s.actor.send({ type: 'USER.COMMIT' });
    expect(s.creates()).toBe(2);
    expect(s.region('queue')).toBe('queued');
  });

  it('busy with no response.done ever: the turn is asked for again after the response timeout', () => {
    const s = live();
    s.actor.send({ type: 'USER.TEXT', text: 'hello' });
    s.server({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' } });
    expect(s.region('queue')).toBe('busy');
    s.actor.send({ type: 'USER.TEXT', text: 'still there?' });
    expect(s.sent.filter((e) => e.type === 'conversation.item.create')).toHaveLength(2);
    s.clock.increment(9_999);
    expect(s.creates()).toBe(1);
    s.clock.increment(1);
    expect(s.creates()).toBe(2);
  });

  it('busy again while queued: back to busy, no create/error loop', () => {
    const s = live();
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.actor.send({ type: 'USER.TEXT', text: 'one' });
    expect(s.region('queue')).toBe('queued');
    s.server({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' } });
    expect(s.region('queue')).toBe('busy');
  });

  it('a second response.created (server VAD) restarts the response timer', () => {
    const s = live();
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.clock.increment(6_000);
    s.server({ type: 'response.created', response: { id: 'r2' } });
    s.clock.increment(6_000); // 12 s after r1, 6 s after r2
    expect(s.region('response')).toEqual({ active: 'streaming' });
    s.clock.increment(4_000);
    expect(s.region('response')).toBe('idle');
  });

  it('observer: the user turns still go out while a client response is pending', () => {
    const s = live({ observer: true });
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    s.actor.send({ type: 'USER.TEXT', text: 'hi' });
    s.actor.send({ type: 'USER.COMMIT' });
    expect(s.sent.map((e) => e.type)).toEqual(['session.update', 'conversation.item.create', 'input_audio_buffer.commit']);
  });
});

// Observer mode (realtime-proxy): the client owns the turns, so the session must never originate a
// response.create; a client's create the server has not started yet is not a turn boundary.
describe('observer mode', () => {
  it('sends no response.create for a turn, and a busy error is not retried', () => {
    const s = live({ observer: true });
    s.actor.send({ type: 'USER.TEXT', text: 'hello' });
    expect(s.sent.filter((e) => e.type === 'conversation.item.create')).toHaveLength(1);
    expect(s.creates()).toBe(0);
    s.server({ type: 'error', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'busy' } });
    expect(s.region('queue')).toBe('empty');
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.actor.send({ type: 'USER.TEXT', text: 'during a response' });
    s.server({ type: 'response.done', response: { id: 'r1', status: 'completed', output: [] } });
    expect(s.creates()).toBe(0);
  });

  it('a pending client response.create holds a due rollover back until it is cleared', () => {
    // expires_at 65 s, margin 60 s: the rollover is due at 5 s of simulated time (response timeout: 10 s).
    const s = live({ observer: true, rolloverMarginMs: 60_000, expiresAt: 65 });
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    expect(s.region('queue')).toBe('clientPending');
    s.clock.increment(5_001);
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(false);
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: false });
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(true);
  });

  it("a client's response.create on the wire counts as a response in flight until created, or until the proxy clears it", () => {
    const s = live({ observer: true });
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    expect(s.region('response')).toBe('requested'); // the summariser is told a response is active
    s.server({ type: 'response.created', response: { id: 'r1' } });
    expect(s.region('response')).toEqual({ active: 'streaming' });
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: false }); // the proxy clears it after response.created
    expect(s.region('response')).toEqual({ active: 'streaming' });
    s.server({ type: 'response.done', response: { id: 'r1', status: 'completed', output: [] } });
    expect(s.region('response')).toBe('idle');
    // Rejected (the proxy saw the error naming the client's event): nothing is in flight any more.
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: false });
    expect(s.region('response')).toBe('idle');
  });

  it('a due rollover waits for the summary that the boundary response.done starts (never closes the socket under it)', async () => {
    const s = live({ observer: true, rolloverMarginMs: 60_000, expiresAt: 65 });
    s.server({ type: 'response.created', response: { id: 'r1' } });
    s.clock.increment(5_001); // due, but a response is in flight
    let prev: string | null = null;
    for (const [id, role, text] of [['u1', 'user', 'first question'], ['a1', 'assistant', 'first answer'], ['u2', 'user', 'second'], ['a2', 'assistant', 'reply'], ['u3', 'user', 'third'], ['a3', 'assistant', 'reply']]) {
      s.server({ type: 'conversation.item.added', previous_item_id: prev, item: { id, type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] } });
      prev = id;
    }
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(false);
    // Past the default trigger (20,000): the summary and the rollover are both due at this boundary.
    s.server({ type: 'response.done', response: { id: 'r1', status: 'completed', output: [], usage: { total_tokens: 25_000, input_tokens: 24_000, output_tokens: 1_000 } } });
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(false);
    expect(s.region('summary')).not.toBe('idle');
    // The summariser here has no model (its summarise actor fails): once it is done, the rollover goes.
    await new Promise((r) => setTimeout(r, 0));
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(true);
  });

  it('without a pending client response the same rollover starts when due', () => {
    const s = live({ observer: true, rolloverMarginMs: 60_000, expiresAt: 65 });
    s.clock.increment(5_001);
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(true);
  });

  it('a pending flag never cleared stops holding the rollover after the response timeout', () => {
    const s = live({ observer: true, rolloverMarginMs: 60_000, expiresAt: 65 });
    s.actor.send({ type: 'CLIENT.RESPONSE', pending: true });
    s.clock.increment(9_000);
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(false);
    s.clock.increment(1_001);
    expect(s.actor.getSnapshot().matches({ online: 'rollingOver' })).toBe(true);
  });
});

