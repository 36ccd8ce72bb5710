// Wire types come from the official `openai` package: GA is canonical, beta only at the edge.
export type {
  RealtimeServerEvent as ServerEvent,
  RealtimeClientEvent as ClientEvent,
  ConversationItem,
  RealtimeSessionCreateRequest as SessionConfig,
  RealtimeResponse,
  RealtimeResponseUsage,
  RealtimeErrorEvent,
  RealtimeError,
  ResponseDoneEvent,
  SessionCreatedEvent,
  SessionUpdatedEvent,
  ConversationItemAdded,
  ConversationItemDone,
  ConversationItemCreateEvent,
  ResponseCreateEvent,
  RealtimeAudioInputTurnDetection,
  RealtimeTruncation,
} from 'openai/resources/realtime/realtime';

export type {
  RealtimeServerEvent as BetaServerEvent,
  RealtimeClientEvent as BetaClientEvent,
} from 'openai/resources/beta/realtime/realtime';

export type Dialect = 'ga' | 'beta';

/** A loosely typed event as it crosses the wire, before or after validation. */
export interface WireEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

/** Every error code the Realtime API is known to send (realtime-protocol.md section 6). */
export const KNOWN_ERROR_CODES = [
  'conversation_already_has_active_response',
  'response_cancel_not_active',
  'input_audio_buffer_commit_empty',
  'session_expired',
  'unknown_parameter',
  'missing_required_parameter',
  'invalid_value',
  'string_above_max_length',
  'item_not_found',
  'duplicate_item_id',
  'previous_item_not_found',
  'unsupported_content_type',
  'invalid_event',
  'rate_limit_exceeded',
  'insufficient_quota',
  'invalid_api_key',
  'model_not_found',
  'beta_api_shape_disabled',
  'cannot_update_voice',
] as const;
