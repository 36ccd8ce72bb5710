// Testing YOUR context policy (a ContextStrategy), in two layers:
//   (a) the contract every strategy must keep, as fast-check properties over generated conversations,
//       with no machine at all; run over your strategy and over the two the package ships, so this
//       file doubles as a contract test you can copy;
//   (b) your strategy inside the REAL summariser machine: xstate/graph walks every path, each path is
//       replayed with the kit's doubles for summarise/insertSummary/deleteItems, and invariants check
//       after every step that the machine does exactly what the strategy planned.
// The oracle (what a "turn", a "pending" turn and a "pair" are) is written here, not imported.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor, type AnyEventObject } from 'xstate';
import {
  cacheAwareStrategy,
  createRealtimeAgent,
  hysteresisStrategy,
  isSummary,
  summariserMachine,
  type ContextStrategy,
  type FoldPlan,
  type StrategyView,
  type Turn,
} from 'realtime-context';
import {
  collectFailures,
  createTestClock,
  machineTestModel,
  pathCoverage,
  pathEvents,
  reportCollector,
  runPath,
  summariserDoubles,
  type ModelPath,
} from 'realtime-context/testing';
import { startEmulator } from 'realtime-context/emulator';

// ---- your strategy ---------------------------------------------------------------------------------
export interface TurnBudgetOptions {
  /** Summarise once the window reaches this many tokens... */
  maxWindow: number;
  /** ...or once this many user turns came in since the last summary. */
  everyTurns: number;
  /** Turns (items, summaries aside) kept verbatim; the policy's keepLastTurns is a floor. */
  keepLastTurns: number;
}

/**
 * Folds everything older than the last turns it keeps, in one cut. The cut only falls before a user
 * turn (so a question stays with its answer), never inside a function call/output pair, and never
 * after a turn whose transcript is still pending (that turn would be summarised as nothing).
 */
function userTurnsSinceLastSummary(turns: readonly Turn[]): number {
  const since = turns.slice(turns.map((t) => isSummary(t)).lastIndexOf(true) + 1);
  return since.filter((t) => t.kind === 'message' && t.role === 'user').length;
}

export function turnBudgetStrategy(o: TurnBudgetOptions): ContextStrategy {
  const roughTokens = (t: Turn, audioMs: StrategyView['audioMs']) =>
    4 + Math.ceil((t.text ?? '').length / 4) + (t.audio ? Math.ceil((audioMs?.(t.id) ?? 3000) / 100) : 0);
  const cleanCut = (turns: readonly Turn[], cut: number) => {
    const next = turns[cut];
    const startsExchange = !next || isSummary(next) || (next.kind === 'message' && next.role === 'user');
    const before = new Set(turns.slice(0, cut).map((t) => t.callId).filter(Boolean));
    return startsExchange && !turns.slice(cut).some((t) => t.callId && before.has(t.callId));
  };
  return {
    name: 'turn-budget',
    shouldSummarise: ({ turns, window }) => window >= o.maxWindow || userTurnsSinceLastSummary(turns) >= o.everyTurns,
    planFold: ({ turns, policy, audioMs }): FoldPlan | { skip: string } => {
      const keep = Math.max(o.keepLastTurns, policy.keepLastTurns);
      const regular = turns.flatMap((t, i) => (isSummary(t) ? [] : [i]));
      let cut = keep === 0 ? turns.length : (regular[regular.length - keep] ?? 0);
      const pending = turns.findIndex((t) => t.textState === 'pending');
      if (pending >= 0) cut = Math.min(cut, pending);
      while (cut > 0 && !cleanCut(turns, cut)) cut--;
      const fold = turns.slice(0, cut);
      if (!fold.some((t) => !isSummary(t))) {
        return { skip: `nothing to fold: the last ${keep} turns stay verbatim and no older exchange is complete` };
      }
      return { fold, keep: turns.slice(cut), foldedTokens: fold.reduce((n, t) => n + roughTokens(t, audioMs), 0) };
    },
    estimateWindowAfter: (plan, text, window) => Math.max(0, window - plan.foldedTokens) + 4 + Math.ceil(text.length / 4),
  };
}

const mine = turnBudgetStrategy({ maxWindow: 8_000, everyTurns: 6, keepLastTurns: 3 });

// ---- the oracle: what the contract talks about, in the contract's own words --------------------------
const summaryItem = (t: Turn) => t.summaryOf !== undefined || /^(sum|seed)_\d+$/.test(t.id);
/** The turns a fold must leave alone: the last `keep` items that are not summaries. */
const lastTurns = (turns: readonly Turn[], keep: number) => (keep === 0 ? [] : turns.filter((t) => !summaryItem(t)).slice(-keep));
/** Pairs a fold takes whole or not at all: a user turn and its reply; a function call and its output. */
function pairs(turns: readonly Turn[]): [Turn, Turn][] {
  const out: [Turn, Turn][] = [];
  turns.forEach((t, i) => {
    if (t.kind === 'message' && t.role === 'user') {
      const rest = turns.slice(i + 1);
      const end = rest.findIndex((r) => summaryItem(r) || (r.kind === 'message' && r.role === 'user'));
      const reply = (end < 0 ? rest : rest.slice(0, end)).find((r) => r.kind === 'message' && r.role === 'assistant');
      if (reply) out.push([t, reply]);
    }
    if (t.kind === 'function_call') {
      const output = turns.find((r) => r.kind === 'function_call_output' && r.callId === t.callId);
      if (output) out.push([t, output]);
    }
  });
  return out;
}
const ids = (turns: readonly Turn[]) => turns.map((t) => t.id);
const same = (a: readonly string[], b: readonly string[]) => JSON.stringify(a) === JSON.stringify(b);
/** A skip reason a person can read: one line of words, no stack trace. */
const readable = (reason: string) => /^[A-Za-z][^\n]{9,199}$/.test(reason) && !/\bat .+:\d+/.test(reason);

// ---- generated conversations ---------------------------------------------------------------------------
const text = fc.string({ minLength: 1, maxLength: 160 });
const exchangeArb = fc.record({
  user: text,
  audio: fc.boolean(),
  pending: fc.boolean(),
  // A tool call answered at once, or answered late: after the user's next turn (an async tool).
  toolCall: fc.constantFrom('none', 'answered', 'late'),
  reply: fc.option(text, { nil: undefined }), // no reply yet: the response is still coming
});
const conversationArb = fc
  .record({
    summary: fc.boolean(),
    greeting: fc.boolean(),
    exchanges: fc.array(exchangeArb, { maxLength: 8 }),
    keepLastTurns: fc.integer({ min: 0, max: 4 }),
    slack: fc.integer({ min: 0, max: 5_000 }),
  })
  .map(({ summary, greeting, exchanges, keepLastTurns, slack }): StrategyView & { audio: Record<string, number> } => {
    const turns: Turn[] = [];
    const audio: Record<string, number> = {};
    const item = (t: Partial<Turn> & Pick<Turn, 'id' | 'kind'>): Turn => {
      const full: Turn = { role: null, text: null, textState: 'none', audio: false, at: 0, ...t };
      turns.push(full);
      return full;
    };
    if (summary) item({ id: 'sum_1', kind: 'message', role: 'system', text: 'Earlier: the user planned a trip.', textState: 'final', summaryOf: ['old_1', 'old_2'] });
    if (greeting) item({ id: 'greet', kind: 'message', role: 'assistant', text: 'Hello!', textState: 'final' });
    let late: (() => void) | null = null;
    exchanges.forEach((e, i) => {
      // Only a spoken turn can wait for its transcript.
      const pending = e.audio && e.pending;
      item({ id: `u${i}`, kind: 'message', role: 'user', text: pending ? null : e.user, textState: pending ? 'pending' : 'final', audio: e.audio });
      if (e.audio) audio[`u${i}`] = 1_000 + 100 * e.user.length;
      late?.();
      late = null;
      if (e.toolCall !== 'none') {
        item({ id: `fc${i}`, kind: 'function_call', callId: `call_${i}`, name: 'lookup', text: '{"q":1}', textState: 'final' });
        const output = () => void item({ id: `fo${i}`, kind: 'function_call_output', callId: `call_${i}`, text: '{"a":2}', textState: 'final' });
        if (e.toolCall === 'answered') output();
        else late = output;
      }
      if (e.reply !== undefined) item({ id: `a${i}`, kind: 'message', role: 'assistant', text: e.reply, textState: 'final' });
    });
    // The server's window counts every item: at least its characters (a token is one or more), its
    // audio (<= 20 tokens a second) and a few tokens per item, plus what this view does not show.
    const window = turns.reduce((n, t) => n + 8 + (t.text ?? '').length + (t.audio ? 40 * Math.ceil((audio[t.id] ?? 3000) / 1000) : 0), 0) + slack;
    return { turns, window, audio, audioMs: (id) => audio[id], policy: { triggerTokens: 4_000, targetTokens: 1_000, keepLastTurns } };
  });

// ---- (a) the contract, for every strategy ------------------------------------------------------------------
const STRATEGIES: ContextStrategy[] = [mine, hysteresisStrategy, cacheAwareStrategy];
const RUNS = 300;
const folded = (s: ContextStrategy, v: StrategyView) => {
  const plan = s.planFold(v);
  return 'skip' in plan ? [] : plan.fold;
};

describe.each(STRATEGIES.map((s) => [s.name, s] as const))('the %s strategy keeps the contract', (_name, strategy) => {
  it('never folds the last keepLastTurns turns', () => {
    fc.assert(
      fc.property(conversationArb, (v) => {
        const kept = new Set(ids(lastTurns(v.turns, v.policy.keepLastTurns)));
        expect(ids(folded(strategy, v)).filter((id) => kept.has(id))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('never folds a turn whose transcript is still pending', () => {
    fc.assert(
      fc.property(conversationArb, (v) => {
        expect(folded(strategy, v).filter((t) => t.textState === 'pending').map((t) => t.id)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('never folds half of a user turn and its reply, or of a function call and its output', () => {
    fc.assert(
      fc.property(conversationArb, (v) => {
        const fold = new Set(ids(folded(strategy, v)));
        const split = pairs(v.turns).filter(([a, b]) => fold.has(a.id) !== fold.has(b.id));
        expect(split.map(([a, b]) => `${a.id}+${b.id}`)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("a fold is made of the conversation's own items: fold then keep is the conversation, in order", () => {
    fc.assert(
      fc.property(conversationArb, (v) => {
        const plan = strategy.planFold(v);
        if ('skip' in plan) return;
        expect(new Set(ids(plan.fold)).size).toBe(plan.fold.length);
        expect([...ids(plan.fold), ...ids(plan.keep)].sort()).toEqual(ids(v.turns).sort());
        expect(ids(plan.fold)).toEqual(ids(v.turns).filter((id) => plan.fold.some((t) => t.id === id)));
      }),
      { numRuns: RUNS },
    );
  });

  it('a planned fold makes the window smaller (and more so for a shorter summary), or it skips with a readable reason', () => {
    fc.assert(
      fc.property(conversationArb, text, (v, summary) => {
        const plan = strategy.planFold(v);
        if ('skip' in plan) {
          expect(readable(plan.skip), plan.skip).toBe(true);
          return;
        }
        expect(plan.fold.some((t) => !summaryItem(t)), 'folds at least one turn').toBe(true);
        expect(strategy.estimateWindowAfter(plan, '', v.window)).toBeLessThan(v.window);
        expect(strategy.estimateWindowAfter(plan, summary, v.window)).toBeGreaterThanOrEqual(strategy.estimateWindowAfter(plan, '', v.window));
      }),
      { numRuns: RUNS },
    );
  });
});

it('turn-budget asks for a summary when the window reaches maxWindow or 6 user turns came in since the last summary', () => {
  fc.assert(
    fc.property(conversationArb, (v) => {
      const sinceSummary = v.turns.slice(v.turns.map(summaryItem).lastIndexOf(true) + 1);
      const expected = v.window >= 8_000 || sinceSummary.filter((t) => t.role === 'user').length >= 6;
      expect(mine.shouldSummarise(v)).toBe(expected);
    }),
    { numRuns: RUNS },
  );
});

// ---- (b) your strategy inside the real summariser machine -----------------------------------------------------
const msg = (id: string, role: 'user' | 'assistant', said: string, textState: Turn['textState'] = 'final'): Turn => ({
  id, kind: 'message', role, text: textState === 'pending' ? null : said, textState, audio: textState === 'pending', at: 0,
});
const call = (id: string, kind: 'function_call' | 'function_call_output', callId: string): Turn => ({ id, kind, role: null, text: '{}', textState: 'final', callId, audio: false, at: 0 });
const long = (s: string) => `${s} `.repeat(40);
/** Three requests: one that folds, one with a turn still waiting for its transcript, one the strategy skips. */
const REQUESTS = [
  { name: 'folds', turns: [msg('u1', 'user', long('Book a train')), call('c1', 'function_call', 'k1'), call('o1', 'function_call_output', 'k1'), msg('a1', 'assistant', long('Booked')), msg('u2', 'user', 'Thanks'), msg('a2', 'assistant', 'Welcome'), msg('u3', 'user', 'Bye'), msg('a3', 'assistant', 'Bye')], window: 9_000 },
  { name: 'pending transcript', turns: [msg('u1', 'user', long('Hotels?')), msg('a1', 'assistant', long('Three')), msg('u2', 'user', long('Cheapest?')), msg('a2', 'assistant', long('The first')), msg('u3', 'user', '', 'pending'), msg('a3', 'assistant', 'Sure')], window: 8_500 },
  { name: 'nothing to fold', turns: [msg('u1', 'user', 'Hi'), msg('a1', 'assistant', 'Hello'), msg('u2', 'user', 'Weather?')], window: 8_200 },
].map((r) => ({ type: 'SUMMARISE' as const, ...r, audioMs: {} as Record<string, number>, responseActive: false }));
const policy = { targetTokens: 1_000, keepLastTurns: 2, summaryRole: 'system' as const, transcriptWaitMs: 3_000, cooldownMs: 15_000 };
const viewOf = (r: (typeof REQUESTS)[number]): StrategyView => ({ turns: r.turns, window: r.window, policy: { ...policy, triggerTokens: r.window }, audioMs: (id) => r.audioMs[id] });

const model = machineTestModel(summariserMachine, {
  input: { parentRef: reportCollector().ref, policy, strategy: mine },
  payloads: {
    SUMMARISE: REQUESTS,
    'RESPONSE.ACTIVE': [{ type: 'RESPONSE.ACTIVE', active: true }, { type: 'RESPONSE.ACTIVE', active: false }],
    // A short summary, and one so long the fold would not make the window smaller (the machine skips it).
    'xstate.done.actor.summarise': [{ type: 'xstate.done.actor.summarise', output: { text: 'The user booked a train.' } }, { type: 'xstate.done.actor.summarise', output: { text: 'word '.repeat(40_000) } }],
    'xstate.done.actor.deleteItems': [{ type: 'xstate.done.actor.deleteItems', output: { deleted: [], missing: [], failed: [] } }],
  },
  exclude: ['ABORT', 'TURNS'],
  // The window tells the three requests apart; count bounds the walk to two summaries.
  key: (s) => [s.value, s.context.responseActive, s.context.count, s.context.window],
  stopWhen: (s) => s.context.count > 1,
});
const paths = model.getShortestPaths();

/** A path's events, short: the request by name, the summary as short or too long. */
const label = (path: ModelPath) =>
  pathEvents(path)
    .slice(1)
    .map((e) =>
      e.type === 'SUMMARISE' ? `SUMMARISE(${e.name})`
      : e.type === 'RESPONSE.ACTIVE' ? `RESPONSE.ACTIVE(${e.active})`
      : e.type === 'xstate.done.actor.summarise' ? `summarise done(${e.output.text.length > 1000 ? 'too long' : 'short'})`
      : e.type.replace(/^xstate\./, ''),
    )
    .join(' → ');

async function replay(path: ModelPath, machine = summariserMachine) {
  const time = createTestClock();
  const { summarise, insertSummary, deleteItems, actors } = summariserDoubles();
  const parent = reportCollector<{ type: string }>();
  const actor = createActor(machine.provide({ actors }), { input: { parentRef: parent.ref as never, policy, strategy: mine }, clock: time.clock }).start();
  // Calls made since the latest SUMMARISE belong to it (the machine takes a request only when idle).
  let request: (typeof REQUESTS)[number] | null = null;
  let since = { summarise: 0, insert: 0, delete: 0, reports: 0 };
  const planned = () => (request ? mine.planFold(viewOf(request)) : null);
  const plannedIds = () => {
    const p = planned();
    return p && !('skip' in p) ? ids(p.fold) : [];
  };
  try {
    await runPath(path, {
      async execute(event: AnyEventObject) {
        if (event.type === 'xstate.done.actor.summarise') summarise.resolve(event.output as { text: string });
        else if (event.type === 'xstate.done.actor.insertSummary') insertSummary.resolve();
        else if (event.type === 'xstate.done.actor.deleteItems') deleteItems.resolve({ deleted: deleteItems.pending().at(-1)!.input.ids, missing: [], failed: [] });
        else if (event.type.startsWith('xstate.error.actor.')) {
          ({ summarise, insertSummary, deleteItems })[event.type.slice('xstate.error.actor.'.length) as 'summarise'].reject(new Error('service unavailable'));
        } else if (event.type.startsWith('xstate.after.')) await time.advance(60_000);
        else {
          if (event.type === 'SUMMARISE') {
            request = event as (typeof REQUESTS)[number];
            since = { summarise: summarise.calls.length, insert: insertSummary.calls.length, delete: deleteItems.calls.length, reports: parent.events.length };
          }
          actor.send(event as never);
        }
      },
      invariants: {
        'the machine summarises exactly the turns the strategy planned': () =>
          summarise.calls.slice(since.summarise).every((c) => same(ids(c.input.turns), plannedIds())),
        'what the machine deletes is exactly what the strategy planned': () =>
          deleteItems.calls.slice(since.delete).every((c) => same(c.input.ids, plannedIds())),
        'a skip deletes nothing': () => {
          const skipped = parent.events.slice(since.reports).some((e) => e.type === 'SUMMARISER.SKIPPED');
          return !skipped || (insertSummary.calls.length === since.insert && deleteItems.calls.length === since.delete);
        },
        'a summary is inserted only if it makes the window smaller (by the strategy\'s estimate)': () =>
          insertSummary.calls.slice(since.insert).every((c) => {
            const p = planned();
            return p && !('skip' in p) && mine.estimateWindowAfter(p, c.input.text, request!.window) < request!.window;
          }),
        'a plan the strategy skips is never summarised': () => {
          const p = planned();
          return !p || !('skip' in p) || summarise.calls.length === since.summarise;
        },
        'the last turns and pending turns are never deleted': () => {
          const off = new Set([...ids(lastTurns(request?.turns ?? [], policy.keepLastTurns)), ...ids((request?.turns ?? []).filter((t) => t.textState === 'pending'))]);
          return deleteItems.calls.every((c) => c.input.ids.every((id) => !off.has(id)));
        },
      },
    });
  } finally {
    actor.stop();
  }
}

describe('turn-budget inside the real summariser machine', () => {
  it('the walk reaches a fold, a skip by the strategy, a skip by the window check, pruning and cooldown', () => {
    const cov = pathCoverage(paths);
    for (const s of ['collecting', 'summarising', 'awaitingQuiet', 'inserting', 'pruning', 'cooldown']) expect(cov.stateValues).toContain(JSON.stringify(s));
    expect(REQUESTS.map((r) => 'skip' in mine.planFold(viewOf(r)))).toEqual([false, false, true]);
  });

  for (const path of paths) it(label(path), () => replay(path));

  it('the invariants catch a machine that ignores the window check (a skip that still deletes)', async () => {
    const broken = summariserMachine.provide({ guards: { noSmaller: () => false } });
    const failures = await collectFailures(paths, (p) => replay(p, broken));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.map((f) => f.message.split('\n')[0])).toContainEqual(expect.stringMatching(/^invariant "a summary is inserted only if it makes the window smaller/));
  });
});

// ---- (c) the same through the whole library: the agent against the embedded emulator ----------------------
describe('turn-budget through createRealtimeAgent, against the embedded emulator', () => {
  it('summarises on its own after the 3rd user turn; the server keeps exactly what the strategy kept', async () => {
    const strategy = turnBudgetStrategy({ maxWindow: 100_000, everyTurns: 3, keepLastTurns: 3 });
    const emu = await startEmulator();
    const agent = createRealtimeAgent({
      connection: { url: emu.url, apiKey: 'sk-example-not-a-real-key' },
      session: { turnDetection: null },
      policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, strategy },
    });
    // The mirror the session hands the summariser: as it is when a response is done.
    let atResponseDone: Turn[] = [];
    agent.on('response.done', () => void (atResponseDone = agent.history()));
    const summaries: string[][] = [];
    agent.on('summary', (s) => void summaries.push(s.replacedIds));
    try {
      await agent.start();
      for (const [i, q] of ['Which trains go north?', 'And the last one tonight?', 'Book it, please.'].entries()) {
        const done = new Promise<void>((resolve) => {
          const off = agent.on('response.done', () => (off(), resolve()));
        });
        agent.sendText(q);
        await done;
        await agent.idle();
        if (i < 2) expect(summaries, `no summary before 3 user turns (turn ${i + 1})`).toEqual([]);
      }
      // The oracle: three exchanges, keep 3 turns (a2 u3 a3), cut back to the user turn: u1 a1 go.
      expect(atResponseDone.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
      expect(summaries).toEqual([ids(atResponseDone.slice(0, 2))]);
      const plan = strategy.planFold({ turns: atResponseDone, window: 0, policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2 } });
      if ('skip' in plan) throw new Error(`the strategy skipped: ${plan.skip}`);
      expect(summaries).toEqual([ids(plan.fold)]);
      const server = emu.sessions().at(-1)!.items().map((item) => (item as { id: string }).id);
      expect(server.slice(1)).toEqual(ids(plan.keep));
      expect(ids(agent.history())).toEqual(server);
    } finally {
      await agent.stop();
      await emu.close();
    }
  });
});
