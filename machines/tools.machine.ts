// Tool coordination: one per session (child of the session, like the summariser). At an in-band
// response.done whose output holds function calls the session sends TOOLS.RUN; this machine spawns
// one `toolCall` actor per call (they run in parallel) and, when every call of that response has
// settled, reports TOOLS.SETTLED with all outputs at once, so the session sends the outputs and
// exactly one response.create. TOOLS.ABORT (barge-in, stop, reconnect) cancels every running call.
//
//   idle --TOOLS.RUN--> running --(every batch settled)--> idle
//
// States: idle running
import { enqueueActions, setup, type ActorRef, type DoneActorEvent, type Snapshot } from 'xstate';
import { toolCallMachine, type ToolCallOutput } from './tool-call.machine.js';

export interface ToolCallRequest {
  callId: string;
  name: string;
  arguments: string;
}

export type ToolsReport =
  | { type: 'TOOLS.STARTED'; responseId: string; callId: string; name: string; arguments: string }
  | { type: 'TOOLS.RESULT'; responseId: string; result: ToolCallOutput }
  /** Every call of the response has settled; `aborted`: a barge-in/stop cut them short (no response.create). */
  | { type: 'TOOLS.SETTLED'; responseId: string; outputs: ToolCallOutput[]; aborted: boolean };

export type ToolsParent = ActorRef<Snapshot<unknown>, ToolsReport>;

export interface ToolsInput {
  parentRef: ToolsParent;
  /** Per-tool timeout (ms) by name; others use defaultTimeoutMs. */
  timeouts: Record<string, number>;
  defaultTimeoutMs: number;
}

export interface Batch {
  responseId: string;
  pending: string[];
  outputs: ToolCallOutput[];
  aborted: boolean;
}

export interface ToolsContext extends ToolsInput {
  batches: Batch[];
}

export interface ToolCallDoneEvent extends DoneActorEvent<ToolCallOutput> {
  type: 'xstate.done.actor.toolCall.*';
}

export type ToolsEvent =
  | { type: 'TOOLS.RUN'; responseId: string; calls: ToolCallRequest[] }
  | { type: 'TOOLS.ABORT' }
  | ToolCallDoneEvent;

export const toolCallId = (callId: string) => `toolCall.${callId}`;

export const toolsMachine = setup({
  types: {
    input: {} as ToolsInput,
    context: {} as ToolsContext,
    events: {} as ToolsEvent,
  },
  actors: { toolCall: toolCallMachine },
  guards: {
    allSettled: ({ context }) => context.batches.length === 0,
  },
  actions: {
    run: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'TOOLS.RUN') return;
      const running = new Set(context.batches.flatMap((b) => b.pending));
      // A call id is answered once: a repeated response.done must not run the tool again.
      const calls = event.calls.filter((c, i, all) => !running.has(c.callId) && all.findIndex((x) => x.callId === c.callId) === i);
      if (calls.length === 0) return;
      for (const c of calls) {
        enqueue.spawnChild('toolCall', {
          id: toolCallId(c.callId),
          input: { ...c, timeoutMs: context.timeouts[c.name] ?? context.defaultTimeoutMs },
        });
        enqueue.sendTo(context.parentRef, { type: 'TOOLS.STARTED', responseId: event.responseId, ...c } satisfies ToolsReport);
      }
      const batch: Batch = { responseId: event.responseId, pending: calls.map((c) => c.callId), outputs: [], aborted: false };
      enqueue.assign({ batches: [...context.batches, batch] });
    }),
    abort: enqueueActions(({ context, enqueue }) => {
      for (const b of context.batches) for (const id of b.pending) enqueue.sendTo(toolCallId(id), { type: 'CANCEL' });
      enqueue.assign({ batches: context.batches.map((b) => ({ ...b, aborted: true })) });
    }),
    settleCall: enqueueActions(({ context, event, enqueue }) => {
      const out = (event as ToolCallDoneEvent).output;
      enqueue.stopChild(toolCallId(out.callId));
      const batch = context.batches.find((b) => b.pending.includes(out.callId));
      if (!batch) return;
      enqueue.sendTo(context.parentRef, { type: 'TOOLS.RESULT', responseId: batch.responseId, result: out } satisfies ToolsReport);
      const next: Batch = { ...batch, pending: batch.pending.filter((id) => id !== out.callId), outputs: [...batch.outputs, out] };
      if (next.pending.length === 0) {
        enqueue.sendTo(context.parentRef, {
          type: 'TOOLS.SETTLED',
          responseId: next.responseId,
          outputs: next.outputs,
          aborted: next.aborted || next.outputs.some((o) => o.status === 'cancelled'),
        } satisfies ToolsReport);
        enqueue.assign({ batches: context.batches.filter((b) => b !== batch) });
      } else {
        enqueue.assign({ batches: context.batches.map((b) => (b === batch ? next : b)) });
      }
    }),
  },
}).createMachine({
  id: 'tools',
  context: ({ input }) => ({ ...input, batches: [] }),
  initial: 'idle',
  on: {
    'xstate.done.actor.toolCall.*': { actions: 'settleCall' },
  },
  states: {
    idle: {
      description: 'No call running; TOOLS.RUN spawns one toolCall per call.',
      on: { 'TOOLS.RUN': { target: 'running', actions: 'run' } },
    },
    running: {
      description: 'Calls run in parallel; each response batch is reported settled once all its calls have.',
      always: { guard: 'allSettled', target: 'idle' },
      on: {
        'TOOLS.RUN': { actions: 'run' },
        'TOOLS.ABORT': { actions: 'abort' },
      },
    },
  },
});

export type ToolsMachine = typeof toolsMachine;
