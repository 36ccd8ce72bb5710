// GA <-> beta translation at the edge (realtime-protocol.md section 9). GA is the canonical shape
// inside the engine and the emulator; beta exists only on the wire to and from beta-speaking peers.
// Both the client socket adapter and the emulator use these functions, so one table is tested once.
import type { WireEvent } from './events.js';
import { isObject } from './parse.js';
import { setOwn } from './safe-json.js';
import { SERVER_EVENT_RENAMES_BETA_TO_GA } from './event-registry.js';

type Obj = Record<string, unknown>;

/** Server event names that changed between the dialects (beta -> GA): from the event registry. */
export { SERVER_EVENT_RENAMES_BETA_TO_GA };

export const SERVER_EVENT_RENAMES_GA_TO_BETA: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SERVER_EVENT_RENAMES_BETA_TO_GA).map(([b, g]) => [g, b]),
);

const AUDIO_FORMAT_GA_TO_BETA: Record<string, string> = {
  'audio/pcm': 'pcm16',
  'audio/pcmu': 'g711_ulaw',
  'audio/pcma': 'g711_alaw',
};
const AUDIO_FORMAT_BETA_TO_GA: Record<string, string> = {
  pcm16: 'audio/pcm',
  g711_ulaw: 'audio/pcmu',
  g711_alaw: 'audio/pcma',
};

/** Own-property lookup: event names like "constructor" must not find Object.prototype members. */
function lookup(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function audioFormatToBeta(format: unknown): string | undefined {
  if (!isObject(format) || typeof format.type !== 'string') return undefined;
  return lookup(AUDIO_FORMAT_GA_TO_BETA, format.type);
}

export function audioFormatFromBeta(format: unknown): Obj | undefined {
  if (typeof format !== 'string') return undefined;
  const type = lookup(AUDIO_FORMAT_BETA_TO_GA, format);
  if (!type) return undefined;
  return type === 'audio/pcm' ? { type, rate: 24000 } : { type };
}

/** Content part types: GA `output_text`/`output_audio` are beta `text`/`audio`. */
function contentToBeta(part: unknown): unknown {
  if (!isObject(part)) return part;
  if (part.type === 'output_text') return { ...part, type: 'text' };
  if (part.type === 'output_audio') return { ...part, type: 'audio' };
  return part;
}

function contentFromBeta(part: unknown, role: unknown): unknown {
  if (!isObject(part)) return part;
  // Beta assistant parts are `text`/`audio`; user and system parts keep their `input_*` names.
  if (role === 'assistant' || role === undefined) {
    if (part.type === 'text') return { ...part, type: 'output_text' };
    if (part.type === 'audio') return { ...part, type: 'output_audio' };
  }
  return part;
}

export function itemToBeta(item: unknown): unknown {
  if (!isObject(item) || !Array.isArray(item.content)) return item;
  return { ...item, content: item.content.map(contentToBeta) };
}

export function itemFromBeta(item: unknown): unknown {
  if (!isObject(item) || !Array.isArray(item.content)) return item;
  return { ...item, content: item.content.map((p) => contentFromBeta(p, item.role)) };
}

function modalitiesToBeta(m: unknown): string[] | undefined {
  if (!Array.isArray(m)) return undefined;
  // GA allows exactly one output modality; beta lists text alongside audio.
  return m.includes('audio') ? ['text', 'audio'] : ['text'];
}

function modalitiesFromBeta(m: unknown): string[] | undefined {
  if (!Array.isArray(m)) return undefined;
  return m.includes('audio') ? ['audio'] : ['text'];
}

/** One field that moved between the dialects: its GA path and its beta name, with value converters. */
interface FieldRule {
  ga: readonly string[];
  beta: string;
  toBeta?: (v: unknown) => unknown;
  fromBeta?: (v: unknown) => unknown;
}

const dropIdleTimeout = (td: unknown): unknown => {
  if (!isObject(td)) return td;
  const { idle_timeout_ms: _drop, ...rest } = td; // GA only
  return rest;
};

const MODALITIES: FieldRule = { ga: ['output_modalities'], beta: 'modalities', toBeta: modalitiesToBeta, fromBeta: modalitiesFromBeta };
const MAX_TOKENS: FieldRule = { ga: ['max_output_tokens'], beta: 'max_response_output_tokens' };
const OUTPUT_FORMAT: FieldRule = { ga: ['audio', 'output', 'format'], beta: 'output_audio_format', toBeta: audioFormatToBeta, fromBeta: audioFormatFromBeta };
const VOICE: FieldRule = { ga: ['audio', 'output', 'voice'], beta: 'voice' };

const SESSION_FIELDS: readonly FieldRule[] = [
  MODALITIES,
  MAX_TOKENS,
  { ga: ['audio', 'input', 'format'], beta: 'input_audio_format', toBeta: audioFormatToBeta, fromBeta: audioFormatFromBeta },
  { ga: ['audio', 'input', 'transcription'], beta: 'input_audio_transcription' },
  { ga: ['audio', 'input', 'noise_reduction'], beta: 'input_audio_noise_reduction' },
  { ga: ['audio', 'input', 'turn_detection'], beta: 'turn_detection', toBeta: dropIdleTimeout },
  OUTPUT_FORMAT,
  VOICE,
  { ga: ['audio', 'output', 'speed'], beta: 'speed' },
];
const RESPONSE_FIELDS: readonly FieldRule[] = [MODALITIES, MAX_TOKENS, OUTPUT_FORMAT, VOICE];

/** Fields that exist in one dialect only and are dropped when translating to the other. */
const GA_ONLY = ['type', 'truncation', 'include', 'prompt', 'reasoning', 'parallel_tool_calls'];
const BETA_ONLY = ['temperature'];

const ABSENT = Symbol('absent');

function getPath(o: Obj, path: readonly string[]): unknown {
  let cur: unknown = o;
  for (const k of path) {
    if (!isObject(cur) || !(k in cur)) return ABSENT;
    cur = cur[k];
  }
  return cur;
}

function setPath(o: Obj, path: readonly string[], v: unknown): void {
  let cur = o;
  for (const k of path.slice(0, -1)) cur = (isObject(cur[k]) ? cur[k] : (cur[k] = {})) as Obj;
  cur[path[path.length - 1]] = v;
}

/** Item lists inside responses (`output`, `input`) change content part names too. */
function mapItemLists(k: string, v: unknown, map: (item: unknown) => unknown): unknown {
  return (k === 'output' || k === 'input') && Array.isArray(v) ? v.map(map) : v;
}

function translateToBeta(o: Obj, rules: readonly FieldRule[], gaOnly: readonly string[]): Obj {
  const moved = new Set(rules.map((r) => r.ga[0]));
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!moved.has(k) && !gaOnly.includes(k)) setOwn(out, k, mapItemLists(k, v, itemToBeta));
  for (const r of rules) {
    const v = getPath(o, r.ga);
    if (v !== ABSENT) out[r.beta] = r.toBeta ? r.toBeta(v) : v;
  }
  return out;
}

function translateFromBeta(o: Obj, rules: readonly FieldRule[], start: Obj = {}): Obj {
  const moved = new Set(rules.map((r) => r.beta));
  const out: Obj = { ...start };
  for (const [k, v] of Object.entries(o)) if (!moved.has(k) && !BETA_ONLY.includes(k)) setOwn(out, k, mapItemLists(k, v, itemFromBeta));
  for (const r of rules) if (r.beta in o) setPath(out, r.ga, r.fromBeta ? r.fromBeta(o[r.beta]) : o[r.beta]);
  return out;
}

/** GA nested session config -> beta flat session config. Fields beta does not know are dropped. */
export function sessionToBeta(session: unknown): Obj {
  return isObject(session) ? translateToBeta(session, SESSION_FIELDS, GA_ONLY) : {};
}

/** Beta flat session config -> GA nested session config (adds `type: "realtime"`). */
export function sessionFromBeta(session: unknown): Obj {
  return translateFromBeta(isObject(session) ? session : {}, SESSION_FIELDS, { type: 'realtime' });
}

/** GA response (as in response.created/done, or response.create params) -> beta shape. */
export function responseToBeta(response: unknown): unknown {
  return isObject(response) ? translateToBeta(response, RESPONSE_FIELDS, []) : response;
}

export function responseFromBeta(response: unknown): unknown {
  return isObject(response) ? translateFromBeta(response, RESPONSE_FIELDS) : response;
}

/** Client event, GA -> beta (client socket adapter, beta dialect). */
export function clientEventToBeta(ev: WireEvent): WireEvent {
  switch (ev.type) {
    case 'session.update':
      return { ...ev, session: sessionToBeta(ev.session) };
    case 'conversation.item.create':
      return { ...ev, item: itemToBeta(ev.item) };
    case 'response.create':
      return ev.response === undefined ? ev : { ...ev, response: responseToBeta(ev.response) };
    default:
      return ev;
  }
}

/** Client event, beta -> GA (emulator receiving a beta client, after beta validation). */
export function clientEventFromBeta(ev: WireEvent): WireEvent {
  switch (ev.type) {
    case 'session.update':
      return { ...ev, session: sessionFromBeta(ev.session) };
    case 'conversation.item.create':
      return { ...ev, item: itemFromBeta(ev.item) };
    case 'response.create':
      return ev.response === undefined ? ev : { ...ev, response: responseFromBeta(ev.response) };
    default:
      return ev;
  }
}

/**
 * Server event, GA -> beta (emulator serving a beta client). Returns the events to send: GA's
 * `conversation.item.done` has no beta counterpart (beta's single `created` carries the item).
 */
export function serverEventToBeta(ev: WireEvent): WireEvent[] {
  if (ev.type === 'conversation.item.done') return [];
  const type = lookup(SERVER_EVENT_RENAMES_GA_TO_BETA, ev.type) ?? ev.type;
  const out: WireEvent = { ...ev, type };
  if (ev.type === 'session.created' || ev.type === 'session.updated') out.session = sessionToBeta(ev.session);
  if ('item' in ev) out.item = itemToBeta(ev.item);
  if ('part' in ev) out.part = contentToBeta(ev.part);
  if ('response' in ev) out.response = responseToBeta(ev.response);
  return [out];
}

/** Server event, beta -> GA (client socket adapter, beta dialect). */
export function serverEventFromBeta(ev: WireEvent): WireEvent {
  const type = lookup(SERVER_EVENT_RENAMES_BETA_TO_GA, ev.type) ?? ev.type;
  const out: WireEvent = { ...ev, type };
  if (ev.type === 'session.created' || ev.type === 'session.updated') {
    out.session = { ...sessionFromBeta(ev.session), ...(isObject(ev.session) && ev.session.id ? { id: ev.session.id } : {}) };
  }
  if ('item' in ev) out.item = itemFromBeta(ev.item);
  // Content-part events keep `text`/`audio`: that is also the GA SDK's type for
  // response.content_part.added/done (ResponseContentPartAddedEvent.Part.type), unlike items.
  if ('response' in ev) out.response = responseFromBeta(ev.response);
  return out;
}
