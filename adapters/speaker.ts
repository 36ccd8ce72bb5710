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
  return new PacedSpeaker(loadSpeaker(), opts, now);
}

/** Hands queued audio to the device `leadMs` at a time; a dropped device closes once no write runs. */
class PacedSpeaker implements SpeakerOut {
  private readonly leadMs: number;
  private readonly clock: PlayClock;
  private readonly queue: Buffer[] = [];
  /** Timeline ms of everything ever written (handed + queued). */
  private enqueued = 0;
  private readonly items = new Map<string, ItemSpan>();
  private current: string | null = null;
  private device: NativeSpeaker | null = null;
  private inflight = 0;
  private flushed: Array<() => void> = [];
  private wasPlaying = false;
  private closed = false;
  private pendingClose: NativeSpeaker[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly Speaker: SpeakerCtor,
    private readonly opts: SpeakerOptions,
    now: () => number,
  ) {
    this.leadMs = opts.leadMs ?? 160;
    this.clock = new PlayClock(now);
  }

  write(pcm: Buffer, itemId: string): void {
    if (this.closed || pcm.length === 0) return;
    let span = this.items.get(itemId);
    if (!span) {
      span = { start: this.enqueued, dur: 0 };
      this.items.set(itemId, span);
      if (this.items.size > 64) this.items.delete(this.items.keys().next().value as string);
    }
    this.current = itemId;
    const ms = pcm.length / BYTES_PER_MS;
    span.dur += ms;
    this.enqueued += ms;
    for (let o = 0; o < pcm.length; o += PIECE_BYTES) this.queue.push(pcm.subarray(o, Math.min(pcm.length, o + PIECE_BYTES)));
    this.wasPlaying = true;
    this.pump();
    if (!this.timer) this.timer = setInterval(() => this.pump(), 10);
  }

  playing(): boolean {
    return this.queue.length > 0 || this.clock.ahead() > 0;
  }

  playedMs(itemId?: string): number {
    return this.itemPlayed(itemId ?? this.current);
  }

  stop(): StopResult {
    const id = this.current;
    const played = this.itemPlayed(id);
    this.queue.length = 0;
    this.enqueued = this.clock.drop();
    if (id) {
      const span = this.items.get(id);
      if (span) span.dur = played; // what was not heard never will be
    }
    if (this.device) {
      // snd_pcm_drop discards what the device still holds; a fresh device serves the next reply.
      this.pendingClose.push(this.device);
      this.device = null;
      this.settle();
    }
    if (this.wasPlaying) {
      this.wasPlaying = false;
      this.opts.onDrained?.();
    }
    this.stopTimer();
    return { itemId: id, playedMs: played };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.stop();
    this.closed = true;
    return new Promise<void>((resolve) => {
      this.flushed.push(resolve);
      this.settle();
    });
  }

  private openDevice(): NativeSpeaker {
    const { device } = this.opts;
    const d = new this.Speaker({ channels: 1, bitDepth: 16, sampleRate: RATE, signed: true, ...(device ? { device } : {}) });
    d.on('error', (e) => this.opts.onError?.(e as Error));
    return d;
  }

  private settle(): void {
    if (this.inflight > 0) return;
    // Close dropped devices only when no native write is running on a worker thread.
    for (const d of this.pendingClose) d.close(true);
    this.pendingClose = [];
    const f = this.flushed;
    this.flushed = [];
    for (const fn of f) fn();
  }

  private pump(): void {
    while (this.queue.length && this.clock.ahead() < this.leadMs) {
      const piece = this.queue.shift()!;
      this.device ??= this.openDevice();
      this.inflight++;
      this.device.write(piece, () => {
        this.inflight--;
        this.settle();
      });
      this.clock.hand(piece.length / BYTES_PER_MS);
    }
    const playingNow = this.playing();
    if (this.wasPlaying && !playingNow) this.opts.onDrained?.();
    this.wasPlaying = playingNow;
    if (!playingNow) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private itemPlayed(id: string | null): number {
    if (!id) return 0;
    const span = this.items.get(id);
    if (!span) return 0;
    return Math.round(Math.min(span.dur, Math.max(0, this.clock.played() - span.start)));
  }
}
