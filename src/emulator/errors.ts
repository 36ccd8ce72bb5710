// Error texts of the real service (realtime-protocol.md section 6), in one place.

export interface EmulatorError {
  type: string;
  code: string | null;
  message: string;
  param: string | null;
}

export function err(code: string | null, message: string, param: string | null = null, type = 'invalid_request_error'): EmulatorError {
  return { type, code, message, param };
}

/** The service's key mask: first 8 characters, `***…`, last 4 (short keys: only the mask). */
export function maskKey(key: string): string {
  return key.length > 16 ? `${key.slice(0, 8)}***…${key.slice(-4)}` : '***…';
}

/** `'a', 'b', and 'c'` — the service's listing style (captured unknown-type error). */
function listing(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length > 2 ? `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}` : q.join(' and ');
}

const article = (kind: string) => (/^[aeiou]/.test(kind) ? 'an' : 'a');

export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'decimal';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v === 'object' ? 'object' : typeof v;
}

export const E = {
  unknownParameter: (param: string) => err('unknown_parameter', `Unknown parameter: '${param}'.`, param),
  missingParameter: (param: string) => err('missing_required_parameter', `Missing required parameter: '${param}'.`, param),
  invalidType: (param: string, expected: string, got: unknown) =>
    err('invalid_type', `Invalid type for '${param}': expected ${expected}, but got ${article(jsonKind(got))} ${jsonKind(got)} instead.`, param),
  invalidValue: (param: string, value: unknown, supported: readonly string[]) =>
    err(
      'invalid_value',
      `Invalid value: '${String(value)}'. Supported values are: ${listing(supported)}.`,
      param,
    ),
  valueMustBe: (param: string, value: unknown, must: string) =>
    err('invalid_value', `Invalid value: '${String(value)}'. Value must be '${must}'.`, param),
  numberRange: (param: string, value: number, min: number, max: number) =>
    err(
      value < min ? 'decimal_below_min_value' : 'decimal_above_max_value',
      `Invalid '${param}': ${value < min ? `decimal below minimum value. Expected a value >= ${min}` : `decimal above maximum value. Expected a value <= ${max}`}, but got ${value} instead.`,
      param,
    ),
  stringTooLong: (param: string, max: number, len: number) =>
    err(
      'string_above_max_length',
      `Invalid '${param}': string too long. Expected a string with maximum length ${max}, but got a string with length ${len} instead.`,
      param,
    ),
  invalidJson: (detail: string) => err('invalid_json', `Invalid event: failed to parse JSON value. ${detail}`, null),
  binaryFrame: () => err('invalid_event', 'Expected a text WebSocket message; binary frames are not supported.', null),
  integerRange: (param: string, value: number, min: number, max: number) =>
    err(
      value < min ? 'integer_below_min_value' : 'integer_above_max_value',
      `Invalid '${param}': ${value < min ? `integer below minimum value. Expected a value >= ${min}` : `integer above maximum value. Expected a value <= ${max}`}, but got ${value} instead.`,
      param,
    ),
  noResponsesInTranscription: () => err('invalid_value', 'Responses are not supported in a transcription session.', 'type'),
  missingType: () => err('invalid_event', "The 'type' field is missing.", 'type'),
  activeResponse: (id: string) =>
    err(
      'conversation_already_has_active_response',
      `Conversation already has an active response in progress: ${id}. Wait until the response is finished before creating a new one.`,
    ),
  cancelNotActive: () => err('response_cancel_not_active', 'Cancellation failed: no active response found'),
  commitEmpty: (ms: number) =>
    err(
      'input_audio_buffer_commit_empty',
      `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${ms.toFixed(2)}ms of audio.`,
    ),
  sessionExpired: (minutes: string) => err('session_expired', `Your session hit the maximum duration of ${minutes} minutes.`),
  deleteMissing: (id: string) => err('item_delete_invalid_item_id', `Error deleting item: the item with id '${id}' does not exist.`, 'item_id'),
  retrieveMissing: (id: string) => err('item_retrieve_invalid_item_id', `Error retrieving item: the item with id '${id}' does not exist.`, 'item_id'),
  truncateMissing: (id: string) => err('item_truncate_invalid_item_id', `Error truncating item: the item with id '${id}' does not exist.`, 'item_id'),
  previousMissing: (id: string) =>
    err('previous_item_not_found', `Error adding item: the previous item with id '${id}' does not exist.`, 'previous_item_id'),
  duplicateId: (id: string) => err('duplicate_item_id', `Error adding item: the item with id '${id}' already exists.`, 'item.id'),
  truncateNotAudio: () => err('unsupported_content_type', 'Only model output audio messages can be truncated', 'item_id'),
  truncateOvershoot: (haveMs: number, askedMs: number) =>
    err(null, `Audio content of ${Math.round(haveMs)}ms is already shorter than ${Math.round(askedMs)}ms`, 'audio_end_ms'),
  missingAuth: () =>
    err(null, 'Missing bearer or basic authentication in header'),
  invalidApiKey: (key: string) =>
    err('invalid_api_key', `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`),
  invalidModel: (model: string) =>
    err('invalid_model', `Model "${model}" is not supported in realtime mode.`),
  missingModel: () =>
    err('missing_model', 'You must provide a model parameter, for example wss://api.openai.com/v1/realtime?model=gpt-realtime'),
  betaDisabled: () =>
    err('beta_api_shape_disabled', 'The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.'),
  cannotUpdateVoice: () =>
    err('cannot_update_voice', 'Cannot update a conversation\'s voice if assistant audio is present.', 'session.audio.output.voice'),
  injectedDeleteFailure: (id: string) =>
    err('server_error', `Error deleting item: the server had an error while deleting item '${id}' (injected fault).`, 'item_id', 'server_error'),
  itemReferenceMissing: (id: string, param: string) =>
    err('item_not_found', `Error creating response: the referenced item with id '${id}' does not exist.`, param),
  toolCallMissing: (callId: string) =>
    err('invalid_value', `Error adding item: no function call with call_id '${callId}' found in the conversation.`, 'item.call_id'),
  modelImmutable: () => err('invalid_value', "Cannot update a session's model.", 'session.model'),
};
