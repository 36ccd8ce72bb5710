// Server items -> local turns. Tolerant of every item shape: function items have no role or content,
// assistant parts may be labelled `audio`/`text` (beta and some GA events) or `output_*`.
import { isObject } from '../protocol/parse.js';
import type { Role, Turn } from './turn.js';

const ROLES = new Set(['user', 'assistant', 'system']);

interface TextInfo {
  text: string | null;
  audio: boolean;
}

/** Text of an item's content: typed text parts first, then audio transcripts. */
export function contentText(content: unknown): TextInfo {
  if (!Array.isArray(content)) return { text: null, audio: false };
  let audio = false;
  const parts: string[] = [];
  let sawPendingAudio = false;
  for (const p of content) {
    if (!isObject(p)) continue;
    const t = p.type;
    if (t === 'input_text' || t === 'output_text' || t === 'text') {
      if (typeof p.text === 'string') parts.push(p.text);
    } else if (t === 'input_audio' || t === 'output_audio' || t === 'audio') {
      audio = true;
      if (typeof p.transcript === 'string') parts.push(p.transcript);
      else sawPendingAudio = true;
    }
  }
  // Audio whose transcript is still missing keeps the item pending even if another part had text.
  if (parts.length === 0 || sawPendingAudio) return { text: null, audio };
  return { text: parts.join(' '), audio };
}

/** Builds a turn from a server item (any type). Never throws. */
export function turnFromItem(item: unknown, now = Date.now()): Turn | null {
  if (!isObject(item) || typeof item.id !== 'string' || item.id.length === 0) return null;
  const type = item.type;
  if (type === 'function_call') {
    return {
      id: item.id,
      kind: 'function_call',
      role: null,
      text: typeof item.arguments === 'string' ? `${String(item.name ?? 'function')}(${item.arguments})` : null,
      textState: 'final',
      audio: false,
      callId: typeof item.call_id === 'string' ? item.call_id : undefined,
      name: typeof item.name === 'string' ? item.name : undefined,
      at: now,
    };
  }
  if (type === 'function_call_output') {
    return {
      id: item.id,
      kind: 'function_call_output',
      role: null,
      text: typeof item.output === 'string' ? item.output : null,
      textState: 'final',
      audio: false,
      callId: typeof item.call_id === 'string' ? item.call_id : undefined,
      at: now,
    };
  }
  if (type === 'message') {
    const role = (typeof item.role === 'string' && ROLES.has(item.role) ? item.role : 'user') as Role;
    const { text, audio } = contentText(item.content);
    const pendingUserAudio = role === 'user' && audio && text === null;
    const inProgressAssistant = role === 'assistant' && text === null;
    return {
      id: item.id,
      kind: 'message',
      role,
      text,
      textState: pendingUserAudio || inProgressAssistant ? 'pending' : text === null ? 'none' : 'final',
      audio,
      at: now,
    };
  }
  return { id: item.id, kind: 'other', role: null, text: null, textState: 'none', audio: false, at: now };
}

/** Merges a newer view of an item into the existing turn: never loses a known text. */
export function mergeTurn(old: Turn, next: Turn): Turn {
  const text = next.text ?? old.text;
  const textState = next.text !== null ? next.textState : old.textState;
  return {
    ...old,
    ...next,
    text,
    textState,
    audio: old.audio || next.audio,
    summaryOf: old.summaryOf ?? next.summaryOf,
    heardMs: old.heardMs ?? next.heardMs,
    responseId: old.responseId ?? next.responseId,
    at: old.at,
  };
}
