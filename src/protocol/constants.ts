// Facts of the Realtime protocol and engine defaults that several modules need: one home for each.
// The emulator keeps its own copies on purpose (it must not share the client's assumptions).

/** The Realtime API's PCM audio: 16-bit little-endian, 24 kHz, mono. */
export const PCM_SAMPLE_RATE = 24_000;
export const PCM_BYTES_PER_SAMPLE = 2;
/** Bytes of pcm16 24 kHz mono audio per millisecond (48). */
export const PCM_BYTES_PER_MS = (PCM_SAMPLE_RATE * PCM_BYTES_PER_SAMPLE) / 1000;

/** The text a user turn gets when no transcript ever came: never a silent hole. */
export const INAUDIBLE = '[inaudible]';

/** Defaults (ms) for timeouts that more than one module needs. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 300_000;
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;

/** Server-side limit on item ids and call ids. */
export const MAX_ITEM_ID_LENGTH = 32;
