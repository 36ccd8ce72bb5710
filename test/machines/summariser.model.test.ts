// Model-based test of the REAL summariser machine, with the testing kit (realtime-context/testing).
// xstate/graph walks the machine (one shortest path per transition, so each failure and each ABORT
// is its own event sequence) and every path is replayed on a live actor with controlled
// summarise/insert/delete doubles and a SimulatedClock. The expected state, reports and actor calls
// after every step come from the ORACLE below (the documented protocol of machines/README.md), never
// from the machine; the reports include SUMMARISER.STATE, one per state entered (the session follows
// the summariser by these alone). The parent is a real actor that records what it receives, passed
// as parentRef the way the session passes itself. The last tests provide broken guards with
// machine.provide() and show the same path checks catch each of them.
import { describe, expect, it, vi } from 'vitest';
import { createActor, type AnyEventObject } from 'xstate';
import { summariserMachine, type InsertInput, type SummariseInput, type SummariserInput, type SummariserReport } from '../../machines/summariser.machine.js';
import type { Turn } from '../../src/types.js';
import { answeringActor, collectFailures, createTestClock, machineTestModel, pathCoverage, reportCollector, runPath, summariserDoubles, type ModelPath, safePaths } from '../../src/testing/index.js';

// Under Stryker (npm run mutate) each mutant IS the broken machine: the mutant-detection tests below
// would only replay every path again, so they are left out there.
const UNDER_STRYKER = !!process.env.MUTATE_TARGET;
const turn = (id: string, role: 'user' | 'assistant', text: string | null, textState: Turn['textState'] = 'final'): Turn => ({
  id, kind: 'message', role, text, textState, audio: true, at: 0,
});
const long = (s: string) => `${s} `.repeat(60).trim();
// Four turns, keep the last two: the first user turn and its reply are folded.
const FOLDABLE = [turn('u1', 'user', long('hi there')), turn('a1', 'assistant', long('hello, how can I help')), turn('u2', 'user', 'story?'), turn('a2', 'assistant', 'once upon a time')];
// The same with the newest user turn's transcript still pending: the summariser waits for it.
const WITH_PENDING = [FOLDABLE[0], FOLDABLE[1], turn('u2', 'user', null, 'pending'), FOLDABLE[3]];
// Only the protected tail: nothing to fold.
const TOO_FEW = FOLDABLE.slice(2);
const FOLD = ['u1', 'a1'];
const KEPT = ['u2', 'a2'];

const policy: SummariserInput['policy'] = {
  targetTokens: 0, keepLastTurns: 2, summaryRole: 'system', summaryLanguage: undefined, transcriptWaitMs: 3000, cooldownMs: 15000,
};
const SUMMARY = 'They talked about a story.';

const summarise = (turns: Turn[], responseActive: boolean): AnyEventObject => ({ type: 'SUMMARISE', turns, window: 3000, audioMs: {}, responseActive });
const PAYLOADS: Record<string, AnyEventObject[]> = {
  SUMMARISE: [summarise(FOLDABLE, false), summarise(WITH_PENDING, false), summarise(TOO_FEW, false), summarise(FOLDABLE, true)],
  TURNS: [{ type: 'TURNS', turns: FOLDABLE }],
  'RESPONSE.ACTIVE': [{ type: 'RESPONSE.ACTIVE', active: true }, { type: 'RESPONSE.ACTIVE', active: false }],
  TRANSCRIPTION: [{ type: 'TRANSCRIPTION', on: false }, { type: 'TRANSCRIPTION', on: true }],
  'xstate.done.actor.summarise': [
    { type: 'xstate.done.actor.summarise', output: { text: `  ${SUMMARY}\n` } },
    { type: 'xstate.done.actor.summarise', output: { text: ' \n\t ' } },
    { type: 'xstate.done.actor.summarise', output: { text: '' } },
  ],
  'xstate.done.actor.insertSummary': [{ type: 'xstate.done.actor.insertSummary', output: undefined }],
  'xstate.done.actor.deleteItems': [
    { type: 'xstate.done.actor.deleteItems', output: { deleted: ['u1', 'a1'], missing: [], failed: [] } },
    { type: 'xstate.done.actor.deleteItems', output: { deleted: ['u1'], missing: ['a1'], failed: [] } },
    { type: 'xstate.done.actor.deleteItems', output: { deleted: ['u1'], missing: [], failed: ['a1'] } },
    { type: 'xstate.done.actor.deleteItems', output: { deleted: [], missing: [], failed: ['u1', 'a1'] } },
  ],
};

// ---- the oracle ------------------------------------------------------------------------------------
type Phase = 'idle' | 'collecting' | 'summarising' | 'awaitingQuiet' | 'inserting' | 'pruning' | 'cooldown';
/** Every state the summariser reports entering; `planning` is passed through within one step. */
type Reported = Phase | 'planning';
interface Expected {
  phase: Phase;
  turns: Turn[];
  responseActive: boolean;
  /** The server transcribes user audio (TRANSCRIPTION); off, no transcript is waited for. */
  transcripts: boolean;
  count: number;
  text: string | null;
  reports: Partial<SummariserReport>[];
  summariseCalls: string[][];
  inserts: { id: string; text: string; role: string }[];
  deletes: string[][];
}
const INITIAL: Expected = { phase: 'idle', turns: [], responseActive: false, transcripts: true, count: 0, text: null, reports: [], summariseCalls: [], inserts: [], deletes: [] };
const WAIT = 'xstate.after.transcriptWait.summariser.collecting';
const COOL = 'xstate.after.cooldown.summariser.cooldown';
const INTERRUPTED = /interrupted by a reconnect/;
const pendingIds = (turns: Turn[]) => turns.filter((t) => t.role === 'user' && t.textState === 'pending').map((t) => t.id);
const id = (n: number) => `sum_${String(n).padStart(3, '0')}`; // summary ids: sum_001, sum_002, ...

function oracle(prev: Expected, ev: AnyEventObject): Expected {
  const e: Expected = { ...prev, reports: [...prev.reports], summariseCalls: [...prev.summariseCalls], inserts: [...prev.inserts], deletes: [...prev.deletes] };
  const report = (r: Partial<SummariserReport> & { type: SummariserReport['type'] }) => e.reports.push(r);
  // Each state entered is reported to the parent, after the reports of the transition that led there.
  const enter = (state: Reported) => {
    report({ type: 'SUMMARISER.STATE', state });
    if (state !== 'planning') e.phase = state;
  };
  const fail = (stage: 'summarising' | 'inserting' | 'pruning', message: string | RegExp, deleted: string[] = []) => {
    report({ type: 'SUMMARISER.FAILED', stage, message: message as string, deleted });
    enter('cooldown');
    e.text = null;
  };
  // A changed connection ends the summary under way at once: no cooldown.
  const abort = (stage: 'summarising' | 'inserting' | 'pruning') => {
    report({ type: 'SUMMARISER.FAILED', stage, message: INTERRUPTED as never, deleted: [] });
    enter('idle');
    e.text = null;
  };
  // Planning: turns are folded only with every transcript in (or after the wait); the protected tail
  // (keepLastTurns) is never folded; nothing to fold is reported as skipped.
  const plan = () => {
    enter('planning');
    const fold = e.turns.filter((t) => FOLD.includes(t.id));
    if (!fold.length) {
      // The default (hysteresis) strategy's skip: a reason a person can read, naming why (spec: strategy.ts).
      report({ type: 'SUMMARISER.SKIPPED', reason: /^nothing to fold: / as unknown as string });
      enter('idle');
      return;
    }
    e.count += 1;
    report({ type: 'SUMMARISER.STARTED', id: id(e.count), replaces: FOLD, windowBefore: 3000 });
    e.summariseCalls.push(fold.map((t) => t.id));
    enter('summarising');
  };
  // Inserting starts only when no response writes to the conversation.
  const quietCheck = () => {
    if (e.phase === 'awaitingQuiet' && !e.responseActive) {
      enter('inserting');
      e.inserts.push({ id: id(e.count), text: e.text!, role: 'system' });
    }
  };
  if (ev.type === 'RESPONSE.ACTIVE') {
    e.responseActive = ev.active as boolean;
    quietCheck();
    return e;
  }
  // Transcripts to wait for: none when transcription is off (no transcript will come).
  const waitingFor = () => (e.transcripts ? pendingIds(e.turns) : []);
  // In any state; turned off while collecting, nothing is left to wait for: planning starts.
  if (ev.type === 'TRANSCRIPTION') {
    e.transcripts = ev.on as boolean;
    if (e.phase === 'collecting' && !waitingFor().length) plan();
    return e;
  }
  switch (`${prev.phase}:${ev.type}`) {
    case 'idle:SUMMARISE':
      e.turns = ev.turns as Turn[];
      e.responseActive = ev.responseActive as boolean;
      report({ type: 'SUMMARISER.COLLECTING', pendingIds: waitingFor() });
      enter('collecting');
      if (!waitingFor().length) plan();
      return e;
    case 'collecting:TURNS':
      e.turns = ev.turns as Turn[];
      if (!waitingFor().length) plan();
      return e;
    case `collecting:${WAIT}`:
      plan();
      return e;
    case 'collecting:ABORT':
      report({ type: 'SUMMARISER.SKIPPED', reason: 'aborted: the connection changed' });
      enter('idle');
      return e;
    case 'summarising:ABORT':
    case 'awaitingQuiet:ABORT':
      abort('summarising');
      return e;
    // A failure on the old connection does not hold back the next one's summaries: no report.
    case 'cooldown:ABORT':
      enter('idle');
      return e;
    case 'inserting:ABORT':
    case 'pruning:ABORT':
      abort(prev.phase as 'inserting' | 'pruning');
      return e;
    case 'summarising:xstate.done.actor.summarise': {
      const text = (ev.output as { text: string }).text.trim();
      // An empty or blank summary is never inserted (it would replace turns with nothing).
      if (!text) fail('summarising', 'the summariser returned an empty summary');
      else {
        e.text = text;
        enter('awaitingQuiet');
        quietCheck();
      }
      return e;
    }
    case 'summarising:xstate.error.actor.summarise':
      fail('summarising', (ev.error as Error).message);
      return e;
    case 'inserting:xstate.done.actor.insertSummary':
      report({ type: 'SUMMARISER.INSERTED', id: id(e.count), text: e.text!, role: 'system', replaces: FOLD });
      enter('pruning');
      e.deletes.push(FOLD);
      return e;
    case 'inserting:xstate.error.actor.insertSummary':
      fail('inserting', (ev.error as Error).message);
      return e;
    case 'pruning:xstate.done.actor.deleteItems': {
      const out = ev.output as { deleted: string[]; missing: string[]; failed: string[] };
      // A delete that failed is a failed summary (missing items count as already gone).
      if (out.failed.length) fail('pruning', `could not delete ${out.failed.length} summarised item(s): ${out.failed.join(', ')}`, [...out.deleted, ...out.missing]);
      else {
        report({ type: 'SUMMARISER.DONE', id: id(e.count), text: e.text!, replaces: FOLD, deleted: [...out.deleted, ...out.missing], windowBefore: 3000 });
        enter('idle');
        e.text = null;
      }
      return e;
    }
    case 'pruning:xstate.error.actor.deleteItems':
      fail('pruning', (ev.error as Error).message);
      return e;
    case `cooldown:${COOL}`:
      enter('idle');
      return e;
  }
  throw new Error(`the oracle has no transition for ${ev.type} in ${prev.phase}: the machine took one the documentation does not describe`);
}

// ---- the walk --------------------------------------------------------------------------------------
type Snap = { value: unknown; context: { responseActive: boolean; transcripts: boolean; turns: Turn[]; count: number; text: string | null } };
const model = machineTestModel<Snap>(summariserMachine, {
  input: { parentRef: reportCollector<SummariserReport>().ref, policy } satisfies SummariserInput,
  payloads: PAYLOADS,
  key: (s) => [s.value, s.context.responseActive, s.context.transcripts, pendingIds(s.context.turns).length, s.context.turns.length, s.context.count,
    s.context.text === null ? null : s.context.text.trim() === '' ? 'blank' : 'text'],
  // One summary round and the start of a second (a second SUMMARISE from idle repeats the first).
  stopWhen: (s) => s.context.count > 1,
});
const walk = safePaths(() => model.getShortestPaths());
const paths = walk.paths;

async function replay(machine: typeof summariserMachine, path: ModelPath): Promise<void> {
  const time = createTestClock();
  const doubles = summariserDoubles();
  const parent = reportCollector<SummariserReport>();
  const actor = createActor(machine.provide({ actors: doubles.actors }), { input: { parentRef: parent.ref, policy }, clock: time.clock });
  actor.start();
  let expected = INITIAL;
  const inFlight = () => doubles.summarise.pending().length + doubles.insertSummary.pending().length + doubles.deleteItems.pending().length;
  let insertsWhileActive = 0;
  try {
    await runPath(path, {
      async execute(ev) {
        const insertsBefore = doubles.insertSummary.calls.length;
        if (ev.type === 'xstate.done.actor.summarise') doubles.summarise.resolve(ev.output as never);
        else if (ev.type === 'xstate.error.actor.summarise') doubles.summarise.reject(ev.error);
        else if (ev.type === 'xstate.done.actor.insertSummary') doubles.insertSummary.resolve();
        else if (ev.type === 'xstate.error.actor.insertSummary') doubles.insertSummary.reject(ev.error);
        else if (ev.type === 'xstate.done.actor.deleteItems') doubles.deleteItems.resolve(ev.output as never);
        else if (ev.type === 'xstate.error.actor.deleteItems') doubles.deleteItems.reject(ev.error);
        else if (ev.type === WAIT) await time.expectDelay(policy.transcriptWaitMs, () => actor.getSnapshot().value !== 'collecting', 'the transcript wait');
        else if (ev.type === COOL) await time.expectDelay(policy.cooldownMs, () => actor.getSnapshot().value !== 'cooldown', 'the cooldown');
        else actor.send(ev as never);
        expected = oracle(expected, ev);
        if (doubles.insertSummary.calls.length > insertsBefore && expected.responseActive) insertsWhileActive++;
      },
      check() {
        expect(actor.getSnapshot().value).toBe(expected.phase);
        expect(parent.events.length, `reports: ${parent.types().join(', ')}`).toBe(expected.reports.length);
        expected.reports.forEach((r, i) => {
          const got = parent.events[i] as Record<string, unknown>;
          for (const [k, v] of Object.entries(r)) {
            if (v instanceof RegExp) expect(got[k]).toMatch(v);
            else expect(got[k], `report ${i} (${r.type}) field ${k}`).toEqual(v);
          }
        });
        expect(doubles.summarise.calls.map((c) => c.input.turns.map((t) => t.id))).toEqual(expected.summariseCalls);
        expect(doubles.insertSummary.calls.map((c) => c.input)).toEqual(expected.inserts);
        expect(doubles.deleteItems.calls.map((c) => c.input.ids)).toEqual(expected.deletes);
      },
      invariants: {
        'one actor call at a time': () => inFlight() <= 1,
        'no insert while a response writes': () => insertsWhileActive === 0,
        'deletes only after an acknowledged insert': () =>
          doubles.deleteItems.calls.length <= doubles.insertSummary.calls.filter((c) => c.settled).length,
        'no blank summary inserted': () => doubles.insertSummary.calls.every((c) => c.input.text.trim() !== ''),
        'the protected tail is never deleted': () => doubles.deleteItems.calls.every((c) => !c.input.ids.some((i) => KEPT.includes(i))),
        'summary ids fit the 32-character item id limit': () => doubles.insertSummary.calls.every((c) => c.input.id.length <= 32),
      },
    });
  } finally {
    actor.stop();
  }
}

describe('summariser machine (model-based, oracle)', () => {
  it('the model can be walked', () => {
    expect(walk.error).toBeNull();
    expect(paths.length).toBeGreaterThan(0);
  });

  it('the walk reaches every state, each failure and each ABORT as its own event sequence, and blank summaries', () => {
    const cov = pathCoverage(paths);
    for (const s of ['idle', 'collecting', 'summarising', 'awaitingQuiet', 'inserting', 'pruning', 'cooldown']) expect(cov.stateValues).toContain(JSON.stringify(s));
    for (const e of ['xstate.error.actor.summarise', 'xstate.error.actor.insertSummary', 'xstate.error.actor.deleteItems', WAIT, COOL, 'ABORT', 'TURNS']) expect(cov.eventTypes).toContain(e);
    expect(cov.distinctSequences).toBe(cov.paths);
    const taken = (type: string, from: string) =>
      paths.some((p) => p.steps.some((s, i) => i > 0 && s.event.type === type && JSON.stringify((p.steps[i - 1].state as Snap).value) === JSON.stringify(from)));
    for (const from of ['collecting', 'summarising', 'awaitingQuiet', 'inserting', 'pruning', 'cooldown']) expect(taken('ABORT', from), `ABORT from ${from}`).toBe(true);
    const blank = paths.filter((p) => p.steps.some((s) => s.event.type === 'xstate.done.actor.summarise' && !(s.event as AnyEventObject).output.text.trim()));
    expect(blank.length).toBeGreaterThan(0);
    console.log(`summariser model: ${cov.paths} paths, ${cov.distinctSequences} distinct event sequences`);
  });

  for (const path of paths) it(path.description.slice(0, 300), () => replay(summariserMachine, path));

  it.skipIf(UNDER_STRYKER)('detects an empty-summary guard that never fires (mutant provided with machine.provide)', async () => {
    const failures = await collectFailures(paths, (p) => replay(summariserMachine.provide({ guards: { emptySummary: () => false } }), p));
    expect(failures.length).toBeGreaterThan(0);
    // A blank summary went on towards the insert instead of failing.
    expect(failures.some((f) => /done\.actor\.summarise \{"output":\{"text":"[\s\\nt]*"\}\}\): expected '(awaitingQuiet|inserting)' to be 'cooldown'/.test(f.message))).toBe(true);
  });

  it.skipIf(UNDER_STRYKER)('detects a deletesFailed guard that never fires', async () => {
    const failures = await collectFailures(paths, (p) => replay(summariserMachine.provide({ guards: { deletesFailed: () => false } }), p));
    expect(failures.length).toBeGreaterThan(0);
    // A failed delete was taken for a finished summary.
    expect(failures.some((f) => /done\.actor\.deleteItems .*"failed":\["[^\]]+\]\}\}\): expected 'idle' to be 'cooldown'/.test(f.message))).toBe(true);
  });

  it.skipIf(UNDER_STRYKER)('detects inserting while a response is active (quiet guard always true)', async () => {
    const failures = await collectFailures(paths, (p) => replay(summariserMachine.provide({ guards: { quiet: () => true } }), p));
    expect(failures.length, failures.map((f) => f.message).join('\n')).toBeGreaterThan(0);
    // The summary went straight to inserting while the response was still active.
    expect(failures.some((f) => /expected 'inserting' to be 'awaitingQuiet'/.test(f.message))).toBe(true);
  });
});

describe('summariser machine: what it waits for, and its defaults', () => {
  it('waits for user transcripts only: a reply still being written (assistant turn pending) does not hold the summary', async () => {
    const doubles = summariserDoubles();
    const parent = reportCollector<SummariserReport>();
    const actor = createActor(summariserMachine.provide({ actors: doubles.actors }), { input: { parentRef: parent.ref, policy } }).start();
    const replying = [...FOLDABLE, turn('u3', 'user', 'and then?'), turn('a3', 'assistant', null, 'pending')];
    actor.send({ type: 'SUMMARISE', turns: replying, window: 3000, audioMs: {}, responseActive: true });
    expect(parent.events.slice(0, 3)).toEqual([
      { type: 'SUMMARISER.COLLECTING', pendingIds: [] },
      { type: 'SUMMARISER.STATE', state: 'collecting' },
      { type: 'SUMMARISER.STATE', state: 'planning' },
    ]);
    actor.stop();
  });

  it('transcription off: a user audio turn still pending is folded at once, not waited for nor kept', async () => {
    const doubles = summariserDoubles();
    const parent = reportCollector<SummariserReport>();
    const actor = createActor(summariserMachine.provide({ actors: doubles.actors }), { input: { parentRef: parent.ref, policy } }).start();
    // u1 (outside the protected tail) never got a transcript: with transcription on it would be waited
    // for, then kept verbatim; with it off, no transcript will come and the fold takes it.
    const unheard = [turn('u1', 'user', null, 'pending'), ...FOLDABLE.slice(1)];
    actor.send({ type: 'TRANSCRIPTION', on: false });
    actor.send({ type: 'SUMMARISE', turns: unheard, window: 3000, audioMs: {}, responseActive: false });
    expect(parent.events.slice(0, 4)).toEqual([
      { type: 'SUMMARISER.COLLECTING', pendingIds: [] },
      { type: 'SUMMARISER.STATE', state: 'collecting' },
      { type: 'SUMMARISER.STATE', state: 'planning' },
      { type: 'SUMMARISER.STARTED', id: 'sum_001', replaces: FOLD, windowBefore: 3000 },
    ]);
    actor.stop();
  });

  // Every effect is declared with a throwing default (machines/README.md): a composition root that
  // forgets one gets that stage's FAILED with a one-line message, not a hang or a crash.
  it('without provide(), each missing actor fails its own stage with "<actor> not provided"', async () => {
    const answer = {
      summarise: answeringActor<{ text: string }, SummariseInput>(() => ({ text: SUMMARY })),
      insertSummary: answeringActor<void, InsertInput>(() => undefined),
    };
    const cases: { actors: Partial<typeof answer>; failed: { stage: string; message: string } }[] = [
      { actors: {}, failed: { stage: 'summarising', message: 'summarise not provided' } },
      { actors: { summarise: answer.summarise }, failed: { stage: 'inserting', message: 'insertSummary not provided' } },
      { actors: answer, failed: { stage: 'pruning', message: 'deleteItems not provided' } },
    ];
    for (const c of cases) {
      const parent = reportCollector<SummariserReport>();
      const actor = createActor(summariserMachine.provide({ actors: c.actors }), { input: { parentRef: parent.ref, policy } }).start();
      actor.send(summarise(FOLDABLE, false) as never);
      await vi.waitFor(() => expect(parent.types()).toContain('SUMMARISER.FAILED'));
      expect(parent.events.find((e) => e.type === 'SUMMARISER.FAILED')).toEqual({ type: 'SUMMARISER.FAILED', ...c.failed, deleted: [] });
      actor.stop();
    }
  });
});
