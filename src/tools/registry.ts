// Tool definitions -> what the session needs: function declarations for session.update, argument
// validation (zod schemas validate themselves; JSON Schemas through ajv) and a safe execute that
// always yields a string the model can read.
import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import { AgentError, oneLine } from '../errors.js';
import { DEFAULT_TOOL_TIMEOUT_MS } from './defaults.js';
import type { FunctionDeclaration, JsonSchema, Tool, ToolContext, ZodLike } from './types.js';

export type Validation = { ok: true; args: unknown } | { ok: false; error: string };

export interface ToolRegistry {
  readonly declarations: FunctionDeclaration[];
  readonly names: string[];
  /** Per-tool timeouts that differ from the default. */
  readonly timeouts: Record<string, number>;
  readonly defaultTimeoutMs: number;
  validate(name: string, argumentsText: string): Validation;
  /** Runs the tool and serialises its result; rejects with a one-line reason. */
  execute(name: string, args: unknown, context: ToolContext): Promise<string>;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

interface Entry {
  tool: Tool;
  check: (args: unknown) => Validation;
}

export function isZodSchema(s: unknown): s is ZodLike {
  return typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

/** Builds the registry; throws a one-line AgentError('bad_input') naming the tool and the fix. */
export function createToolRegistry(tools: unknown, defaultTimeoutMs = DEFAULT_TOOL_TIMEOUT_MS): ToolRegistry {
  if (!Array.isArray(tools)) throw bad('tools must be an array of { name, description, parameters, execute }');
  const ajv = new Ajv({ allErrors: false, strict: false });
  const entries = new Map<string, Entry>();
  const declarations: FunctionDeclaration[] = [];
  const timeouts: Record<string, number> = {};
  tools.forEach((raw, i) => {
    const where = `tool ${i + 1}`;
    if (typeof raw !== 'object' || raw === null) throw bad(`${where} is not an object: give { name, description, parameters, execute }`);
    const t = raw as Tool;
    if (typeof t.name !== 'string' || !NAME.test(t.name)) throw bad(`${where} has an invalid name ${JSON.stringify(t.name)}: use 1-64 letters, digits, _ or -`);
    if (entries.has(t.name)) throw bad(`two tools are named ${t.name}: tool names must be unique`);
    if (typeof t.execute !== 'function') throw bad(`tool ${t.name} has no execute function: add execute(args, { signal })`);
    if (t.description !== undefined && typeof t.description !== 'string') throw bad(`tool ${t.name}: description must be a string`);
    if (t.timeoutMs !== undefined && (!Number.isFinite(t.timeoutMs) || t.timeoutMs <= 0)) throw bad(`tool ${t.name}: timeoutMs must be a positive number of milliseconds`);
    let parameters: JsonSchema;
    let check: Entry['check'];
    if (isZodSchema(t.parameters)) {
      const schema = t.parameters;
      try {
        parameters = stripMeta(z.toJSONSchema(schema as unknown as z.ZodType) as JsonSchema);
      } catch (e) {
        throw bad(`tool ${t.name}: its zod schema cannot be expressed as JSON Schema (${(e as Error).message.split('\n')[0]}): use plain types`);
      }
      check = (args) => {
        const r = schema.safeParse(args);
        return r.success ? { ok: true, args: r.data } : { ok: false, error: r.error.issues.map((iss) => `${pathOf(iss.path)} ${iss.message}`).join('; ') };
      };
    } else {
      parameters = t.parameters === undefined ? { type: 'object', properties: {} } : stripMeta(t.parameters as JsonSchema);
      if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw bad(`tool ${t.name}: parameters must be a JSON Schema object or a zod schema`);
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(parameters);
      } catch (e) {
        throw bad(`tool ${t.name}: parameters is not a valid JSON Schema (${(e as Error).message.split('\n')[0]})`);
      }
      check = (args) =>
        validate(args)
          ? { ok: true, args }
          : { ok: false, error: (validate.errors ?? []).map((er) => `${er.instancePath ? er.instancePath.slice(1).replace(/\//g, '.') : 'arguments'} ${er.message ?? 'invalid'}${er.params && 'additionalProperty' in er.params ? ` (${String(er.params.additionalProperty)})` : ''}`).join('; ') };
    }
    if (t.timeoutMs !== undefined) timeouts[t.name] = t.timeoutMs;
    entries.set(t.name, { tool: t, check });
    declarations.push({ type: 'function', name: t.name, description: t.description ?? '', parameters });
  });
  return {
    declarations,
    names: [...entries.keys()],
    timeouts,
    defaultTimeoutMs,
    validate(name, argumentsText) {
      const e = entries.get(name);
      if (!e) return { ok: false, error: `there is no tool named ${name}; available: ${[...entries.keys()].join(', ') || 'none'}` };
      let args: unknown;
      try {
        args = argumentsText.trim() === '' ? {} : JSON.parse(argumentsText);
      } catch {
        return { ok: false, error: `invalid arguments for ${name}: not valid JSON` };
      }
      const r = e.check(args);
      return r.ok ? r : { ok: false, error: `invalid arguments for ${name}: ${r.error}` };
    },
    async execute(name, args, context) {
      const e = entries.get(name);
      if (!e) throw new Error(`there is no tool named ${name}`);
      let result: unknown;
      try {
        result = await e.tool.execute(args, context);
      } catch (err) {
        throw new Error(`${name} failed: ${oneLine(err instanceof Error ? err.message : String(err)) || 'unknown error'}`);
      }
      return serialise(name, result);
    },
  };
}

/** A string result goes as is; anything else must survive JSON.stringify. */
export function serialise(name: string, result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return JSON.stringify({ ok: true });
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (e) {
    throw new Error(`${name} returned a value that is not JSON-serialisable (${oneLine((e as Error).message) || 'unknown error'})`);
  }
  if (text === undefined) throw new Error(`${name} returned a ${typeof result}, which is not JSON-serialisable`);
  return text;
}

function stripMeta(s: JsonSchema): JsonSchema {
  if (typeof s !== 'object' || s === null) return s;
  const { $schema: _drop, ...rest } = s;
  return rest;
}

function pathOf(path: PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : 'arguments';
}


function bad(message: string): AgentError {
  return new AgentError('bad_input', message, true);
}
