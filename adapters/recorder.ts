// Records every frame of a realtime connection, both directions, to a JSONL file (mode 0600) that the
// emulator's replay checker can play back (src/emulator/README.md "Recordings"). Base64 audio is
// replaced by its decoded length; the API key and any Authorization value never reach the file.
import { chmodSync, closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { redact } from '../src/errors.js';

export type FrameDirection = 'send' | 'recv' | 'close';

/** What the replay needs to redo the handshake (never the key itself). */
export interface RecordedHandshake {
  /** URL without credentials: scheme, host, path and the `model` / `intent` / `deployment` parameters. */
  url: string;
  dialect: 'ga' | 'beta';
  /** Whether a key was sent (its value is never recorded). */
  auth: 'bearer' | 'api-key' | 'none';
}

export interface Recorder {
  /** A new connection (each reconnect or rollover starts one). */
  connect(h: RecordedHandshake): void;
  /** The socket hook: one frame as text (binary frames: their byte length). */
  frame(direction: FrameDirection, data: string | Buffer, binary?: boolean): void;
  close(): void;
}

/** Replaces base64 audio by `{ "$bytes": n }` (its decoded length) wherever an audio field carries it. */
export function stripAudio(ev: unknown): unknown {
  if (Array.isArray(ev)) return ev.map(stripAudio);
  if (ev === null || typeof ev !== 'object') return ev;
  const o = ev as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const audioDelta = typeof o.type === 'string' && /^response\.(output_)?audio\.delta$/.test(o.type);
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && (k === 'audio' || (k === 'delta' && audioDelta))) out[k] = { $bytes: Buffer.byteLength(v, 'base64') };
    else out[k] = stripAudio(v);
  }
  return out;
}

const KEY_PARAMS = /^(api[-_]?key|key|token|access_token)$/i;

/** A URL safe to record: no userinfo, no key-like query parameters. */
export function recordableUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const k of [...u.searchParams.keys()]) if (KEY_PARAMS.test(k)) u.searchParams.set(k, '[redacted]');
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

export function openRecorder(path: string, secrets: readonly string[]): Recorder {
  // Created 0600; chmod too, in case the file already existed with wider permissions.
  const fd = openSync(path, 'w', 0o600);
  chmodSync(path, 0o600);
  const t0 = performance.now();
  const keys = secrets.filter((s) => s.length > 0);
  let open = true;
  const write = (line: Record<string, unknown>) => {
    if (!open) return;
    const text = redact(JSON.stringify({ t: Math.round((performance.now() - t0) * 10) / 10, ...line }), keys);
    // Also any Bearer value, and the service's masked key in invalid_api_key messages (`sk-abcde***…WXYZ`).
    const safe = text.replace(/(Bearer\s+)[^"\s\\]+/gi, '$1[redacted]').replace(/[\w-]{0,8}\*\*\*…[\w-]{0,4}/g, '[redacted]');
    writeSync(fd, `${safe}\n`);
  };
  write({ dir: 'meta', recording: 'realtime-context', version: 1 });
  return {
    connect(h) {
      write({ dir: 'connect', handshake: { ...h, url: recordableUrl(h.url) } });
    },
    frame(direction, data, binary = false) {
      if (direction === 'close') return write({ dir: 'close', ...(JSON.parse(String(data)) as object) });
      if (binary) return write({ dir: direction, binary: Buffer.isBuffer(data) ? data.length : Buffer.byteLength(data) });
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : data;
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch {
        return write({ dir: direction, text: text.slice(0, 4096) });
      }
      write({ dir: direction, event: stripAudio(event) });
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
