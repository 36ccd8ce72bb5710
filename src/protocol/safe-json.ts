// Merging and copying JSON that came from a peer, so that no key of it can reach a prototype.
// JSON.parse makes "__proto__" an own data property, harmless until code does `into[k] = v` (the
// __proto__ setter swaps the target's prototype) or walks `into[k]` into an inherited object
// (`into.__proto__` is Object.prototype, `into.constructor.prototype` too). Here every read is of own
// properties and every write defines an own data property; "__proto__" itself is dropped, since no
// Realtime field bears that name and a copy that kept it would be a trap for the next naive merge.
// "constructor" and "prototype" stay as plain data (a tool's JSON schema may name a property so).

type Obj = Record<string, unknown>;

/** Keys that name a prototype on ordinary objects. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const isPlainObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The own value of a key (never an inherited one). */
export function ownValue(o: Obj, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** Sets an own data property: never the __proto__ setter; "__proto__" itself is dropped. */
export function setOwn(o: Obj, k: string, v: unknown): void {
  if (k === '__proto__') return;
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/**
 * A deep copy of JSON data as plain objects and arrays, without "__proto__" keys. Recursive: run it
 * on frames whose depth is already bounded (scanFrame); beyond maxDepth it throws, never overflows.
 */
export function copyJson<T>(v: T, maxDepth = 256): T {
  return copy(v, maxDepth) as T;
}

function copy(v: unknown, left: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (left <= 0) throw new RangeError('JSON nested too deeply to copy');
  if (Array.isArray(v)) return v.map((x) => copy(x, left - 1));
  const out: Obj = {};
  for (const k of Object.keys(v)) setOwn(out, k, copy((v as Obj)[k], left - 1));
  return out;
}

/** Deep merge of a JSON patch into `into` (objects merge, everything else replaces), prototype-safe. */
export function mergeJson(into: Obj, patch: Obj, maxDepth = 256): void {
  if (maxDepth <= 0) throw new RangeError('JSON nested too deeply to merge');
  for (const k of Object.keys(patch)) {
    if (k === '__proto__') continue;
    const v = patch[k];
    const cur = ownValue(into, k);
    if (isPlainObject(v) && isPlainObject(cur)) mergeJson(cur, v, maxDepth - 1);
    else setOwn(into, k, copy(v, maxDepth - 1));
  }
}
