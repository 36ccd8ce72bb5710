// Model-based test of the REAL toolCall machine: xstate/graph walks the machine's own graph (invoke
// results, the timeout delay and CANCEL as descriptors) and every shortest path is replayed against a
// live actor whose validate/execute actors are controllable doubles and whose clock is simulated.
// The oracle below states, per final state, what the model must be told, written from the contract
// (README "Tools"), not read from the machine.
import { describe, expect, it } from 'vitest';
import { TestModel } from 'xstate/graph';
import { __unsafe_getAllOwnEventDescriptors as ownEvents, createActor, fromPromise, SimulatedClock, type AnyEventObject } from 'xstate';
import { toolCallMachine, type ToolCallInput, type Validation } from '../../machines/tool-call.machine.js';

const INPUT: ToolCallInput = { callId: 'call_abc', name: 'get_time', arguments: '{"city":"Tokyo"}', timeoutMs: 5000 };

const PAYLOADS: Record<string, AnyEventObject[]> = {
  'xstate.done.actor.validateArguments': [
    { type: 'xstate.done.actor.validateArguments', output: { ok: true, args: { city: 'Tokyo' } } },
    { type: 'xstate.done.actor.validateArguments', output: { ok: false, error: 'invalid arguments for get_time: city must be string' } },
  ],
  'xstate.error.actor.validateArguments': [{ type: 'xstate.error.actor.validateArguments', error: new Error('validator crashed') }],
  'xstate.done.actor.executeTool': [{ type: 'xstate.done.actor.executeTool', output: '{"time":"14:05"}' }],
  'xstate.error.actor.executeTool': [{ type: 'xstate.error.actor.executeTool', error: new Error('get_time failed: no network') }],
};

const model = new TestModel(toolCallMachine as never, {
  input: INPUT,
  events: (s: never) => ownEvents(s).flatMap((t: string) => PAYLOADS[t] ?? [{ type: t }]),
  stopWhen: (s: { status: string }) => s.status !== 'active',
  serializeState: (s: { value: unknown; context: { error: string | null; result: string | null } }) => JSON.stringify([s.value, s.context.error, s.context.result]),
} as never);

function createSut() {
  const clock = new SimulatedClock();
  const validations: { resolve(v: Validation): void; reject(e: unknown): void; input: { name: string; arguments: string } }[] = [];
  const executions: { resolve(v: string): void; reject(e: unknown): void; input: { name: string; callId: string; args: unknown }; signal: AbortSignal }[] = [];
  const actor = createActor(
    toolCallMachine.provide({
      actors: {
        validateArguments: fromPromise<Validation, { name: string; arguments: string }>(({ input }) => new Promise((resolve, reject) => validations.push({ resolve, reject, input }))),
        executeTool: fromPromise<string, { name: string; callId: string; args: unknown }>(({ input, signal }) => new Promise((resolve, reject) => executions.push({ resolve, reject, input, signal }))),
      },
    }),
    { input: INPUT, clock },
  );
  return { actor, clock, validations, executions };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** The contract: what the function_call_output says for each way a call can end. */
function oracle(path: AnyEventObject[]): { state: string; output: string; error: string | null } {
  const last = path.at(-1)!;
  switch (last.type) {
    case 'xstate.done.actor.executeTool':
      return { state: 'done', output: last.output as string, error: null };
    case 'xstate.error.actor.executeTool':
      return { state: 'failed', output: '{"error":"get_time failed: no network"}', error: 'get_time failed: no network' };
    case 'xstate.done.actor.validateArguments':
      return { state: 'failed', output: '{"error":"invalid arguments for get_time: city must be string"}', error: 'invalid arguments for get_time: city must be string' };
    case 'xstate.error.actor.validateArguments':
      return { state: 'failed', output: '{"error":"validator crashed"}', error: 'validator crashed' };
    case 'CANCEL':
      return { state: 'cancelled', output: 'cancelled', error: 'cancelled' };
    default:
      // The timeout (the only delayed transition).
      return { state: 'timedOut', output: '{"error":"get_time timed out after 5000 ms"}', error: 'get_time timed out after 5000 ms' };
  }
}

describe('toolCall machine (model-based)', () => {
  // Simple paths: every route to every state (CANCEL while validating and while running both count).
  const paths = model.getSimplePaths();

  it('the paths reach every state and take every kind of transition', () => {
    const states = new Set<string>();
    const events = new Set<string>();
    for (const p of paths) for (const step of p.steps) {
      states.add(JSON.stringify((step.state as unknown as { value: unknown }).value));
      events.add(step.event.type);
    }
    for (const s of ['validating', 'running', 'done', 'failed', 'cancelled', 'timedOut']) expect(states, s).toContain(JSON.stringify(s));
    for (const e of ['xstate.done.actor.validateArguments', 'xstate.error.actor.validateArguments', 'xstate.done.actor.executeTool', 'xstate.error.actor.executeTool', 'CANCEL', 'xstate.after.toolTimeout.toolCall.running']) {
      expect(events, e).toContain(e);
    }
  });

  for (const path of paths) {
    it(path.description, async () => {
      const sut = createSut();
      sut.actor.start();
      const taken: AnyEventObject[] = [];
      await path.test({
        events: {
          'xstate.done.actor.validateArguments': async ({ event }: { event: AnyEventObject }) => {
            taken.push(event);
            const v = sut.validations.at(-1)!;
            expect(v.input).toEqual({ name: 'get_time', arguments: '{"city":"Tokyo"}' });
            v.resolve(event.output as Validation);
            await flush();
          },
          'xstate.error.actor.validateArguments': async ({ event }: { event: AnyEventObject }) => {
            taken.push(event);
            sut.validations.at(-1)!.reject(event.error);
            await flush();
          },
          'xstate.done.actor.executeTool': async ({ event }: { event: AnyEventObject }) => {
            taken.push(event);
            const x = sut.executions.at(-1)!;
            // Only validated arguments reach the tool.
            expect(x.input).toEqual({ name: 'get_time', callId: 'call_abc', args: { city: 'Tokyo' } });
            x.resolve(event.output as string);
            await flush();
          },
          'xstate.error.actor.executeTool': async ({ event }: { event: AnyEventObject }) => {
            taken.push(event);
            sut.executions.at(-1)!.reject(event.error);
            await flush();
          },
          'xstate.after.toolTimeout.toolCall.running': async ({ event }: { event: AnyEventObject }) => {
            taken.push(event);
            // One millisecond short must not fire.
            sut.clock.increment(INPUT.timeoutMs - 1);
            await flush();
            expect(sut.actor.getSnapshot().value).toBe('running');
            sut.clock.increment(1);
            await flush();
          },
          CANCEL: async ({ event }: { event: AnyEventObject }) => {
            taken.push(event);
            sut.actor.send({ type: 'CANCEL' });
            await flush();
          },
        } as never,
        states: {
          '*': (expected: { value: unknown }) => {
            const snap = sut.actor.getSnapshot();
            expect(snap.value).toEqual(expected.value);
            // A tool runs only after a valid validation, at most once.
            const validated = taken.some((e) => e.type === 'xstate.done.actor.validateArguments' && (e.output as Validation).ok);
            expect(sut.executions.length).toBe(validated ? 1 : 0);
            if (snap.status !== 'done') return;
            const want = oracle(taken);
            expect(snap.value).toBe(want.state);
            expect(snap.output).toEqual({ callId: 'call_abc', name: 'get_time', arguments: '{"city":"Tokyo"}', status: want.state, output: want.output, error: want.error });
            // Ending early aborts the running tool's signal; a finished tool's signal is left alone.
            const x = sut.executions.at(-1);
            if (x) expect(x.signal.aborted).toBe(want.state === 'cancelled' || want.state === 'timedOut');
          },
        } as never,
      });
    });
  }
});

// Fixed paths, written out by hand: the model above derives its paths from the machine's own graph, so
// a transition removed from the machine also vanishes from the paths. These do not depend on the graph.
describe('toolCall machine (fixed paths)', () => {
  const CANCELLED = { callId: 'call_abc', name: 'get_time', arguments: '{"city":"Tokyo"}', status: 'cancelled', output: 'cancelled', error: 'cancelled' };
  const failedWith = (error: string) => ({ callId: 'call_abc', name: 'get_time', arguments: '{"city":"Tokyo"}', status: 'failed', output: JSON.stringify({ error }), error });

  it('CANCEL while validating ends cancelled and never runs the tool', async () => {
    const sut = createSut();
    sut.actor.start();
    sut.actor.send({ type: 'CANCEL' });
    await flush();
    expect(sut.actor.getSnapshot().output).toEqual(CANCELLED);
    sut.validations[0].resolve({ ok: true, args: {} });
    await flush();
    expect(sut.executions).toHaveLength(0);
  });

  it('CANCEL while running ends cancelled and aborts the tool', async () => {
    const sut = createSut();
    sut.actor.start();
    sut.validations[0].resolve({ ok: true, args: { city: 'Tokyo' } });
    await flush();
    sut.actor.send({ type: 'CANCEL' });
    await flush();
    expect(sut.actor.getSnapshot().output).toEqual(CANCELLED);
    expect(sut.executions[0].signal.aborted).toBe(true);
  });

  it('a failed validation or tool ends failed with its one-line reason', async () => {
    const invalid = createSut();
    invalid.actor.start();
    invalid.validations[0].resolve({ ok: false, error: 'city must be string' });
    await flush();
    expect(invalid.actor.getSnapshot().output).toEqual(failedWith('city must be string'));

    const crashed = createSut();
    crashed.actor.start();
    crashed.validations[0].reject(new Error('validator crashed'));
    await flush();
    expect(crashed.actor.getSnapshot().output).toEqual(failedWith('validator crashed'));
  });

  // Whatever a tool throws, the model gets one line: newlines and runs of spaces collapse, an empty
  // reason becomes "unknown error", a non-Error is shown as itself (a string) or as its JSON.
  const THROWN: [string, unknown, string][] = [
    ['a multi-line Error', new Error('get_time failed:\n  no network\t(retry later)  '), 'get_time failed: no network (retry later)'],
    ['a string', '  disk\r\nfull ', 'disk full'],
    ['an object', { code: 42, reason: 'quota' }, '{"code":42,"reason":"quota"}'],
    ['undefined', undefined, 'undefined'],
    ['an empty string', '', 'unknown error'],
    ['an Error with a blank message', new Error(' \n '), 'unknown error'],
  ];
  for (const [what, thrown, reason] of THROWN) {
    it(`a tool that throws ${what} fails with "${reason}"`, async () => {
      const sut = createSut();
      sut.actor.start();
      sut.validations[0].resolve({ ok: true, args: { city: 'Tokyo' } });
      await flush();
      sut.executions[0].reject(thrown);
      await flush();
      expect(sut.actor.getSnapshot().output).toEqual(failedWith(reason));
    });
  }

  it('a tool double resolving nothing still answers with a string (function_call_output.output is a string)', async () => {
    const sut = createSut();
    sut.actor.start();
    sut.validations[0].resolve({ ok: true, args: { city: 'Tokyo' } });
    await flush();
    sut.executions[0].resolve(undefined as never);
    await flush();
    expect(sut.actor.getSnapshot().output).toEqual({ callId: 'call_abc', name: 'get_time', arguments: '{"city":"Tokyo"}', status: 'done', output: '', error: null });
  });

  it('without the composition root providing them, the call fails saying what is missing', async () => {
    const bare = createActor(toolCallMachine, { input: INPUT }).start();
    await flush();
    expect(bare.getSnapshot().output).toEqual(failedWith('validateArguments not provided'));

    const validatedOnly = createActor(
      toolCallMachine.provide({ actors: { validateArguments: fromPromise<Validation, { name: string; arguments: string }>(async () => ({ ok: true, args: {} })) } }),
      { input: INPUT },
    ).start();
    await flush();
    expect(validatedOnly.getSnapshot().output).toEqual(failedWith('executeTool not provided'));
  });
});
