// Real audio devices for tests on a headless machine: a private PulseAudio daemon with two null sinks
// (test/audio-kit/start-pulse.sh, carried in the repository), espeak-ng speech, paplay into the microphone sink and parec from
// the speaker sink's monitor. Every check says why it would skip, so a machine without the Debian
// packages skips with a reason instead of failing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The audio test kit (PulseAudio null sinks, speech generation), carried in the repository. */
export const SHARED_AUDIO = resolve(REPO, 'test', 'audio-kit');

export interface AudioEnv {
  env: NodeJS.ProcessEnv;
  stop(): void;
}

/** Returns why real-audio tests cannot run here, or '' when they can. */
export function audioSkipReason(): string {
  const missing: string[] = [];
  for (const bin of ['pulseaudio', 'pactl', 'paplay', 'parec', 'espeak-ng', 'sox']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) missing.push(bin);
  }
  if (missing.length) return `missing programs: ${missing.join(', ')} (Debian: pulseaudio pulseaudio-utils libasound2-plugins espeak-ng sox)`;
  if (!existsSync(join(SHARED_AUDIO, 'start-pulse.sh'))) return `no ${SHARED_AUDIO}/start-pulse.sh (the repository's audio kit is missing)`;
  if (!existsSync('/usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so') && spawnSync('sh', ['-c', 'ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so']).status !== 0) {
    return 'missing the ALSA pulse plugin (Debian: libasound2-plugins)';
  }
  const req = createRequire(join(REPO, 'package.json'));
  for (const m of ['naudiodon', 'speaker']) {
    try {
      req.resolve(m);
    } catch {
      return `optional native module ${m} is not installed (needs libasound2-dev at npm install)`;
    }
  }
  return '';
}

/** Starts a private PulseAudio (own AUDIO_DIR, so parallel workers never share a daemon). */
export function startAudio(name: string): AudioEnv {
  const dir = join(process.env.TMPDIR ?? '/tmp', `rt-audio-${name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const base = { ...process.env, AUDIO_DIR: dir };
  const r = spawnSync('bash', [join(SHARED_AUDIO, 'start-pulse.sh'), '--fast-start'], { env: base, encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`start-pulse.sh failed: ${r.stderr.trim()}`);
  const e = spawnSync('bash', ['-c', `. ${JSON.stringify(join(SHARED_AUDIO, 'audio-env.sh'))}; env -0`], { env: base, encoding: 'utf8' });
  const env: NodeJS.ProcessEnv = {};
  for (const kv of e.stdout.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    env,
    stop: () => {
      spawnSync('bash', [join(SHARED_AUDIO, 'stop-pulse.sh')], { env: base, timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic 24 kHz mono speech; returns its duration in ms. */
export function makeSpeech(text: string, out: string): number {
  const r = spawnSync('bash', [join(SHARED_AUDIO, 'make-speech.sh'), text, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-speech.sh failed: ${r.stderr}`);
  return Math.round(Number(r.stdout.trim()) * 1000);
}

/** Plays a WAV into the microphone sink; resolves when it has finished. */
export function playIntoMic(env: NodeJS.ProcessEnv, wav: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn('paplay', ['-d', 'mic_feed', wav], { env, stdio: 'ignore' });
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`paplay exit ${code}`))));
  });
}

/** Records what the app plays (the spk sink's monitor) with wall-clock timestamps per chunk. */
export class SpeakerRecorder {
  private readonly proc: ChildProcess;
  private chunks: Array<{ at: number; buf: Buffer }> = [];
  readonly ready: Promise<void>;
  constructor(env: NodeJS.ProcessEnv) {
    this.proc = spawn('parec', ['-d', 'spk.monitor', '--raw', '--rate=24000', '--channels=1', '--format=s16le', '--latency-msec=20'], { env });
    this.ready = new Promise((r) => this.proc.stdout!.once('data', () => r()));
    this.proc.stdout!.on('data', (d: Buffer) => this.chunks.push({ at: performance.now(), buf: d }));
  }
  pcm(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.buf));
  }
  /**
   * Voiced segments (10 ms frames above a level), in ms on the recording's timeline, with the
   * wall-clock time of each segment's end (from the arrival time of the chunk holding it).
   */
  segments(level = 300, gapMs = 300): Array<{ startMs: number; endMs: number; endWall: number }> {
    const pcm = this.pcm();
    const frames = Math.floor(pcm.length / 480);
    const voiced: boolean[] = [];
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let i = 0; i < 240; i++) sum += Math.abs(pcm.readInt16LE(f * 480 + i * 2));
      voiced.push(sum / 240 >= level);
    }
    const segs: Array<{ startMs: number; endMs: number; endWall: number }> = [];
    let start = -1;
    let lastVoiced = -1;
    for (let f = 0; f <= frames; f++) {
      const v = f < frames && voiced[f];
      if (v) {
        if (start < 0) start = f;
        lastVoiced = f;
      } else if (start >= 0 && (f === frames || (f - lastVoiced) * 10 >= gapMs)) {
        segs.push({ startMs: start * 10, endMs: (lastVoiced + 1) * 10, endWall: this.wallAt((lastVoiced + 1) * 480) });
        start = -1;
      }
    }
    return segs;
  }
  /** Wall-clock time at which the byte at `offset` arrived (chunk arrival, minus its remaining length). */
  wallAt(offset: number): number {
    let seen = 0;
    for (const c of this.chunks) {
      if (offset <= seen + c.buf.length) return c.at - ((seen + c.buf.length - offset) / 48);
      seen += c.buf.length;
    }
    return this.chunks.at(-1)?.at ?? 0;
  }
  stop(): void {
    this.proc.kill('SIGKILL');
  }
}
