// Sanitising for inspector frames: contexts lose buffers and actor refs, long strings are shortened,
// arrays and objects capped, secrets (and anything that looks like an OpenAI key) redacted.
import type { AnyActorRef } from 'xstate';
import { redact } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Sanitising

export interface SanitizeOptions {
  /** Strings redacted everywhere (plus anything that looks like an OpenAI key). */
  secrets?: readonly (string | undefined | null)[];
  /** Strings longer than this are shortened (default 200). Infinity keeps them whole. */
  maxString?: number;
  /** Nesting depth kept (default 6). */
  maxDepth?: number;
  /** Array items kept (the most recent ones; default 40). */
  maxArray?: number;
  /** Object keys kept (default 60). */
  maxKeys?: number;
}

const SECRET_KEY = /^(api[-_]?key|authorization|auth|secret|password|passwd|bearer|access[-_]?token|client[-_]?secret)$/i;

function isActorRefLike(v: object): v is AnyActorRef {
  const o = v as Record<string, unknown>;
  return typeof o.send === 'function' && typeof o.getSnapshot === 'function' && typeof o.sessionId === 'string';
}

/** Shortens a (redacted) string to about `max` characters, keeping its start and end. */
export function shorten(s: string, max = 200): string {
  if (s.length <= max) return s;
  const head = Math.max(1, Math.floor(max * 0.6));
  const tail = Math.max(1, Math.floor(max * 0.25));
  return `${s.slice(0, head)}… [${s.length} chars] …${s.slice(s.length - tail)}`;
}

/**
 * Copies `value` into something small and JSON-safe: buffers and typed arrays become
 * `[Buffer 3840B]`, actor refs `[actor id]`, functions `[function name]`, long strings are
 * shortened, arrays keep their last `maxArray` items, cycles become `[circular]`, and every string
 * (keys included) is redacted. Values under keys like `apiKey` become `[redacted]`.
 */
export function sanitize(value: unknown, options: SanitizeOptions = {}): unknown {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const maxString = options.maxString ?? 200;
  const maxDepth = options.maxDepth ?? 6;
  const maxArray = options.maxArray ?? 40;
  const maxKeys = options.maxKeys ?? 60;
  const ancestors: object[] = [];
  const str = (s: string) => shorten(redact(s, secrets), maxString);

  const walk = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case 'string':
        return str(v);
      case 'number':
        return Number.isFinite(v) ? v : String(v);
      case 'boolean':
      case 'undefined':
        return v;
      case 'bigint':
        return `${v}n`;
      case 'symbol':
        return str(v.toString());
      case 'function':
        return `[function ${(v as { name?: string }).name || 'anonymous'}]`;
    }
    if (v === null) return null;
    const o = v as object;
    if (Buffer.isBuffer(o)) return `[Buffer ${o.byteLength}B]`;
    if (ArrayBuffer.isView(o)) return `[${o.constructor?.name ?? 'ArrayBufferView'} ${o.byteLength}B]`;
    if (o instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer)) {
      return `[${o.constructor.name} ${(o as ArrayBuffer).byteLength}B]`;
    }
    if (isActorRefLike(o)) return `[actor ${str(o.id)}]`;
    if (o instanceof Date) return Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString();
    if (o instanceof RegExp) return str(String(o));
    if (o instanceof Error) return { name: o.name, message: str(o.message) };
    if (ancestors.includes(o)) return '[circular]';
    if (depth >= maxDepth) return Array.isArray(o) ? `[Array ${o.length}]` : '[Object]';
    ancestors.push(o);
    try {
      if (Array.isArray(o) || o instanceof Set) {
        const arr = Array.isArray(o) ? o : [...o];
        const out: unknown[] = [];
        const start = arr.length > maxArray ? arr.length - maxArray : 0;
        if (start > 0) out.push(`[… ${start} earlier items]`);
        for (let i = start; i < arr.length; i++) out.push(walk(arr[i], depth + 1));
        return out;
      }
      const entries: [string, unknown][] = o instanceof Map ? [...o.entries()].map(([k, val]) => [String(k), val]) : Object.entries(o);
      const out: Record<string, unknown> = {};
      let n = 0;
      for (const [k, val] of entries) {
        if (n++ >= maxKeys) {
          out['…'] = `${entries.length - maxKeys} more keys`;
          break;
        }
        const key = str(k);
        if (SECRET_KEY.test(k) && val != null && val !== '') out[key] = '[redacted]';
        else out[key] = walk(val, depth + 1);
      }
      return out;
    } finally {
      ancestors.pop();
    }
  };
  return walk(value, 0);
}

/** String-level backstop applied to every serialised frame (JSON text) before it leaves the process. */
export function redactJson(text: string, secrets: readonly (string | undefined | null)[]): string {
  const all: string[] = [];
  for (const s of secrets) {
    if (typeof s === 'string' && s.length >= 4) {
      all.push(s);
      const escaped = JSON.stringify(s).slice(1, -1);
      if (escaped !== s) all.push(escaped);
    }
  }
  return redact(text, all);
}
