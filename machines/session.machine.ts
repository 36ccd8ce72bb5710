// The session: connection lifecycle as states, what happens while live as parallel regions, the
// conversation mirror as a pure reducer (src/conversation/mirror-reducer.ts). Spawns one transcript
// child per user audio turn and one summariser; knows no I/O (the socket is the invoked
// `realtimeSocket` callback actor, provided at the composition root).
//
//   session
//     online  (invokes the socket)
//       connecting -> awaitingSession -> configuring -> seeding -> live -> rollingOver | closing
//       live  (parallel, see machines/session/live.ts)
//         response: idle | requested | active( streaming | cancelling )
//         queue:    empty | queued | busy | clientPending   (clientPending: observer mode, realtime-proxy)
//         summary:  idle | requested | collecting | summarising | writing | cooldown
//         rollover: notDue | waitingForBoundary | waitingForQuiet
//         tools:    idle | running | answering
//     reconnecting -> online          (after a drop, an expiry or a rollover: seeded from the mirror)
//     closed | failed                 (final; failed carries a one-line AgentError)
//
// Fatal server errors (classifyServerError) and fatal closes (classifyClose) end the session from
// every online state: no state below `online` handles SERVER.EVENT, so none can shadow that check.
//
// States: online connecting awaitingSession configuring seeding live response idle requested active
//   streaming cancelling queue empty queued busy clientPending summary requested collecting summarising writing cooldown
//   rollover notDue waitingForBoundary waitingForQuiet tools running answering rollingOver closing reconnecting
//   closed failed
import { AgentError } from '../src/errors.js';
import { live } from './session/live.js';
import { sessionSetup } from './session/setup.js';
import type { SessionContext } from './session/types.js';

export * from './session/types.js';
export { publicState, AGENT_STATES, type AgentState, type SessionTag } from './session/public-state.js';

const failed = (code: AgentError['code'], message: string) => ({ type: 'fail' as const, params: () => ({ error: new AgentError(code, message, true) }) });

export const sessionMachine = sessionSetup.createMachine({
  id: 'session',
  context: ({ input }): SessionContext => ({
    input,
    session: null,
    mirror: [],
    early: {},
    hunting: [],
    oobResponses: [],
    audioMs: {},
    window: 0,
    cachedTokens: undefined,
    costUsd: 0,
    activeResponseId: null,
    requestEventId: null,
    requests: 0,
    turnWaiting: false,
    seed: input.seed ? { ...input.seed, eventId: null } : null,
    error: null,
    link: { generation: input.firstGeneration ?? 0, socketsOpened: 0, timesLive: 0, reconnectAttempt: 0, reconnectReason: null, reconnectDelayMs: 0, configEventId: null },
    toolBatches: [],
  }),
  entry: ['spawnSummariser', 'spawnTools'],
  initial: 'online',
  // Children report in every state (a summary aborted by a reconnect reports while reconnecting).
  on: {
    'AUDIO.MS': { actions: 'recordAudioMs' },
    'xstate.done.actor.transcript.*': { actions: 'transcriptDone' },
    'SUMMARISER.*': { actions: 'summariserReport' },
    'TOOLS.*': { actions: 'reportTools' },
  },
  states: {
    online: {
      description: 'A socket is open or opening (invoked here, so leaving online closes it); server events enter here, fatal errors first.',
      invoke: {
        id: 'socket',
        src: 'realtimeSocket',
        input: ({ context }) => ({ url: context.input.url, generation: context.link.generation }),
      },
      initial: 'connecting',
      on: {
        // The one place server events enter: fatal first, then classified and reduced.
        'SERVER.EVENT': [
          { guard: 'isFatalServerError', target: 'failed', actions: 'failFatalServerError' },
          { guard: 'notClosing', actions: 'route' },
        ],
        'SERVER.ERROR': { actions: 'reportServerError' },
        'SOCKET.FAILED': [
          // A session that opened once retries transient failures; auth and dialect failures never loop.
          { guard: 'canRetryFailure', target: 'reconnecting', actions: { type: 'noteDrop', params: { reason: 'drop' } } },
          { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
        ],
        'SOCKET.CLOSED': [
          { guard: 'closedFatal', target: 'failed', actions: 'failFatalClose' },
          { guard: 'closedExpired', target: 'reconnecting', actions: { type: 'noteDrop', params: { reason: 'expired' } } },
          { guard: 'canReconnect', target: 'reconnecting', actions: { type: 'noteDrop', params: { reason: 'drop' } } },
          {
            target: 'failed',
            actions: {
              type: 'fail',
              params: ({ event, context }) => ({
                error: new AgentError(
                  'socket_closed',
                  context.link.timesLive > 0
                    ? `the connection dropped (code ${event.code}${event.reason ? `, ${event.reason}` : ''}) and ${context.input.reconnect?.maxAttempts ?? 0} reconnect attempts failed: check the network and the server, then start again`
                    : `the server closed the connection (code ${event.code}${event.reason ? `, ${event.reason}` : ''}): check the URL and the server's logs`,
                  true,
                ),
              }),
            },
          },
        ],
        STOP: { target: '.closing', actions: 'abortTools' },
      },
      states: {
        connecting: {
          description: 'Opening the WebSocket; fails after connectTimeout.',
          tags: ['connecting'],
          on: { 'SOCKET.OPEN': { target: 'awaitingSession', actions: 'countOpened' } },
          after: { connectTimeout: { target: '#session.failed', actions: failed('connect_timeout', 'no answer from the server in time: check the URL, the network and any proxy') } },
        },
        awaitingSession: {
          description: 'The socket is open; waiting for session.created.',
          tags: ['connecting'],
          on: { 'SESSION.CREATED': { target: 'configuring', actions: ['takeSession', 'announceSession'] } },
          after: {
            connectTimeout: { target: '#session.failed', actions: failed('connect_timeout', 'connected but no session.created arrived: is this a Realtime API server? check --url') },
          },
        },
        configuring: {
          description: 'Our session.update is sent; waiting for session.updated (a rejection of it is fatal).',
          tags: ['connecting'],
          entry: 'sendConfig',
          on: {
            'SESSION.UPDATED': 'seeding',
            'SERVER.ERROR': [
              {
                guard: 'isConfigError',
                target: '#session.failed',
                actions: {
                  type: 'fail',
                  params: ({ event }) => {
                    const e = event as { code: string; message: string };
                    const msg = `the server rejected the session configuration (${e.code || 'error'}: ${e.message.replace(/\s+/g, ' ').trim()}): check --dialect and the session options`;
                    return { error: new AgentError('server_error', msg, true, e.code || null) };
                  },
                },
              },
              { actions: 'reportServerError' },
            ],
          },
          after: {
            connectTimeout: {
              target: '#session.failed',
              actions: failed('connect_timeout', 'the server did not acknowledge the session configuration (no session.updated) in time: check --url and the server'),
            },
          },
        },
        // After a reconnect or rollover: the new, empty conversation gets the summary and the recent
        // turns (as one system item: assistant-role text can switch the model to text-only answers).
        // Acknowledged or rejected, the seed is cleared, and `nothingToSeed` takes the session live.
        seeding: {
          description: 'After a reconnect, rollover or resume: the summary and recent turns go in as one system item; live once acknowledged (or nothing to seed).',
          tags: ['connecting'],
          always: { guard: 'nothingToSeed', target: 'live' },
          entry: 'sendSeed',
          on: {
            'SEED.ACKED': { actions: 'seeded' },
            'SERVER.ERROR': [{ guard: 'isSeedError', actions: 'seedFailed' }, { actions: 'reportServerError' }],
          },
          after: {
            connectTimeout: {
              target: '#session.failed',
              actions: failed('connect_timeout', 'the new session did not acknowledge its seed in time; the journal holds the whole conversation: start again'),
            },
          },
        },
        live,
        // Planned: before expires_at, at a turn boundary. Close this socket; `reconnecting` opens the next.
        rollingOver: {
          description: 'A planned switch before expires_at, at a turn boundary: this socket closes, then reconnecting opens the next.',
          tags: ['reconnecting'],
          entry: 'closeSocket',
          on: {
            'SOCKET.CLOSED': [
              { guard: 'closedFatal', target: '#session.failed', actions: 'failFatalClose' },
              { target: '#session.reconnecting', actions: { type: 'noteDrop', params: { reason: 'rollover' } } },
            ],
            'SOCKET.FAILED': { target: '#session.reconnecting', actions: { type: 'noteDrop', params: { reason: 'rollover' } } },
          },
          after: { closeGrace: { target: '#session.reconnecting', actions: { type: 'noteDrop', params: { reason: 'rollover' } } } },
        },
        // The user stopped: nothing the server says is mirrored any more (a fatal error still fails).
        closing: {
          description: 'stop() was called: the socket closes; nothing the server says is mirrored any more.',
          tags: ['closing'],
          entry: 'closeSocket',
          on: { 'SOCKET.CLOSED': '#session.closed', 'SOCKET.FAILED': '#session.closed' },
          after: { closeGrace: '#session.closed' },
        },
      },
    },
    // Between two connections: the seed is prepared from the mirror, the agent holds the user's input.
    reconnecting: {
      description: 'Between two connections (a drop with back-off, a rollover or an expiry): the seed is prepared from the mirror; the agent holds the user input.',
      tags: ['reconnecting'],
      entry: ['prepareSeed', 'announceReconnect'],
      after: { reconnectDelay: 'online' },
      on: { STOP: 'closed' },
    },
    closed: { type: 'final', tags: ['closed'], description: 'Ended by stop().' },
    failed: { type: 'final', tags: ['failed'], description: 'Ended by an error (context.error: a one-line AgentError with the fix).' },
  },
  output: ({ context }) => ({ error: context.error, mirror: context.mirror, window: context.window, costUsd: context.costUsd }),
});

export type SessionMachine = typeof sessionMachine;
