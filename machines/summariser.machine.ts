// One per session, one summary at a time:
//
//   idle --SUMMARISE--> collecting --(transcripts in | after transcriptWait)--> planning
//   planning --(the strategy skips: nothing to fold)--> idle   (the seed inserted an empty summary here)
//   planning --> summarising --(text)--> awaitingQuiet --(no response in flight)--> inserting
//   summarising --(the summary would not make the window smaller)--> idle          (skipped, reason)
//   inserting --(server acknowledged the summary item)--> pruning --(every delete acknowledged)--> idle
//   any failure --> cooldown --after(cooldown) | ABORT--> idle   (insert failed => nothing was deleted)
//
// States: idle collecting planning summarising awaitingQuiet inserting pruning cooldown
//
// Each state entry is reported to the parent (SUMMARISER.STATE), so nobody reads this snapshot.
// The summary goes in first and is acknowledged before any delete (the seed raced them and ignored
// errors). Every I/O step is a named actor provided at the composition root. Which turns to fold and
// the window estimate come from the ContextStrategy in the input (hysteresis by default).
import { assign, enqueueActions, fromPromise, sendTo, setup, type ActorRef, type Snapshot } from 'xstate';
import type { FoldPlan } from '../src/conversation/policy.js';
import { buildSummaryMessages, summaryId, type ChatMessage } from '../src/conversation/summary-prompt.js';
import { resolveStrategy, type ContextStrategy } from '../src/conversation/strategy.js';
import type { PolicyOptions } from '../src/conversation/context-strategy.js';
import type { Turn } from '../src/conversation/turn.js';

export type SummariserStateName = 'idle' | 'collecting' | 'planning' | 'summarising' | 'awaitingQuiet' | 'inserting' | 'pruning' | 'cooldown';

export type SummariserReport =
  /** Entered a state: the parent follows the summariser by events, never by reading its snapshot. */
  | { type: 'SUMMARISER.STATE'; state: SummariserStateName }
  | { type: 'SUMMARISER.COLLECTING'; pendingIds: string[] }
  | { type: 'SUMMARISER.STARTED'; id: string; replaces: string[]; windowBefore: number }
  | { type: 'SUMMARISER.INSERTED'; id: string; text: string; role: string; replaces: string[] }
  | {
      type: 'SUMMARISER.DONE';
      id: string;
      text: string;
      replaces: string[];
      deleted: string[];
      windowBefore: number;
      windowAfterEstimate: number;
    }
  | { type: 'SUMMARISER.SKIPPED'; reason: string }
  | { type: 'SUMMARISER.FAILED'; stage: 'summarising' | 'inserting' | 'pruning'; message: string; deleted: string[] };

export type SummariserParent = ActorRef<Snapshot<unknown>, SummariserReport>;

export interface SummariserInput {
  parentRef: SummariserParent;
  policy: Pick<PolicyOptions, 'targetTokens' | 'keepLastTurns' | 'summaryRole' | 'summaryLanguage' | 'transcriptWaitMs' | 'cooldownMs'> &
    Partial<Pick<PolicyOptions, 'triggerTokens' | 'strategy'>>;
  /** First summary number (continues across session rollovers so ids stay unique). */
  firstNumber?: number;
  /** The context strategy the session uses (which turns to fold, the window after); default `policy.strategy`, else hysteresis. */
  strategy?: ContextStrategy;
}

export type SummariserEvent =
  | {
      type: 'SUMMARISE';
      turns: Turn[];
      window: number;
      audioMs: Record<string, number>;
      responseActive: boolean;
    }
  /**
   * Whether the server transcribes user audio (from each session.created/updated). Off: no
   * transcript will come, so nothing is waited for and a user audio turn still "pending" is folded as
   * it is (the window from usage decides). Default on.
   */
  | { type: 'TRANSCRIPTION'; on: boolean }
  | { type: 'TURNS'; turns: Turn[] }
  | { type: 'RESPONSE.ACTIVE'; active: boolean }
  /** The connection changed (reconnect, rollover): a summary under way no longer matches the server. */
  | { type: 'ABORT' };

export interface SummariseInput {
  messages: ChatMessage[];
  turns: Turn[];
}
export interface InsertInput {
  id: string;
  text: string;
  role: 'system' | 'user' | 'assistant';
}
export interface DeleteInput {
  ids: string[];
}
export interface DeleteOutput {
  /** Acknowledged by `conversation.item.deleted`. */
  deleted: string[];
  /** The server said the item does not exist: counted as already gone. */
  missing: string[];
  /** Could not be deleted (error or no acknowledgement in time). */
  failed: string[];
}

export interface SummariserContext {
  parentRef: SummariserParent;
  policy: SummariserInput['policy'];
  strategy: ContextStrategy;
  count: number;
  turns: Turn[];
  window: number;
  audioMs: Record<string, number>;
  responseActive: boolean;
  /** Transcripts will come for pending user turns (false: input transcription is off). */
  transcripts: boolean;
  plan: FoldPlan | null;
  /** Why the last plan was skipped, for the SKIPPED report. */
  skipReason: string | null;
  summaryId: string | null;
  text: string | null;
}

/** A reconnect or rollover ends a summary under way: the next session's seed carries the turns. */
export const INTERRUPTED = 'interrupted by a reconnect: the next session carries these turns verbatim instead';

const pendingOf = (turns: readonly Turn[]) => turns.filter((t) => t.role === 'user' && t.textState === 'pending').map((t) => t.id);

/** Without transcription a pending user turn stays audio only: the fold takes it as it is (text "none"). */
const asHeard = (turns: Turn[]): Turn[] => turns.map((t) => (t.textState === 'pending' ? { ...t, textState: 'none' } : t));

export const summariserMachine = setup({
  // Stryker disable next-line ObjectLiteral: carries TypeScript types only; nothing reads it at run time
  types: {
    input: {} as SummariserInput,
    context: {} as SummariserContext,
    events: {} as SummariserEvent,
  },
  actors: {
    summarise: fromPromise<{ text: string }, SummariseInput>(async () => {
      throw new Error('summarise not provided');
    }),
    insertSummary: fromPromise<void, InsertInput>(async () => {
      throw new Error('insertSummary not provided');
    }),
    deleteItems: fromPromise<DeleteOutput, DeleteInput>(async () => {
      throw new Error('deleteItems not provided');
    }),
  },
  guards: {
    // Nothing to wait for: every transcript is in, or none will come (transcription off).
    noPendingTranscripts: ({ context }) => !context.transcripts || pendingOf(context.turns).length === 0,
    nothingToFold: ({ context }) => context.plan === null,
    quiet: ({ context }) => !context.responseActive,
    emptySummary: (_, params: { text: string }) => params.text.trim().length === 0,
    // A fold must make the window smaller; otherwise the turns stay verbatim.
    noSmaller: ({ context }, params: { text: string }) => {
      const w = windowOf(context.window, context.plan!);
      return context.strategy.estimateWindowAfter(context.plan!, params.text.trim(), w) >= w;
    },
    deletesFailed: (_, params: { output: DeleteOutput }) => params.output.failed.length > 0,
  },
  delays: {
    transcriptWait: ({ context }) => context.policy.transcriptWaitMs,
    cooldown: ({ context }) => context.policy.cooldownMs,
  },
  actions: {
    takeRequest: assign((_, params: Omit<Extract<SummariserEvent, { type: 'SUMMARISE' }>, 'type'>) => ({
      turns: params.turns,
      window: params.window,
      audioMs: params.audioMs,
      responseActive: params.responseActive,
    })),
    takeTurns: assign({ turns: (_, params: { turns: Turn[] }) => params.turns }),
    setResponseActive: assign({ responseActive: (_, params: { active: boolean }) => params.active }),
    setTranscripts: assign({ transcripts: (_, params: { on: boolean }) => params.on }),
    plan: assign(({ context }) => {
      const result = context.strategy.planFold({
        turns: context.transcripts ? context.turns : asHeard(context.turns),
        window: context.window,
        // Without a trigger (a bare summariser), the window that asked for the summary stands in.
        policy: { ...context.policy, triggerTokens: context.policy.triggerTokens ?? context.window },
        audioMs: (id) => context.audioMs[id],
      });
      if ('skip' in result || result.fold.length === 0) {
        return { plan: null, skipReason: 'skip' in result ? result.skip : 'nothing to summarise', summaryId: null, text: null };
      }
      const count = context.count + 1;
      return { plan: result, skipReason: null, count, summaryId: summaryId(count), text: null };
    }),
    takeText: assign({ text: (_, params: { text: string }) => params.text.trim() }),
    report: sendTo(({ context }) => context.parentRef, (_, params: SummariserReport) => params),
    // Not for the initial idle (the parent knows the summariser starts idle).
    announce: enqueueActions(({ context, event, enqueue }, params: { state: SummariserStateName }) => {
      if ((event as { type: string }).type !== 'xstate.init') enqueue.sendTo(context.parentRef, { type: 'SUMMARISER.STATE', state: params.state });
    }),
  },
}).createMachine({
  id: 'summariser',
  context: ({ input }) => ({
    parentRef: input.parentRef,
    policy: input.policy,
    strategy: input.strategy ?? resolveStrategy(input.policy.strategy),
    count: (input.firstNumber ?? 1) - 1,
    // Stryker disable next-line ArrayDeclaration: every SUMMARISE replaces the turns before anything reads them
    turns: [],
    window: 0,
    audioMs: {},
    // Stryker disable next-line BooleanLiteral: every SUMMARISE sets it before the quiet guard reads it
    responseActive: false,
    transcripts: true,
    plan: null,
    skipReason: null,
    summaryId: null,
    text: null,
  }),
  initial: 'idle',
  on: {
    'RESPONSE.ACTIVE': { actions: { type: 'setResponseActive', params: ({ event }) => ({ active: event.active }) } },
    TRANSCRIPTION: { actions: { type: 'setTranscripts', params: ({ event }) => ({ on: event.on }) } },
  },
  states: {
    idle: {
      description: 'No summary under way; SUMMARISE starts one.',
      entry: { type: 'announce', params: { state: 'idle' } },
      on: {
        SUMMARISE: {
          target: 'collecting',
          actions: {
            type: 'takeRequest',
            params: ({ event: { turns, window, audioMs, responseActive } }) => ({ turns, window, audioMs, responseActive }),
          },
        },
      },
    },
    collecting: {
      description: 'Waits (bounded by transcriptWait) for the transcripts of the turns it may fold.',
      entry: [
        { type: 'report', params: ({ context }) => ({ type: 'SUMMARISER.COLLECTING', pendingIds: context.transcripts ? pendingOf(context.turns) : [] }) },
        { type: 'announce', params: { state: 'collecting' } },
      ],
      always: { guard: 'noPendingTranscripts', target: 'planning' },
      after: { transcriptWait: 'planning' },
      on: {
        TURNS: { actions: { type: 'takeTurns', params: ({ event }) => ({ turns: event.turns }) } },
        ABORT: { target: 'idle', actions: { type: 'report', params: { type: 'SUMMARISER.SKIPPED', reason: 'aborted: the connection changed' } } },
      },
    },
    planning: {
      description: 'The strategy plans the fold; a skip (nothing to fold) goes back to idle with a reason.',
      entry: [{ type: 'announce', params: { state: 'planning' } }, 'plan'],
      always: [
        {
          guard: 'nothingToFold',
          target: 'idle',
          actions: { type: 'report', params: ({ context }) => ({ type: 'SUMMARISER.SKIPPED', reason: context.skipReason! }) },
        },
        {
          target: 'summarising',
          actions: {
            type: 'report',
            params: ({ context }) => ({
              type: 'SUMMARISER.STARTED',
              id: context.summaryId!,
              replaces: context.plan!.fold.map((t) => t.id),
              windowBefore: context.window,
            }),
          },
        },
      ],
    },
    summarising: {
      description: 'The summary model writes the summary of the folded turns.',
      entry: { type: 'announce', params: { state: 'summarising' } },
      on: { ABORT: { target: 'idle', actions: { type: 'report', params: { type: 'SUMMARISER.FAILED', stage: 'summarising', message: INTERRUPTED, deleted: [] } } } },
      invoke: {
        id: 'summarise',
        src: 'summarise',
        input: ({ context }) => ({
          messages: buildSummaryMessages(context.plan!.fold, context.policy.summaryLanguage),
          turns: context.plan!.fold,
        }),
        onDone: [
          {
            guard: { type: 'emptySummary', params: ({ event }) => ({ text: event.output.text }) },
            target: 'cooldown',
            actions: { type: 'report', params: { type: 'SUMMARISER.FAILED', stage: 'summarising', message: 'the summariser returned an empty summary', deleted: [] } },
          },
          {
            guard: { type: 'noSmaller', params: ({ event }) => ({ text: event.output.text }) },
            target: 'idle',
            actions: {
              type: 'report',
              params: ({ context, event }) => {
                const w = windowOf(context.window, context.plan!);
                const after = context.strategy.estimateWindowAfter(context.plan!, event.output.text.trim(), w);
                return { type: 'SUMMARISER.SKIPPED', reason: `the summary would not make the window smaller (${w} tokens now, about ${after} after): the turns stay verbatim` };
              },
            },
          },
          { target: 'awaitingQuiet', actions: { type: 'takeText', params: ({ event }) => ({ text: event.output.text }) } },
        ],
        onError: {
          target: 'cooldown',
          actions: {
            type: 'report',
            params: ({ event }) => ({ type: 'SUMMARISER.FAILED', stage: 'summarising', message: errorMessage(event.error), deleted: [] }),
          },
        },
      },
    },
    // Never insert or delete while a response writes to the conversation.
    awaitingQuiet: {
      description: 'The summary is written; it waits until no response is asked for or running.',
      entry: { type: 'announce', params: { state: 'awaitingQuiet' } },
      // Eventless: re-checked after every event, so RESPONSE.ACTIVE false releases it.
      always: { guard: 'quiet', target: 'inserting' },
      on: { ABORT: { target: 'idle', actions: { type: 'report', params: { type: 'SUMMARISER.FAILED', stage: 'summarising', message: INTERRUPTED, deleted: [] } } } },
    },
    inserting: {
      description: 'The summary item goes in at the root; acknowledged before any delete.',
      entry: { type: 'announce', params: { state: 'inserting' } },
      on: { ABORT: { target: 'idle', actions: { type: 'report', params: { type: 'SUMMARISER.FAILED', stage: 'inserting', message: INTERRUPTED, deleted: [] } } } },
      invoke: {
        id: 'insertSummary',
        src: 'insertSummary',
        input: ({ context }) => ({ id: context.summaryId!, text: context.text!, role: context.policy.summaryRole }),
        onDone: {
          target: 'pruning',
          actions: {
            type: 'report',
            params: ({ context }) => ({
              type: 'SUMMARISER.INSERTED',
              id: context.summaryId!,
              text: context.text!,
              role: context.policy.summaryRole,
              replaces: context.plan!.fold.map((t) => t.id),
            }),
          },
        },
        onError: {
          target: 'cooldown',
          actions: {
            type: 'report',
            params: ({ event }) => ({ type: 'SUMMARISER.FAILED', stage: 'inserting', message: errorMessage(event.error), deleted: [] }),
          },
        },
      },
    },
    pruning: {
      description: 'The folded items are deleted, each delete acknowledged.',
      entry: { type: 'announce', params: { state: 'pruning' } },
      on: { ABORT: { target: 'idle', actions: { type: 'report', params: { type: 'SUMMARISER.FAILED', stage: 'pruning', message: INTERRUPTED, deleted: [] } } } },
      invoke: {
        id: 'deleteItems',
        src: 'deleteItems',
        input: ({ context }) => ({ ids: context.plan!.fold.map((t) => t.id) }),
        onDone: [
          {
            guard: { type: 'deletesFailed', params: ({ event }) => ({ output: event.output }) },
            target: 'cooldown',
            actions: {
              type: 'report',
              params: ({ event }) => ({
                type: 'SUMMARISER.FAILED',
                stage: 'pruning',
                message: `could not delete ${event.output.failed.length} summarised item(s): ${event.output.failed.join(', ')}`,
                deleted: [...event.output.deleted, ...event.output.missing],
              }),
            },
          },
          {
            target: 'idle',
            actions: {
              type: 'report',
              params: ({ context, event }) => ({
                type: 'SUMMARISER.DONE',
                id: context.summaryId!,
                text: context.text!,
                replaces: context.plan!.fold.map((t) => t.id),
                deleted: [...event.output.deleted, ...event.output.missing],
                windowBefore: context.window,
                windowAfterEstimate: context.strategy.estimateWindowAfter(context.plan!, context.text!, context.window),
              }),
            },
          },
        ],
        onError: {
          target: 'cooldown',
          actions: {
            type: 'report',
            params: ({ event }) => ({ type: 'SUMMARISER.FAILED', stage: 'pruning', message: errorMessage(event.error), deleted: [] }),
          },
        },
      },
    },
    // A failure on the previous connection does not hold back summaries on the next one.
    cooldown: {
      description: 'A step failed: no new summary until the cooldown ends (or the connection changes).',
      entry: { type: 'announce', params: { state: 'cooldown' } },
      after: { cooldown: 'idle' },
      on: { ABORT: 'idle' },
    },
  },
});

/** The window the fold is judged against: at least what is folded (0 = no usage reported yet). */
function windowOf(window: number, plan: FoldPlan): number {
  return Math.max(window, plan.foldedTokens);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type SummariserMachine = typeof summariserMachine;
