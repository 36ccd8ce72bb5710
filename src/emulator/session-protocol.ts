// What one emulated session accepts on the wire and what it offers its host: the client event
// types and their parameters (as the service lists them), the emulator's own hint fields, and the
// control handle a test or the HTTP control API holds for a live session.
import type { ToolCallScript } from './tools.js';

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Client event types the emulator accepts (listed in the `invalid_value` error for unknown types). */
export const SUPPORTED_CLIENT_EVENTS = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
] as const;

/**
 * The client events the service lists in its `invalid_value` error for an unknown type (captured,
 * in its order). `session.close` and `session.input_audio_buffer.append` are not in the SDK's
 * realtime client union (they are its translation-session events), so this list is not typed by it.
 */
export const SERVICE_CLIENT_EVENTS = [
  'session.update',
  'session.close',
  'input_audio_buffer.append',
  'session.input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
] as const;

/** Top-level parameters of each client event besides `type` and `event_id` (SDK client event types). */
export const EVENT_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  'session.update': ['session'],
  'session.close': [],
  'input_audio_buffer.append': ['audio'],
  'session.input_audio_buffer.append': ['audio'],
  'input_audio_buffer.commit': [],
  'input_audio_buffer.clear': [],
  'conversation.item.create': ['item', 'previous_item_id'],
  'conversation.item.truncate': ['item_id', 'content_index', 'audio_end_ms'],
  'conversation.item.delete': ['item_id'],
  'conversation.item.retrieve': ['item_id'],
  'response.create': ['response'],
  'response.cancel': ['response_id'],
};

/** A JSON null where the SDK's type declares an optional string (see InputAudio.commitBuffer). */
export const WIRE_NULL = null as unknown as string;

/** Non-standard field a test harness may put on input_audio_buffer.append/commit (stripped). */
export const HINT_FIELD = 'x_transcript_hint';

/** Control surface of one live session (library handle; see index.ts). */
export interface EmulatorSessionHandle {
  id: string;
  dialect: 'ga' | 'beta';
  model: string;
  /** The server conversation in order (GA item shapes, no audio bytes). */
  items(): unknown[];
  /** Queue a transcript hint for this session's next committed user audio item. */
  hint(text: string): void;
  /** Send a raw frame to the client. */
  inject(raw: string | object): void;
  /** Close abruptly (terminate, no close frame) or with a close code. */
  drop(code?: number, reason?: string): void;
  /** Trigger session_expired now (error event, then close 1001). */
  expire(): void;
  /** Toggle context-echo replies for this session. */
  setContextEcho(on: boolean): void;
  /** Make the next n responses fail with a rate-limit `status: "failed"`. */
  failNextResponses(n: number): void;
  /** Script the function calls of this session's next in-band response (README "Function calling"). */
  scriptToolCalls(calls: ToolCallScript[]): void;
}
