// `live`: four parallel regions instead of flags. Each reacts only to derived events (raised by the
// session's one SERVER.EVENT handler) or to the user's events, and each event has exactly one
// handler per region, so nothing shadows anything.
//
//   response: idle | active(streaming | cancelling)      response.created .. response.done, timeout
//   queue:    empty | queued | busy | clientPending       a response.create waiting for a boundary
//   summary:  idle | requested | collecting | summarising | writing | cooldown   (the summariser's phases)
//   rollover: notDue | waitingForBoundary | waitingForQuiet   before expires_at, at a turn boundary
//   tools:    idle | running | answering                  the model's function calls, then one response.create
import { and, not, or } from 'xstate';
import { sessionSetup } from './setup.js';

const response = sessionSetup.createStateConfig({
  initial: 'idle',
  states: {
    idle: {
      on: {
        'RESPONSE.CREATED': { target: 'active', actions: ['takeResponse', { type: 'tellSummariserActive', params: { active: true } }] },
        INTERRUPT: { actions: 'truncate' },
      },
    },
    // The response timer restarts when the server creates another response.
    active: {
      initial: 'streaming',
      on: {
        'RESPONSE.CREATED': { target: 'active', reenter: true, actions: 'takeResponse' },
        'RESPONSE.DONE': { target: 'idle', actions: ['clearResponse', { type: 'tellSummariserActive', params: { active: false } }] },
      },
      after: {
        responseTimeout: { target: 'idle', actions: ['warnResponseTimeout', 'clearResponse', { type: 'tellSummariserActive', params: { active: false } }] },
      },
      states: {
        streaming: { on: { INTERRUPT: { target: 'cancelling', actions: ['cancelResponse', 'truncate'] } } },
        cancelling: { on: { INTERRUPT: { actions: 'truncate' } } },
      },
    },
  },
});

const queue = sessionSetup.createStateConfig({
  initial: 'empty',
  states: {
    empty: {
      on: {
        'USER.TEXT': [
          { guard: 'isObserver', actions: 'sendUserInput' },
          { guard: 'responseBlocked', target: 'queued', actions: 'sendUserInput' },
          { actions: ['sendUserInput', 'createResponse'] },
        ],
        'USER.COMMIT': [
          { guard: 'isObserver', actions: 'sendUserInput' },
          { guard: 'responseBlocked', target: 'queued', actions: 'sendUserInput' },
          { actions: ['sendUserInput', 'createResponse'] },
        ],
        // Observer: the rejected response.create was the client's; it is not ours to retry.
        'RESPONSE.BUSY': { guard: not('isObserver'), target: 'busy' },
        'CLIENT.RESPONSE': { guard: 'isClientPending', target: 'clientPending' },
        'TOOLS.ANSWERED': [
          { guard: 'isObserver' }, // never in observer mode (no tools); never a response.create of ours
          { guard: 'responseBlocked', target: 'queued' },
          { actions: 'createResponse' },
        ],
      },
    },
    // Observer mode: a client's response.create the server has not started yet holds a rollover back
    // like a queued one (the proxy clears it once the session saw response.created). Bounded, so a
    // lost clear cannot block rollovers for ever.
    clientPending: {
      on: {
        'CLIENT.RESPONSE': { guard: 'isClientSettled', target: 'empty' },
        'USER.TEXT': { actions: 'sendUserInput' },
        'USER.COMMIT': { actions: 'sendUserInput' },
      },
      after: { responseTimeout: 'empty' },
    },
    // The server said a response is already active (one we may not have seen created): wait for a
    // response to end, or the summariser to move on, before asking again (never a create/error loop).
    busy: {
      on: {
        'RESPONSE.DONE': 'queued',
        'SUMMARY.PHASE': 'queued',
        'USER.TEXT': { actions: 'sendUserInput' },
        'USER.COMMIT': { actions: 'sendUserInput' },
      },
      after: { responseTimeout: 'queued' },
    },
    // One queued response.create answers every turn that arrived meanwhile; it goes out as soon as
    // nothing blocks (eventless: re-checked after every event).
    queued: {
      always: { guard: 'notBlocked', target: 'empty', actions: 'createResponse' },
      on: {
        'RESPONSE.BUSY': 'busy',
        'USER.TEXT': { actions: 'sendUserInput' },
        'USER.COMMIT': { actions: 'sendUserInput' },
      },
    },
  },
});

const summary = sessionSetup.createStateConfig({
  initial: 'idle',
  on: {
    'SUMMARY.PHASE': [
      { guard: { type: 'isPhase', params: { phase: 'idle' } }, target: '.idle' },
      { guard: { type: 'isPhase', params: { phase: 'collecting' } }, target: '.collecting' },
      { guard: { type: 'isPhase', params: { phase: 'summarising' } }, target: '.summarising' },
      { guard: { type: 'isPhase', params: { phase: 'writing' } }, target: '.writing' },
      { target: '.cooldown' },
    ],
  },
  states: {
    idle: {
      on: {
        SUMMARISE_NOW: [{ guard: or(['responseActive', 'toolsPending']), target: 'requested' }, { actions: 'startSummary' }],
        'RESPONSE.DONE': [
          // Never fold a call before its output is in: summarise at the tools' follow-up response.
          { guard: and(['shouldSummarise', 'toolsPending']), target: 'requested' },
          { guard: 'shouldSummarise', actions: 'startSummary' },
        ],
      },
    },
    // summariseNow() while a response was in flight (or tools ran): it starts at a later response's end.
    requested: { on: { 'RESPONSE.DONE': [{ guard: 'toolsPending' }, { target: 'idle', actions: 'startSummary' }] } },
    collecting: {},
    summarising: {},
    // awaitingQuiet, inserting, pruning: no response.create goes out meanwhile.
    writing: {},
    cooldown: {},
  },
});

const rollover = sessionSetup.createStateConfig({
  initial: 'notDue',
  states: {
    notDue: { after: { rolloverDue: 'waitingForBoundary' } },
    // A planned rollover waits (bounded) for pending transcripts too, so it loses none.
    waitingForBoundary: {
      always: { guard: 'atBoundaryNoTranscripts', target: '#session.online.rollingOver' },
      after: { transcriptWait: 'waitingForQuiet' },
    },
    waitingForQuiet: {
      always: { guard: 'atBoundary', target: '#session.online.rollingOver' },
    },
  },
});

// Calls from one response run in the `tools` child; when all have settled their outputs go in and
// TOOLS.ANSWERED asks the queue for one response.create; `answering` lasts until it starts.
const tools = sessionSetup.createStateConfig({
  initial: 'idle',
  on: { 'TOOLS.CALLED': { target: '.running', actions: 'runTools' } },
  states: {
    idle: { on: { 'TOOLS.ANSWERED': 'answering' } },
    running: {
      always: { guard: 'toolsSettled', target: 'idle' },
      on: {
        'TOOLS.SETTLED': { actions: 'answerTools' },
        INTERRUPT: { actions: 'abortTools' },
      },
    },
    answering: {
      on: { 'RESPONSE.CREATED': 'idle' },
      after: { responseTimeout: 'idle' },
    },
  },
});

export const live = sessionSetup.createStateConfig({
  type: 'parallel',
  entry: 'wentLive',
  // Only a connection that stays up resets the attempts: a flapping one runs out of them.
  after: { connectionStable: { actions: 'resetAttempts' } },
  states: { response, queue, summary, rollover, tools },
});
