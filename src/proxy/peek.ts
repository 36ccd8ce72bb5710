// Cheap look at a JSON frame: the event type from the first bytes, without JSON.parse. Audio appends
// and audio deltas (most of the traffic) are forwarded on this alone, untouched.

const TYPE_KEY = Buffer.from('"type":"');
const HEAD = 256;

/**
 * The value of the first `"type":"…"` key within the first 256 bytes, or null. Realtime events put
 * `type` (and `event_id`) before any payload, so the head is enough; a miss falls back to a full parse.
 * A nested `"type"` (e.g. inside `item`) can come first only when the top-level `type` comes later,
 * which no Realtime peer does; the caller still parses everything that is not audio.
 */
export function peekType(data: Buffer): string | null {
  const end = Math.min(data.length, HEAD);
  const at = data.subarray(0, end).indexOf(TYPE_KEY);
  if (at < 0) return null;
  const start = at + TYPE_KEY.length;
  const close = data.indexOf(0x22, start);
  if (close < 0 || close - start > 80) return null;
  return data.toString('latin1', start, close);
}

/** The value of `"key":"…"` in the head of a frame (ids are short and unescaped). */
export function peekString(data: Buffer, key: string): string | null {
  const k = Buffer.from(`"${key}":"`);
  const at = data.subarray(0, HEAD * 2).indexOf(k);
  if (at < 0) return null;
  const start = at + k.length;
  const close = data.indexOf(0x22, start);
  if (close < 0 || close - start > 200) return null;
  return data.toString('latin1', start, close);
}
