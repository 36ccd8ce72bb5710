// The session: connection lifecycle, the conversation mirror, the window, responses in flight.
// Spawns one transcript child per user audio turn and one summariser; knows no I/O (the socket is
// the invoked `realtimeSocket` callback actor, provided at the composition root).
//
//   online( connecting -> awaitingSession -> configuring -> live -> closing ) -> closed
//   any fatal condition (401, close 4000, invalid key, quota, bad model, rejected config) -> failed
import { assign, emit, enqueueActions, fromCallback, sendTo, setup, type DoneActorEvent } from 'xstate';
import { turnFromItem } from '../src/conversation/items.js';
import { findTurn, removeTurn, trimToHeard, updateTurn, upsertTurn } from '../src/conversation/mirror.js';
import { usageCost } from '../src/conversation/costs.js';
import { buildSeed } from '../src/conversation/seed.js';
import { isObject } from '../src/protocol/parse.js';
import { classifyServerError, SERVER_ERROR_RULES } from '../src/protocol/server-errors.js';
import type { RealtimeResponseUsage, WireEvent } from '../src/protocol/events.js';
import { AgentError, type AgentErrorCode } from '../src/errors.js';
import type { PolicyOptions, SessionInfo, SummaryEvent, TranscriptEvent, Turn, WindowEvent, Dialect } from '../src/types.js';
import { INTERRUPTED, summariserMachine, type SummariserReport } from './summariser.machine.js';
import { transcriptMachine, type TranscriptOutput } from './transcript.machine.js';

/** Commands the session sends to the socket actor. */
export type SocketCommand = { type: 'SEND'; event: WireEvent } | { type: 'CLOSE'; code?: number; reason?: string };

/** What the socket actor reports. */
export type SocketReport =
  | { type: 'SOCKET.OPEN' }
  | { type: 'SOCKET.CLOSED'; code: number; reason: string }
  | { type: 'SOCKET.FAILED'; error: AgentError }
  | { type: 'SERVER.EVENT'; event: WireEvent };

export interface TranscriptDoneEvent extends DoneActorEvent<TranscriptOutput> {
  type: 'xstate.done.actor.transcript.*';
}

export type SessionEvent =
  | SocketReport
  | SummariserReport
  | TranscriptDoneEvent
  | { type: 'USER.TEXT'; text: string }
  | { type: 'USER.COMMIT' }
  | { type: 'INTERRUPT'; itemId: string; playedMs: number; audioMs: number }
  | { type: 'AUDIO.MS'; itemId: string; ms: number }
  | { type: 'SUMMARISE_NOW' }
  /** Raised (delayed) at response.created, cancelled at response.done. */
  | { type: 'RESPONSE.TIMEOUT'; responseId: string }
  /** Observer mode (proxy hook): the client asked for a response the server has not started yet. */
  | { type: 'CLIENT.RESPONSE'; pending: boolean }
  | { type: 'STOP' };

export interface SessionInput {
  url: string;
  dialect: Dialect;
  model: string;
  /** GA session config sent in session.update. */
  sessionConfig: Record<string, unknown>;
  policy: PolicyOptions;
  connectTimeoutMs?: number;
  firstSummaryNumber?: number;
  /** Reconnect after unexpected drops: attempts, then a clear failure. Fatal conditions never retry. */
  reconnect?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** Roll over to a new session this long before `expires_at` (at a turn boundary). */
  rolloverMarginMs?: number;
  /** A connection counts as stable (reconnect attempts reset) after this long live. */
  stableAfterMs?: number;
  /** A response with no response.done after this long is treated as ended (default 5 min). */
  responseTimeoutMs?: number;
  /** Observer mode (realtime-proxy): never originate a response.create; the client owns the turns. */
  observer?: boolean;
}

/** What a new session is seeded with after a reconnect or rollover. */
export interface SessionSeed {
  id: string;
  text: string;
  covers: string[];
  eventId: string | null;
}

export const CONTINUATION_NOTE =
  'This conversation continues an earlier session: the first system message holds what was said so far. Do not greet the user again, and keep the language the user has been speaking.';

interface EarlyTranscript {
  deltas: string;
  completed?: string;
  failed?: boolean;
}

export interface SessionContext {
  input: SessionInput;
  session: SessionInfo | null;
  mirror: Turn[];
  window: number;
  costUsd: number;
  responseActive: boolean;
  activeResponseId: string | null;
  /** response.create waiting for the active response or a summary insert/prune to end. */
  responseQueued: boolean;
  /** summariseNow() while a response was in flight: run it at response.done. */
  summaryRequested: boolean;
  early: Record<string, EarlyTranscript>;
  transcriptChildren: string[];
  audioMs: Record<string, number>;
  /** Out-of-band responses (our own summaries) never count towards the window or in-flight state. */
  oobResponses: string[];
  configEventId: string | null;
  summarising: boolean;
  error: AgentError | null;
  /** Connection generation: 0 for the first socket, +1 per reconnect or rollover. */
  generation: number;
  hasBeenLive: boolean;
  /** A socket has opened at least once: later drops are network trouble, not a bad URL or key. */
  openedOnce: boolean;
  reconnectAttempt: number;
  reconnectReason: 'drop' | 'rollover' | 'expired' | null;
  rolloverPending: boolean;
  /** Rollover waited transcriptWaitMs for pending transcripts: go even if some are still missing. */
  rolloverForced: boolean;
  seed: SessionSeed | null;
  reconnectDelayMs: number;
}

export type SessionEmitted =
  | { type: 'session'; info: SessionInfo }
  | { type: 'turn'; turn: Turn }
  | { type: 'transcript'; transcript: TranscriptEvent }
  | { type: 'window'; window: WindowEvent }
  | { type: 'summary'; summary: SummaryEvent }
  | { type: 'summary.inserted'; id: string; text: string; replaces: string[] }
  | { type: 'deleted'; id: string }
  | { type: 'truncated'; id: string; audioEndMs: number; text: string | null }
  | { type: 'error'; error: AgentError }
  | { type: 'response'; phase: 'created' | 'done'; responseId: string; status?: string }
  | { type: 'reconnect'; attempt: number; delayMs: number; reason: 'drop' | 'rollover' | 'expired' }
  | { type: 'seeded'; id: string; generation: number };

// Fatal server errors end the session with the fix; the table lives in src/protocol/server-errors.ts.
const FATAL_SERVER_CODES: Record<string, { code: AgentErrorCode; fix: string }> = Object.fromEntries(
  Object.entries(SERVER_ERROR_RULES)
    .filter(([, r]) => r.class === 'fatal')
    .map(([k, r]) => [k, { code: r.agentCode!, fix: r.fix! }]),
);

let counter = 0;
const nextEventId = () => `rtc_${(++counter).toString(36)}`;

export const sessionMachine = setup({
  types: {
    input: {} as SessionInput,
    context: {} as SessionContext,
    events: {} as SessionEvent,
    emitted: {} as SessionEmitted,
  },
  actors: {
    /** The WebSocket: reports SOCKET.* / SERVER.EVENT, receives SEND / CLOSE. Provided by the agent. */
    realtimeSocket: fromCallback<SocketCommand, { url: string }>(() => {
      throw new Error('realtimeSocket not provided');
    }),
    transcript: transcriptMachine,
    summariser: summariserMachine,
  },
  guards: {
    isEvent: ({ event }, params: { type: string | string[] }) =>
      event.type === 'SERVER.EVENT' && (Array.isArray(params.type) ? params.type.includes(event.event.type) : event.event.type === params.type),
    isConfigError: ({ context, event }) =>
      event.type === 'SERVER.EVENT' &&
      event.event.type === 'error' &&
      isObject(event.event.error) &&
      (event.event.error.event_id === context.configEventId || event.event.error.code === 'unknown_parameter' || event.event.error.code === 'missing_required_parameter'),
    isFatalServerError: ({ event }) =>
      event.type === 'SERVER.EVENT' && event.event.type === 'error' && isObject(event.event.error) && typeof event.event.error.code === 'string' && Object.hasOwn(FATAL_SERVER_CODES, event.event.error.code),
    closedWrongDialect: ({ event }) => event.type === 'SOCKET.CLOSED' && (event.code === 4000 || /beta_api_shape_disabled/.test(event.reason)),
    closedExpired: ({ event }) => event.type === 'SOCKET.CLOSED' && event.code === 1001,
    canReconnect: ({ context }) => (context.hasBeenLive || context.openedOnce) && context.reconnectAttempt < (context.input.reconnect?.maxAttempts ?? 0),
    canRetryFailure: ({ context, event }) =>
      event.type === 'SOCKET.FAILED' &&
      (context.hasBeenLive || context.openedOnce) &&
      context.reconnectAttempt < (context.input.reconnect?.maxAttempts ?? 0) &&
      (event.error.code === 'unreachable' || event.error.code === 'connect_timeout'),
    nothingToSeed: ({ context }) => context.seed === null,
    isSeedAck: ({ context, event }) =>
      event.type === 'SERVER.EVENT' &&
      (event.event.type === 'conversation.item.added' || event.event.type === 'conversation.item.created') &&
      isObject(event.event.item) &&
      event.event.item.id === context.seed?.id,
    isSeedError: ({ context, event }) =>
      event.type === 'SERVER.EVENT' && event.event.type === 'error' && isObject(event.event.error) && !!context.seed?.eventId && event.event.error.event_id === context.seed.eventId,
    rolloverNow: ({ context }) =>
      context.rolloverPending &&
      !context.responseActive &&
      !context.summarising &&
      !context.responseQueued &&
      (context.transcriptChildren.length === 0 || context.rolloverForced),
  },
  delays: {
    connectTimeout: ({ context }) => context.input.connectTimeoutMs ?? 15_000,
    reconnectDelay: ({ context }) => context.reconnectDelayMs,
    connectionStable: ({ context }) => context.input.stableAfterMs ?? 10_000,
    rolloverDue: ({ context }) => rolloverDelay(context),
    rolloverDeadline: ({ context }) => Math.min(NEVER, rolloverDelay(context) + context.input.policy.transcriptWaitMs),
    closeGrace: 1_000,
  },
  actions: {
    send: sendTo('socket', (_, params: { event: WireEvent }) => ({ type: 'SEND' as const, event: params.event })),
    sendConfig: enqueueActions(({ context, enqueue }) => {
      const eventId = nextEventId();
      enqueue.assign({ configEventId: eventId });
      const base = context.input.sessionConfig;
      const session = context.generation === 0 ? base : { ...base, instructions: `${String(base.instructions ?? '')}\n\n${CONTINUATION_NOTE}`.trim() };
      enqueue.sendTo('socket', { type: 'SEND', event: { type: 'session.update', event_id: eventId, session } });
    }),
    noteDrop: assign(({ context }, params: { reason: 'drop' | 'rollover' | 'expired' }) => {
      const attempt = params.reason === 'drop' ? context.reconnectAttempt + 1 : context.reconnectAttempt;
      const r = context.input.reconnect ?? { maxAttempts: 0, baseDelayMs: 500, maxDelayMs: 10_000 };
      // Exponential back-off with jitter for drops; planned switches go at once.
      const delay = params.reason === 'drop' ? Math.round(Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2)) : 0;
      return {
        reconnectReason: params.reason,
        reconnectAttempt: attempt,
        reconnectDelayMs: delay,
        generation: context.generation + 1,
        responseActive: false,
        activeResponseId: null,
        rolloverPending: false,
        rolloverForced: false,
      };
    }),
    announceReconnect: enqueueActions(({ context, enqueue }) => {
      enqueue.sendTo('summariser', { type: 'ABORT' });
      enqueue.sendTo('summariser', { type: 'RESPONSE.ACTIVE', active: false });
      enqueue.emit({ type: 'reconnect', attempt: context.reconnectAttempt, delayMs: context.reconnectDelayMs, reason: context.reconnectReason ?? 'drop' });
    }),
    prepareSeed: enqueueActions(({ context, enqueue }) => {
      // Transcript hunts cannot continue on a new connection: what is still pending is marked inaudible
      // (and journaled as such), never silently dropped.
      let mirror = context.mirror;
      for (const childId of context.transcriptChildren) enqueue.stopChild(childId);
      for (const t of mirror) {
        if (t.textState !== 'pending') continue;
        // A user turn loses its transcript hunt; an assistant turn cut off mid-response keeps what
        // was streamed of its text (or none). Both reach the journal.
        const patch = t.role === 'user' ? { text: '[inaudible]', textState: 'inaudible' as const } : { textState: t.text ? ('final' as const) : ('none' as const) };
        mirror = updateTurn(mirror, t.id, patch);
        enqueue.emit({ type: 'turn', turn: findTurn(mirror, t.id)! });
      }
      const plan = buildSeed(mirror);
      const seed = plan ? { id: `seed_${context.generation}`, text: plan.text, covers: plan.covers, eventId: null } : context.seed;
      // The next server conversation starts empty; the mirror follows it from the first event on.
      enqueue.assign({ mirror: [], transcriptChildren: [], early: {}, audioMs: {}, seed });
    }),
    sendSeed: enqueueActions(({ context, enqueue }) => {
      if (!context.seed) return;
      const eventId = nextEventId();
      enqueue.assign({ seed: { ...context.seed, eventId } });
      enqueue.sendTo('socket', {
        type: 'SEND',
        event: {
          type: 'conversation.item.create',
          event_id: eventId,
          previous_item_id: 'root',
          item: { id: context.seed.id, type: 'message', role: 'system', content: [{ type: 'input_text', text: context.seed.text }] },
        },
      });
    }),
    seeded: enqueueActions(({ context, enqueue }) => {
      const seed = context.seed!;
      // The ack has just been mirrored by handleServerEvent in the same step: mark what it covers.
      enqueue.assign(({ context: c }) => ({ mirror: updateTurn(c.mirror, seed.id, { summaryOf: seed.covers }), seed: null }));
      enqueue.emit({ type: 'summary.inserted', id: seed.id, text: seed.text, replaces: seed.covers });
      enqueue.emit({ type: 'seeded', id: seed.id, generation: context.generation });
    }),
    seedFailed: enqueueActions(({ event, enqueue }) => {
      const err = event.type === 'SERVER.EVENT' && isObject(event.event.error) ? str(event.event.error.message) : 'unknown error';
      enqueue.emit({ type: 'error', error: new AgentError('server_error', `could not seed the new session (${oneLine(err)}); the journal still holds the whole conversation`) });
      enqueue.assign({ seed: null });
    }),
    wentLive: assign({ hasBeenLive: true, reconnectReason: null }),
    closeSocket: sendTo('socket', { type: 'CLOSE', code: 1000, reason: 'client closing' }),
    takeSessionCreated: assign(({ context, event }) => {
      if (event.type !== 'SERVER.EVENT') return {};
      const s = isObject(event.event.session) ? event.event.session : {};
      const info: SessionInfo = {
        id: typeof s.id === 'string' ? s.id : 'unknown',
        model: typeof s.model === 'string' ? s.model : context.input.model,
        expiresAt: typeof s.expires_at === 'number' ? s.expires_at : null,
        url: context.input.url,
        dialect: context.input.dialect,
      };
      return { session: info };
    }),
    announceSession: emit(({ context }) => ({ type: 'session' as const, info: context.session! })),
    fail: assign({ error: (_, params: { error: AgentError }) => params.error }),
    failFatalServerError: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'SERVER.EVENT' || !isObject(event.event.error)) return;
      const err = event.event.error as { code: string; message?: string };
      const f = FATAL_SERVER_CODES[err.code];
      const error = new AgentError(f.code, `${oneLine(err.message ?? err.code)}: ${f.fix}`, true, err.code);
      enqueue.assign({ error });
      enqueue.emit({ type: 'error', error });
    }),
    announceError: emit((_, params: { error: AgentError }) => ({ type: 'error' as const, error: params.error })),
    spawnSummariser: enqueueActions(({ context, enqueue, self }) => {
      enqueue.spawnChild('summariser', {
        id: 'summariser',
        input: { parentRef: self, policy: context.input.policy, firstNumber: context.input.firstSummaryNumber },
      });
    }),
    handleServerEvent: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SERVER.EVENT') return;
      handleServerEvent(context, event.event, enqueue);
    }),
    userText: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'USER.TEXT') return;
      enqueue.sendTo('socket', {
        type: 'SEND',
        event: { type: 'conversation.item.create', event_id: nextEventId(), item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: event.text }] } },
      });
      requestResponse(context, enqueue, self);
    }),
    userCommit: enqueueActions(({ context, enqueue, self }) => {
      enqueue.sendTo('socket', { type: 'SEND', event: { type: 'input_audio_buffer.commit', event_id: nextEventId() } });
      requestResponse(context, enqueue, self);
    }),
    interrupt: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'INTERRUPT') return;
      if (context.responseActive) {
        enqueue.sendTo('socket', { type: 'SEND', event: { type: 'response.cancel', event_id: nextEventId() } });
      }
      const turn = findTurn(context.mirror, event.itemId);
      const total = Math.max(event.audioMs, context.audioMs[event.itemId] ?? 0);
      const played = Math.max(0, Math.min(Math.round(event.playedMs), Math.floor(total || event.playedMs)));
      if (played < 1) {
        // Nothing was heard: truncating to 0 ms is an error on the real service; drop the item instead.
        enqueue.sendTo('socket', { type: 'SEND', event: { type: 'conversation.item.delete', event_id: nextEventId(), item_id: event.itemId } });
        return;
      }
      enqueue.sendTo('socket', {
        type: 'SEND',
        event: { type: 'conversation.item.truncate', event_id: nextEventId(), item_id: event.itemId, content_index: 0, audio_end_ms: played },
      });
      const text = turn?.text ? trimToHeard(turn.text, played, total) : null;
      const mirror = updateTurn(context.mirror, event.itemId, { heardMs: played, ...(text !== null ? { text } : {}) });
      enqueue.assign({ mirror });
      enqueue.emit({ type: 'truncated', id: event.itemId, audioEndMs: played, text });
      const updated = findTurn(mirror, event.itemId);
      if (updated) enqueue.emit({ type: 'turn', turn: updated });
    }),
    // Recorded before the item exists for user audio (speech_stopped precedes the item); pruned when
    // the item is deleted and at every reconnect.
    responseTimedOut: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'RESPONSE.TIMEOUT' || !context.responseActive || context.activeResponseId !== event.responseId) return;
      const secs = Math.round((context.input.responseTimeoutMs ?? 300_000) / 1000);
      const next = { ...context, responseActive: false, activeResponseId: null };
      enqueue.assign({ responseActive: false, activeResponseId: null });
      enqueue.sendTo('summariser', { type: 'RESPONSE.ACTIVE', active: false });
      enqueue.emit({ type: 'error', error: new AgentError('server_error', `no response.done for ${event.responseId} after ${secs} s: treating the response as ended; check the server`) });
      flushQueuedResponse(next, enqueue);
    }),
    recordAudioMs: assign({
      audioMs: ({ context, event }) => (event.type === 'AUDIO.MS' ? { ...context.audioMs, [event.itemId]: event.ms } : context.audioMs),
    }),
    summariseNow: enqueueActions(({ context, enqueue }) => {
      if (context.responseActive) enqueue.assign({ summaryRequested: true });
      else startSummary(context, enqueue);
    }),
    transcriptDone: enqueueActions(({ context, event, enqueue }) => {
      const out = (event as TranscriptDoneEvent).output;
      const childId = `transcript.${out.itemId}`;
      enqueue.stopChild(childId);
      const transcriptChildren = context.transcriptChildren.filter((c) => c !== childId);
      enqueue.assign({ transcriptChildren });
      applyTranscript(context, out.itemId, out.text, out.source, enqueue);
    }),
    summariserReport: enqueueActions(({ context, event, enqueue }) => {
      switch (event.type) {
        case 'SUMMARISER.COLLECTING':
          enqueue.assign({ summarising: true });
          for (const id of event.pendingIds) {
            if (context.transcriptChildren.includes(`transcript.${id}`)) enqueue.sendTo(`transcript.${id}`, { type: 'FETCH' });
          }
          break;
        case 'SUMMARISER.INSERTED': {
          const mirror = updateTurn(context.mirror, event.id, { summaryOf: event.replaces });
          enqueue.assign({ mirror });
          enqueue.emit({ type: 'summary.inserted', id: event.id, text: event.text, replaces: event.replaces });
          break;
        }
        case 'SUMMARISER.DONE':
          enqueue.assign({ summarising: false });
          enqueue.emit({
            type: 'summary',
            summary: {
              id: event.id,
              text: event.text,
              replacedIds: event.replaces,
              turns: event.replaces.length,
              windowBefore: event.windowBefore,
              windowAfterEstimate: event.windowAfterEstimate,
            },
          });
          flushQueuedResponse(context, enqueue);
          break;
        case 'SUMMARISER.FAILED':
          enqueue.assign({ summarising: false });
          enqueue.emit({
            type: 'error',
            error: new AgentError(
              'summariser_failed',
              event.message === INTERRUPTED
                ? `summary ${event.stage === 'pruning' ? 'pruning' : 'while ' + event.stage} ${event.message}`
                : `summary failed while ${event.stage}: ${event.message}; the conversation is unchanged${event.deleted.length ? ' apart from the acknowledged deletes' : ''}`,
            ),
          });
          flushQueuedResponse(context, enqueue);
          break;
        case 'SUMMARISER.SKIPPED':
          enqueue.assign({ summarising: false });
          flushQueuedResponse(context, enqueue);
          break;
        case 'SUMMARISER.STARTED':
          enqueue.assign({ summarising: true });
          break;
      }
    }),
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    input,
    session: null,
    mirror: [],
    window: 0,
    costUsd: 0,
    responseActive: false,
    activeResponseId: null,
    responseQueued: false,
    summaryRequested: false,
    early: {},
    transcriptChildren: [],
    audioMs: {},
    oobResponses: [],
    configEventId: null,
    summarising: false,
    error: null,
    generation: 0,
    hasBeenLive: false,
    openedOnce: false,
    reconnectAttempt: 0,
    reconnectReason: null,
    rolloverPending: false,
    rolloverForced: false,
    seed: null,
    reconnectDelayMs: 0,
  }),
  entry: 'spawnSummariser',
  initial: 'online',
  states: {
    online: {
      invoke: {
        id: 'socket',
        src: 'realtimeSocket',
        input: ({ context }) => ({ url: context.input.url, generation: context.generation }),
      },
      initial: 'connecting',
      on: {
        'SOCKET.FAILED': [
          {
            // A session that was live retries transient failures (unreachable, timeout); auth and
            // dialect failures never loop.
            guard: 'canRetryFailure',
            target: 'reconnecting',
            actions: { type: 'noteDrop', params: { reason: 'drop' } },
          },
          {
            target: 'failed',
            actions: [
              { type: 'fail', params: ({ event }) => ({ error: event.error }) },
              { type: 'announceError', params: ({ event }) => ({ error: event.error }) },
            ],
          },
        ],
        'SOCKET.CLOSED': [
          {
            guard: 'closedWrongDialect',
            target: 'failed',
            actions: failWith('wrong_dialect', 'the server no longer accepts the beta protocol (close 4000 beta_api_shape_disabled): use --dialect ga'),
          },
          {
            guard: 'closedExpired',
            target: 'reconnecting',
            actions: { type: 'noteDrop', params: { reason: 'expired' } },
          },
          {
            guard: 'canReconnect',
            target: 'reconnecting',
            actions: { type: 'noteDrop', params: { reason: 'drop' } },
          },
          {
            target: 'failed',
            actions: [
              {
                type: 'fail',
                params: ({ event, context }) => ({
                  error: new AgentError(
                    'socket_closed',
                    context.hasBeenLive
                      ? `the connection dropped (code ${event.code}${event.reason ? `, ${event.reason}` : ''}) and ${context.input.reconnect?.maxAttempts ?? 0} reconnect attempts failed: check the network and the server, then start again`
                      : `the server closed the connection (code ${event.code}${event.reason ? `, ${event.reason}` : ''}): check the URL and the server's logs`,
                    true,
                  ),
                }),
              },
              { type: 'announceError', params: ({ context }) => ({ error: context.error! }) },
            ],
          },
        ],
        'SERVER.EVENT': [
          {
            guard: 'isFatalServerError',
            target: 'failed',
            actions: 'failFatalServerError',
          },
          { actions: 'handleServerEvent' },
        ],
        STOP: '.closing',
        'AUDIO.MS': { actions: 'recordAudioMs' },
        'RESPONSE.TIMEOUT': { actions: 'responseTimedOut' },
        // proxy hook: a client response.create in flight holds a rollover back like a queued one.
        'CLIENT.RESPONSE': { actions: assign({ responseQueued: ({ event }) => event.pending }) },
        'xstate.done.actor.transcript.*': { actions: 'transcriptDone' },
        'SUMMARISER.*': { actions: 'summariserReport' },
      },
      states: {
        connecting: {
          on: { 'SOCKET.OPEN': { target: 'awaitingSession', actions: assign({ openedOnce: true }) } },
          after: {
            connectTimeout: {
              target: '#session.failed',
              actions: failWith('connect_timeout', 'no answer from the server in time: check the URL, the network and any proxy'),
            },
          },
        },
        awaitingSession: {
          on: {
            'SERVER.EVENT': [
              {
                guard: { type: 'isEvent', params: { type: 'session.created' } },
                target: 'configuring',
                actions: ['takeSessionCreated', 'announceSession'],
              },
              {
                guard: 'isFatalServerError',
                target: '#session.failed',
                actions: 'failFatalServerError',
              },
              { actions: 'handleServerEvent' },
            ],
          },
          after: {
            connectTimeout: {
              target: '#session.failed',
              actions: failWith('connect_timeout', 'connected but no session.created arrived: is this a Realtime API server? check --url'),
            },
          },
        },
        configuring: {
          entry: 'sendConfig',
          on: {
            'SERVER.EVENT': [
              { guard: { type: 'isEvent', params: { type: 'session.updated' } }, target: 'seeding' },
              {
                guard: 'isConfigError',
                target: '#session.failed',
                actions: [
                  {
                    type: 'fail',
                    params: ({ event }) => {
                      const err = (event as { event: WireEvent }).event.error as { code?: string; message?: string };
                      return {
                        error: new AgentError('server_error', `the server rejected the session configuration (${err.code ?? 'error'}: ${oneLine(err.message ?? '')}): check --dialect and the session options`, true, err.code),
                      };
                    },
                  },
                  { type: 'announceError', params: ({ context }) => ({ error: context.error! }) },
                ],
              },
              { actions: 'handleServerEvent' },
            ],
          },
        },
        // After a reconnect or rollover: the new, empty conversation gets the summary and the recent
        // turns (as one system item: assistant-role text can switch the model to text-only answers).
        seeding: {
          always: { guard: 'nothingToSeed', target: 'live' },
          entry: 'sendSeed',
          on: {
            'SERVER.EVENT': [
              { guard: 'isSeedAck', target: 'live', actions: ['handleServerEvent', 'seeded'] },
              { guard: 'isSeedError', target: 'live', actions: 'seedFailed' },
              { actions: 'handleServerEvent' },
            ],
          },
        },
        live: {
          entry: 'wentLive',
          after: {
            rolloverDue: { actions: assign({ rolloverPending: true }) },
            // A planned rollover waits (bounded) for pending transcripts, so it loses none.
            rolloverDeadline: { actions: assign({ rolloverForced: true }) },
            // Only a connection that stays up resets the attempts: a flapping one runs out of them.
            connectionStable: { actions: assign({ reconnectAttempt: 0 }) },
          },
          always: { guard: 'rolloverNow', target: 'rollingOver' },
          on: {
            'USER.TEXT': { actions: 'userText' },
            'USER.COMMIT': { actions: 'userCommit' },
            INTERRUPT: { actions: 'interrupt' },
            SUMMARISE_NOW: { actions: 'summariseNow' },
          },
        },
        // Planned: before expires_at, at a turn boundary. Close this socket; `reconnecting` opens the next.
        rollingOver: {
          entry: 'closeSocket',
          on: {
            'SOCKET.CLOSED': { target: '#session.reconnecting', actions: { type: 'noteDrop', params: { reason: 'rollover' } } },
            'SOCKET.FAILED': { target: '#session.reconnecting', actions: { type: 'noteDrop', params: { reason: 'rollover' } } },
          },
          after: { closeGrace: { target: '#session.reconnecting', actions: { type: 'noteDrop', params: { reason: 'rollover' } } } },
        },
        closing: {
          entry: 'closeSocket',
          on: {
            'SOCKET.CLOSED': '#session.closed',
            'SOCKET.FAILED': '#session.closed',
            'SERVER.EVENT': {},
          },
          after: { closeGrace: '#session.closed' },
        },
      },
    },
    // Between two connections: the seed is prepared from the mirror, audio is buffered by the agent.
    reconnecting: {
      entry: ['prepareSeed', 'announceReconnect'],
      after: { reconnectDelay: 'online' },
      on: {
        STOP: 'closed',
        'xstate.done.actor.transcript.*': { actions: 'transcriptDone' },
        'SUMMARISER.*': { actions: 'summariserReport' },
      },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }) => ({ error: context.error, mirror: context.mirror, window: context.window, costUsd: context.costUsd }),
});

/** The delayed RESPONSE.TIMEOUT raised for the response in flight. */
const RESPONSE_TIMER = 'responseTimeout';

/** Longest timer delay (setTimeout's limit): "never" for sessions without an expiry. */
const NEVER = 2 ** 31 - 1;

/** Milliseconds until the rollover should start: `rolloverMarginMs` before `expires_at`. */
function rolloverDelay(context: SessionContext): number {
  const exp = context.session?.expiresAt;
  const margin = context.input.rolloverMarginMs;
  if (!exp || margin === undefined) return NEVER;
  return Math.min(NEVER, Math.max(0, exp * 1000 - margin - Date.now()));
}

function failWith(code: AgentErrorCode, message: string, fatal = true) {
  const error = () => new AgentError(code, message, fatal);
  return [
    { type: 'fail' as const, params: () => ({ error: error() }) },
    { type: 'announceError' as const, params: ({ context }: { context: SessionContext }) => ({ error: context.error ?? error() }) },
  ];
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

// ---- server event handling (the conversation mirror) -------------------------------------------

// enqueueActions' `enqueue` type is complex; this narrow shape is what the helpers below use.
interface Enqueue {
  assign(a: Partial<SessionContext>): void;
  emit(e: SessionEmitted): void;
  sendTo(to: string, e: unknown): void;
  spawnChild(src: 'transcript', opts: { id: string; input: unknown }): void;
  stopChild(id: string): void;
  raise(e: SessionEvent, opts: { id: string; delay: number }): void;
  cancel(id: string): void;
}

function asEnqueue(enqueue: unknown): Enqueue {
  const e = enqueue as {
    assign: (a: unknown) => void;
    emit: (e: unknown) => void;
    sendTo: (to: string, e: unknown) => void;
    spawnChild: (src: string, opts: unknown) => void;
    stopChild: (id: string) => void;
  };
  return e as unknown as Enqueue;
}

/** Mutable working copy so several updates in one event compose before a single assign. */
function handleServerEvent(context: SessionContext, ev: WireEvent, rawEnqueue: unknown): void {
  const enqueue = asEnqueue(rawEnqueue);
  switch (ev.type) {
    case 'conversation.item.added':
    case 'conversation.item.created':
    case 'conversation.item.done': {
      const turn = turnFromItem(ev.item);
      if (!turn) return;
      const prev = 'previous_item_id' in ev ? (typeof ev.previous_item_id === 'string' ? ev.previous_item_id : ev.previous_item_id === null ? null : undefined) : undefined;
      const existing = findTurn(context.mirror, turn.id);
      let mirror = upsertTurn(context.mirror, turn, prev);
      let current = findTurn(mirror, turn.id)!;
      const patch: Partial<SessionContext> = { mirror };
      if (current.role === 'user' && current.audio && current.textState === 'pending') {
        const early = context.early[turn.id];
        if (early?.completed !== undefined) {
          mirror = updateTurn(mirror, turn.id, { text: early.completed, textState: 'final' });
          current = findTurn(mirror, turn.id)!;
          patch.mirror = mirror;
          patch.early = omit(context.early, turn.id);
          enqueue.emit({ type: 'transcript', transcript: { itemId: turn.id, text: early.completed, final: true, source: 'event' } });
        } else if (!context.transcriptChildren.includes(`transcript.${turn.id}`)) {
          const childId = `transcript.${turn.id}`;
          enqueue.spawnChild('transcript', {
            id: childId,
            input: {
              itemId: turn.id,
              maxAttempts: context.input.policy.transcriptMaxAttempts,
              backoffMs: context.input.policy.transcriptBackoffMs,
              awaitMs: Math.max(context.input.policy.transcriptWaitMs, 1000),
            },
          });
          patch.transcriptChildren = [...context.transcriptChildren, childId];
          if (early?.deltas) enqueue.sendTo(childId, { type: 'TRANSCRIPT.DELTA', delta: early.deltas });
          if (early?.failed) enqueue.sendTo(childId, { type: 'TRANSCRIPT.FAILED' });
          if (early) patch.early = omit(context.early, turn.id);
        }
      }
      enqueue.assign(patch);
      if (!existing || existing.text !== current.text || existing.textState !== current.textState) {
        enqueue.emit({ type: 'turn', turn: current });
      }
      notifySummariserTurns(context, patch.mirror ?? mirror, enqueue);
      return;
    }
    case 'conversation.item.retrieved': {
      const turn = turnFromItem(ev.item);
      if (!turn || !findTurn(context.mirror, turn.id)) return; // a deleted item must not come back
      const before = findTurn(context.mirror, turn.id)!;
      const mirror = upsertTurn(context.mirror, turn);
      enqueue.assign({ mirror });
      const after = findTurn(mirror, turn.id)!;
      if (before.text !== after.text) enqueue.emit({ type: 'turn', turn: after });
      return;
    }
    case 'conversation.item.input_audio_transcription.delta': {
      const id = str(ev.item_id);
      const delta = str(ev.delta);
      if (!id) return;
      const childId = `transcript.${id}`;
      if (context.transcriptChildren.includes(childId)) enqueue.sendTo(childId, { type: 'TRANSCRIPT.DELTA', delta });
      else if (!findTurn(context.mirror, id)) {
        const e = context.early[id] ?? { deltas: '' };
        enqueue.assign({ early: { ...context.early, [id]: { ...e, deltas: e.deltas + delta } } });
      }
      enqueue.emit({ type: 'transcript', transcript: { itemId: id, text: delta, final: false, source: 'event' } });
      return;
    }
    case 'conversation.item.input_audio_transcription.completed': {
      const id = str(ev.item_id);
      const text = typeof ev.transcript === 'string' ? ev.transcript : '';
      if (!id) return;
      const childId = `transcript.${id}`;
      if (context.transcriptChildren.includes(childId)) enqueue.sendTo(childId, { type: 'TRANSCRIPT.COMPLETED', transcript: text });
      else if (findTurn(context.mirror, id)) applyTranscript(context, id, text, 'event', rawEnqueue);
      else {
        const e = context.early[id] ?? { deltas: '' };
        enqueue.assign({ early: { ...context.early, [id]: { ...e, completed: text } } });
      }
      return;
    }
    case 'conversation.item.input_audio_transcription.failed': {
      const id = str(ev.item_id);
      if (!id) return;
      const childId = `transcript.${id}`;
      if (context.transcriptChildren.includes(childId)) enqueue.sendTo(childId, { type: 'TRANSCRIPT.FAILED' });
      else if (!findTurn(context.mirror, id)) {
        const e = context.early[id] ?? { deltas: '' };
        enqueue.assign({ early: { ...context.early, [id]: { ...e, failed: true } } });
      }
      return;
    }
    case 'conversation.item.deleted': {
      const id = str(ev.item_id);
      if (!id || !findTurn(context.mirror, id)) return;
      const mirror = removeTurn(context.mirror, id);
      const childId = `transcript.${id}`;
      const patch: Partial<SessionContext> = { mirror, audioMs: omit(context.audioMs, id) };
      if (context.transcriptChildren.includes(childId)) {
        enqueue.stopChild(childId);
        patch.transcriptChildren = context.transcriptChildren.filter((c) => c !== childId);
      }
      enqueue.assign(patch);
      enqueue.emit({ type: 'deleted', id });
      return;
    }
    case 'response.created': {
      const r = isObject(ev.response) ? ev.response : {};
      const id = str(r.id);
      if (isOutOfBand(r)) {
        enqueue.assign({ oobResponses: [...context.oobResponses.slice(-20), id] });
        return;
      }
      enqueue.assign({ responseActive: true, activeResponseId: id });
      enqueue.sendTo('summariser', { type: 'RESPONSE.ACTIVE', active: true });
      enqueue.cancel(RESPONSE_TIMER);
      enqueue.raise({ type: 'RESPONSE.TIMEOUT', responseId: id }, { id: RESPONSE_TIMER, delay: context.input.responseTimeoutMs ?? 300_000 });
      enqueue.emit({ type: 'response', phase: 'created', responseId: id });
      return;
    }
    case 'response.output_audio_transcript.done':
    case 'response.output_text.done': {
      const id = str(ev.item_id);
      const text = typeof ev.transcript === 'string' ? ev.transcript : typeof ev.text === 'string' ? ev.text : null;
      if (!id || text === null || !findTurn(context.mirror, id)) return;
      const mirror = updateTurn(context.mirror, id, { text, textState: 'final', responseId: str(ev.response_id) || undefined });
      enqueue.assign({ mirror });
      enqueue.emit({ type: 'turn', turn: findTurn(mirror, id)! });
      return;
    }
    case 'response.done': {
      const r = isObject(ev.response) ? ev.response : {};
      const id = str(r.id);
      if (isOutOfBand(r) || context.oobResponses.includes(id)) return;
      let mirror = context.mirror;
      const changed: Turn[] = [];
      if (Array.isArray(r.output)) {
        for (const item of r.output) {
          const t = turnFromItem(item);
          if (!t || !findTurn(mirror, t.id)) continue; // cancelled before being added, or already deleted
          const before = findTurn(mirror, t.id)!;
          mirror = upsertTurn(mirror, { ...t, responseId: id });
          const after = findTurn(mirror, t.id)!;
          if (after.textState === 'pending' && after.role === 'assistant') {
            // Assistant output without a transcript (e.g. cancelled at once): nothing to wait for.
            mirror = updateTurn(mirror, t.id, { textState: after.text === null ? 'none' : 'final' });
          }
          const final = findTurn(mirror, t.id)!;
          if (before.text !== final.text || before.textState !== final.textState) changed.push(final);
        }
      }
      enqueue.cancel(RESPONSE_TIMER);
      const usage = (isObject(r.usage) ? r.usage : undefined) as RealtimeResponseUsage | undefined;
      const window = typeof usage?.total_tokens === 'number' ? usage.total_tokens : context.window;
      const costUsd = context.costUsd + usageCost(usage, context.session?.model ?? context.input.model);
      const status = str(r.status) || 'completed';
      const next: SessionContext = { ...context, mirror, window, costUsd, responseActive: false, activeResponseId: null };
      enqueue.assign({ mirror, window, costUsd, responseActive: false, activeResponseId: null });
      for (const t of changed) enqueue.emit({ type: 'turn', turn: t });
      enqueue.sendTo('summariser', { type: 'RESPONSE.ACTIVE', active: false });
      enqueue.emit({ type: 'response', phase: 'done', responseId: id, status });
      if (usage) {
        enqueue.emit({
          type: 'window',
          window: { tokens: window, trigger: context.input.policy.triggerTokens, target: context.input.policy.targetTokens, usage, costUsd, responseId: id },
        });
      }
      if (status === 'failed') {
        const details = isObject(r.status_details) && isObject(r.status_details.error) ? r.status_details.error : {};
        enqueue.emit({
          type: 'error',
          error: new AgentError('server_error', `the response failed (${str(details.code) || str(details.type) || 'unknown'}: ${oneLine(str(details.message))}); the session continues`, false, str(details.code) || null),
        });
      }
      // Transcripts still missing now get fetched (the retrieve loop), as the seed intended.
      for (const childId of context.transcriptChildren) enqueue.sendTo(childId, { type: 'FETCH' });
      const wantSummary = context.summaryRequested || window >= context.input.policy.triggerTokens;
      if (wantSummary) {
        enqueue.assign({ summaryRequested: false });
        startSummary(next, rawEnqueue);
      }
      // The dialogue never waits on the summariser: a queued turn goes now; the summariser waits for quiet.
      if (context.responseQueued) flushQueuedResponse(next, rawEnqueue);
      return;
    }
    case 'error': {
      const err = isObject(ev.error) ? ev.error : {};
      const code = str(err.code);
      if (code === 'conversation_already_has_active_response') {
        // Observer: the rejected response.create was the client's; it is not ours to retry.
        if (!context.input.observer) enqueue.assign({ responseQueued: true });
        return;
      }
      const rule = classifyServerError(code, str(err.message));
      // Benign noise is dropped; session_expired is followed by close 1001, which rolls over.
      if (rule.class === 'benign' || code === 'session_expired') return;
      enqueue.emit({ type: 'error', error: new AgentError('server_error', `server error${code ? ` ${code}` : ''}: ${oneLine(str(err.message))}`, false, code || null) });
      return;
    }
    default:
      return;
  }
}

function applyTranscript(context: SessionContext, itemId: string, text: string, source: TranscriptEvent['source'], rawEnqueue: unknown): void {
  const enqueue = asEnqueue(rawEnqueue);
  if (!findTurn(context.mirror, itemId)) return;
  const mirror = updateTurn(context.mirror, itemId, { text, textState: source === 'inaudible' ? 'inaudible' : 'final' });
  enqueue.assign({ mirror });
  enqueue.emit({ type: 'transcript', transcript: { itemId, text, final: true, source } });
  enqueue.emit({ type: 'turn', turn: findTurn(mirror, itemId)! });
  notifySummariserTurns(context, mirror, enqueue);
}

function notifySummariserTurns(context: SessionContext, mirror: Turn[], enqueue: Enqueue): void {
  // Only the collecting summariser needs the turns (it waits for pending transcripts).
  if (context.summarising) enqueue.sendTo('summariser', { type: 'TURNS', turns: mirror });
}

/** The summariser's current state value, read from the session's children. */
export function summariserState(self: unknown): string {
  const snap = (self as { getSnapshot(): { children: Record<string, { getSnapshot(): { value: unknown } } | undefined> } }).getSnapshot();
  const child = snap.children.summariser;
  const v = child?.getSnapshot().value;
  return typeof v === 'string' ? v : JSON.stringify(v ?? 'none');
}

function startSummary(context: SessionContext, rawEnqueue: unknown): void {
  const enqueue = asEnqueue(rawEnqueue);
  enqueue.sendTo('summariser', {
    type: 'SUMMARISE',
    turns: context.mirror,
    window: context.window,
    audioMs: context.audioMs,
    responseActive: context.responseActive,
  });
}

/** Sends response.create now, or queues it while a response or a summary insert/prune runs. */
function requestResponse(context: SessionContext, rawEnqueue: unknown, self: unknown): void {
  const enqueue = asEnqueue(rawEnqueue);
  if (context.input.observer) return; // observer: the client owns the turns
  const s = summariserState(self);
  // Never create a response while the summary is being inserted or old items deleted.
  if (context.responseActive || s === 'inserting' || s === 'pruning' || s === 'awaitingQuiet') {
    enqueue.assign({ responseQueued: true });
    return;
  }
  enqueue.sendTo('socket', { type: 'SEND', event: { type: 'response.create', event_id: nextEventId() } });
}

function flushQueuedResponse(context: SessionContext, rawEnqueue: unknown): void {
  const enqueue = asEnqueue(rawEnqueue);
  if (!context.responseQueued) return;
  enqueue.assign({ responseQueued: false });
  if (context.input.observer) return; // observer: the client owns the turns
  enqueue.sendTo('socket', { type: 'SEND', event: { type: 'response.create', event_id: nextEventId() } });
}

function isOutOfBand(r: Record<string, unknown>): boolean {
  const md = isObject(r.metadata) ? r.metadata : {};
  return md.purpose === 'rtc-summary' || r.conversation_id === null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function omit<T extends Record<string, unknown>>(o: T, key: string): T {
  const { [key]: _drop, ...rest } = o;
  return rest as T;
}

export type SessionMachine = typeof sessionMachine;
