// The tool contract (the Agents SDK's shape): name, description, parameters, execute.
import type { RealtimeAgent } from '../agent/handle.js';

/** A zod schema (zod 4): anything with `safeParse`; converted with z.toJSONSchema for the session. */
export interface ZodLike {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

export type JsonSchema = Record<string, unknown>;

export interface ToolContext {
  /** Aborted when the call is cancelled (barge-in, stop) or times out: stop work and return. */
  signal: AbortSignal;
  /** The model's call_id for this call. */
  callId: string;
  agent: RealtimeAgent;
}

export interface Tool<Args = any> {
  /** Function name the model calls: letters, digits, _ and -, at most 64 characters. */
  name: string;
  description?: string;
  /** JSON Schema (an object schema) or a zod schema; arguments are validated against it before execute. */
  parameters?: JsonSchema | ZodLike;
  /** Returns the result: a string is passed as is, anything else as JSON. Throwing gives the model an error output. */
  execute(args: Args, context: ToolContext): unknown;
  /** Give up (and abort the signal) after this long; default 30 s. */
  timeoutMs?: number;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

/** The declaration sent in session.update. */
export interface FunctionDeclaration {
  type: 'function';
  name: string;
  description: string;
  parameters: JsonSchema;
}

/** One settled tool call, as the agent reports and journals it (the journal's `tool` entry). */
export type { ToolCallRecord as ToolCallEvent } from '../conversation/journal.js';
