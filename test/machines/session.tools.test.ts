// The session's side of tools (machines/session/tools.ts), driven through the real session, tools and
// toolCall machines: which items of a response.done run a tool (completed responses, function_call
// items with a call_id and a name), what the agent is told (tool.call / tool.result), the outputs and
// the single response.create that answer a batch, barge-in, and several batches at once. The socket
// is the testing kit's scripted double (played by hand); each tool run is a controlled double.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { sessionMachine, type SessionEmitted, type SessionInput } from '../../machines/session.machine.js';
import { toolsMachine } from '../../machines/tools.machine.js';
import { toolCallMachine, type Validation } from '../../machines/tool-call.machine.js';
import { resolvePolicy } from '../../src/conversation/policy.js';
import { answeringActor, controlledActor, createTestClock, flushMacrotask, scriptedSocket } from '../../src/testing/index.js';
import type { WireEvent } from '../../src/protocol/events.js';

function rig(extra: Partial<SessionInput> = {}) {
  const time = createTestClock();
  const socket = scriptedSocket({ open: false });
  // Arguments are accepted as they come (validation has its own tests); each run waits for the test.
  const validations: { name: string; arguments: string }[] = [];
  const validateArguments = answeringActor<Validation, { name: string; arguments: string }>((input) => {
    validations.push(input);
    return { ok: true, args: input.arguments };
  });
  const runs = controlledActor<string, { name: string; callId: string; args: unknown }>('executeTool');
  const tools = toolsMachine.provide({ actors: { toolCall: toolCallMachine.provide({ actors: { validateArguments, executeTool: runs.logic } }) } });
  const input: SessionInput = {
    url: 'ws://tools.test/v1/realtime', dialect: 'ga', model: 'gpt-realtime', sessionConfig: {}, policy: resolvePolicy({}),
    tools: { timeouts: {}, defaultTimeoutMs: 30_000 }, ...extra,
  };
  const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket: socket.logic, tools } }), { clock: time.clock, input });
  const crashes: unknown[] = [];
  actor.subscribe({ error: (e) => void crashes.push(e) });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => void emitted.push(e as SessionEmitted));
  actor.start();
  const conn = socket.current();
  conn.open();
  const server = (...events: WireEvent[]) => conn.push(...events);
  server({ type: 'session.created', session: { id: 'sess_1' } }, { type: 'session.updated', session: {} });
  expect(actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  const of = <T extends SessionEmitted['type']>(type: T) => emitted.filter((e): e is Extract<SessionEmitted, { type: T }> => e.type === type);
  const calledIds = () => of('tool.call').map((e) => e.callId);
  // What went on the wire: the socket's SEND commands (the double records any command's event).
  const wire = () => conn.commands.flatMap((c) => (c.type === 'SEND' ? [c.event] : []));
  const sentTypes = () => wire().map((e) => e.type).filter((t) => t !== 'session.update');
  const outputs = () => wire().filter((e) => e.type === 'conversation.item.create').map((e) => e.item as { call_id: string; output: string });
  const toolsRegion = () => (actor.getSnapshot().value as { online: { live: { tools: string } } }).online.live.tools;
  return { actor, conn, server, runs, validations, emitted, of, calledIds, sentTypes, outputs, toolsRegion, crashes, settle: flushMacrotask, context: () => actor.getSnapshot().context };
}

const call = (callId: string, name = 'lookup', args: unknown = '{"q":"weather"}') => ({ id: `item_${callId}`, type: 'function_call', status: 'completed', call_id: callId, name, arguments: args });
const respond = (s: ReturnType<typeof rig>, id: string, response: Record<string, unknown>) =>
  s.server({ type: 'response.created', response: { id, status: 'in_progress', output: [] } }, { type: 'response.done', response: { id, status: 'completed', ...response } });

describe('which items of a response.done run a tool', () => {
  it('every function_call of a completed response runs, in order, reported as tool.call', async () => {
    const s = rig();
    respond(s, 'resp_1', { output: [call('call_1', 'lookup', '{"q":"a"}'), { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'one moment' }] }, call('call_2', 'convert', '{"x":1}')] });
    await s.settle();
    expect(s.of('tool.call')).toEqual([
      { type: 'tool.call', responseId: 'resp_1', callId: 'call_1', name: 'lookup', arguments: '{"q":"a"}' },
      { type: 'tool.call', responseId: 'resp_1', callId: 'call_2', name: 'convert', arguments: '{"x":1}' },
    ]);
    expect(s.runs.calls.map((c) => c.input.callId)).toEqual(['call_1', 'call_2']);
    expect(s.context().toolBatches).toEqual(['resp_1']);
    expect(s.toolsRegion()).toBe('running');
  });

  it('a response.done without a status counts as completed', async () => {
    const s = rig();
    s.server({ type: 'response.created', response: { id: 'resp_1' } }, { type: 'response.done', response: { id: 'resp_1', output: [call('call_1')] } });
    await s.settle();
    expect(s.calledIds()).toEqual(['call_1']);
  });

  for (const status of ['incomplete', 'cancelled', 'failed']) {
    it(`a ${status} response runs none of its calls`, async () => {
      const s = rig();
      respond(s, 'resp_1', { status, output: [call('call_1')] });
      await s.settle();
      expect(s.calledIds()).toEqual([]);
      expect(s.runs.calls).toEqual([]);
      expect(s.context().toolBatches).toEqual([]);
      expect(s.toolsRegion()).toBe('idle');
    });
  }

  it('a function_call without a call_id or a name, or an item of another type, runs nothing', async () => {
    const s = rig();
    respond(s, 'resp_1', {
      output: [
        { id: 'item_a', type: 'function_call', status: 'completed', name: 'lookup', arguments: '{}' },
        { id: 'item_b', type: 'function_call', status: 'completed', call_id: 'call_b', arguments: '{}' },
        { id: 'item_c', type: 'function_call_output', call_id: 'call_c', name: 'lookup', output: 'x' },
        { id: 'item_d', type: 'message', role: 'assistant', call_id: 'call_d', name: 'lookup', content: [] },
        'not an item',
      ],
    });
    await s.settle();
    expect(s.calledIds()).toEqual([]);
    expect(s.toolsRegion()).toBe('idle');
  });

  it('a response without an output array runs nothing', async () => {
    const s = rig();
    respond(s, 'resp_1', { output: { 0: call('call_1') } });
    await s.settle();
    expect(s.calledIds()).toEqual([]);
  });

  it('arguments that are not a string are passed on as empty text', async () => {
    const s = rig();
    respond(s, 'resp_1', { output: [call('call_1', 'lookup', { q: 'weather' })] });
    await s.settle();
    expect(s.of('tool.call').map((e) => e.arguments)).toEqual(['']);
    expect(s.validations).toEqual([{ name: 'lookup', arguments: '' }]);
  });

  it('a session without tools runs no call (and has no tools child)', async () => {
    const s = rig({ tools: undefined });
    respond(s, 'resp_1', { output: [call('call_1')] });
    await s.settle();
    expect(s.calledIds()).toEqual([]);
    expect(s.context().toolBatches).toEqual([]);
    expect(s.sentTypes()).toEqual([]);
    // Nothing to abort at stop(): the session closes as usual.
    s.actor.send({ type: 'STOP' });
    await s.settle();
    expect(s.crashes).toEqual([]);
    expect(s.actor.getSnapshot().value).toBe('closed');
  });
});

describe('answering a batch', () => {
  it('the results are reported as they come; once all are in, every output goes in and one response.create follows', async () => {
    const s = rig();
    respond(s, 'resp_1', { output: [call('call_1'), call('call_2')] });
    await s.settle();
    s.runs.calls[1].resolve('"second"');
    await s.settle();
    expect(s.of('tool.result').map((e) => [e.responseId, e.result.callId, e.result.output])).toEqual([['resp_1', 'call_2', '"second"']]);
    expect(s.sentTypes()).toEqual([]); // the batch is not complete
    s.runs.calls[0].resolve('"first"');
    await s.settle();
    expect(s.of('tool.result').map((e) => e.result.callId)).toEqual(['call_2', 'call_1']);
    expect(s.outputs()).toEqual([
      { type: 'function_call_output', call_id: 'call_2', output: '"second"' },
      { type: 'function_call_output', call_id: 'call_1', output: '"first"' },
    ]);
    expect(s.sentTypes()).toEqual(['conversation.item.create', 'conversation.item.create', 'response.create']);
    expect(s.context().toolBatches).toEqual([]);
    expect(s.toolsRegion()).toBe('answering');
    s.server({ type: 'response.created', response: { id: 'resp_2' } });
    expect(s.toolsRegion()).toBe('idle');
  });

  it('a barge-in aborts the running calls: their "cancelled" outputs go in, but no response.create for them', async () => {
    const s = rig();
    respond(s, 'resp_1', { output: [call('call_1')] });
    await s.settle();
    s.actor.send({ type: 'INTERRUPT', itemId: '', playedMs: 0, audioMs: 0 });
    await s.settle();
    expect(s.runs.calls[0].aborted).toBe(true);
    expect(s.outputs()).toEqual([{ type: 'function_call_output', call_id: 'call_1', output: 'cancelled' }]);
    expect(s.sentTypes()).toEqual(['conversation.item.create']);
    expect(s.context().toolBatches).toEqual([]);
    expect(s.toolsRegion()).toBe('idle');
    // The user's next turn gets its own response.
    s.actor.send({ type: 'USER.TEXT', text: 'never mind' });
    expect(s.sentTypes().filter((t) => t === 'response.create')).toHaveLength(1);
  });

  it('two batches at once: settling one answers it and keeps the other running', async () => {
    const s = rig();
    respond(s, 'resp_1', { output: [call('call_1')] });
    respond(s, 'resp_2', { output: [call('call_2')] });
    await s.settle();
    expect(s.context().toolBatches).toEqual(['resp_1', 'resp_2']);
    s.runs.calls[0].resolve('"one"');
    await s.settle();
    expect(s.outputs()).toEqual([{ type: 'function_call_output', call_id: 'call_1', output: '"one"' }]);
    expect(s.context().toolBatches).toEqual(['resp_2']);
    expect(s.toolsRegion()).toBe('running');
    expect(s.runs.calls[1].aborted).toBe(false);
    s.runs.calls[1].resolve('"two"');
    await s.settle();
    expect(s.outputs().map((o) => o.call_id)).toEqual(['call_1', 'call_2']);
    expect(s.context().toolBatches).toEqual([]);
  });

  it('a call still running when the connection drops is aborted and its batch ends without an answer', async () => {
    const s = rig({ reconnect: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 100 } });
    respond(s, 'resp_1', { output: [call('call_1')] });
    await s.settle();
    s.conn.close(1006);
    await s.settle();
    expect(s.runs.calls[0].aborted).toBe(true);
    expect(s.context().toolBatches).toEqual([]);
    expect(s.outputs()).toEqual([]);
  });
});
