// Cheap look at a JSON frame without JSON.parse. Audio appends and audio deltas (most of the traffic)
// are forwarded on their type alone, untouched.

import { scanFrame } from '../protocol/frame-scan.js';

const HEAD = 256;

/**
 * The event's own top-level `type`, or null when it cannot be proven without a parse (see scanFrame:
 * sorted keys, a nested `type` before the top-level one, duplicates and escapes all give the right
 * answer or null, never a nested type).
 */
export function peekType(data: Buffer): string | null {
  return scanFrame(data).type;
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
