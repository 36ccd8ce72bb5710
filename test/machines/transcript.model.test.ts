// Model-based test of the REAL transcript machine, with the testing kit (realtime-context/testing).
// xstate/graph walks the machine's graph (events, invoke results and delays as descriptors) and every
// shortest path, one per transition, is replayed against a live actor with a controlled retrieve
// double and a SimulatedClock. What each step must lead to comes from the ORACLE below, written from
// the documented behaviour, never from the machine: a wrong guard or delay in the machine disagrees
// with it (the last test proves that for the back-off formula).
import { describe, expect, it, vi } from 'vitest';
import { createActor, type AnyEventObject } from 'xstate';
import { transcriptMachine, type TranscriptInput, type TranscriptOutput } from '../../machines/transcript.machine.js';
import { collectFailures, createTestClock, machineTestModel, pathCoverage, retrieveItemDouble, runPath, type ModelPath, safePaths } from '../../src/testing/index.js';

// maxAttempts 4: the back-off is exercised after attempts 1, 2 and 3 (attempt n waits n x base).
// Under Stryker (npm run mutate) each mutant IS the broken machine: the mutant-detection tests below
// would only replay every path again, so they are left out there.
const UNDER_STRYKER = !!process.env.MUTATE_TARGET;
const INPUT: TranscriptInput = { itemId: 'item_a', maxAttempts: 4, backoffMs: 400, awaitMs: 1000 };
const INAUDIBLE = '[inaudible]'; // the protocol's stand-in for a turn with no transcript

const PAYLOADS: Record<string, AnyEventObject[]> = {
  'xstate.done.actor.retrieveItem': [
    { type: 'xstate.done.actor.retrieveItem', output: { transcript: 'from retrieve' } },
    { type: 'xstate.done.actor.retrieveItem', output: { transcript: null } },
  ],
  'xstate.error.actor.retrieveItem': [{ type: 'xstate.error.actor.retrieveItem', error: new Error('item not found') }],
  'TRANSCRIPT.COMPLETED': [{ type: 'TRANSCRIPT.COMPLETED', transcript: 'from event' }],
};

// ---- the oracle: the documented behaviour (machines/README.md, the machine's header) ----------------
type Phase = 'awaitingTranscript' | 'retrieving' | 'backingOff' | 'done' | 'failed';
interface Expected {
  phase: Phase;
  attempt: number;
  output?: TranscriptOutput;
}
const AWAIT = 'xstate.after.awaitTranscript.transcript.awaitingTranscript';
const BACKOFF = 'xstate.after.backoff.transcript.backingOff';
/** Attempt n waits n x backoffMs before the next retrieve. */
const backoffDelay = (attempt: number) => attempt * INPUT.backoffMs;
/** Every transition the documentation describes, as `state:event` (the walk must take each one). */
const DOCUMENTED = [
  'awaitingTranscript:TRANSCRIPT.COMPLETED', 'awaitingTranscript:TRANSCRIPT.FAILED', 'awaitingTranscript:FETCH', `awaitingTranscript:${AWAIT}`,
  'retrieving:TRANSCRIPT.COMPLETED', 'retrieving:xstate.done.actor.retrieveItem', 'retrieving:xstate.error.actor.retrieveItem',
  'backingOff:TRANSCRIPT.COMPLETED', 'backingOff:FETCH', `backingOff:${BACKOFF}`,
];

function oracle(e: Expected, ev: AnyEventObject): Expected {
  const retrieve = (): Expected => ({ phase: 'retrieving', attempt: e.attempt + 1 });
  const done = (text: string, source: TranscriptOutput['source']): Expected => ({
    phase: 'done', attempt: e.attempt, output: { itemId: INPUT.itemId, text, source, attempts: e.attempt },
  });
  const noTranscript = (): Expected =>
    e.attempt >= INPUT.maxAttempts
      ? { phase: 'failed', attempt: e.attempt, output: { itemId: INPUT.itemId, text: INAUDIBLE, source: 'inaudible', attempts: e.attempt } }
      : { phase: 'backingOff', attempt: e.attempt };
  if (ev.type === 'TRANSCRIPT.COMPLETED') return done(ev.transcript as string, 'event');
  switch (e.phase) {
    case 'awaitingTranscript':
      if (ev.type === 'TRANSCRIPT.FAILED' || ev.type === 'FETCH' || ev.type === AWAIT) return retrieve();
      break;
    case 'retrieving':
      if (ev.type === 'xstate.done.actor.retrieveItem') {
        const t = (ev.output as { transcript: string | null }).transcript;
        return t === null ? noTranscript() : done(t, 'retrieve');
      }
      if (ev.type === 'xstate.error.actor.retrieveItem') return noTranscript();
      break;
    case 'backingOff':
      if (ev.type === BACKOFF || ev.type === 'FETCH') return retrieve();
      break;
  }
  throw new Error(`the oracle has no transition for ${ev.type} in ${e.phase}: the machine took one the documentation does not describe`);
}

// ---- the walk -----------------------------------------------------------------------------------
const model = machineTestModel(transcriptMachine, {
  input: INPUT,
  payloads: PAYLOADS,
  // Every distinction the checks depend on: where, which attempt, whether a text was accepted.
  key: (s) => [s.value, s.context.attempt, s.context.result?.text ?? null],
});
const walk = safePaths(() => model.getShortestPaths());
const paths = walk.paths;

/** Replays one path on the real machine (or a mutant of it), checking each step against the oracle. */
async function replay(machine: typeof transcriptMachine, path: ModelPath): Promise<void> {
  const time = createTestClock();
  const retrieve = retrieveItemDouble();
  const actor = createActor(machine.provide({ actors: { retrieveItem: retrieve.logic } }), { input: INPUT, clock: time.clock });
  actor.start();
  let expected: Expected = { phase: 'awaitingTranscript', attempt: 0 };
  const newRetrieve = (before: number) => () => retrieve.calls.length > before;
  try {
    await runPath(path, {
      async execute(ev) {
        const before = expected;
        if (ev.type === 'xstate.done.actor.retrieveItem') retrieve.resolve(ev.output as never);
        else if (ev.type === 'xstate.error.actor.retrieveItem') retrieve.reject(ev.error);
        else if (ev.type === AWAIT) await time.expectDelay(INPUT.awaitMs, newRetrieve(retrieve.calls.length), 'the wait for transcription');
        else if (ev.type === BACKOFF) await time.expectDelay(backoffDelay(before.attempt), newRetrieve(retrieve.calls.length), `the back-off after attempt ${before.attempt}`);
        else actor.send(ev as never);
        expected = oracle(before, ev);
      },
      check() {
        const snap = actor.getSnapshot();
        const final = expected.phase === 'done' || expected.phase === 'failed';
        expect(snap.status).toBe(final ? 'done' : 'active');
        if (!final) expect(snap.value).toBe(expected.phase);
        expect(snap.context.attempt).toBe(expected.attempt);
        // One NEW retrieve per attempt, numbered, for this item (a retry never reuses a stale fetch).
        expect(retrieve.calls.map((c) => c.input)).toEqual(Array.from({ length: expected.attempt }, (_, i) => ({ itemId: INPUT.itemId, attempt: i + 1 })));
        if (final) expect(snap.output).toEqual(expected.output);
      },
      invariants: {
        'at most one retrieve in flight': () => retrieve.pending().length <= 1,
        'never more retrieves than maxAttempts': () => retrieve.calls.length <= INPUT.maxAttempts,
        'a finished hunt always has a text': () => actor.getSnapshot().status !== 'done' || (actor.getSnapshot().output?.text ?? '').length > 0,
      },
    });
  } finally {
    actor.stop();
  }
}

describe('transcript machine (model-based, oracle)', () => {
  it('the model can be walked', () => {
    expect(walk.error).toBeNull();
    expect(paths.length).toBeGreaterThan(0);
  });

  it('the walk takes every documented transition, and each back-off up to maxAttempts, as distinct sequences', () => {
    const cov = pathCoverage(paths);
    for (const s of ['awaitingTranscript', 'retrieving', 'backingOff', 'done', 'failed']) expect(cov.stateValues).toContain(JSON.stringify(s));
    // The walk only offers what the machine handles: a transition that lost its target (a no-op)
    // drops out of the walk, so the documented list is checked here, not only in the replays.
    const taken = new Set<string>();
    // The back-off timer is taken after every attempt that can retry (1 .. maxAttempts-1).
    const backoffAfter = new Set<number>();
    for (const p of paths) {
      let e: Expected = { phase: 'awaitingTranscript', attempt: 0 };
      for (const step of p.steps.slice(1)) {
        taken.add(`${e.phase}:${step.event.type}`);
        if (step.event.type === BACKOFF) backoffAfter.add(e.attempt);
        e = oracle(e, step.event);
      }
    }
    expect([...taken].sort()).toEqual([...DOCUMENTED].sort());
    expect([...backoffAfter].sort()).toEqual([1, 2, 3]);
    // Failed and error paths are their own sequences, not merged into the success paths.
    expect(cov.distinctSequences).toBe(cov.paths);
    expect(paths.some((p) => p.steps.some((s) => s.event.type === 'xstate.error.actor.retrieveItem') && p.steps.at(-1)!.event.type === 'xstate.error.actor.retrieveItem')).toBe(true);
    console.log(`transcript model: ${cov.paths} paths, ${cov.distinctSequences} distinct event sequences`);
  });

  for (const path of paths) it(path.description.slice(0, 300), () => replay(transcriptMachine, path));

  // Every effect is declared with a throwing default (machines/README.md): a session that forgets to
  // provide retrieveItem still ends each hunt, with "[inaudible]" after maxAttempts failed retrieves.
  it('without provide(), the retrieves fail and the hunt ends "[inaudible]"', async () => {
    const actor = createActor(transcriptMachine, { input: { ...INPUT, maxAttempts: 1 } }).start();
    actor.send({ type: 'FETCH' });
    await vi.waitFor(() => expect(actor.getSnapshot().status).not.toBe('active'));
    expect(actor.getSnapshot().output).toEqual({ itemId: INPUT.itemId, text: INAUDIBLE, source: 'inaudible', attempts: 1 });
  });

  it.skipIf(UNDER_STRYKER)('detects a back-off without the "x attempt" factor (a mutant provided with machine.provide)', async () => {
    const mutant = transcriptMachine.provide({ delays: { backoff: ({ context }) => context.backoffMs } });
    const failures = await collectFailures(paths, (p) => replay(mutant, p));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.some((f) => /back-off after attempt [23] fired before/.test(f.message))).toBe(true);
  });

  it.skipIf(UNDER_STRYKER)('detects retries that stop one attempt early (attemptsExhausted off by one)', async () => {
    const mutant = transcriptMachine.provide({ guards: { attemptsExhausted: ({ context }) => context.attempt >= context.maxAttempts - 1 } });
    expect((await collectFailures(paths, (p) => replay(mutant, p))).length).toBeGreaterThan(0);
  });
});
