// A small stand-in for the real agent, for the inspector tests: a session-like root that invokes a
// socket-like callback actor and a summariser-like child (idle -> summarising -> inserting ->
// pruning -> idle), and spawns one transcript-like child per user turn (stopped when done). Its
// context deliberately holds what the inspector must not leak or re-send: the API key, an audio
// buffer, a typed array, an actor ref and a long transcript.
import { assign, createActor, enqueueActions, fromCallback, sendParent, sendTo, setup, stopChild, type AnyActorRef } from 'xstate';
import type { AgentEventName, AgentEvents, RealtimeAgent, Turn } from '../../src/types.js';
import { AgentError } from '../../src/errors.js';

export interface DemoOptions {
  apiKey: string;
  trigger?: number;
  target?: number;
  /** ms in each summariser step (summarising, inserting, pruning). */
  stepMs?: number;
  /** ms a transcript child takes. */
  transcriptMs?: number;
  /** Tokens added to the window per turn. */
  perTurn?: number;
}

export const transcriptMachine = setup({
  types: {
    input: {} as { itemId: string },
    context: {} as { itemId: string; attempt: number; text: string | null },
    output: {} as { itemId: string; text: string },
  },
  delays: { fetchMs: 60 },
}).createMachine({
  id: 'transcript',
  initial: 'waiting',
  context: ({ input }) => ({ itemId: input.itemId, attempt: 0, text: null }),
  states: {
    waiting: { after: { fetchMs: 'fetching' } },
    fetching: {
      entry: assign({ attempt: ({ context }) => context.attempt + 1 }),
      after: { fetchMs: { target: 'done', actions: assign({ text: ({ context }) => `transcript of ${context.itemId}` }) } },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ itemId: context.itemId, text: context.text ?? '' }),
});

export const summariserMachine = setup({
  types: { context: {} as { runs: number; lastSummaryId: string | null } },
  delays: { stepMs: 150 },
}).createMachine({
  id: 'summariser',
  initial: 'idle',
  context: { runs: 0, lastSummaryId: null },
  states: {
    idle: { on: { SUMMARISE: 'summarising' } },
    summarising: { after: { stepMs: 'inserting' } },
    inserting: { after: { stepMs: 'pruning' } },
    pruning: {
      after: {
        stepMs: {
          target: 'idle',
          actions: [
            assign({ runs: ({ context }) => context.runs + 1, lastSummaryId: ({ context }) => `sum_${context.runs + 1}` }),
            sendParent(({ context }) => ({ type: 'SUMMARY.DONE', id: `sum_${context.runs + 1}` })),
          ],
        },
      },
    },
  },
});

const socketActor = fromCallback(() => () => {});

export const sessionMachine = setup({
  types: {
    input: {} as { apiKey: string },
    context: {} as {
      apiKey: string;
      audio: Buffer;
      mic: Int16Array;
      transcript: string;
      history: { id: string; text: string }[];
      window: number;
      turns: number;
      summaries: string[];
      lastChild: AnyActorRef | null;
    },
    events: {} as
      | { type: 'CONNECTED' }
      | { type: 'USER.TURN'; itemId: string; text: string; apiKey?: string }
      | { type: 'RESPONSE.DONE'; tokens: number }
      | { type: 'SUMMARISE' }
      | { type: 'SUMMARY.DONE'; id: string }
      | { type: 'xstate.done.actor.*'; actorId: string },
  },
  actors: { transcript: transcriptMachine, summariser: summariserMachine, socket: socketActor },
  delays: { connectMs: 30 },
  actions: {
    userTurn: enqueueActions(({ enqueue, event, context }) => {
      if (event.type !== 'USER.TURN') return;
      enqueue.spawnChild('transcript', { id: `transcript-${event.itemId}`, input: { itemId: event.itemId } });
      enqueue.assign({
        turns: context.turns + 1,
        transcript: (context.transcript + ' ' + event.text).trim(),
        history: [...context.history, { id: event.itemId, text: event.text }],
      });
    }),
  },
}).createMachine({
  id: 'session',
  initial: 'connecting',
  context: ({ input }) => ({
    apiKey: input.apiKey,
    audio: Buffer.alloc(3840),
    mic: new Int16Array(960),
    transcript: '',
    history: [],
    window: 0,
    turns: 0,
    summaries: [],
    lastChild: null,
  }),
  invoke: [
    { id: 'socket', src: 'socket' },
    { id: 'summariser', systemId: 'summariser', src: 'summariser' },
  ],
  states: {
    connecting: { after: { connectMs: 'ready' }, on: { CONNECTED: 'ready' } },
    ready: {
      initial: 'listening',
      states: {
        listening: { on: { 'USER.TURN': { target: 'responding', actions: 'userTurn' } } },
        responding: { on: { 'RESPONSE.DONE': 'listening' } },
      },
      on: {
        'USER.TURN': { actions: 'userTurn' },
        'RESPONSE.DONE': { actions: assign({ window: ({ event }) => event.tokens }) },
        SUMMARISE: { actions: sendTo('summariser', { type: 'SUMMARISE' }) },
        'SUMMARY.DONE': { actions: assign({ summaries: ({ context, event }) => [...context.summaries, event.id] }) },
        'xstate.done.actor.*': {
          actions: stopChild(({ event }) => (event as { actorId: string }).actorId),
        },
      },
    },
  },
});

export interface DemoAgent {
  readonly actor: AnyActorRef;
  on: RealtimeAgent['on'];
  emit<K extends AgentEventName>(event: K, payload: AgentEvents[K]): void;
  start(): void;
  stop(): void;
  /** One user turn + assistant answer; summarises (and waits for it) when the window reaches the trigger. */
  turn(text: string): Promise<void>;
  readonly tokens: number;
  summariserState(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createDemoAgent(options: DemoOptions): DemoAgent {
  const trigger = options.trigger ?? 3000;
  const target = options.target ?? 1200;
  const perTurn = options.perTurn ?? 700;
  const summariser = summariserMachine.provide({ delays: { stepMs: options.stepMs ?? 150 } });
  const transcript = transcriptMachine.provide({ delays: { fetchMs: options.transcriptMs ?? 60 } });
  const machine = sessionMachine.provide({ actors: { summariser, transcript } as never });
  const actor = createActor(machine, { id: 'session', systemId: 'session', input: { apiKey: options.apiKey } });
  const handlers = new Map<string, Set<(p: unknown) => void>>();
  const on = (<K extends AgentEventName>(event: K, handler: (payload: AgentEvents[K]) => void) => {
    let set = handlers.get(event);
    if (!set) handlers.set(event, (set = new Set()));
    set.add(handler as (p: unknown) => void);
    return () => set.delete(handler as (p: unknown) => void);
  }) as RealtimeAgent['on'];
  const emit = <K extends AgentEventName>(event: K, payload: AgentEvents[K]) => {
    for (const h of handlers.get(event) ?? []) h(payload);
  };
  let tokens = 400;
  let n = 0;
  let summaries = 0;
  const summariserState = () => {
    const ref = actor.system.get('summariser') as AnyActorRef | undefined;
    return String(ref?.getSnapshot()?.value ?? 'none');
  };
  const turnOf = (id: string, role: Turn['role'], text: string): Turn => ({ id, kind: 'message', role, text, textState: 'final', audio: true, at: Date.now() });
  return {
    actor,
    on,
    emit,
    get tokens() {
      return tokens;
    },
    summariserState,
    start: () => actor.start(),
    stop: () => actor.stop(),
    async turn(text: string) {
      while (!actor.getSnapshot().matches('ready')) await sleep(5);
      n++;
      const itemId = `item_${String(n).padStart(3, '0')}`;
      actor.send({ type: 'USER.TURN', itemId, text, apiKey: options.apiKey });
      emit('turn', turnOf(itemId, 'user', text));
      await sleep(20);
      const answer = `answer ${n}: ` + 'lorem ipsum '.repeat(30);
      emit('turn', turnOf(`item_a${n}`, 'assistant', answer));
      tokens += perTurn;
      actor.send({ type: 'RESPONSE.DONE', tokens });
      emit('window', { tokens, trigger, target, usage: {} as never, costUsd: 0, responseId: `resp_${n}` });
      if (tokens >= trigger) {
        actor.send({ type: 'SUMMARISE' });
        const before = tokens;
        while (summariserState() === 'idle') await sleep(5);
        while (summariserState() !== 'idle') await sleep(10);
        summaries++;
        const after = Math.round(target * 0.8);
        emit('summary', {
          id: `sum_${summaries}`,
          text: `Summary ${summaries}: the user talked about things.`,
          replacedIds: [],
          turns: n,
          windowBefore: before,
          windowAfterEstimate: after,
        });
        tokens = after;
      }
    },
  };
}

/** Emits an error whose message carries the key (the inspector must redact it). */
export function emitLeakyError(agent: DemoAgent, apiKey: string): void {
  agent.emit('error', new AgentError('bad_api_key', `Incorrect API key provided: ${apiKey}`, false));
}
