// One per function call the model makes: validate its arguments, run the tool, answer the model.
//
//   validating --valid--> running --resolved--> done
//       | invalid / error      | rejected ------> failed
//       v                      | after(timeout) -> timedOut
//     failed                   | CANCEL --------> cancelled
//   (CANCEL in validating -> cancelled)
//
// Leaving `running` stops the invoked `executeTool` actor, which aborts the tool's AbortSignal: a
// timed-out or cancelled tool is told to stop, and whatever it returns later is ignored. Every final
// state yields an `output` the model can read, so the conversation always gets a function_call_output.
//
// States: validating running done failed timedOut cancelled
import { assign, fromPromise, setup } from 'xstate';

export interface ToolCallInput {
  callId: string;
  name: string;
  /** The model's arguments, as the JSON text it streamed. */
  arguments: string;
  timeoutMs: number;
}

export type ToolCallStatus = 'done' | 'failed' | 'cancelled' | 'timedOut';

export interface ToolCallOutput {
  callId: string;
  name: string;
  arguments: string;
  status: ToolCallStatus;
  /** What goes into the function_call_output item (the result, or an error the model can read). */
  output: string;
  /** One-line reason for failed / timedOut / cancelled; null when done. */
  error: string | null;
}

/** What `validateArguments` resolves with. */
export type Validation = { ok: true; args: unknown } | { ok: false; error: string };
/** What the `executeTool` actor is given: the call with its validated arguments. */
export type ToolRunInput = { name: string; callId: string; args: unknown };

export type ToolCallEvent = { type: 'CANCEL' };

export interface ToolCallContext extends ToolCallInput {
  args: unknown;
  result: string | null;
  error: string | null;
  status: ToolCallStatus | null;
}

/** The exact output of a call aborted by a barge-in or stop(). */
export const CANCELLED_OUTPUT = 'cancelled';

/** Error outputs are JSON, so the model reads them as data about the call, not as a result. */
export function errorOutput(message: string): string {
  return JSON.stringify({ error: message });
}

export const toolCallMachine = setup({
  types: {
    input: {} as ToolCallInput,
    context: {} as ToolCallContext,
    events: {} as ToolCallEvent,
    output: {} as ToolCallOutput,
  },
  actors: {
    /** Parses and checks the arguments against the tool's schema; provided at the composition root. */
    validateArguments: fromPromise<Validation, { name: string; arguments: string }>(async () => {
      throw new Error('validateArguments not provided');
    }),
    /** Runs the tool; resolves with the serialised result. Its `signal` aborts when the call ends early. */
    executeTool: fromPromise<string, ToolRunInput>(async () => {
      throw new Error('executeTool not provided');
    }),
  },
  guards: {
    isValid: (_, params: { validation: Validation }) => params.validation.ok,
  },
  delays: {
    toolTimeout: ({ context }) => context.timeoutMs,
  },
  actions: {
    acceptArgs: assign({ args: (_, params: { validation: Validation }) => (params.validation.ok ? params.validation.args : undefined) }),
    rejectArgs: assign({ error: (_, params: { validation: Validation }) => (params.validation.ok ? null : params.validation.error) }),
    takeResult: assign({ result: (_, params: { result: string }) => params.result }),
    takeError: assign({ error: (_, params: { error: unknown }) => messageOf(params.error) }),
    noteTimeout: assign({ error: ({ context }) => `${context.name} timed out after ${context.timeoutMs} ms` }),
    settle: assign({ status: (_, params: { status: ToolCallStatus }) => params.status }),
  },
}).createMachine({
  id: 'toolCall',
  context: ({ input }) => ({ ...input, args: undefined, result: null, error: null, status: null }),
  initial: 'validating',
  states: {
    validating: {
      description: 'The model arguments are parsed and checked against the tool schema.',
      invoke: {
        id: 'validateArguments',
        src: 'validateArguments',
        input: ({ context }) => ({ name: context.name, arguments: context.arguments }),
        onDone: [
          {
            guard: { type: 'isValid', params: ({ event }) => ({ validation: event.output }) },
            target: 'running',
            actions: { type: 'acceptArgs', params: ({ event }) => ({ validation: event.output }) },
          },
          { target: 'failed', actions: { type: 'rejectArgs', params: ({ event }) => ({ validation: event.output }) } },
        ],
        onError: { target: 'failed', actions: { type: 'takeError', params: ({ event }) => ({ error: event.error }) } },
      },
      on: { CANCEL: 'cancelled' },
    },
    running: {
      description: 'The tool execute runs; leaving this state aborts its signal.',
      invoke: {
        id: 'executeTool',
        src: 'executeTool',
        input: ({ context }) => ({ name: context.name, callId: context.callId, args: context.args }),
        onDone: { target: 'done', actions: { type: 'takeResult', params: ({ event }) => ({ result: event.output }) } },
        onError: { target: 'failed', actions: { type: 'takeError', params: ({ event }) => ({ error: event.error }) } },
      },
      after: { toolTimeout: { target: 'timedOut', actions: 'noteTimeout' } },
      on: { CANCEL: 'cancelled' },
    },
    done: { type: 'final', description: 'The tool returned: its result is the output.', entry: { type: 'settle', params: { status: 'done' } } },
    failed: { type: 'final', description: 'Invalid arguments or the tool threw: the model gets the error.', entry: { type: 'settle', params: { status: 'failed' } } },
    timedOut: { type: 'final', description: 'The tool took longer than its timeout: aborted, the model is told.', entry: { type: 'settle', params: { status: 'timedOut' } } },
    cancelled: { type: 'final', description: 'Cancelled (barge-in, stop, a lost connection): the output says so.', entry: { type: 'settle', params: { status: 'cancelled' } } },
  },
  // Every final state settles `status` on entry, and failed/timedOut set `error` on the way in
  // (rejectArgs, takeError, noteTimeout); a cancelled call's output is the fixed CANCELLED_OUTPUT.
  output: ({ context }) => {
    const status = context.status!;
    const base = { callId: context.callId, name: context.name, arguments: context.arguments, status };
    if (status === 'done') return { ...base, output: context.result ?? '', error: null };
    if (status === 'cancelled') return { ...base, output: CANCELLED_OUTPUT, error: CANCELLED_OUTPUT };
    const error = context.error!;
    return { ...base, output: errorOutput(error), error };
  },
});

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e) ?? String(e);
  return m.replace(/\s+/g, ' ').trim() || 'unknown error';
}

export type ToolCallMachine = typeof toolCallMachine;
