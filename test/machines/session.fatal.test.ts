// Defect (issue 10): a fatal server error must end the session as `failed` with a one-line
// AgentError from EVERY state, never be reported as a non-fatal server_error, and never reconnect.
// The session machine runs for real; only its socket is a scripted double (the machine under test
// never does I/O: the socket is an actor provided at the composition root).
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { sessionMachine, type SessionEmitted, type SessionInput, type SocketCommand, type SessionEvent } from '../../machines/session.machine.js';
import type { WireEvent } from '../../src/protocol/events.js';
import { resolvePolicy } from '../../src/conversation/policy.js';

interface FakeSocket {
  sent: WireEvent[];
  closed: boolean;
  report(e: SessionEvent): void;
}

function rig(extra: Partial<SessionInput> = {}) {
  const sockets: FakeSocket[] = [];
  const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack, receive }) => {
    const s: FakeSocket = { sent: [], closed: false, report: (e) => sendBack(e as never) };
    sockets.push(s);
    receive((cmd) => {
      if (cmd.type === 'SEND') s.sent.push(cmd.event);
      else s.closed = true;
    });
    return () => {
      s.closed = true;
    };
  });
  const input: SessionInput = {
    url: 'ws://test.invalid/v1/realtime',
    dialect: 'ga',
    model: 'gpt-realtime',
    sessionConfig: { type: 'realtime', instructions: 'be brief' },
    policy: resolvePolicy({}),
    connectTimeoutMs: 5_000,
    reconnect: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 },
    clock: { now: () => Date.now() },
    ...extra,
  };
  const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket } }), { input });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e as SessionEmitted));
  actor.start();
  return { actor, sockets, emitted, last: () => sockets[sockets.length - 1] };
}

type Rig = ReturnType<typeof rig>;
const tick = () => new Promise<void>((r) => setTimeout(r, 5));
async function until(what: string, cond: () => boolean, ms = 2_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}
const server = (r: Rig, event: WireEvent) => r.last().report({ type: 'SERVER.EVENT', event });
const inState = (r: Rig, path: string) => r.actor.getSnapshot().matches(path as never);

async function toAwaitingSession(r: Rig) {
  r.last().report({ type: 'SOCKET.OPEN' });
  await until('awaitingSession', () => inState(r, 'online.awaitingSession'));
}
async function toConfiguring(r: Rig, expiresAt?: number) {
  await toAwaitingSession(r);
  server(r, { type: 'session.created', event_id: 'e1', session: { id: `sess_${r.sockets.length}`, model: 'gpt-realtime', ...(expiresAt ? { expires_at: expiresAt } : {}) } });
  await until('configuring', () => inState(r, 'online.configuring'));
}
async function toLive(r: Rig, expiresAt?: number) {
  await toConfiguring(r, expiresAt);
  server(r, { type: 'session.updated', event_id: 'e2', session: {} });
  await until('live', () => inState(r, 'online.live'));
}
/** Live with one finished text exchange, then an unexpected drop: the machine reconnects. */
async function toReconnectingAfterLive(r: Rig) {
  await toLive(r);
  server(r, { type: 'conversation.item.added', event_id: 'e3', previous_item_id: null, item: { id: 'item_u1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] } });
  server(r, { type: 'conversation.item.added', event_id: 'e4', previous_item_id: 'item_u1', item: { id: 'item_a1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi, how can I help' }] } });
  r.last().report({ type: 'SOCKET.CLOSED', code: 1006, reason: '' });
}

const quota: WireEvent = { type: 'error', event_id: 'e_err', error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota,\nplease check your plan.' } };
const badKey: WireEvent = { type: 'error', event_id: 'e_err', error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' } };

function expectFailed(r: Rig, code: string) {
  const snap = r.actor.getSnapshot();
  expect(snap.status).toBe('done');
  expect(snap.value).toBe('failed');
  const err = snap.context.error!;
  expect(err.code).toBe(code);
  expect(err.fatal).toBe(true);
  expect(err.message).not.toMatch(/\n/);
  // Reported once, as the fatal error: never as a non-fatal server_error first.
  const errors = r.emitted.filter((e) => e.type === 'error');
  expect(errors.map((e) => (e as { error: { code: string; fatal: boolean } }).error)).toEqual([expect.objectContaining({ code, fatal: true })]);
}

async function expectNoReconnect(r: Rig, socketsBefore: number) {
  await new Promise((res) => setTimeout(res, 30)); // longer than the back-off (1-2 ms)
  expect(r.sockets.length).toBe(socketsBefore);
}

describe('fatal server errors end the session from every state', () => {
  it('awaitingSession: insufficient_quota before session.created', async () => {
    const r = rig();
    await toAwaitingSession(r);
    server(r, quota);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'insufficient_quota');
    await expectNoReconnect(r, 1);
  });

  it('configuring: insufficient_quota answering session.update', async () => {
    const r = rig();
    await toConfiguring(r);
    expect(r.last().sent.map((e) => e.type)).toEqual(['session.update']);
    server(r, quota);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'insufficient_quota');
    await expectNoReconnect(r, 1);
  });

  it('seeding: invalid_api_key answering the seed of a reconnected session', async () => {
    const r = rig();
    await toReconnectingAfterLive(r);
    await until('second socket', () => r.sockets.length === 2);
    await toLive2Seeding(r);
    server(r, badKey);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'bad_api_key');
    await expectNoReconnect(r, 2);
  });

  it('connecting: the first socket is refused (HTTP 401): failed with the socket\'s error, no reconnect', async () => {
    const r = rig();
    const { AgentError } = await import('../../src/errors.js');
    r.last().report({ type: 'SOCKET.FAILED', error: new AgentError('bad_api_key', 'the server refused the API key (HTTP 401): check OPENAI_API_KEY or --api-key', true) });
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'bad_api_key');
    await expectNoReconnect(r, 1);
  });

  it('live with a response in flight and a queued turn: insufficient_quota', async () => {
    const r = rig();
    await toLive(r);
    server(r, { type: 'response.created', event_id: 'e6', response: { id: 'resp_1', status: 'in_progress', output: [] } });
    r.actor.send({ type: 'USER.TEXT', text: 'and another thing' });
    expect(r.actor.getSnapshot().matches({ online: { live: { response: 'active', queue: 'queued' } } } as never)).toBe(true);
    server(r, quota);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'insufficient_quota');
    await expectNoReconnect(r, 1);
  });

  it('live: invalid_api_key', async () => {
    const r = rig();
    await toLive(r);
    server(r, badKey);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'bad_api_key');
    await expectNoReconnect(r, 1);
  });

  it('rollingOver: insufficient_quota while the old socket closes', async () => {
    // Expires in 60 s with a 120 s margin: the rollover is due at once.
    const r = rig({ rolloverMarginMs: 120_000 });
    await toLive(r, Math.floor(Date.now() / 1000) + 60);
    await until('rollingOver', () => inState(r, 'online.rollingOver'));
    server(r, quota);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'insufficient_quota');
    await expectNoReconnect(r, 1);
  });

  it('rollingOver: the old socket closes with 3000 (credentials revoked)', async () => {
    const r = rig({ rolloverMarginMs: 120_000 });
    await toLive(r, Math.floor(Date.now() / 1000) + 60);
    await until('rollingOver', () => inState(r, 'online.rollingOver'));
    r.last().report({ type: 'SOCKET.CLOSED', code: 3000, reason: 'invalid_request_error.invalid_api_key' });
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'bad_api_key');
    await expectNoReconnect(r, 1);
  });

  it('reconnecting -> connecting: the next socket is closed with 3000: failed, no further attempts', async () => {
    const r = rig();
    await toReconnectingAfterLive(r);
    await until('second socket', () => r.sockets.length === 2);
    expect(r.emitted.filter((e) => e.type === 'reconnect')).toHaveLength(1);
    r.last().report({ type: 'SOCKET.CLOSED', code: 3000, reason: 'invalid_request_error.invalid_api_key' });
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'bad_api_key');
    await expectNoReconnect(r, 2);
    expect(r.emitted.filter((e) => e.type === 'reconnect')).toHaveLength(1);
  });

  it('live: close 4000 with a model error is fatal (invalid_model), not a drop to reconnect after', async () => {
    const r = rig();
    await toLive(r);
    r.last().report({ type: 'SOCKET.CLOSED', code: 4000, reason: 'invalid_request_error.model_not_found' });
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'invalid_model');
    await expectNoReconnect(r, 1);
  });

  it('configuring and seeding time out with a one-line error instead of hanging', async () => {
    const r = rig({ connectTimeoutMs: 60 });
    await toConfiguring(r);
    await until('done', () => r.actor.getSnapshot().status === 'done');
    expectFailed(r, 'connect_timeout');
    expect(r.actor.getSnapshot().context.error!.message).toMatch(/session\.updated/);

    const r2 = rig({ connectTimeoutMs: 300 });
    await toReconnectingAfterLive(r2);
    await until('second socket', () => r2.sockets.length === 2);
    await toLive2Seeding(r2);
    await until('done', () => r2.actor.getSnapshot().status === 'done', 3_000);
    expectFailed(r2, 'connect_timeout');
    expect(r2.actor.getSnapshot().context.error!.message).toMatch(/seed/);
  });
});

/** The second connection up to `seeding` (the seed item is on the wire, not yet acknowledged). */
async function toLive2Seeding(r: Rig) {
  await toConfiguring(r);
  server(r, { type: 'session.updated', event_id: 'e5', session: {} });
  await until('seeding', () => inState(r, 'online.seeding'));
  expect(r.last().sent.map((e) => e.type)).toEqual(['session.update', 'conversation.item.create']);
}

