// Client item validation (conversation.item.create and response.create `input`), both dialects.
import type { ConversationItem } from 'openai/resources/realtime/realtime';
import { E, type EmulatorError } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export const MAX_ITEM_ID_LENGTH = 32;

export interface ValidItem {
  item: ConversationItem & { id?: string };
  /** Decoded input audio of a user input_audio part, if any. */
  audio?: Buffer;
}

const USER_PARTS = ['input_text', 'input_audio', 'input_image'];

/**
 * Validates an item in GA shape (beta items are translated first). `dialect` only changes the
 * names quoted in error messages (beta assistant parts are `text`, GA `output_text`).
 */
export function validateItem(raw: unknown, dialect: 'ga' | 'beta', path = 'item'): ValidItem | EmulatorError {
  if (!isObj(raw)) return raw === undefined ? E.missingParameter(path) : E.invalidType(path, 'an object', raw);
  if (raw.id !== undefined) {
    if (typeof raw.id !== 'string') return E.invalidType(`${path}.id`, 'a string', raw.id);
    if (raw.id.length > MAX_ITEM_ID_LENGTH) return E.stringTooLong(`${path}.id`, MAX_ITEM_ID_LENGTH, raw.id.length);
  }
  const type = raw.type ?? 'message';
  if (raw.status !== undefined && !['completed', 'incomplete', 'in_progress'].includes(raw.status as string))
    return E.invalidValue(`${path}.status`, raw.status, ['completed', 'incomplete', 'in_progress']);
  const base = { ...(typeof raw.id === 'string' ? { id: raw.id } : {}), object: 'realtime.item' as const };
  if (type === 'function_call') {
    for (const k of ['name', 'arguments'] as const) {
      if (raw[k] === undefined) return E.missingParameter(`${path}.${k}`);
      if (typeof raw[k] !== 'string') return E.invalidType(`${path}.${k}`, 'a string', raw[k]);
    }
    if (raw.call_id !== undefined && typeof raw.call_id !== 'string') return E.invalidType(`${path}.call_id`, 'a string', raw.call_id);
    if (typeof raw.call_id === 'string' && raw.call_id.length > MAX_ITEM_ID_LENGTH) return E.stringTooLong(`${path}.call_id`, MAX_ITEM_ID_LENGTH, raw.call_id.length);
    return {
      item: {
        ...base,
        type: 'function_call',
        status: 'completed',
        name: raw.name as string,
        arguments: raw.arguments as string,
        ...(typeof raw.call_id === 'string' ? { call_id: raw.call_id } : {}),
      },
    };
  }
  if (type === 'function_call_output') {
    for (const k of ['call_id', 'output'] as const) {
      if (raw[k] === undefined) return E.missingParameter(`${path}.${k}`);
      if (typeof raw[k] !== 'string') return E.invalidType(`${path}.${k}`, 'a string', raw[k]);
    }
    if ((raw.call_id as string).length > MAX_ITEM_ID_LENGTH) return E.stringTooLong(`${path}.call_id`, MAX_ITEM_ID_LENGTH, (raw.call_id as string).length);
    return { item: { ...base, type: 'function_call_output', status: 'completed', call_id: raw.call_id as string, output: raw.output as string } };
  }
  if (type !== 'message') return E.invalidValue(`${path}.type`, type, ['message', 'function_call', 'function_call_output']);
  const role = raw.role;
  if (role === undefined) return E.missingParameter(`${path}.role`);
  if (role !== 'user' && role !== 'assistant' && role !== 'system') return E.invalidValue(`${path}.role`, role, ['user', 'assistant', 'system']);
  if (raw.content === undefined) return E.missingParameter(`${path}.content`);
  if (!Array.isArray(raw.content)) return E.invalidType(`${path}.content`, 'an array', raw.content);
  let audio: Buffer | undefined;
  const parts: Obj[] = [];
  for (let i = 0; i < raw.content.length; i++) {
    const p = raw.content[i];
    const pp = `${path}.content[${i}]`;
    if (!isObj(p)) return E.invalidType(pp, 'an object', p);
    const ptype = p.type;
    if (ptype === undefined) return E.missingParameter(`${pp}.type`);
    if (role === 'system') {
      if (ptype !== 'input_text') return E.valueMustBe(`${pp}.type`, ptype, 'input_text');
    } else if (role === 'user') {
      if (!USER_PARTS.includes(ptype as string)) {
        if (dialect === 'beta' && ptype === 'input_image') return E.invalidValue(`${pp}.type`, ptype, ['input_text', 'input_audio']);
        return E.invalidValue(`${pp}.type`, ptype, dialect === 'beta' ? ['input_text', 'input_audio'] : USER_PARTS);
      }
    } else {
      if (ptype === 'output_audio') return E.missingParameter(`${pp}.text`);
      if (ptype !== 'output_text') return E.valueMustBe(`${pp}.type`, ptype, dialect === 'beta' ? 'text' : 'output_text');
    }
    if (ptype === 'input_text' || ptype === 'output_text') {
      if (p.text === undefined) return E.missingParameter(`${pp}.text`);
      if (typeof p.text !== 'string') return E.invalidType(`${pp}.text`, 'a string', p.text);
      parts.push({ type: ptype, text: p.text });
    } else if (ptype === 'input_audio') {
      if (p.audio !== undefined) {
        if (typeof p.audio !== 'string') return E.invalidType(`${pp}.audio`, 'a string', p.audio);
        audio = Buffer.from(p.audio, 'base64');
      }
      if (p.transcript !== undefined && p.transcript !== null && typeof p.transcript !== 'string')
        return E.invalidType(`${pp}.transcript`, 'a string', p.transcript);
      parts.push({ type: 'input_audio', ...(typeof p.transcript === 'string' ? { transcript: p.transcript } : {}) });
    } else if (ptype === 'input_image') {
      if (typeof p.image_url !== 'string') return E.missingParameter(`${pp}.image_url`);
      parts.push({ type: 'input_image', image_url: p.image_url, ...(p.detail !== undefined ? { detail: p.detail } : {}) });
    }
  }
  return {
    item: { ...base, type: 'message', role, status: 'completed', content: parts } as ConversationItem,
    audio,
  };
}
