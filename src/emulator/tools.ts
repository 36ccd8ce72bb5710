// Model-initiated function calls: which tools the deterministic model calls, and with what
// arguments (README "Function calling"). Pure functions of the tools and the user's text.
import { setOwn } from '../protocol/safe-json.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Non-standard field on a user item (conversation.item.create, input_audio_buffer.append/commit). */
export const TOOL_CALL_FIELD = 'x_tool_call';

/** Leading verbs that do not identify a tool (`get_time` is named by "time", not by "get"). */
export const GENERIC_VERBS = ['get', 'fetch', 'find', 'lookup', 'list', 'set', 'check', 'do', 'run'] as const;

/** One call the model will make: `arguments` is the JSON string streamed to the client. */
export interface PlannedCall {
  name: string;
  arguments: string;
}

/** A call as a test scripts it: arguments as an object or a JSON string; omitted = synthesised. */
export interface ToolCallScript {
  name: string;
  arguments?: string | Record<string, unknown>;
}

/** The declared function tools: `{type: "function", name, parameters}` (other tool types ignored). */
export function functionTools(tools: readonly unknown[]): Array<{ name: string; parameters: unknown }> {
  const out: Array<{ name: string; parameters: unknown }> = [];
  for (const t of tools) {
    if (!isObj(t) || typeof t.name !== 'string' || (t.type !== undefined && t.type !== 'function')) continue;
    out.push({ name: t.name, parameters: t.parameters });
  }
  return out;
}

/** Words of a tool name (`get_time`, `convertUnits`, `weather-now`), lower case, leading generic verb dropped. */
export function toolNameWords(name: string): string[] {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length && (GENERIC_VERBS as readonly string[]).includes(words[0])) words.shift();
  return words;
}

function textWords(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/**
 * The keyword rule: a tool is called when the text contains, as a whole word, one of its name's
 * words (leading generic verb excluded). Several tools named = several calls, in declaration order.
 */
export function toolsNamedIn(tools: readonly unknown[], text: string): string[] {
  const said = new Set(textWords(text));
  return functionTools(tools)
    .filter((t) => toolNameWords(t.name).some((w) => said.has(w)))
    .map((t) => t.name);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Position of the first whole-word, case-insensitive mention of `value` in `text`, or -1. */
function mentionAt(text: string, value: string): number {
  if (!value) return -1;
  const m = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRe(value)}(?![\\p{L}\\p{N}])`, 'iu').exec(text);
  return m ? m.index : -1;
}

/** The last capitalised word that is not the text's first word ("What time is it in Tokyo?" -> Tokyo). */
export function lastCapitalisedWord(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  for (let i = words.length - 1; i >= 1; i--) if (/^\p{Lu}/u.test(words[i])) return words[i];
  return undefined;
}

/**
 * Arguments from the tool's JSON Schema and the text, deterministically:
 * - string with `enum`: the enum values mentioned in the text, in order of mention; the n-th enum
 *   property takes the n-th distinct mention (values taken by earlier enum properties are skipped),
 *   else the first enum value;
 * - other strings: the last capitalised word that is not the first word, else `default`, else "";
 * - number / integer: the numbers of the text in order (integers rounded), else `default`, else 0;
 * - boolean: false; object / array: `default`, else {} / [];
 * - only required properties and optional ones whose value comes from the text (an enum mention or a number).
 */
export function synthesiseArguments(schema: unknown, text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObj(schema) || !isObj(schema.properties)) return out;
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((x): x is string => typeof x === 'string') : []);
  const numbers = (text.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number);
  let nextNumber = 0;
  const takenEnum = new Set<string>();
  const capitalised = lastCapitalisedWord(text);
  for (const [key, raw] of Object.entries(schema.properties)) {
    const p = isObj(raw) ? raw : {};
    const types = Array.isArray(p.type) ? p.type : [p.type];
    const must = required.has(key);
    if (Array.isArray(p.enum) && p.enum.length) {
      const mentioned = p.enum
        .map((v) => ({ v, at: mentionAt(text, String(v)) }))
        .filter((x) => x.at >= 0 && !takenEnum.has(String(x.v)))
        .sort((a, b) => a.at - b.at);
      if (mentioned.length) {
        takenEnum.add(String(mentioned[0].v));
        setOwn(out, key, mentioned[0].v);
      } else if (must) setOwn(out, key, p.enum[0]);
      continue;
    }
    if (types.includes('number') || types.includes('integer')) {
      if (nextNumber < numbers.length) {
        const n = numbers[nextNumber++];
        setOwn(out, key, types.includes('integer') && !types.includes('number') ? Math.round(n) : n);
      } else if (must) setOwn(out, key, typeof p.default === 'number' ? p.default : 0);
      continue;
    }
    if (!must) continue;
    if (types.includes('string')) setOwn(out, key, capitalised ?? (typeof p.default === 'string' ? p.default : ''));
    else if (types.includes('boolean')) setOwn(out, key, false);
    else if (types.includes('array')) setOwn(out, key, p.default ?? []);
    else setOwn(out, key, p.default ?? {});
  }
  return out;
}

/** Normalises an `x_tool_call` value (one call or a list); undefined when it is not one. */
export function parseToolCallHint(v: unknown): ToolCallScript[] | undefined {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  const out: ToolCallScript[] = [];
  for (const c of list) {
    if (!isObj(c) || typeof c.name !== 'string' || !c.name) return undefined;
    if (c.arguments !== undefined && typeof c.arguments !== 'string' && !isObj(c.arguments)) return undefined;
    out.push({ name: c.name, ...(c.arguments !== undefined ? { arguments: c.arguments as string | Record<string, unknown> } : {}) });
  }
  return out.length ? out : undefined;
}

/** A scripted call made concrete: given arguments as JSON, or synthesised from the declared schema. */
export function resolveScripted(calls: readonly ToolCallScript[], tools: readonly unknown[], text: string): PlannedCall[] {
  const declared = functionTools(tools);
  return calls.map((c) => {
    if (typeof c.arguments === 'string') return { name: c.name, arguments: c.arguments };
    if (c.arguments) return { name: c.name, arguments: JSON.stringify(c.arguments) };
    const schema = declared.find((t) => t.name === c.name)?.parameters;
    return { name: c.name, arguments: JSON.stringify(synthesiseArguments(schema, text)) };
  });
}

export interface ToolDecisionInput {
  tools: readonly unknown[];
  toolChoice: unknown;
  /** The latest user turn's text (typed or heard); undefined when there is none. */
  userText: string | undefined;
  /** `x_tool_call` of the latest user item. */
  hinted?: readonly ToolCallScript[];
  /** Calls scripted for this response by the control endpoint / handle. */
  scripted?: readonly ToolCallScript[];
  /** A function call already follows the latest user turn (the model answers it instead). */
  answered: boolean;
}

/**
 * Which calls the model makes in this response, in priority order: calls scripted for this
 * response; the latest user item's `x_tool_call` (both regardless of tools/tool_choice); then,
 * when the session has function tools, tool_choice is not "none" and no call answers the latest
 * user turn yet: tool_choice `{type:"function", name}` forces that tool; otherwise the keyword rule;
 * tool_choice "required" with no match calls the first tool.
 */
export function decideToolCalls(d: ToolDecisionInput): PlannedCall[] {
  const text = d.userText ?? '';
  if (d.scripted?.length) return resolveScripted(d.scripted, d.tools, text);
  if (d.answered) return [];
  if (d.hinted?.length) return resolveScripted(d.hinted, d.tools, text);
  const declared = functionTools(d.tools);
  if (!declared.length || d.toolChoice === 'none' || d.userText === undefined) return [];
  let names: string[];
  if (isObj(d.toolChoice) && d.toolChoice.type === 'function' && typeof d.toolChoice.name === 'string') names = [d.toolChoice.name];
  else {
    names = toolsNamedIn(declared, text);
    if (!names.length && d.toolChoice === 'required') names = [declared[0].name];
  }
  return names.map((name) => ({ name, arguments: JSON.stringify(synthesiseArguments(declared.find((t) => t.name === name)?.parameters, text)) }));
}

/** Splits a JSON arguments string into the deltas streamed for it (about 3 pieces, never empty). */
export function argumentDeltas(args: string): string[] {
  if (!args) return [''];
  const size = Math.max(1, Math.ceil(args.length / 3));
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out;
}
