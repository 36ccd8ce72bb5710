import type { WireEvent } from './events.js';

export type ParseResult =
  | { ok: true; event: WireEvent }
  | { ok: false; error: string };

const MAX_PREVIEW = 80;

function preview(raw: string): string {
  const s = raw.length > MAX_PREVIEW ? `${raw.slice(0, MAX_PREVIEW)}...` : raw;
  return JSON.stringify(s);
}

/**
 * Parses one server (or client) frame. Never throws: malformed frames become values with a
 * one-line reason, so a bad frame is logged and ignored instead of killing the session.
 */
export function parseFrame(data: string | Buffer | ArrayBuffer | Buffer[]): ParseResult {
  let raw: string;
  if (typeof data === 'string') raw = data;
  else if (Array.isArray(data)) raw = Buffer.concat(data).toString('utf8');
  else if (data instanceof ArrayBuffer) raw = Buffer.from(data).toString('utf8');
  else raw = data.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: `malformed server event: not JSON (${preview(raw)})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: `malformed server event: not an object (${preview(raw)})` };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) {
    return { ok: false, error: `malformed server event: missing "type" (${preview(raw)})` };
  }
  return { ok: true, event: value as WireEvent };
}

/** True when the value is a plain object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
