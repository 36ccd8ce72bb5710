// `--trace FILE.jsonl` on disk: the inspector's frames, one JSON object per line, for post-mortems and
// replay in the live view's page ("Load trace"). Works without `--inspect` (startTrace) or alongside
// it (startInspector({ tracePath })). The file is created with mode 0600 and every line goes through
// the same redaction as the live frames (src/inspector/trace.ts has the line format).
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FrameHub, type Frame, type FrameHubOptions, type InspectableAgent } from '../src/inspector/frames.js';
import { parseTrace, traceLine } from '../src/inspector/trace.js';

export interface TraceSink {
  write(frame: Frame): void;
  close(): Promise<void>;
  readonly path: string;
}

/** Opens a JSONL sink; `write` never throws (a full disk must not end the session). */
export function openTraceSink(path: string, secrets: readonly (string | undefined | null)[] = []): TraceSink {
  mkdirSync(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: 'w', mode: 0o600, encoding: 'utf8' });
  let failed = false;
  stream.on('error', () => {
    failed = true;
  });
  let closed: Promise<void> | null = null;
  return {
    path,
    write(frame) {
      if (failed || closed) return;
      try {
        stream.write(traceLine(frame, secrets));
      } catch {
        failed = true;
      }
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (stream.destroyed || failed) return resolve();
        stream.end(() => resolve());
      });
      return closed;
    },
  };
}

export interface TraceHandle {
  readonly path: string;
  attach(agent: InspectableAgent): () => void;
  close(): Promise<void>;
  frames(): readonly Frame[];
}

export interface TraceOptions extends Omit<FrameHubOptions, 'secrets'> {}

/** `--trace FILE.jsonl` without `--inspect`: observe the agent and write frames to `path`. */
export function startTrace(path: string, secrets: readonly (string | undefined | null)[] = [], options: TraceOptions = {}): TraceHandle {
  const hub = new FrameHub({ ...options, secrets, keepFrames: options.keepFrames ?? 0 });
  const sink = openTraceSink(path, secrets);
  sink.write(hub.hello());
  hub.addSink((f) => sink.write(f));
  return {
    path,
    attach: (agent) => hub.attach(agent),
    frames: () => hub.frames(),
    async close() {
      hub.close();
      await sink.close();
    },
  };
}

/** Reads a trace file back (skips lines that are not JSON objects with a `k`). */
export function readTrace(path: string): Frame[] {
  return parseTrace(readFileSync(path, 'utf8'));
}
