// `--trace FILE.jsonl`: the inspector's frames, one JSON object per line. The format, pure: one line
// per frame (redacted like the live frames) and parsing a file's text back. The file I/O is in
// adapters/trace-file.ts.
import type { Frame } from './frame-schema.js';
import { redactJson } from './sanitize.js';

/** One JSONL line (with its newline) for a frame, redacted. */
export function traceLine(frame: Frame, secrets: readonly (string | undefined | null)[] = []): string {
  return redactJson(JSON.stringify(frame), secrets) + '\n';
}

/** Frames from a trace file's text (skips lines that are not JSON objects with a `k`). */
export function parseTrace(text: string): Frame[] {
  const out: Frame[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const f = JSON.parse(line) as Frame;
      if (f && typeof f === 'object' && typeof f.k === 'string') out.push(f);
    } catch {
      /* partial last line after a crash */
    }
  }
  return out;
}
