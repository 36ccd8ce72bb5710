// provide()-ready doubles for the machines' promise actors. A controlled double records each call
// (its input) and leaves it pending until the test settles it, so a model-based test decides when
// and how every invocation ends; an answering double settles at once from a function of the input.
import { fromPromise, type PromiseActorLogic } from 'xstate';
import type { RetrieveResult } from '../../machines/transcript.machine.js';
import type { DeleteInput, DeleteOutput, InsertInput, SummariseInput } from '../../machines/summariser.machine.js';
import { toolCallMachine, type ToolRunInput, type Validation } from '../../machines/tool-call.machine.js';
import { toolsMachine } from '../../machines/tools.machine.js';

export interface Call<TOutput, TInput> {
  input: TInput;
  /** The invocation was cancelled (its state was left or the actor stopped). */
  readonly aborted: boolean;
  settled: boolean;
  resolve(value: TOutput): void;
  reject(error: unknown): void;
}

export interface ControlledActor<TOutput, TInput> {
  /** The logic to pass to `machine.provide({ actors: { name: double.logic } })`. */
  logic: PromiseActorLogic<TOutput, TInput>;
  /** Every invocation, in order. */
  calls: Call<TOutput, TInput>[];
  /** Invocations neither settled nor aborted. */
  pending(): Call<TOutput, TInput>[];
  /** Settles the latest pending invocation (throws when none is pending: the model expected one). */
  resolve(value: TOutput): void;
  reject(error?: unknown): void;
}

export function controlledActor<TOutput, TInput>(name = 'actor'): ControlledActor<TOutput, TInput> {
  const calls: Call<TOutput, TInput>[] = [];
  const logic = fromPromise<TOutput, TInput>(
    ({ input, signal }) =>
      new Promise<TOutput>((res, rej) => {
        const call: Call<TOutput, TInput> = {
          input,
          get aborted() {
            return signal.aborted;
          },
          settled: false,
          resolve(v) {
            call.settled = true;
            res(v);
          },
          reject(e) {
            call.settled = true;
            rej(e);
          },
        };
        calls.push(call);
      }),
  );
  const pending = () => calls.filter((c) => !c.settled && !c.aborted);
  const latest = () => {
    const c = pending().at(-1);
    if (!c) throw new Error(`${name}: no invocation is pending (${calls.length} so far)`);
    return c;
  };
  return {
    logic,
    calls,
    pending,
    resolve: (v) => latest().resolve(v),
    reject: (e = new Error(`${name} failed`)) => latest().reject(e),
  };
}

/** A double that answers every invocation from `answer(input)` (throw or reject to fail it). */
export function answeringActor<TOutput, TInput>(answer: (input: TInput) => TOutput | Promise<TOutput>): PromiseActorLogic<TOutput, TInput> {
  return fromPromise<TOutput, TInput>(async ({ input }) => answer(input));
}

// Typed for the machines' actors: `summarise`, `insertSummary`, `deleteItems` (summariser) and
// `retrieveItem` (transcript).
export const summariseDouble = () => controlledActor<{ text: string }, SummariseInput>('summarise');
export const insertSummaryDouble = () => controlledActor<void, InsertInput>('insertSummary');
export const deleteItemsDouble = () => controlledActor<DeleteOutput, DeleteInput>('deleteItems');
export const retrieveItemDouble = () => controlledActor<RetrieveResult, { itemId: string; attempt: number }>('retrieveItem');

/** Controlled doubles for all three summariser actors, with `actors` ready for `provide()`. */
export function summariserDoubles() {
  const summarise = summariseDouble();
  const insertSummary = insertSummaryDouble();
  const deleteItems = deleteItemsDouble();
  return {
    summarise,
    insertSummary,
    deleteItems,
    actors: { summarise: summarise.logic, insertSummary: insertSummary.logic, deleteItems: deleteItems.logic },
  };
}


/**
 * The real `tools` machine (and its `toolCall` children) for the session's `tools` actor, with arguments
 * parsed as JSON (a parse error fails validation, as a schema check would) and every tool run a
 * controlled invocation: `runs.calls[i].input.callId`, `.resolve(output)`, `.aborted` (barge-in, stop).
 */
export type { ToolRunInput };

export function toolDoubles() {
  const runs = controlledActor<string, ToolRunInput>('executeTool');
  const validateArguments = fromPromise<Validation, { name: string; arguments: string }>(async ({ input }) => {
    try {
      return { ok: true, args: JSON.parse(input.arguments) };
    } catch (e) {
      return { ok: false, error: `arguments are not JSON: ${(e as Error).message}` };
    }
  });
  const machine = toolsMachine.provide({ actors: { toolCall: toolCallMachine.provide({ actors: { validateArguments, executeTool: runs.logic } }) } });
  return { runs, machine, actors: { tools: machine } };
}
