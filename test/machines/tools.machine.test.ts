// The tools coordinator on its own: parallel toolCall children, one TOOLS.SETTLED per response with
// every output, duplicate call ids run once, TOOLS.ABORT cancels what is running. The toolCall
// children are the real machine with controllable validate/execute doubles; the clock is simulated.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise, setup as setupMachine, SimulatedClock, type AnyEventObject } from 'xstate';
import { toolsMachine, type ToolsReport } from '../../machines/tools.machine.js';
import { toolCallMachine, type Validation } from '../../machines/tool-call.machine.js';

function setup(toolCall: unknown = undefined) {
  const reports: ToolsReport[] = [];
  const parent = createActor(fromCallback<AnyEventObject>(({ receive }) => receive((e) => reports.push(e as ToolsReport))));
  parent.start();
  const runs: { name: string; resolve(v: string): void; reject(e: unknown): void; signal: AbortSignal }[] = [];
  const clock = new SimulatedClock();
  const machine = toolsMachine.provide({
    actors: {
      toolCall: (toolCall as never) ?? toolCallMachine.provide({
        actors: {
          validateArguments: fromPromise<Validation, { name: string; arguments: string }>(async ({ input }) =>
            input.arguments === 'bad' ? { ok: false, error: `invalid arguments for ${input.name}` } : { ok: true, args: JSON.parse(input.arguments) }),
          executeTool: fromPromise<string, { name: string; callId: string; args: unknown }>(({ input, signal }) => new Promise((resolve, reject) => runs.push({ name: input.name, resolve, reject, signal }))),
        },
      }),
    },
  });
  const actor = createActor(machine, { input: { parentRef: parent as never, timeouts: { slow: 1000 }, defaultTimeoutMs: 30_000 }, clock });
  actor.start();
  return { actor, reports, runs, clock };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('tools coordinator', () => {
  it('runs the calls of a response in parallel and reports SETTLED once, with every output, after the last', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'resp_1', calls: [
      { callId: 'c1', name: 'a', arguments: '{}' },
      { callId: 'c2', name: 'b', arguments: '{}' },
      { callId: 'c3', name: 'c', arguments: 'bad' },
    ] });
    await flush();
    expect(t.actor.getSnapshot().value).toBe('running');
    expect(t.runs.map((r) => r.name)).toEqual(['a', 'b']); // both running at once; c never runs
    expect(t.reports.filter((r) => r.type === 'TOOLS.STARTED').map((r) => (r as { callId: string }).callId)).toEqual(['c1', 'c2', 'c3']);
    t.runs[1].resolve('B');
    await flush();
    expect(t.reports.some((r) => r.type === 'TOOLS.SETTLED')).toBe(false);
    t.runs[0].resolve('A');
    await flush();
    const settled = t.reports.filter((r) => r.type === 'TOOLS.SETTLED');
    expect(settled).toHaveLength(1);
    const s = settled[0] as Extract<ToolsReport, { type: 'TOOLS.SETTLED' }>;
    expect(s.responseId).toBe('resp_1');
    expect(s.aborted).toBe(false);
    expect(Object.fromEntries(s.outputs.map((o) => [o.callId, o.output]))).toEqual({ c1: 'A', c2: 'B', c3: '{"error":"invalid arguments for c"}' });
    expect(t.reports.filter((r) => r.type === 'TOOLS.RESULT')).toHaveLength(3);
    expect(t.actor.getSnapshot().value).toBe('idle');
    // Settled children are stopped (they would otherwise stay in snapshot.children).
    expect(Object.keys(t.actor.getSnapshot().children)).toEqual([]);
  });

  it('a call id already running is not run twice', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }, { callId: 'c1', name: 'a', arguments: '{}' }] });
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }] });
    await flush();
    expect(t.runs).toHaveLength(1);
  });

  it('uses the per-tool timeout, then the default', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'slow', arguments: '{}' }, { callId: 'c2', name: 'other', arguments: '{}' }] });
    await flush();
    t.clock.increment(1000);
    await flush();
    const results = t.reports.filter((r) => r.type === 'TOOLS.RESULT').map((r) => (r as Extract<ToolsReport, { type: 'TOOLS.RESULT' }>).result);
    expect(results.map((x) => [x.callId, x.status])).toEqual([['c1', 'timedOut']]);
    expect(t.runs[0].signal.aborted).toBe(true);
    expect(t.runs[1].signal.aborted).toBe(false);
    t.clock.increment(29_000);
    await flush();
    expect(t.runs[1].signal.aborted).toBe(true);
    const s = t.reports.find((r) => r.type === 'TOOLS.SETTLED') as Extract<ToolsReport, { type: 'TOOLS.SETTLED' }>;
    expect(s.outputs.map((o) => o.output)).toEqual(['{"error":"slow timed out after 1000 ms"}', '{"error":"other timed out after 30000 ms"}']);
  });

  it('TOOLS.ABORT cancels every running call: signals fire, outputs "cancelled", SETTLED says aborted', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }, { callId: 'c2', name: 'b', arguments: '{}' }] });
    await flush();
    t.runs[0].resolve('done first');
    await flush();
    t.actor.send({ type: 'TOOLS.ABORT' });
    await flush();
    expect(t.runs[1].signal.aborted).toBe(true);
    expect(t.runs[0].signal.aborted).toBe(false);
    const s = t.reports.find((r) => r.type === 'TOOLS.SETTLED') as Extract<ToolsReport, { type: 'TOOLS.SETTLED' }>;
    expect(s.aborted).toBe(true);
    expect(s.outputs.map((o) => [o.callId, o.status, o.output])).toEqual([['c1', 'done', 'done first'], ['c2', 'cancelled', 'cancelled']]);
  });

  const settledOf = (reports: ToolsReport[]) => reports.filter((r) => r.type === 'TOOLS.SETTLED') as Extract<ToolsReport, { type: 'TOOLS.SETTLED' }>[];

  it('a run with no new call starts nothing and reports nothing', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r0', calls: [] });
    await flush();
    expect(t.reports).toEqual([]);
    expect(t.actor.getSnapshot().value).toBe('idle');
    // Only ids already running: no second batch that would wait forever for them.
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }] });
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r2', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }] });
    await flush();
    t.runs[0].resolve('A');
    await flush();
    expect(settledOf(t.reports).map((s) => s.responseId)).toEqual(['r1']);
    expect(t.actor.getSnapshot().value).toBe('idle');
  });

  it('two responses in flight settle separately, each with its own outputs', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }, { callId: 'c2', name: 'b', arguments: '{}' }] });
    await flush();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r2', calls: [{ callId: 'c3', name: 'c', arguments: '{}' }, { callId: 'c4', name: 'd', arguments: '{}' }] });
    await flush();
    expect(t.runs.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
    t.runs[2].resolve('C');
    t.runs[0].resolve('A');
    await flush();
    expect(settledOf(t.reports)).toEqual([]);
    t.runs[1].resolve('B');
    await flush();
    expect(settledOf(t.reports).map((s) => [s.responseId, s.aborted, s.outputs.map((o) => o.output)])).toEqual([['r1', false, ['A', 'B']]]);
    expect(t.actor.getSnapshot().value).toBe('running');
    t.runs[3].resolve('D');
    await flush();
    expect(settledOf(t.reports).map((s) => [s.responseId, s.aborted, s.outputs.map((o) => o.output)])).toEqual([['r1', false, ['A', 'B']], ['r2', false, ['C', 'D']]]);
    expect(t.actor.getSnapshot().value).toBe('idle');
  });

  it('a response with a cancelled call is reported aborted (no response.create follows)', async () => {
    const t = setup();
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }, { callId: 'c2', name: 'b', arguments: '{}' }] });
    await flush();
    t.runs[0].resolve('A');
    await flush();
    (t.actor.getSnapshot().children as Record<string, { send(e: AnyEventObject): void }>)['toolCall.c2'].send({ type: 'CANCEL' });
    await flush();
    const [s] = settledOf(t.reports);
    expect(s.outputs.map((o) => o.status)).toEqual(['done', 'cancelled']);
    expect(s.aborted).toBe(true);
  });

  it('after TOOLS.ABORT a response stays aborted even if a call still finishes normally', async () => {
    // A toolCall stand-in that ignores CANCEL and finishes only when told: the abort must not be forgotten.
    const stubborn = setupMachine({ types: { input: {} as { callId: string; name: string; arguments: string } } }).createMachine({
      context: ({ input }) => input,
      initial: 'working',
      states: { working: { on: { FINISH: 'finished' } }, finished: { type: 'final' } },
      output: ({ context }) => ({ callId: context.callId, name: context.name, arguments: context.arguments, status: 'done' as const, output: 'late', error: null }),
    });
    const t = setup(stubborn);
    t.actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }] });
    await flush();
    t.actor.send({ type: 'TOOLS.ABORT' });
    await flush();
    (t.actor.getSnapshot().children as Record<string, { send(e: AnyEventObject): void }>)['toolCall.c1'].send({ type: 'FINISH' });
    await flush();
    const [s] = settledOf(t.reports);
    expect(s.outputs.map((o) => [o.callId, o.status])).toEqual([['c1', 'done']]);
    expect(s.aborted).toBe(true);
  });

  it('the default toolCall child is the real machine (it fails saying what was not provided)', async () => {
    const reports: ToolsReport[] = [];
    const parent = createActor(fromCallback<AnyEventObject>(({ receive }) => receive((e) => reports.push(e as ToolsReport)))).start();
    const actor = createActor(toolsMachine, { input: { parentRef: parent as never, timeouts: {}, defaultTimeoutMs: 30_000 } }).start();
    actor.send({ type: 'TOOLS.RUN', responseId: 'r1', calls: [{ callId: 'c1', name: 'a', arguments: '{}' }] });
    await flush();
    expect(settledOf(reports).map((s) => s.outputs.map((o) => o.output))).toEqual([['{"error":"validateArguments not provided"}']]);
  });
});
