// Model-based test of the REAL summariser machine: every shortest path through its graph (including
// failures at each stage, the cooldown, the wait for pending transcripts and for a quiet conversation)
// is replayed against a live actor with controllable summarise/insert/delete doubles.
import { describe, expect, it } from 'vitest';
import { TestModel } from 'xstate/graph';
import {
  __unsafe_getAllOwnEventDescriptors as ownEvents,
  createActor,
  fromPromise,
  setup,
  SimulatedClock,
  type AnyEventObject,
} from 'xstate';
import { summariserMachine, type DeleteOutput, type SummariserInput, type SummariserReport } from '../machines/summariser.machine.js';
import type { Turn } from '../src/types.js';

const turn = (id: string, role: 'user' | 'assistant', text: string | null, textState: Turn['textState'] = 'final'): Turn => ({
  id, kind: 'message', role, text, textState, audio: true, at: 0,
});
const FOLDABLE = [turn('u1', 'user', 'hi'), turn('a1', 'assistant', 'hello'), turn('u2', 'user', 'story?'), turn('a2', 'assistant', 'once upon a time')];
const WITH_PENDING = [turn('u1', 'user', null, 'pending'), ...FOLDABLE.slice(1)];
const TOO_FEW = FOLDABLE.slice(2);

const policy: SummariserInput['policy'] = {
  targetTokens: 0, keepLastTurns: 2, summaryRole: 'system', summaryLanguage: undefined, transcriptWaitMs: 3000, cooldownMs: 15000,
};

const dummyParent = () => createActor(setup({ types: { events: {} as SummariserReport } }).createMachine({})).start();

const PAYLOADS: Record<string, AnyEventObject[]> = {
  SUMMARISE: [
    { type: 'SUMMARISE', turns: FOLDABLE, window: 3000, audioMs: {}, responseActive: false },
    { type: 'SUMMARISE', turns: WITH_PENDING, window: 3000, audioMs: {}, responseActive: false },
    { type: 'SUMMARISE', turns: TOO_FEW, window: 3000, audioMs: {}, responseActive: false },
    { type: 'SUMMARISE', turns: FOLDABLE, window: 3000, audioMs: {}, responseActive: true },
  ],
  TURNS: [{ type: 'TURNS', turns: FOLDABLE }],
  'RESPONSE.ACTIVE': [{ type: 'RESPONSE.ACTIVE', active: true }, { type: 'RESPONSE.ACTIVE', active: false }],
  'xstate.done.actor.summarise': [
    { type: 'xstate.done.actor.summarise', output: { text: 'They talked about a story.' } },
    { type: 'xstate.done.actor.summarise', output: { text: '   ' } },
  ],
  'xstate.done.actor.deleteItems': [
    { type: 'xstate.done.actor.deleteItems', output: { deleted: ['u1', 'a1'], missing: [], failed: [] } },
    { type: 'xstate.done.actor.deleteItems', output: { deleted: ['u1'], missing: [], failed: ['a1'] } },
  ],
  'xstate.done.actor.insertSummary': [{ type: 'xstate.done.actor.insertSummary', output: undefined }],
};

type Snap = { value: unknown; status: string; context: { responseActive: boolean; turns: Turn[]; count: number; plan: { fold: unknown[] } | null } };

const makeModel = (payloads: Record<string, AnyEventObject[]>, onlyError?: string, withAbort = false) => new TestModel(summariserMachine as never, {
  input: { parentRef: dummyParent(), policy } satisfies SummariserInput,
  events: (s: never) => ownEvents(s)
    .filter((t: string) => !onlyError || !t.startsWith('xstate.error.') || t === onlyError)
    .filter((t: string) => withAbort || t !== 'ABORT')
    .flatMap((t: string) => payloads[t] ?? (t.startsWith('xstate.error.actor.') ? [{ type: t, error: new Error('boom') }] : [{ type: t }])),
  serializeState: (s: Snap) =>
    JSON.stringify([s.value, s.context.responseActive, s.context.turns.filter((t) => t.textState === 'pending').length, s.context.turns.length, s.context.count]),
  // Bound the walk: one summary round (a second SUMMARISE from idle repeats the first).
  stopWhen: (s: Snap) => s.context.count > 1,
} as never);

const model = makeModel(PAYLOADS);
// Failures lead to the same cooldown state as an empty summary or a failed delete (deduplicated in
// the walk above): walk again with only successful results, so each error transition is taken.
const successOnly = {
  ...PAYLOADS,
  'xstate.done.actor.summarise': [PAYLOADS['xstate.done.actor.summarise'][0]],
  'xstate.done.actor.deleteItems': [PAYLOADS['xstate.done.actor.deleteItems'][0]],
};
const errorModels = ['xstate.error.actor.summarise', 'xstate.error.actor.insertSummary', 'xstate.error.actor.deleteItems'].map((e) => makeModel(successOnly, e));
// ABORT (the connection changed) from every busy state: walked on its own, since it shortcuts to idle.
const abortModel = makeModel(successOnly, 'none', true);

interface Pending<T> { resolve(v: T): void; reject(e: unknown): void; input: unknown }

function createSut() {
  const clock = new SimulatedClock();
  const calls: string[] = [];
  const summarise: Pending<{ text: string }>[] = [];
  const insert: Pending<void>[] = [];
  const del: Pending<DeleteOutput>[] = [];
  const reports: SummariserReport[] = [];
  const parent = createActor(setup({ types: { events: {} as SummariserReport } }).createMachine({
    on: { '*': { actions: ({ event }) => reports.push(event) } },
  })).start();
  const quietAtInsert: boolean[] = [];
  const later = <T,>(name: string, list: Pending<T>[]) => fromPromise<T, unknown>(({ input }) => new Promise<T>((resolve, reject) => {
    calls.push(name);
    if (name === 'insert') quietAtInsert.push(!actor.getSnapshot().context.responseActive);
    list.push({ resolve, reject, input });
  }));
  const actor = createActor(
    summariserMachine.provide({
      actors: {
        summarise: later('summarise', summarise) as never,
        insertSummary: later('insert', insert) as never,
        deleteItems: later('delete', del) as never,
      },
    }),
    { input: { parentRef: parent, policy }, clock },
  );
  return { actor, clock, calls, summarise, insert, del, reports, quietAtInsert };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('summariser machine (model-based)', () => {
  const paths = [model, ...errorModels, abortModel].flatMap((m) => m.getShortestPaths());

  it('the paths reach every state, including a failure at each stage', () => {
    const states = new Set<string>();
    const events = new Set<string>();
    for (const p of paths) for (const step of p.steps) {
      states.add(JSON.stringify((step.state as unknown as Snap).value));
      events.add(step.event.type);
    }
    for (const s of ['idle', 'collecting', 'summarising', 'awaitingQuiet', 'inserting', 'pruning', 'cooldown']) {
      expect(states, `state ${s} never reached`).toContain(JSON.stringify(s));
    }
    for (const e of ['xstate.error.actor.summarise', 'xstate.error.actor.insertSummary', 'xstate.error.actor.deleteItems',
      'xstate.after.transcriptWait.summariser.collecting', 'xstate.after.cooldown.summariser.cooldown', 'ABORT']) {
      expect(events, `event ${e} never taken`).toContain(e);
    }
  });

  for (const path of paths) {
    it(path.description.slice(0, 400), async () => {
      const sut = createSut();
      sut.actor.start();
      const settle = async (list: Pending<unknown>[], how: 'resolve' | 'reject', value?: unknown) => {
        const p = list.at(-1)!;
        if (how === 'resolve') p.resolve(value);
        else p.reject(new Error('boom'));
        await flush();
      };
      await path.test({
        events: {
          SUMMARISE: ({ event }: { event: AnyEventObject }) => sut.actor.send(event as never),
          TURNS: ({ event }: { event: AnyEventObject }) => sut.actor.send(event as never),
          'RESPONSE.ACTIVE': ({ event }: { event: AnyEventObject }) => sut.actor.send(event as never),
          ABORT: async () => {
            sut.actor.send({ type: 'ABORT' });
            await flush();
          },
          'xstate.done.actor.summarise': ({ event }: { event: AnyEventObject }) => settle(sut.summarise as never, 'resolve', event.output),
          'xstate.error.actor.summarise': () => settle(sut.summarise as never, 'reject'),
          'xstate.done.actor.insertSummary': () => settle(sut.insert as never, 'resolve'),
          'xstate.error.actor.insertSummary': () => settle(sut.insert as never, 'reject'),
          'xstate.done.actor.deleteItems': ({ event }: { event: AnyEventObject }) => settle(sut.del as never, 'resolve', event.output),
          'xstate.error.actor.deleteItems': () => settle(sut.del as never, 'reject'),
          'xstate.after.transcriptWait.summariser.collecting': async () => { sut.clock.increment(policy.transcriptWaitMs); await flush(); },
          'xstate.after.cooldown.summariser.cooldown': async () => {
            sut.clock.increment(policy.cooldownMs - 1);
            await flush();
            expect(sut.actor.getSnapshot().value).toBe('cooldown');
            sut.clock.increment(1);
            await flush();
          },
        } as never,
        states: {
          '*': (expected: Snap) => {
            const snap = sut.actor.getSnapshot() as unknown as Snap;
            expect(snap.value).toEqual(expected.value);
            // Invariants on every state of every path:
            // deletes never start before the summary insert was acknowledged (seed defect 5) ...
            const firstDelete = sut.calls.indexOf('delete');
            if (firstDelete >= 0) {
              expect(sut.calls.slice(0, firstDelete)).toContain('insert');
              expect(sut.insert.length).toBeGreaterThan(0);
            }
            // ... nothing is inserted unless the model produced a non-empty summary (seed defect 2) ...
            for (const p of sut.insert) expect(((p.input as { text: string }).text).trim()).not.toBe('');
            // ... the summary id is within 32 characters ...
            for (const p of sut.insert) expect(((p.input as { id: string }).id).length).toBeLessThanOrEqual(32);
            // ... only folded items are deleted, never the protected last turns ...
            for (const p of sut.del) expect((p.input as { ids: string[] }).ids).not.toContain('a2');
            // ... and a failed insert means no delete at all.
            if (sut.reports.some((r) => r.type === 'SUMMARISER.FAILED' && r.stage === 'inserting')) expect(sut.calls).not.toContain('delete');
            // An abort while inserting never goes on to delete.
            if (sut.reports.some((r) => r.type === 'SUMMARISER.SKIPPED' && /aborted/.test(r.reason)) && sut.calls.at(-1) === 'insert') expect(snap.value).not.toBe('pruning');
            // The insert starts only while no response writes to the conversation (one may start later:
            // server VAD can begin a response at any time).
            expect(sut.quietAtInsert.every(Boolean)).toBe(true);
          },
        } as never,
      });
    });
  }
});
