// Speaker playback with the `speaker` package, streamed as deltas arrive, with a played-samples clock.
// `speaker` aborts the whole process on require when ALSA has no default device: only call
// openSpeaker() after probeAudioDevices() said the speaker loads.
//
// Why we pace writes ourselves: the native write blocks on a worker thread until ALSA has room
// (a 0.5 s buffer), and the only way to stop at once is snd_pcm_drop (close(true)), which must not run
// while a write is blocked. Keeping at most `leadMs` handed to the device means writes never block,
// stop() discards at most `leadMs`, and the clock (handed audio minus what is still ahead) is exact
// to within the device latency.
import { createRequire } from 'node:module';
import { PCM_BYTES_PER_MS as BYTES_PER_MS, PCM_SAMPLE_RATE as RATE } from '../src/protocol/constants.js';
import { resolveOptional } from './audio-devices.js';

const PIECE_BYTES = 40 * BYTES_PER_MS; // hand audio to the device in 40 ms pieces

export interface SpeakerOptions {
  /** Audio kept ahead of the playhead in the device (ms). */
  leadMs?: number;
  /** ALSA device name; default "default". */
  device?: string;
  /** Playback ran out of audio (the assistant stopped speaking). */
  onDrained?(): void;
  onError?(err: Error): void;
}

export interface StopResult {
  /** Item that was playing (or last played), null if nothing was written. */
  itemId: string | null;
  /** Milliseconds of that item actually played, integer, clamped to [0, item duration]. */
  playedMs: number;
}

export interface SpeakerOut {
  write(pcm: Buffer, itemId: string): void;
  /** True while audio is queued or still sounding. */
  playing(): boolean;
  /** Milliseconds played of `itemId` (default: the current item). */
  playedMs(itemId?: string): number;
  /** Stops at once, discards everything queued, returns what was heard of the current item. */
  stop(): StopResult;
  close(): Promise<void>;
}

interface NativeSpeaker {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  close(flush?: boolean): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
}

type SpeakerCtor = new (opts: Record<string, unknown>) => NativeSpeaker;

let ctor: SpeakerCtor | undefined;
function loadSpeaker(): SpeakerCtor {
  if (!ctor) {
    const path = resolveOptional('speaker');
    if (!path) throw new Error('speaker: the optional package speaker is not installed');
    ctor = createRequire(import.meta.url)(path) as SpeakerCtor;
  }
  return ctor;
}

interface ItemSpan {
  start: number; // timeline position (ms of audio) of its first sample
  dur: number;
}

/** Pure playhead clock, separate from the device so it can be unit-tested with a fake time source. */
export class PlayClock {
  /** ms of audio handed to the device since open (timeline position of the next handed sample). */
  handed = 0;
  /** Wall time (ms) at which the device runs out of handed audio. */
  runEndAt = 0;
  constructor(private readonly now: () => number) {}
  hand(ms: number): void {
    const t = this.now();
    // After an underrun the device starts again from the moment of this write.
    this.runEndAt = Math.max(this.runEndAt, t) + ms;
    this.handed += ms;
  }
  ahead(): number {
    return Math.max(0, this.runEndAt - this.now());
  }
  played(): number {
    return this.handed - this.ahead();
  }
  /** Drop everything not yet played: the timeline resumes at the playhead. */
  drop(): number {
    const p = this.played();
    this.handed = p;
    this.runEndAt = this.now();
    return p;
  }
}

export async function openSpeaker(opts: SpeakerOptions = {}, now: () => number = () => performance.now()): Promise<SpeakerOut> {
  const Speaker = loadSpeaker();
  const leadMs = opts.leadMs ?? 160;
  const clock = new PlayClock(now);
  const queue: Buffer[] = [];
  let enqueued = 0; // timeline ms of everything ever written (handed + queued)
  const items = new Map<string, ItemSpan>();
  let current: string | null = null;
  let device: NativeSpeaker | null = null;
  let inflight = 0;
  let flushed: Array<() => void> = [];
  let wasPlaying = false;
  let closed = false;
  let pendingClose: NativeSpeaker[] = [];

  const openDevice = (): NativeSpeaker => {
    const d = new Speaker({ channels: 1, bitDepth: 16, sampleRate: RATE, signed: true, ...(opts.device ? { device: opts.device } : {}) });
    d.on('error', (e) => opts.onError?.(e as Error));
    return d;
  };

  const settle = () => {
    if (inflight > 0) return;
    // Close dropped devices only when no native write is running on a worker thread.
    for (const d of pendingClose) d.close(true);
    pendingClose = [];
    const f = flushed;
    flushed = [];
    for (const fn of f) fn();
  };

  const pump = () => {
    while (queue.length && clock.ahead() < leadMs) {
      const piece = queue.shift()!;
      device ??= openDevice();
      inflight++;
      device.write(piece, () => {
        inflight--;
        settle();
      });
      clock.hand(piece.length / BYTES_PER_MS);
    }
    const playingNow = queue.length > 0 || clock.ahead() > 0;
    if (wasPlaying && !playingNow) opts.onDrained?.();
    wasPlaying = playingNow;
    if (!playingNow && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
  let timer: NodeJS.Timeout | null = null;
  const ensureTimer = () => {
    if (!timer) timer = setInterval(pump, 10);
  };

  const itemPlayed = (id: string | null): number => {
    if (!id) return 0;
    const span = items.get(id);
    if (!span) return 0;
    return Math.round(Math.min(span.dur, Math.max(0, clock.played() - span.start)));
  };

  const out: SpeakerOut = {
    write(pcm, itemId) {
      if (closed || pcm.length === 0) return;
      let span = items.get(itemId);
      if (!span) {
        span = { start: enqueued, dur: 0 };
        items.set(itemId, span);
        if (items.size > 64) items.delete(items.keys().next().value as string);
      }
      current = itemId;
      const ms = pcm.length / BYTES_PER_MS;
      span.dur += ms;
      enqueued += ms;
      for (let o = 0; o < pcm.length; o += PIECE_BYTES) queue.push(pcm.subarray(o, Math.min(pcm.length, o + PIECE_BYTES)));
      wasPlaying = true;
      pump();
      ensureTimer();
    },
    playing() {
      return queue.length > 0 || clock.ahead() > 0;
    },
    playedMs(itemId) {
      return itemPlayed(itemId ?? current);
    },
    stop() {
      const id = current;
      const played = itemPlayed(id);
      queue.length = 0;
      const at = clock.drop();
      enqueued = at;
      if (id) {
        const span = items.get(id);
        if (span) span.dur = played; // what was not heard never will be
      }
      if (device) {
        // snd_pcm_drop discards what the device still holds; a fresh device serves the next reply.
        pendingClose.push(device);
        device = null;
        settle();
      }
      if (wasPlaying) {
        wasPlaying = false;
        opts.onDrained?.();
      }
      if (timer) {
        clearInterval(timer);
        timer = null;
      }
      return { itemId: id, playedMs: played };
    },
    close() {
      if (closed) return Promise.resolve();
      out.stop();
      closed = true;
      return new Promise<void>((resolve) => {
        flushed.push(resolve);
        settle();
      });
    },
  };
  return out;
}
