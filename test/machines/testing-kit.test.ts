// The testing kit itself (realtime-context/testing): the scripted socket double runs the real session
// machine from a server script written as data, the clock helper measures delays exactly, and the
// controlled doubles record and settle invocations. Each test also shows the kit failing when the
// thing it checks is wrong, so a green kit test means something.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, setup, type AnyEventObject } from 'xstate';
import { sessionMachine, type SessionInput } from '../../machines/session.machine.js';
import { DEFAULT_POLICY } from '../../src/conversation/policy.js';
import {
  collectFailures,
  controlledActor,
  createTestClock,
  flushMacrotask,
  machineTestModel,
  runPath,
  reportCollector,
  scriptedSocket,
  toolDoubles,
  type ServerScript,
} from '../../src/testing/index.js';
import type { ToolsReport } from '../../machines/tools.machine.js';

const INPUT: SessionInput = {
  url: 'ws://kit.test/v1/realtime',
  dialect: 'ga',
  model: 'gpt-realtime',
  sessionConfig: { type: 'realtime' },
  policy: { ...DEFAULT_POLICY, triggerTokens: 1_000_000 },
};

// A whole text turn as the server would play it: data, not code.
const SERVER: ServerScript = {
  onOpen: [{ type: 'session.created', session: { id: 'sess_1', model: 'gpt-realtime' } }],
  steps: [
    { expect: 'session.update', reply: [{ type: 'session.updated', session: { id: 'sess_1' } }] },
    {
      expect: (e) => e.type === 'conversation.item.create' && JSON.stringify(e.item).includes('Tell me a story'),
      reply: [{ type: 'conversation.item.added', previous_item_id: null, item: { id: 'item_u1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Tell me a story' }] } }],
    },
    {
      expect: 'response.create',
      reply: [
        { type: 'response.created', response: { id: 'resp_1', status: 'in_progress', output: [] } },
        { type: 'conversation.item.added', previous_item_id: 'item_u1', item: { id: 'item_a1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a time.' }] } },
        {
          type: 'response.done',
          response: { id: 'resp_1', status: 'completed', output: [{ id: 'item_a1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a time.' }] }], usage: { total_tokens: 120, input_tokens: 100, output_tokens: 20 } },
        },
      ],
    },
  ],
};

async function runSession(script: ServerScript) {
  const socket = scriptedSocket(script);
  const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket: socket.logic } }), { input: INPUT });
  const emitted: AnyEventObject[] = [];
  actor.on('*', (e) => emitted.push(e as AnyEventObject));
  actor.start();
  await flushMacrotask();
  actor.send({ type: 'USER.TEXT', text: 'Tell me a story' });
  await flushMacrotask();
  actor.send({ type: 'STOP' });
  await flushMacrotask();
  return { socket, actor, emitted };
}

describe('scriptedSocket: a server script as data', () => {
  it('plays a text turn through the real session machine; every script step is consumed, nothing unexpected', async () => {
    const { socket, actor, emitted } = await runSession(SERVER);
    const conn = socket.current();
    expect(conn.remaining).toEqual([]);
    expect(conn.unexpected).toEqual([]);
    expect(conn.sent.map((e) => e.type)).toEqual(['session.update', 'conversation.item.create', 'response.create']);
    expect(conn.commands.at(-1)).toMatchObject({ type: 'CLOSE', code: 1000 });
    expect(actor.getSnapshot().status).toBe('done');
    const turns = emitted.filter((e) => e.type === 'turn').map((e) => (e.turn as { id: string; text: string }).id);
    expect(turns).toEqual(expect.arrayContaining(['item_u1', 'item_a1']));
    expect(emitted.filter((e) => e.type === 'window').map((e) => (e.window as { tokens: number }).tokens)).toEqual([120]);
  });

  it('reports the steps a client never reached and the events the script did not expect', async () => {
    const script: ServerScript = {
      ...SERVER,
      // The script expects the response.create first: the item create is unexpected, the rest never comes.
      steps: [SERVER.steps![0], SERVER.steps![2], SERVER.steps![1]],
    };
    const { socket } = await runSession(script);
    const conn = socket.current();
    expect(conn.unexpected.map((e) => e.type)).toEqual(['conversation.item.create']);
    expect(conn.remaining.length).toBe(1);
  });

  it('a command other than SEND puts nothing on the wire and closes, as the real socket adapter does', async () => {
    const socket = scriptedSocket(SERVER);
    const link = createActor(socket.logic, { input: { url: INPUT.url } }).start();
    link.send({ type: 'SEND', event: { type: 'session.update', session: {} } });
    link.send({ type: 'SND', event: { type: 'response.create' } } as never);
    await flushMacrotask();
    const conn = socket.current();
    expect(conn.sent.map((e) => e.type)).toEqual(['session.update']);
    expect(conn.closed).toBe(true);
    link.stop();
  });

  it('matches client events by type, by partial shape or by predicate', async () => {
    const { matches } = await import('../../src/testing/index.js');
    const ev = { type: 'conversation.item.create', previous_item_id: 'root', item: { id: 'seed_0' } };
    expect(matches('conversation.item.create', ev)).toBe(true);
    expect(matches({ previous_item_id: 'root' }, ev)).toBe(true);
    expect(matches({ previous_item_id: 'item_1' }, ev)).toBe(false);
    expect(matches((e) => (e.item as { id: string }).id.startsWith('seed_'), ev)).toBe(true);
  });
});

describe('createTestClock', () => {
  const waiter = setup({ delays: { wait: 500 } }).createMachine({ initial: 'a', states: { a: { after: { wait: 'b' } }, b: {} } });

  it('expectDelay passes for the exact delay and names the expected one otherwise', async () => {
    for (const [ms, ok] of [[500, true], [400, false], [600, false]] as const) {
      const time = createTestClock();
      const actor = createActor(waiter, { clock: time.clock }).start();
      const result = await time.expectDelay(ms, () => actor.getSnapshot().value === 'b', 'the wait').then(() => 'ok', (e: Error) => e.message);
      if (ok) expect(result).toBe('ok');
      else expect(result).toMatch(ms < 500 ? /did not fire after 400 ms/ : /fired before 600 ms/);
      // It stops where it found out: one millisecond short when the delay fired early.
      expect(time.now).toBe(ms > 500 ? ms - 1 : ms);
    }
  });
});

describe('controlledActor and machineTestModel', () => {
  const fetcher = setup({
    actors: { load: fromPromise<string, { n: number }>(async () => 'real') },
    guards: { long: (_, p: { text: string }) => p.text.length > 3 },
  }).createMachine({
    initial: 'loading',
    states: {
      loading: {
        invoke: {
          id: 'load',
          src: 'load',
          input: { n: 1 },
          onDone: [{ guard: { type: 'long', params: ({ event }) => ({ text: event.output }) }, target: 'long' }, { target: 'short' }],
          onError: 'failed',
        },
      },
      long: { type: 'final' },
      short: { type: 'final' },
      failed: { type: 'final' },
    },
  });
  const model = machineTestModel(fetcher, {
    payloads: { 'xstate.done.actor.load': [{ type: 'xstate.done.actor.load', output: 'hello' }, { type: 'xstate.done.actor.load', output: 'hi' }] },
  });
  const paths = model.getShortestPaths();
  const expectedEnd: Record<string, string> = { hello: 'long', hi: 'short' };
  const check = (machine: typeof fetcher) => (path: (typeof paths)[number]) => {
    const load = controlledActor<string, { n: number }>('load');
    const actor = createActor(machine.provide({ actors: { load: load.logic } })).start();
    let end = 'loading';
    return runPath(path, {
      execute(ev) {
        if (ev.type === 'xstate.done.actor.load') {
          load.resolve(ev.output as string);
          end = expectedEnd[ev.output as string];
        } else {
          load.reject(new Error('down'));
          end = 'failed';
        }
      },
      check: () => expect(actor.getSnapshot().value).toBe(end),
      invariants: { 'one load per run': () => load.calls.length === 1 && load.calls[0].input.n === 1 },
    });
  };

  it('walks every payload branch and the error, and replays them', async () => {
    expect(paths.map((p) => p.steps.at(-1)!.event.type).sort()).toEqual(['xstate.done.actor.load', 'xstate.done.actor.load', 'xstate.error.actor.load']);
    expect(await collectFailures(paths, check(fetcher))).toEqual([]);
  });

  it('catches a broken guard, and names the step', async () => {
    const failures = await collectFailures(paths, check(fetcher.provide({ guards: { long: () => true } })));
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toMatch(/step 1 \(xstate.done.actor.load \{"output":"hi"\}\)/);
  });

  it('reports a broken invariant by name', async () => {
    const [path] = paths;
    const failure = await runPath(path, { execute: () => undefined, invariants: { 'never true': () => 'it broke' } }).then(() => '', (e: Error) => e.message);
    expect(failure).toMatch(/invariant "never true" broken after step 0 \(xstate.init\): it broke/);
  });
});

describe('toolDoubles', () => {
  it('runs well-formed calls as controlled invocations and fails malformed arguments without running them', async () => {
    const { runs, machine } = toolDoubles();
    const parent = reportCollector<ToolsReport>();
    const tools = createActor(machine, { input: { parentRef: parent.ref, timeouts: {}, defaultTimeoutMs: 30_000 } }).start();
    tools.send({
      type: 'TOOLS.RUN', responseId: 'resp_1',
      calls: [{ callId: 'call_ok', name: 'lookup', arguments: '{"q":"weather"}' }, { callId: 'call_bad', name: 'lookup', arguments: '{"q":' }],
    });
    await flushMacrotask();
    expect(runs.calls.map((c) => [c.input.callId, c.input.args])).toEqual([['call_ok', { q: 'weather' }]]);
    runs.calls[0].resolve('sunny');
    await flushMacrotask();
    const settled = parent.events.find((e) => e.type === 'TOOLS.SETTLED') as Extract<ToolsReport, { type: 'TOOLS.SETTLED' }>;
    expect(settled.outputs.map((o) => [o.callId, o.status])).toEqual(expect.arrayContaining([['call_ok', 'done'], ['call_bad', 'failed']]));
    tools.stop();
  });
});
