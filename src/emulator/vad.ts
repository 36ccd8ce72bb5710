// Server VAD on signal energy. Audio is cut in 10 ms frames; a frame is speech when its mean
// absolute level (0..1) reaches `threshold * 0.02` (threshold 0.5 -> about -40 dBFS).
// Speech starts after 20 ms of speech frames and stops after `silence_duration_ms` of silence.
import { bytesPerMs, g711Level, pcm16Level, type AudioFormatType } from './audio.js';

export const FRAME_MS = 10;
const START_MS = 20;

export interface VadConfig {
  threshold: number;
  silenceMs: number;
}

export type VadEvent = { kind: 'start'; atMs: number } | { kind: 'stop'; atMs: number };

export class EnergyVad {
  speaking = false;
  private speechRun = 0;
  private speechRunStart = 0;
  private silenceRun = 0;
  private lastSpeechEnd = 0;

  constructor(public config: VadConfig) {}

  reset(): void {
    this.speaking = false;
    this.speechRun = 0;
    this.silenceRun = 0;
  }

  /** Feeds one chunk whose first sample is at `startMs` of the session's audio timeline. */
  process(buf: Buffer, format: AudioFormatType, startMs: number, out: VadEvent[]): void {
    const bpm = bytesPerMs(format);
    const frameBytes = bpm * FRAME_MS;
    const level = this.config.threshold * 0.02;
    for (let off = 0; off < buf.length; off += frameBytes) {
      const end = Math.min(buf.length, off + frameBytes);
      const frameStart = startMs + off / bpm;
      const frameLen = (end - off) / bpm;
      const v = format === 'audio/pcm' ? pcm16Level(buf, off, end) : g711Level(buf, off, end, format);
      const speech = v >= level;
      if (!this.speaking) {
        if (speech) {
          if (this.speechRun === 0) this.speechRunStart = frameStart;
          this.speechRun += frameLen;
          if (this.speechRun >= START_MS) {
            this.speaking = true;
            this.silenceRun = 0;
            this.lastSpeechEnd = frameStart + frameLen;
            out.push({ kind: 'start', atMs: Math.round(this.speechRunStart) });
          }
        } else this.speechRun = 0;
      } else if (speech) {
        this.silenceRun = 0;
        this.lastSpeechEnd = frameStart + frameLen;
      } else {
        this.silenceRun += frameLen;
        if (this.silenceRun >= this.config.silenceMs) {
          this.speaking = false;
          this.speechRun = 0;
          this.silenceRun = 0;
          out.push({ kind: 'stop', atMs: Math.round(this.lastSpeechEnd) });
        }
      }
    }
  }
}
