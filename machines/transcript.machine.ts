// One per user audio turn: makes sure the turn gets its transcript, or an explicit "[inaudible]".
//
//   awaitingTranscript --completed--> done
//        | failed / FETCH / after(awaitTranscript)
//        v
//   retrieving --transcript--> done
//        | no transcript yet / error
//        v
//   backingOff --after(backoff: attempt x base)--> retrieving      (attempt < max)
//        '-------------------------------------------> failed       (attempt >= max)
//
// States: awaitingTranscript retrieving backingOff done failed
//
// Transcription events may arrive in any state (also before the item: the parent replays them).
// Streaming deltas are not kept: the protocol documents no failure after deltas (a failed job sends
// only `failed`), so the turn's text is the completed transcript, a retrieved one, or "[inaudible]".
// Each retry issues a NEW retrieve (the seed's retry found its own pending marker and returned the
// stale result; its retrieved handler never completed the wait).
import { assign, fromPromise, setup } from 'xstate';
import { INAUDIBLE } from '../src/protocol/constants.js';

export interface TranscriptInput {
  itemId: string;
  maxAttempts: number;
  /** Attempt n waits n x backoffMs before retrieving again (the seed's 0.4 s x attempt). */
  backoffMs: number;
  /** How long to wait for transcription events before asking the server. */
  awaitMs: number;
}

export interface TranscriptOutput {
  itemId: string;
  text: string;
  source: 'event' | 'retrieve' | 'inaudible';
  attempts: number;
}

export type TranscriptEvent =
  | { type: 'TRANSCRIPT.COMPLETED'; transcript: string }
  | { type: 'TRANSCRIPT.FAILED'; message?: string }
  /** Ask the server now (response.done came, or the summariser is collecting). */
  | { type: 'FETCH' };

export interface TranscriptContext extends TranscriptInput {
  attempt: number;
  /** Set by the final state that ends the hunt. */
  result: Pick<TranscriptOutput, 'text' | 'source'> | null;
}

/** What `retrieveItem` resolves with: the transcript (null when the server has none yet). */
export type RetrieveResult = { transcript: string | null };

/** The text of a user turn nobody could transcribe (one owner: src/protocol/constants.ts). */
export const INAUDIBLE_TEXT = INAUDIBLE;

export const transcriptMachine = setup({
  // Stryker disable next-line ObjectLiteral: carries TypeScript types only; nothing reads it at run time
  types: {
    input: {} as TranscriptInput,
    context: {} as TranscriptContext,
    events: {} as TranscriptEvent,
    output: {} as TranscriptOutput,
  },
  actors: {
    /** conversation.item.retrieve round trip; provided at the composition root. */
    retrieveItem: fromPromise<RetrieveResult, { itemId: string; attempt: number }>(async () => {
      throw new Error('retrieveItem not provided');
    }),
  },
  guards: {
    hasTranscript: (_, params: { transcript: string | null }) => typeof params.transcript === 'string',
    attemptsExhausted: ({ context }) => context.attempt >= context.maxAttempts,
  },
  delays: {
    awaitTranscript: ({ context }) => context.awaitMs,
    backoff: ({ context }) => context.backoffMs * context.attempt,
  },
  actions: {
    acceptEvent: assign({ result: (_, params: { transcript: string }) => ({ text: params.transcript, source: 'event' as const }) }),
    acceptRetrieved: assign({ result: (_, params: { transcript: string }) => ({ text: params.transcript, source: 'retrieve' as const }) }),
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    markInaudible: assign({ result: { text: INAUDIBLE_TEXT, source: 'inaudible' as const } }),
  },
}).createMachine({
  id: 'transcript',
  context: ({ input }) => ({ ...input, attempt: 0, result: null }),
  initial: 'awaitingTranscript',
  on: {
    // A completed transcript ends the hunt from any state.
    'TRANSCRIPT.COMPLETED': {
      target: '.done',
      actions: { type: 'acceptEvent', params: ({ event }) => ({ transcript: event.transcript }) },
    },
  },
  states: {
    awaitingTranscript: {
      description: 'Waits for the transcription events of the user audio item.',
      after: { awaitTranscript: 'retrieving' },
      on: {
        'TRANSCRIPT.FAILED': 'retrieving',
        FETCH: 'retrieving',
      },
    },
    retrieving: {
      description: 'Asks the server for the item (conversation.item.retrieve) to read its transcript.',
      entry: 'countAttempt',
      invoke: {
        id: 'retrieveItem',
        src: 'retrieveItem',
        input: ({ context }) => ({ itemId: context.itemId, attempt: context.attempt }),
        onDone: [
          {
            guard: { type: 'hasTranscript', params: ({ event }) => ({ transcript: event.output.transcript }) },
            target: 'done',
            actions: { type: 'acceptRetrieved', params: ({ event }) => ({ transcript: event.output.transcript! }) },
          },
          { target: 'backingOff' },
        ],
        onError: 'backingOff',
      },
    },
    backingOff: {
      description: 'No transcript yet: waits attempt x base before retrieving again, up to maxAttempts.',
      always: { guard: 'attemptsExhausted', target: 'failed' },
      after: { backoff: 'retrieving' },
      on: { FETCH: 'retrieving' },
    },
    done: { type: 'final', description: 'The transcript is known (from an event or a retrieve).' },
    failed: { type: 'final', entry: 'markInaudible', description: 'No transcript after every attempt: the turn is [inaudible], never silently empty.' },
  },
  // Both final states set the result on the way in.
  output: ({ context }) => ({ itemId: context.itemId, ...context.result!, attempts: context.attempt }),
});

export type TranscriptMachine = typeof transcriptMachine;
