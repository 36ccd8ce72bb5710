// `live`: five parallel regions instead of flags. Each reacts only to derived events (raised by the
// session's one SERVER.EVENT handler) or to the user's events, and each event has exactly one
// handler per region, so nothing shadows anything.
//
//   response: idle | requested | active(streaming | cancelling)   response.create sent .. response.done, error, timeout
//   queue:    empty | queued | busy | clientPending       a response.create waiting for a boundary
//   summary:  idle | requested | collecting | summarising | writing | cooldown   (the summariser's phases)
//   rollover: notDue | waitingForBoundary | waitingForQuiet   before expires_at, at a turn boundary
//   tools:    idle | running | answering                  the model's function calls, then one response.create
import { and, not, or } from 'xstate';
import { sessionSetup } from './setup.js';

// A response is in flight from the moment our response.create goes out (`requested`), not only from
// response.created: otherwise a second turn sends a second response.create, a rollover closes the
// socket under it and the summary inserts while it starts. The entering transitions mirror the queue
// region's sending ones (same event, same guard, same snapshot), so the two never disagree.
// Anything else that puts a response.create on the wire (a client's forwarded one) enters
// `requested` the same way, after setting requestEventId.
const toRequested = { target: 'requested', guard: 'queueSends' } as const;
const response = sessionSetup.createStateConfig({
  description: 'Our in-band response: asked for (response.create sent), then produced (response.created .. response.done).',
  initial: 'idle',
  states: {
    idle: {
      description: 'No in-band response asked for or running.',
      // The queue's eventless flush of a waiting turn (queued -> empty) happens in this same microstep.
      always: { guard: 'queueFlushes', target: 'requested' },
      on: {
        'USER.TEXT': toRequested,
        'USER.COMMIT': toRequested,
        'TOOLS.ANSWERED': toRequested,
        // A response the server started on its own (server VAD).
        'RESPONSE.CREATED': { target: 'active', actions: ['takeResponse', { type: 'tellSummariserActive', params: { active: true } }] },
        // Observer mode: the client's response.create is on the wire; no summary goes in under it.
        'CLIENT.RESPONSE': { guard: 'isClientPending', target: 'requested' },
        INTERRUPT: { actions: 'truncate' },
      },
    },
    // Sent, not yet created: ends with response.created, a rejecting error for its event_id, or the timeout.
    requested: {
      description: 'response.create is on the wire, response.created not yet in: no second one, no summary insert, no rollover.',
      tags: ['busy', 'thinking'],
      entry: { type: 'tellSummariserActive', params: { active: true } },
      on: {
        'RESPONSE.CREATED': { target: 'active', actions: 'takeRequestedResponse' },
        'SERVER.ERROR': { guard: 'requestRejected', target: 'idle', actions: ['reportServerError', 'clearRequest', { type: 'tellSummariserActive', params: { active: false } }] },
        // conversation_already_has_active_response: the queue region (busy) asks again later.
        'RESPONSE.BUSY': { target: 'idle', actions: ['clearRequest', { type: 'tellSummariserActive', params: { active: false } }] },
        // The client's request was rejected (the proxy saw the error naming it): nothing started.
        'CLIENT.RESPONSE': { guard: 'isClientSettled', target: 'idle', actions: ['clearRequest', { type: 'tellSummariserActive', params: { active: false } }] },
        INTERRUPT: { actions: 'truncate' },
      },
      after: {
        responseTimeout: { target: 'idle', actions: ['warnResponseTimeout', 'clearRequest', { type: 'tellSummariserActive', params: { active: false } }] },
      },
    },
    // The response timer restarts when the server creates another response.
    active: {
      description: 'The server created the response; it streams until response.done (or the response timeout).',
      tags: ['busy', 'speaking'],
      initial: 'streaming',
      on: {
        'RESPONSE.CREATED': { target: 'active', reenter: true, actions: 'takeResponse' },
        'RESPONSE.DONE': { target: 'idle', actions: ['clearResponse', { type: 'tellSummariserActive', params: { active: false } }] },
      },
      after: {
        responseTimeout: { target: 'idle', actions: ['warnResponseTimeout', 'clearResponse', { type: 'tellSummariserActive', params: { active: false } }] },
      },
      states: {
        streaming: {
          description: 'Output is streaming; a barge-in cancels the response and truncates what was not heard.',
          on: { INTERRUPT: { target: 'cancelling', actions: ['cancelResponse', 'truncate'] } } },
        cancelling: { description: 'response.cancel is sent; waiting for response.done.', on: { INTERRUPT: { actions: 'truncate' } } },
      },
    },
  },
});

const queue = sessionSetup.createStateConfig({
  description: 'A user turn whose response.create must wait for a boundary (one queued create answers them all).',
  initial: 'empty',
  states: {
    // A turn left waiting by a connection switch is still waiting on the new connection.
    empty: {
      description: 'No turn waits for a response.create.',
      always: { guard: 'turnWaiting', target: 'queued' },
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
      description: 'Observer mode: the client asked for a response the server has not started; holds a rollover back.',
      tags: ['busy', 'thinking'],
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
      description: 'The server said a response is already active: ask again after a response ends or the summary moves on.',
      tags: ['busy', 'thinking'],
      entry: 'markTurnWaiting',
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
      description: 'A turn waits; its response.create goes out as soon as nothing blocks.',
      tags: ['busy', 'thinking'],
      entry: 'markTurnWaiting',
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
  description: 'The summariser child phases, as it reports them (and asking, entered at once).',
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
      description: 'No summary under way; after each in-band response.done the strategy decides whether one starts.',
      on: {
        SUMMARISE_NOW: [{ guard: or(['responseActive', 'toolsPending']), target: 'requested' }, { target: 'collecting', actions: 'startSummary' }],
        'RESPONSE.DONE': [
          // Never fold a call before its output is in: summarise at the tools' follow-up response.
          { guard: and(['toolsPending', 'shouldSummarise']), target: 'requested' },
          { guard: 'shouldSummarise', target: 'collecting', actions: 'startSummary' },
        ],
      },
    },
    // summariseNow() while a response was in flight (or tools ran): it starts at a later response's end.
    requested: {
      description: 'summariseNow() during a response (or while tools run): starts at a later response end.',
      on: { 'RESPONSE.DONE': [{ guard: 'toolsPending' }, { target: 'collecting', actions: 'startSummary' }] } },
    // Entered when the summary is asked for, not only when the summariser reports it: in the same
    // step a due rollover sees no turn boundary, so it waits for the summary instead of closing the
    // socket under it (the summary then failed, and its cooldown outlived the switch).
    collecting: { tags: ['busy', 'summarising'], description: 'Asked for: the summariser waits for pending transcripts of the turns to fold.' },
    summarising: { tags: ['busy', 'summarising'], description: 'The fold is planned and the summary model writes the summary.' },
    // awaitingQuiet, inserting, pruning: no response.create goes out meanwhile.
    writing: { tags: ['busy', 'summarising', 'editing'], description: 'The summary waits for quiet, is inserted, then the folded items are deleted: no response.create goes out.' },
    cooldown: { description: 'A summary failed: the next one waits for the cooldown (or a new connection).' },
  },
});

const rollover = sessionSetup.createStateConfig({
  description: 'A planned switch to a new session before expires_at, taken at a turn boundary.',
  initial: 'notDue',
  states: {
    notDue: { description: 'More than rolloverMarginMs before expires_at.', after: { rolloverDue: 'waitingForBoundary' } },
    // A planned rollover waits (bounded) for pending transcripts too, so it loses none.
    waitingForBoundary: {
      description: 'Due: waits for a turn boundary with no transcript pending (bounded by transcriptWait).',
      always: { guard: 'atBoundaryNoTranscripts', target: '#session.online.rollingOver' },
      after: { transcriptWait: 'waitingForQuiet' },
    },
    waitingForQuiet: {
      description: 'Due and the transcript wait is over: the next turn boundary rolls over.',
      always: { guard: 'atBoundary', target: '#session.online.rollingOver' },
    },
  },
});

// Calls from one response run in the `tools` child; when all have settled their outputs go in and
// TOOLS.ANSWERED asks the queue for one response.create; `answering` lasts until it starts.
const tools = sessionSetup.createStateConfig({
  description: 'The model function calls: run by the tools child, answered with one response.create.',
  initial: 'idle',
  on: { 'TOOLS.CALLED': { target: '.running', actions: 'runTools' } },
  states: {
    idle: { description: 'No tool call running.' },
    running: {
      description: 'Calls of one or more responses run; their outputs go in when a response batch settles.',
      tags: ['busy', 'thinking'],
      always: { guard: 'toolsSettled', target: 'idle' },
      on: {
        // The last calls answered go straight to `answering`: through `idle`, a due rollover saw a
        // boundary before the raised TOOLS.ANSWERED and closed the socket without the follow-up response.
        'TOOLS.SETTLED': [{ guard: 'answersLastCalls', target: 'answering', actions: 'answerTools' }, { actions: 'answerTools' }],
        INTERRUPT: { actions: 'abortTools' },
      },
    },
    answering: {
      description: 'The outputs are in and one response.create is asked for: until it is created, no rollover.',
      tags: ['busy', 'thinking'],
      on: { 'RESPONSE.CREATED': 'idle' },
      after: { responseTimeout: 'idle' },
    },
  },
});

export const live = sessionSetup.createStateConfig({
  description: 'Configured and seeded: the conversation runs; five parallel regions (response, queue, summary, rollover, tools).',
  type: 'parallel',
  entry: 'wentLive',
  // Only a connection that stays up resets the attempts: a flapping one runs out of them.
  after: { connectionStable: { actions: 'resetAttempts' } },
  states: { response, queue, summary, rollover, tools },
});
