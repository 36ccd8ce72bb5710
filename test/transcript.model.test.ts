// Model-based test of the REAL transcript machine: xstate/graph walks the machine's own graph
// (invoke results, delays and events as descriptors) and every shortest path is replayed against a
// live actor whose retrieve actor is a controllable double and whose clock is simulated.
import { describe, expect, it } from 'vitest';
import { TestModel } from 'xstate/graph';
import { __unsafe_getAllOwnEventDescriptors as ownEvents, createActor, fromPromise, SimulatedClock, type AnyEventObject } from 'xstate';
import { transcriptMachine, INAUDIBLE_TEXT, type RetrieveResult, type TranscriptInput } from '../machines/transcript.machine.js';

const INPUT: TranscriptInput = { itemId: 'item_a', maxAttempts: 2, backoffMs: 400, awaitMs: 1000 };

const PAYLOADS: Record<string, AnyEventObject[]> = {
  'xstate.done.actor.retrieveItem': [
    { type: 'xstate.done.actor.retrieveItem', output: { transcript: 'from retrieve' } },
    { type: 'xstate.done.actor.retrieveItem', output: { transcript: null } },
  ],
  'xstate.error.actor.retrieveItem': [{ type: 'xstate.error.actor.retrieveItem', error: new Error('item not found') }],
  'TRANSCRIPT.COMPLETED': [{ type: 'TRANSCRIPT.COMPLETED', transcript: 'from event' }],
  'TRANSCRIPT.DELTA': [{ type: 'TRANSCRIPT.DELTA', delta: 'fr' }],
};

const makeModel = (exclude: string[], payloads: Record<string, AnyEventObject[]> = PAYLOADS) => new TestModel(transcriptMachine as never, {
  input: INPUT,
  events: (s: never) => ownEvents(s).filter((t: string) => !exclude.includes(t)).flatMap((t: string) => payloads[t] ?? [{ type: t }]),
  stopWhen: (s: { status: string }) => s.status !== 'active',
  serializeState: (s: { value: unknown; context: { attempt: number; text: string | null } }) =>
    JSON.stringify([s.value, s.context.attempt, s.context.text]),
} as never);

// Every event the machine accepts; and a second walk without the shortcuts, so the timed paths
// (waiting for transcription, back-off between retrieves) are taken too.
const full = makeModel([]);
const timedOnly = makeModel(['FETCH', 'TRANSCRIPT.FAILED', 'TRANSCRIPT.COMPLETED', 'TRANSCRIPT.DELTA']);
// Retrieval errors lead to the same states as "no transcript yet" (deduplicated above): walk them alone.
const errorsOnly = makeModel(['TRANSCRIPT.COMPLETED'], {
  ...PAYLOADS,
  'xstate.done.actor.retrieveItem': [{ type: 'xstate.done.actor.retrieveItem', output: { transcript: 'from retrieve' } }],
});

function createSut() {
  const clock = new SimulatedClock();
  const pending: { resolve(v: RetrieveResult): void; reject(e: unknown): void; itemId: string }[] = [];
  const actor = createActor(
    transcriptMachine.provide({
      actors: {
        retrieveItem: fromPromise<RetrieveResult, { itemId: string; attempt: number }>(
          ({ input }) => new Promise((resolve, reject) => pending.push({ resolve, reject, itemId: input.itemId })),
        ),
      },
    }),
    { input: INPUT, clock },
  );
  return { actor, clock, pending };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('transcript machine (model-based)', () => {
  const paths = [...full.getShortestPaths(), ...timedOnly.getShortestPaths(), ...errorsOnly.getShortestPaths()];

  it('the paths visit every state and take every kind of transition', () => {
    const states = new Set<string>();
    const events = new Set<string>();
    for (const p of paths) {
      for (const step of p.steps) {
        states.add(JSON.stringify((step.state as unknown as { value: unknown }).value));
        events.add(step.event.type);
      }
    }
    for (const s of ['awaitingTranscript', 'retrieving', 'backingOff', 'done', 'failed']) {
      expect(states, `state ${s} not reached by any path`).toContain(JSON.stringify(s));
    }
    for (const e of [
      'xstate.after.awaitTranscript.transcript.awaitingTranscript',
      'xstate.after.backoff.transcript.backingOff',
      'xstate.done.actor.retrieveItem',
      'xstate.error.actor.retrieveItem',
      'TRANSCRIPT.COMPLETED',
      'TRANSCRIPT.FAILED',
      'FETCH',
    ]) {
      expect(events, `event ${e} never taken`).toContain(e);
    }
  });

  for (const path of paths) {
    it(path.description, async () => {
      const sut = createSut();
      sut.actor.start();
      let retrieves = 0;
      await path.test({
        events: {
          'xstate.done.actor.retrieveItem': async ({ event }: { event: AnyEventObject }) => {
            const p = sut.pending.at(-1)!;
            expect(p.itemId).toBe('item_a');
            p.resolve(event.output as RetrieveResult);
            await flush();
          },
          'xstate.error.actor.retrieveItem': async () => {
            sut.pending.at(-1)!.reject(new Error('item not found'));
            await flush();
          },
          'xstate.after.awaitTranscript.transcript.awaitingTranscript': async () => {
            sut.clock.increment(INPUT.awaitMs);
            await flush();
          },
          'xstate.after.backoff.transcript.backingOff': async () => {
            // Attempt n waits n x base: one millisecond short must not fire.
            const wait = INPUT.backoffMs * sut.actor.getSnapshot().context.attempt;
            sut.clock.increment(wait - 1);
            await flush();
            expect(sut.actor.getSnapshot().value).toBe('backingOff');
            sut.clock.increment(1);
            await flush();
          },
          'TRANSCRIPT.COMPLETED': ({ event }: { event: AnyEventObject }) => sut.actor.send(event as never),
          'TRANSCRIPT.DELTA': ({ event }: { event: AnyEventObject }) => sut.actor.send(event as never),
          'TRANSCRIPT.FAILED': () => sut.actor.send({ type: 'TRANSCRIPT.FAILED' }),
          FETCH: () => sut.actor.send({ type: 'FETCH' }),
        } as never,
        states: {
          '*': (expected: { value: unknown; context: { attempt: number; text: string | null } }) => {
            const snap = sut.actor.getSnapshot();
            expect(snap.value).toEqual(expected.value);
            expect(snap.context.attempt).toBe(expected.context.attempt);
            // One retrieve request per attempt: a retry never reuses a stale pending fetch (seed defect 1).
            retrieves = sut.pending.length;
            expect(retrieves).toBe(snap.context.attempt);
            if (snap.status === 'done') {
              const out = snap.output!;
              expect(out.itemId).toBe('item_a');
              if (snap.value === 'failed') {
                expect(out.text).toBe(INAUDIBLE_TEXT);
                expect(out.source).toBe('inaudible');
                expect(out.attempts).toBe(INPUT.maxAttempts);
              } else {
                expect(['from event', 'from retrieve']).toContain(out.text);
                expect(out.source).toBe(out.text === 'from event' ? 'event' : 'retrieve');
              }
            }
          },
        } as never,
      });
    });
  }
});
