// The session's side of tools (a small seam): which calls a response.done holds, and the actions
// that start, report, answer and abort them. The `tools` child (machines/tools.machine.ts) runs the
// calls; the session sends their outputs and exactly one response.create (through the queue region).
import { isObject } from '../../src/protocol/parse.js';
import type { ToolCallRequest } from '../tools.machine.js';
import type { Enqueue } from './effects.js';
import type { SessionContext, SessionEvent } from './types.js';

/** Completed function_call items of an in-band response.done, in order. */
export function functionCalls(response: unknown): ToolCallRequest[] {
  if (!isObject(response) || (response.status !== undefined && response.status !== 'completed') || !Array.isArray(response.output)) return [];
  return response.output.flatMap((item) =>
    isObject(item) && item.type === 'function_call' && typeof item.call_id === 'string' && typeof item.name === 'string'
      ? [{ callId: item.call_id, name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '' }]
      : [],
  );
}

/** TOOLS.CALLED: hand the calls to the tools child and remember the response until they settle. */
export function runTools(context: SessionContext, event: SessionEvent, enqueue: Enqueue): void {
  if (event.type !== 'TOOLS.CALLED' || !context.input.tools) return;
  enqueue.assign({ toolBatches: [...context.toolBatches, event.responseId] });
  enqueue.sendTo('tools', { type: 'TOOLS.RUN', responseId: event.responseId, calls: event.calls });
}

/** Barge-in, stop() and a lost connection end running calls (signals abort; output "cancelled"). */
export function abortTools(context: SessionContext, enqueue: Enqueue): void {
  if (context.input.tools && context.toolBatches.length > 0) enqueue.sendTo('tools', { type: 'TOOLS.ABORT' });
}

/** TOOLS.STARTED / RESULT are relayed to the agent; SETTLED outside `live` only ends the batch. */
export function reportTools(context: SessionContext, event: SessionEvent, enqueue: Enqueue): void {
  if (event.type === 'TOOLS.STARTED') enqueue.emit({ type: 'tool.call', responseId: event.responseId, callId: event.callId, name: event.name, arguments: event.arguments });
  else if (event.type === 'TOOLS.RESULT') enqueue.emit({ type: 'tool.result', responseId: event.responseId, result: event.result });
  else if (event.type === 'TOOLS.SETTLED') enqueue.assign({ toolBatches: context.toolBatches.filter((r) => r !== event.responseId) });
}

/** Live: every output goes in; then TOOLS.ANSWERED asks the queue region for one response.create. */
export function answerTools(context: SessionContext, event: SessionEvent, enqueue: Enqueue): void {
  if (event.type !== 'TOOLS.SETTLED') return;
  enqueue.assign({ toolBatches: context.toolBatches.filter((r) => r !== event.responseId) });
  for (const o of event.outputs) {
    enqueue.sendTo('socket', { type: 'SEND', event: { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: o.callId, output: o.output } } });
  }
  // A barge-in cut the calls short: the user's new turn gets its own response.
  if (!event.aborted) enqueue.raise({ type: 'TOOLS.ANSWERED', responseId: event.responseId });
}
