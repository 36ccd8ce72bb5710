// GA <-> beta translation at the edge (realtime-protocol.md section 9). GA is the canonical shape
// inside the engine and the emulator; beta exists only on the wire to and from beta-speaking peers.
// Both the client socket adapter and the emulator use these functions, so one table is tested once.
import type { WireEvent } from './events.js';
import { isObject } from './parse.js';

type Obj = Record<string, unknown>;

/** Server event names that changed between the dialects (beta -> GA). */
export const SERVER_EVENT_RENAMES_BETA_TO_GA: Readonly<Record<string, string>> = {
  'response.text.delta': 'response.output_text.delta',
  'response.text.done': 'response.output_text.done',
  'response.audio.delta': 'response.output_audio.delta',
  'response.audio.done': 'response.output_audio.done',
  'response.audio_transcript.delta': 'response.output_audio_transcript.delta',
  'response.audio_transcript.done': 'response.output_audio_transcript.done',
  'conversation.item.created': 'conversation.item.added',
};

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

export function audioFormatToBeta(format: unknown): string | undefined {
  if (!isObject(format) || typeof format.type !== 'string') return undefined;
  return AUDIO_FORMAT_GA_TO_BETA[format.type];
}

export function audioFormatFromBeta(format: unknown): Obj | undefined {
  if (typeof format !== 'string') return undefined;
  const type = AUDIO_FORMAT_BETA_TO_GA[format];
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

/** GA nested session config -> beta flat session config. Fields beta does not know are dropped. */
export function sessionToBeta(session: unknown): Obj {
  if (!isObject(session)) return {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(session)) {
    switch (k) {
      case 'type':
      case 'truncation':
      case 'include':
      case 'prompt':
      case 'reasoning':
      case 'parallel_tool_calls':
      case 'audio':
        break;
      case 'output_modalities':
        out.modalities = modalitiesToBeta(v);
        break;
      case 'max_output_tokens':
        out.max_response_output_tokens = v;
        break;
      default:
        out[k] = v;
    }
  }
  const audio = isObject(session.audio) ? session.audio : undefined;
  const input = audio && isObject(audio.input) ? audio.input : undefined;
  const output = audio && isObject(audio.output) ? audio.output : undefined;
  if (input) {
    if ('format' in input) out.input_audio_format = audioFormatToBeta(input.format);
    if ('transcription' in input) out.input_audio_transcription = input.transcription;
    if ('noise_reduction' in input) out.input_audio_noise_reduction = input.noise_reduction;
    if ('turn_detection' in input) {
      const td = input.turn_detection;
      if (isObject(td)) {
        const { idle_timeout_ms: _drop, ...rest } = td;
        out.turn_detection = rest;
      } else out.turn_detection = td;
    }
  }
  if (output) {
    if ('format' in output) out.output_audio_format = audioFormatToBeta(output.format);
    if ('voice' in output) out.voice = output.voice;
    if ('speed' in output) out.speed = output.speed;
  }
  return out;
}

/** Beta flat session config -> GA nested session config (adds `type: "realtime"`). */
export function sessionFromBeta(session: unknown): Obj {
  if (!isObject(session)) return { type: 'realtime' };
  const out: Obj = { type: 'realtime' };
  const input: Obj = {};
  const output: Obj = {};
  for (const [k, v] of Object.entries(session)) {
    switch (k) {
      case 'modalities':
        out.output_modalities = modalitiesFromBeta(v);
        break;
      case 'max_response_output_tokens':
        out.max_output_tokens = v;
        break;
      case 'input_audio_format':
        input.format = audioFormatFromBeta(v);
        break;
      case 'output_audio_format':
        output.format = audioFormatFromBeta(v);
        break;
      case 'input_audio_transcription':
        input.transcription = v;
        break;
      case 'input_audio_noise_reduction':
        input.noise_reduction = v;
        break;
      case 'turn_detection':
        input.turn_detection = v;
        break;
      case 'voice':
        output.voice = v;
        break;
      case 'speed':
        output.speed = v;
        break;
      case 'temperature':
        break; // not in GA
      default:
        out[k] = v;
    }
  }
  if (Object.keys(input).length || Object.keys(output).length) {
    out.audio = {
      ...(Object.keys(input).length ? { input } : {}),
      ...(Object.keys(output).length ? { output } : {}),
    };
  }
  return out;
}

/** GA response (as in response.created/done, or response.create params) -> beta shape. */
export function responseToBeta(response: unknown): unknown {
  if (!isObject(response)) return response;
  const out: Obj = {};
  for (const [k, v] of Object.entries(response)) {
    switch (k) {
      case 'output_modalities':
        out.modalities = modalitiesToBeta(v);
        break;
      case 'max_output_tokens':
        out.max_response_output_tokens = v;
        break;
      case 'audio': {
        const o = isObject(v) && isObject(v.output) ? v.output : undefined;
        if (o?.voice !== undefined) out.voice = o.voice;
        if (o?.format !== undefined) out.output_audio_format = audioFormatToBeta(o.format);
        break;
      }
      case 'output':
      case 'input':
        out[k] = Array.isArray(v) ? v.map(itemToBeta) : v;
        break;
      default:
        out[k] = v;
    }
  }
  return out;
}

export function responseFromBeta(response: unknown): unknown {
  if (!isObject(response)) return response;
  const out: Obj = {};
  const output: Obj = {};
  for (const [k, v] of Object.entries(response)) {
    switch (k) {
      case 'modalities':
        out.output_modalities = modalitiesFromBeta(v);
        break;
      case 'max_response_output_tokens':
        out.max_output_tokens = v;
        break;
      case 'voice':
        output.voice = v;
        break;
      case 'output_audio_format':
        output.format = audioFormatFromBeta(v);
        break;
      case 'temperature':
        break;
      case 'output':
      case 'input':
        out[k] = Array.isArray(v) ? v.map(itemFromBeta) : v;
        break;
      default:
        out[k] = v;
    }
  }
  if (Object.keys(output).length) out.audio = { output };
  return out;
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
  const type = SERVER_EVENT_RENAMES_GA_TO_BETA[ev.type] ?? ev.type;
  const out: WireEvent = { ...ev, type };
  if (ev.type === 'session.created' || ev.type === 'session.updated') out.session = sessionToBeta(ev.session);
  if ('item' in ev) out.item = itemToBeta(ev.item);
  if ('part' in ev) out.part = contentToBeta(ev.part);
  if ('response' in ev) out.response = responseToBeta(ev.response);
  return [out];
}

/** Server event, beta -> GA (client socket adapter, beta dialect). */
export function serverEventFromBeta(ev: WireEvent): WireEvent {
  const type = SERVER_EVENT_RENAMES_BETA_TO_GA[ev.type] ?? ev.type;
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
