// One linear pass over a JSON frame, without JSON.parse: how deep it nests and its top-level
// `type`. The proxy and the emulator run it on every text frame from a peer they do not trust,
// before anything parses or walks the frame, so a frame nested thousands of levels deep never
// reaches a recursive function, and a type nested inside the payload is never taken for the event's.
// Strings are skipped with Buffer.indexOf (native), so an audio frame costs one pass over its base64.

/** Nesting deeper than this is refused (a Realtime event nests about 8 levels; tool schemas a few more). */
export const MAX_JSON_DEPTH = 64;

export interface FrameScan {
  /** Deepest nesting seen (objects and arrays), up to maxDepth + 1. */
  depth: number;
  /** True when the frame nests deeper than maxDepth (the scan stopped there). */
  tooDeep: boolean;
  /**
   * The top-level `type` when it is provably the event's own: the frame is an object with exactly
   * one top-level "type" key whose value is a plain string. Null otherwise (none, duplicated, escaped,
   * not a string, or the frame is malformed): the caller parses the frame to know.
   */
  type: string | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const TYPE = Buffer.from('type');

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(data: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = data.indexOf(QUOTE, from);
    if (q < 0) return -1;
    let slashes = 0;
    while (data[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
    from = q + 1;
  }
}

function skipSpace(data: Buffer, i: number): number {
  while (i < data.length && isSpace(data[i])) i++;
  return i;
}

const hasEscape = (data: Buffer, start: number, end: number) => data.subarray(start, end).includes(BACKSLASH);

export function scanFrame(data: Buffer, maxDepth = MAX_JSON_DEPTH): FrameScan {
  let depth = 0;
  let deepest = 0;
  let topIsObject = false;
  let keyNext = false; // the next string at depth 1 is a key of the top-level object
  let typeKeys = 0;
  let type: string | null = null;
  let typeTrusted = true;
  const fail = (): FrameScan => ({ depth: deepest, tooDeep: false, type: null });
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === QUOTE) {
      const end = stringEnd(data, i);
      if (end < 0) return fail();
      if (depth === 1 && topIsObject && keyNext) {
        keyNext = false;
        const isType = end - i - 1 === TYPE.length && data.compare(TYPE, 0, TYPE.length, i + 1, end) === 0;
        // An escaped key may decode to "type" (a duplicate the parser would take): trust nothing then.
        if (hasEscape(data, i + 1, end)) typeTrusted = false;
        if (isType) {
          typeKeys++;
          let j = skipSpace(data, end + 1);
          if (data[j] !== COLON) return fail();
          j = skipSpace(data, j + 1);
          if (data[j] === QUOTE) {
            const vEnd = stringEnd(data, j);
            if (vEnd < 0) return fail();
            if (hasEscape(data, j + 1, vEnd) || vEnd - j - 1 > 120) typeTrusted = false;
            else type = data.toString('latin1', j + 1, vEnd);
            i = vEnd;
            continue;
          }
          typeTrusted = false; // a non-string type: the parser decides
          i = j - 1;
          continue;
        }
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      if (depth === 0 && i === skipSpace(data, 0)) topIsObject = c === 0x7b;
      depth++;
      if (depth > deepest) deepest = depth;
      if (depth > maxDepth) return { depth: deepest, tooDeep: true, type: null };
      if (depth === 1 && c === 0x7b) keyNext = true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 1) {
      keyNext = true;
    }
  }
  return { depth: deepest, tooDeep: false, type: topIsObject && typeKeys === 1 && typeTrusted ? type : null };
}
