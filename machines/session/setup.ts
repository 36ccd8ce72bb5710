// The session's named implementations: actors, guards, delays and actions. The state tree that uses
// them is assembled in ../session.machine.ts from the region configs in this folder.
import { and, assign, emit, enqueueActions, fromCallback, not, or, sendTo, setup, stateIn } from 'xstate';
import { huntFinished, markSummary, reduceMirror, settlePending, truncateHeard } from '../../src/conversation/mirror-reducer.js';
import { buildSeed } from '../../src/conversation/seed.js';
import { hysteresisStrategy } from '../../src/conversation/strategy.js';
import { isObject } from '../../src/protocol/parse.js';
import { routeOf, unhandled, type SessionEventType } from '../../src/protocol/event-registry.js';
import { classifyClose, classifyServerError } from '../../src/protocol/server-errors.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RESPONSE_TIMEOUT_MS } from '../../src/protocol/constants.js';
import { AgentError } from '../../src/errors.js';
import type { SessionInfo } from '../../src/protocol/session-info.js';
import { INTERRUPTED, summariserMachine } from '../summariser.machine.js';
import { transcriptMachine } from '../transcript.machine.js';
import { toolsMachine } from '../tools.machine.js';
import { abortTools, answerTools, functionCalls, reportTools, runTools } from './tools.js';
import { applyReduced, asEnqueue, backoffDelay, type Enqueue, huntId, mirrorOf, NEVER, oneLine, rolloverDelay, str } from './effects.js';
import type { SessionTag } from './public-state.js';
import { CONTINUATION_NOTE, type SessionContext, type SessionEmitted, type SessionEvent, type SessionInput, type SocketCommand, type SummaryPhase } from './types.js';

/** The fatal rule for a server `error` event, if it is one (the one table: src/protocol/server-errors.ts). */
function fatalRule(event: SessionEvent) {
  if (event.type !== 'SERVER.EVENT' || event.event.type !== 'error' || !isObject(event.event.error)) return null;
  const rule = classifyServerError(str(event.event.error.code), str(event.event.error.message));
  return rule.class === 'fatal' ? rule : null;
}

/**
 * What the server says about input transcription: a GA session's `audio.input` without a
 * transcription config (null, or omitted as the SDK types it) means no transcript will come for user
 * audio, so a summary folds on usage alone. A session without `audio.input` (beta) changes nothing.
 */
function tellTranscription(session: Record<string, unknown>, enqueue: Enqueue): void {
  const input = isObject(session.audio) && isObject(session.audio.input) ? session.audio.input : null;
  if (input) enqueue.sendTo('summariser', { type: 'TRANSCRIPTION', on: isObject(input.transcription) });
}

const PHASE: Record<string, SummaryPhase> = {
  idle: 'idle', cooldown: 'cooldown', collecting: 'collecting', planning: 'summarising', summarising: 'summarising',
  awaitingQuiet: 'writing', inserting: 'writing', pruning: 'writing',
};

const LIVE = '#session.online.live';
const responseIdle = stateIn(`${LIVE}.response.idle`);
const summaryCollecting = stateIn(`${LIVE}.summary.collecting`);
/** enqueueActions' `check` with a stateIn guard (its generic type does not accept one built outside setup). */
const inState = (check: unknown, guard: unknown) => (check as (g: unknown) => boolean)(guard);
const summaryQuiet = or([stateIn(`${LIVE}.summary.idle`), stateIn(`${LIVE}.summary.cooldown`)]);

export const sessionSetup = setup({
  types: {
    input: {} as SessionInput,
    context: {} as SessionContext,
    events: {} as SessionEvent,
    emitted: {} as SessionEmitted,
    tags: {} as SessionTag,
  },
  actors: {
    /** The WebSocket: reports SOCKET.* / SERVER.EVENT, receives SEND / CLOSE. Provided by the agent. */
    realtimeSocket: fromCallback<SocketCommand, { url: string }>(() => {
      throw new Error('realtimeSocket not provided');
    }),
    transcript: transcriptMachine,
    summariser: summariserMachine,
    tools: toolsMachine,
  },
  guards: {
    isFatalServerError: ({ event }) => fatalRule(event) !== null,
    closedFatal: ({ event }) => event.type === 'SOCKET.CLOSED' && classifyClose(event.code, event.reason).class === 'fatal',
    closedExpired: ({ event }) => event.type === 'SOCKET.CLOSED' && classifyClose(event.code, event.reason).class === 'expired',
    canReconnect: ({ context }) => context.link.socketsOpened > 0 && context.link.reconnectAttempt < (context.input.reconnect?.maxAttempts ?? 0),
    canRetryFailure: ({ context, event }) =>
      event.type === 'SOCKET.FAILED' &&
      context.link.socketsOpened > 0 &&
      context.link.reconnectAttempt < (context.input.reconnect?.maxAttempts ?? 0) &&
      (event.error.code === 'unreachable' || event.error.code === 'connect_timeout'),
    isConfigError: ({ context, event }) =>
      event.type === 'SERVER.ERROR' && (event.eventId === context.link.configEventId || event.code === 'unknown_parameter' || event.code === 'missing_required_parameter'),
    isSeedError: ({ context, event }) => event.type === 'SERVER.ERROR' && !!context.seed?.eventId && event.eventId === context.seed.eventId,
    nothingToSeed: ({ context }) => context.seed === null,
    notClosing: not(stateIn('#session.online.closing')),
    /** A response.create is in flight from the moment it is sent (requested) until its response ends. */
    responseActive: or([stateIn(`${LIVE}.response.requested`), stateIn(`${LIVE}.response.active`)]),
    /** Never create a response while one is requested or runs, or the summary is inserted or old items deleted. */
    responseBlocked: or([stateIn(`${LIVE}.response.requested`), stateIn(`${LIVE}.response.active`), stateIn(`${LIVE}.summary.writing`)]),
    /** The queue region sends response.create on this event (the response region enters `requested` with it). */
    queueSends: and([stateIn(`${LIVE}.queue.empty`), not('responseBlocked'), not('isObserver')]),
    /** The queue's eventless flush fires in the same microstep (both read the same snapshot). */
    queueFlushes: and([stateIn(`${LIVE}.queue.queued`), not('responseBlocked')]),
    /** An error event answering our response.create (matched by its event_id). */
    requestRejected: ({ context, event }) => event.type === 'SERVER.ERROR' && !!context.requestEventId && event.eventId === context.requestEventId,
    /** A turn was waiting for its response.create when the connection switched. */
    turnWaiting: ({ context }) => context.turnWaiting,
    /** A turn boundary: nothing in flight, nothing queued, no summary under way. */
    atBoundary: and([responseIdle, stateIn(`${LIVE}.queue.empty`), summaryQuiet, stateIn(`${LIVE}.tools.idle`)]),
    /** Tool calls are running: a summary waits for their follow-up response (a call is never folded alone). */
    toolsPending: ({ context }) => context.toolBatches.length > 0,
    toolsSettled: ({ context }) => context.toolBatches.length === 0,
    /** The settled calls are the last ones running and were not cut short: a follow-up response is asked for. */
    answersLastCalls: ({ context, event }) => event.type === 'TOOLS.SETTLED' && !event.aborted && context.toolBatches.every((r) => r === event.responseId),
    noPendingTranscripts: ({ context }) => context.hunting.length === 0,
    notBlocked: not('responseBlocked'),
    /** Observer mode (realtime-proxy): the client owns the turns; the session sends no response.create. */
    isObserver: ({ context }) => context.input.observer === true,
    isClientPending: ({ event }) => event.type === 'CLIENT.RESPONSE' && event.pending,
    isClientSettled: ({ event }) => event.type === 'CLIENT.RESPONSE' && !event.pending,
    atBoundaryNoTranscripts: and(['atBoundary', 'noPendingTranscripts']),
    isPhase: ({ event }, params: { phase: SummaryPhase }) => event.type === 'SUMMARY.PHASE' && event.phase === params.phase,
    shouldSummarise: ({ context }) =>
      (context.input.strategy ?? hysteresisStrategy).shouldSummarise({
        turns: context.mirror,
        window: context.window,
        cachedTokens: context.cachedTokens,
        policy: context.input.policy,
        audioMs: (id) => context.audioMs[id],
      }),
  },
  delays: {
    connectTimeout: ({ context }) => context.input.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    reconnectDelay: ({ context }) => context.link.reconnectDelayMs,
    connectionStable: ({ context }) => context.input.stableAfterMs ?? 10_000,
    rolloverDue: ({ context }) => rolloverDelay(context),
    transcriptWait: ({ context }) => Math.min(NEVER, context.input.policy.transcriptWaitMs),
    responseTimeout: ({ context }) => context.input.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
    closeGrace: 1_000,
  },
  actions: {
    // ---- server events: classified once, the mirror reduced, derived facts raised ------------------
    route: enqueueActions(({ context, event, enqueue: raw, check }) => {
      if (event.type !== 'SERVER.EVENT') return;
      const enqueue = asEnqueue(raw);
      const ev = event.event;
      const route = routeOf(ev.type);
      if (route === 'mirror') {
        const reduced = reduceMirror(mirrorOf(context), ev, context.input.clock?.now() ?? 0);
        // Function calls of an in-band response.done: raised before its RESPONSE.DONE, so the summary
        // region already knows tools are running when it decides.
        if (ev.type === 'response.done' && context.input.tools && reduced.effects.some((e) => e.type === 'response.done')) {
          const calls = functionCalls(ev.response);
          if (calls.length > 0) enqueue.raise({ type: 'TOOLS.CALLED', responseId: str(isObject(ev.response) ? ev.response.id : ''), calls });
        }
        applyReduced(context, reduced, enqueue, () => inState(check, summaryCollecting));
        const item = isObject(ev.item) ? ev.item : {};
        if ((ev.type === 'conversation.item.added' || ev.type === 'conversation.item.created') && context.seed && item.id === context.seed.id) {
          enqueue.raise({ type: 'SEED.ACKED' });
        }
        return;
      }
      if (route !== 'session') return; // audio-plane and ignored events never need the session
      const type = ev.type as SessionEventType;
      switch (type) {
        case 'session.created': {
          const s = isObject(ev.session) ? ev.session : {};
          const info: SessionInfo = {
            id: str(s.id) || 'unknown',
            model: str(s.model) || context.input.model,
            expiresAt: typeof s.expires_at === 'number' ? s.expires_at : null,
            url: context.input.url,
            dialect: context.input.dialect,
          };
          tellTranscription(s, enqueue);
          enqueue.raise({ type: 'SESSION.CREATED', info });
          return;
        }
        case 'session.updated':
          tellTranscription(isObject(ev.session) ? ev.session : {}, enqueue);
          enqueue.raise({ type: 'SESSION.UPDATED' });
          return;
        case 'error': {
          const err = isObject(ev.error) ? ev.error : {};
          const code = str(err.code);
          if (code === 'conversation_already_has_active_response') enqueue.raise({ type: 'RESPONSE.BUSY' });
          // Benign noise is dropped; session_expired is followed by close 1001, which rolls over.
          else if (classifyServerError(code, str(err.message)).class !== 'benign' && code !== 'session_expired') {
            enqueue.raise({ type: 'SERVER.ERROR', code, message: str(err.message), eventId: str(err.event_id) || null });
          }
          return;
        }
        default:
          unhandled(type);
      }
    }),
    reportServerError: emit(({ event }) => {
      const e = event as Extract<SessionEvent, { type: 'SERVER.ERROR' }>;
      return { type: 'error' as const, error: new AgentError('server_error', `server error${e.code ? ` ${e.code}` : ''}: ${oneLine(e.message)}`, false, e.code || null) };
    }),
    failFatalServerError: enqueueActions(({ event, enqueue }) => {
      const f = fatalRule(event);
      if (!f || event.type !== 'SERVER.EVENT' || !isObject(event.event.error)) return;
      // rule.summary, when set, replaces the server's text (invalid_api_key's quotes part of the key).
      const error = new AgentError(f.agentCode!, `${oneLine(f.summary ?? (str(event.event.error.message) || f.code))}: ${f.fix}`, true, f.code || null);
      enqueue.assign({ error });
      enqueue.emit({ type: 'error', error });
    }),
    failFatalClose: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'SOCKET.CLOSED') return;
      const rule = classifyClose(event.code, event.reason);
      if (rule.class !== 'fatal') return;
      const error = new AgentError(rule.agentCode, oneLine(rule.message), true);
      enqueue.assign({ error });
      enqueue.emit({ type: 'error', error });
    }),
    /** Ends the session with this error (one line, fatal) and reports it. */
    fail: enqueueActions(({ enqueue }, params: { error: AgentError }) => {
      enqueue.assign({ error: params.error });
      enqueue.emit({ type: 'error', error: params.error });
    }),

    // ---- connection lifecycle ----------------------------------------------------------------------
    countOpened: assign({ link: ({ context }) => ({ ...context.link, socketsOpened: context.link.socketsOpened + 1 }) }),
    takeSession: assign({ session: ({ event }) => (event.type === 'SESSION.CREATED' ? event.info : null) }),
    announceSession: emit(({ context }) => ({ type: 'session' as const, info: context.session! })),
    sendConfig: enqueueActions(({ context, enqueue }) => {
      // Deterministic ids: one configuration per connection generation.
      const eventId = `rtc_cfg_${context.link.generation}`;
      enqueue.assign({ link: { ...context.link, configEventId: eventId } });
      const base = context.input.sessionConfig;
      const session = context.link.generation === 0 ? base : { ...base, instructions: `${String(base.instructions ?? '')}\n\n${CONTINUATION_NOTE}`.trim() };
      enqueue.sendTo('socket', { type: 'SEND', event: { type: 'session.update', event_id: eventId, session } });
    }),
    wentLive: assign({ link: ({ context }) => ({ ...context.link, timesLive: context.link.timesLive + 1, reconnectReason: null }) }),
    resetAttempts: assign({ link: ({ context }) => ({ ...context.link, reconnectAttempt: 0 }) }),
    closeSocket: sendTo('socket', { type: 'CLOSE', code: 1000, reason: 'client closing' }),
    noteDrop: assign(({ context }, params: { reason: 'drop' | 'rollover' | 'expired' }) => {
      const attempt = params.reason === 'drop' ? context.link.reconnectAttempt + 1 : context.link.reconnectAttempt;
      return {
        link: {
          ...context.link,
          reconnectReason: params.reason,
          reconnectAttempt: attempt,
          reconnectDelayMs: params.reason === 'drop' ? backoffDelay(context, attempt) : 0,
          generation: context.link.generation + 1,
        },
        activeResponseId: null,
        requestEventId: null,
      };
    }),
    announceReconnect: enqueueActions(({ context, enqueue }) => {
      enqueue.sendTo('summariser', { type: 'ABORT' });
      // The calls' items stay in the old session: their outputs could not be answered in the new one.
      abortTools(context, asEnqueue(enqueue));
      enqueue.sendTo('summariser', { type: 'RESPONSE.ACTIVE', active: false });
      enqueue.emit({ type: 'reconnect', attempt: context.link.reconnectAttempt, delayMs: context.link.reconnectDelayMs, reason: context.link.reconnectReason ?? 'drop' });
    }),
    prepareSeed: enqueueActions(({ context, enqueue: raw }) => {
      // Transcript hunts cannot continue on a new connection: what is pending is settled and
      // journaled, never silently dropped. The next server conversation starts empty.
      const enqueue = asEnqueue(raw);
      const settled = settlePending(mirrorOf(context));
      applyReduced(context, settled, enqueue, () => false);
      const plan = buildSeed(settled.mirror.turns);
      const seed = plan ? { id: `seed_${context.link.generation}`, text: plan.text, covers: plan.covers, eventId: null } : context.seed;
      enqueue.assign({ mirror: [], hunting: [], early: {}, audioMs: {}, seed });
    }),
    sendSeed: enqueueActions(({ context, enqueue }) => {
      if (!context.seed) return;
      const eventId = `rtc_seed_${context.link.generation}`;
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
      enqueue.assign({ mirror: markSummary(mirrorOf(context), seed.id, seed.covers).turns as SessionContext['mirror'], seed: null });
      enqueue.emit({ type: 'summary.inserted', id: seed.id, text: seed.text, replaces: seed.covers });
      enqueue.emit({ type: 'seeded', id: seed.id, generation: context.link.generation });
    }),
    seedFailed: enqueueActions(({ event, enqueue }) => {
      const msg = event.type === 'SERVER.ERROR' ? event.message : 'unknown error';
      enqueue.emit({ type: 'error', error: new AgentError('server_error', `could not seed the new session (${oneLine(msg)}); the journal still holds the whole conversation`) });
      enqueue.assign({ seed: null });
    }),

    // ---- the user's side ----------------------------------------------------------------------------
    sendUserInput: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'USER.TEXT') {
        enqueue.sendTo('socket', {
          type: 'SEND',
          event: { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: event.text }] } },
        });
      } else if (event.type === 'USER.COMMIT') {
        enqueue.sendTo('socket', { type: 'SEND', event: { type: 'input_audio_buffer.commit' } });
      }
    }),
    // Deterministic event ids, so an error answering this response.create can be matched to it.
    createResponse: enqueueActions(({ context, enqueue }) => {
      const requests = context.requests + 1;
      const eventId = `rtc_resp_${context.link.generation}_${requests}`;
      enqueue.assign({ requests, requestEventId: eventId, turnWaiting: false });
      enqueue.sendTo('socket', { type: 'SEND', event: { type: 'response.create', event_id: eventId } });
    }),
    clearRequest: assign({ requestEventId: null }),
    /** Survives a connection switch (the queue region does not): the next live flushes it. */
    markTurnWaiting: assign({ turnWaiting: true }),
    cancelResponse: sendTo('socket', { type: 'SEND', event: { type: 'response.cancel' } }),
    truncate: enqueueActions(({ context, event, enqueue: raw }) => {
      // No item playing (agent.interrupt() while tools run): cancelling is all there is to do.
      if (event.type !== 'INTERRUPT' || !event.itemId) return;
      const enqueue = asEnqueue(raw);
      const total = Math.max(event.audioMs, context.audioMs[event.itemId] ?? 0);
      const played = Math.max(0, Math.min(Math.round(event.playedMs), Math.floor(total || event.playedMs)));
      if (played < 1) {
        // Nothing was heard: truncating to 0 ms is an error on the real service; drop the item instead.
        enqueue.sendTo('socket', { type: 'SEND', event: { type: 'conversation.item.delete', item_id: event.itemId } });
        return;
      }
      enqueue.sendTo('socket', { type: 'SEND', event: { type: 'conversation.item.truncate', item_id: event.itemId, content_index: 0, audio_end_ms: played } });
      const r = truncateHeard(mirrorOf(context), event.itemId, played, total);
      enqueue.assign({ mirror: r.mirror.turns as SessionContext['mirror'] });
      enqueue.emit({ type: 'truncated', id: event.itemId, audioEndMs: played, text: r.text });
      for (const e of r.effects) if (e.type === 'turn') enqueue.emit({ type: 'turn', turn: e.turn });
    }),
    recordAudioMs: assign({
      audioMs: ({ context, event }) => (event.type === 'AUDIO.MS' ? { ...context.audioMs, [event.itemId]: event.ms } : context.audioMs),
    }),

    // ---- responses ----------------------------------------------------------------------------------
    takeResponse: assign({ activeResponseId: ({ event }) => (event.type === 'RESPONSE.CREATED' ? event.responseId : null) }),
    /** Our response.create was answered: clearRequest and takeResponse in one assign (one snapshot copy). */
    takeRequestedResponse: assign({ requestEventId: null, activeResponseId: ({ event }) => (event.type === 'RESPONSE.CREATED' ? event.responseId : null) }),
    clearResponse: assign({ activeResponseId: null }),
    tellSummariserActive: sendTo('summariser', (_, params: { active: boolean }) => ({ type: 'RESPONSE.ACTIVE' as const, active: params.active })),
    warnResponseTimeout: emit(({ context }) => ({
      type: 'error' as const,
      error: new AgentError(
        'server_error',
        `${context.activeResponseId ? `no response.done for ${context.activeResponseId}` : `no response.created for ${context.requestEventId ?? 'response.create'}`} after ${Math.round((context.input.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS) / 1000)} s: treating the response as ended; check the server`,
      ),
    })),

    // ---- transcripts and the summariser -------------------------------------------------------------
    transcriptDone: enqueueActions(({ context, event, enqueue, check }) => {
      if (!('output' in event)) return;
      const out = (event as { output: { itemId: string; text: string; source: 'event' | 'retrieve' | 'inaudible' } }).output;
      applyReduced(context, huntFinished(mirrorOf(context), out.itemId, out.text, out.source), asEnqueue(enqueue), () => inState(check, summaryCollecting));
    }),
    spawnSummariser: enqueueActions(({ context, enqueue, self }) => {
      enqueue.spawnChild('summariser', {
        id: 'summariser',
        input: { parentRef: self, policy: context.input.policy, firstNumber: context.input.firstSummaryNumber, strategy: context.input.strategy ?? hysteresisStrategy },
      });
    }),
    // ---- tools (machines/session/tools.ts) ------------------------------------------------------------
    spawnTools: enqueueActions(({ context, enqueue, self }) => {
      if (context.input.tools) enqueue.spawnChild('tools', { id: 'tools', input: { parentRef: self, ...context.input.tools } });
    }),
    runTools: enqueueActions(({ context, event, enqueue }) => runTools(context, event, asEnqueue(enqueue))),
    abortTools: enqueueActions(({ context, enqueue }) => abortTools(context, asEnqueue(enqueue))),
    reportTools: enqueueActions(({ context, event, enqueue }) => reportTools(context, event, asEnqueue(enqueue))),
    answerTools: enqueueActions(({ context, event, enqueue }) => answerTools(context, event, asEnqueue(enqueue))),

    startSummary: sendTo('summariser', ({ context }) => ({
      type: 'SUMMARISE' as const,
      turns: context.mirror,
      window: context.window,
      audioMs: context.audioMs,
      responseActive: false,
    })),
    summariserReport: enqueueActions(({ context, event, enqueue }) => {
      switch (event.type) {
        case 'SUMMARISER.STATE':
          enqueue.emit({ type: 'summariser', state: event.state });
          enqueue.raise({ type: 'SUMMARY.PHASE', phase: PHASE[event.state] ?? 'idle' });
          break;
        case 'SUMMARISER.COLLECTING':
          for (const id of event.pendingIds) if (context.hunting.includes(id)) enqueue.sendTo(huntId(id), { type: 'FETCH' });
          break;
        case 'SUMMARISER.INSERTED':
          enqueue.assign({ mirror: markSummary(mirrorOf(context), event.id, event.replaces).turns as SessionContext['mirror'] });
          enqueue.emit({ type: 'summary.inserted', id: event.id, text: event.text, replaces: event.replaces });
          break;
        case 'SUMMARISER.DONE':
          enqueue.emit({
            type: 'summary',
            summary: { id: event.id, text: event.text, replacedIds: event.replaces, turns: event.replaces.length, windowBefore: event.windowBefore, windowAfterEstimate: event.windowAfterEstimate },
          });
          break;
        case 'SUMMARISER.FAILED': {
          const message =
            event.message === INTERRUPTED
              ? `summary ${event.stage === 'pruning' ? 'pruning' : 'while ' + event.stage} ${event.message}`
              : `summary failed while ${event.stage}: ${event.message}; the conversation is unchanged${event.deleted.length ? ' apart from the acknowledged deletes' : ''}`;
          enqueue.emit({ type: 'error', error: new AgentError('summariser_failed', message) });
          break;
        }
        case 'SUMMARISER.SKIPPED':
          enqueue.emit({ type: 'summary.skipped', reason: event.reason });
          break;
        default:
          break; // STARTED: the phase reports carry what the session needs
      }
    }),
  },
});
