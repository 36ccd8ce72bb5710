// Microphone capture with naudiodon: 24 kHz mono pcm16 in 40 ms (1920-byte) chunks.
// Capture runs in a child process because naudiodon printf()s to stdout (it would corrupt --json),
// and because a dead sound server makes its process hang on exit: a child can always be SIGKILLed,
// which releases the device at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { PCM_BYTES_PER_MS, PCM_SAMPLE_RATE } from '../src/protocol/constants.js';
import { resolveOptional } from './audio-devices.js';

export const CHUNK_BYTES = 40 * PCM_BYTES_PER_MS; // 40 ms at 24 kHz, 16-bit mono (1920)

export interface MicrophoneOptions {
  onChunk(pcm: Buffer): void;
  /** Capture failed or stopped delivering audio. */
  onError?(err: Error): void;
  /** Forward the child's diagnostics to this sink (e.g. stderr with --debug). */
  log?(line: string): void;
  /** Report an error when no audio arrives for this long (a null sink can be 2 s late at first). */
  watchdogMs?: number;
}

export interface Microphone {
  /** While muted (half duplex) the device is still read, but silence is sent in its place. */
  muted: boolean;
  readonly chunks: number;
  stop(): Promise<void>;
}

const READY = '@@mic-ready@@';

function childScript(naudiodonPath: string): string {
  return `
const fs = require('fs');
const { AudioIO } = require(${JSON.stringify(naudiodonPath)});
const out = fs.createWriteStream(null, { fd: 3 });
const ai = new AudioIO({ inOptions: { channelCount: 1, sampleFormat: 16, sampleRate: ${PCM_SAMPLE_RATE}, deviceId: -1,
  framesPerBuffer: ${CHUNK_BYTES / 2}, highwaterMark: ${CHUNK_BYTES}, closeOnError: false } });
ai.on('data', (b) => out.write(b));
ai.on('error', (e) => { process.stderr.write('capture error: ' + e.message + '\\n'); process.exit(3); });
out.on('error', () => process.exit(0));
ai.start();
process.stderr.write(${JSON.stringify(READY)} + '\\n');
`;
}

export async function openMicrophone(opts: MicrophoneOptions): Promise<Microphone> {
  const path = resolveOptional('naudiodon');
  if (!path) throw new Error('microphone: the optional package naudiodon is not installed');
  const child: ChildProcess = spawn(process.execPath, ['-e', childScript(path)], {
    cwd: tmpdir(),
    env: process.env,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stopping = false;
  let pending: Buffer = Buffer.alloc(0);
  let lastData = Date.now();
  const state = { muted: false, chunks: 0 };
  const audio = child.stdio[3] as Readable;
  audio.on('data', (d: Buffer) => {
    lastData = Date.now();
    // Re-chunk: pipes may merge or split the 1920-byte native buffers.
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= CHUNK_BYTES) {
      const chunk = pending.subarray(0, CHUNK_BYTES);
      pending = pending.subarray(CHUNK_BYTES);
      state.chunks++;
      // Muted (half duplex) chunks become silence rather than gaps, so the server's VAD timeline keeps
      // running and a turn cut by the mute still ends.
      opts.onChunk(state.muted ? Buffer.alloc(CHUNK_BYTES) : Buffer.from(chunk));
    }
  });
  audio.on('error', () => undefined);
  let stderrTail = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      const s = d.toString();
      stderrTail = (stderrTail + s).slice(-400);
      for (const line of s.split('\n')) {
        if (line.includes(READY)) resolve();
        else if (line.trim() && opts.log) opts.log(`mic: ${line.trim()}`);
      }
    });
    child.on('error', (e) => reject(new Error(`microphone: cannot start capture (${e.message})`)));
    child.on('exit', (code, signal) => {
      const why = lastLine(stderrTail) || (signal ?? `exit ${code}`);
      const err = new Error(`microphone: capture stopped (${why})`);
      reject(err);
      if (!stopping) opts.onError?.(err);
    });
  });
  await ready;
  const watchdogMs = opts.watchdogMs ?? 5000;
  lastData = Date.now();
  const watchdog = setInterval(() => {
    if (!stopping && Date.now() - lastData > watchdogMs) {
      opts.onError?.(new Error(`microphone: no audio for ${Math.round(watchdogMs / 1000)} s (is the sound server alive?)`));
      lastData = Date.now();
    }
  }, 500);
  watchdog.unref();
  return {
    get muted() {
      return state.muted;
    },
    set muted(v: boolean) {
      state.muted = v;
    },
    get chunks() {
      return state.chunks;
    },
    stop() {
      stopping = true;
      clearInterval(watchdog);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
  };
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter((l) => !l.includes(READY)).pop()?.trim().slice(0, 200) ?? '';
}
