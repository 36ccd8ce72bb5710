// Small statistics and measurement helpers.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** CPU (user+system) in microseconds used by this process since `from`. */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function gcHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/**
 * Event-loop delay over a window: start(), then stop() -> p50/p99/max in ms. Node's histogram records
 * the interval between its sampling timer's runs (resolution included); the excess over the
 * resolution is the delay reported here.
 */
export class LoopDelay {
  private h: IntervalHistogram;
  constructor(private readonly resolutionMs = 2) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
  }
  start(): void {
    this.h.reset();
    this.h.enable();
  }
  stop(): { p50: number; p99: number; max: number; samples: number } {
    this.h.disable();
    const r = {
      p50: round(Math.max(0, this.h.percentile(50) / 1e6 - this.resolutionMs), 2),
      p99: round(Math.max(0, this.h.percentile(99) / 1e6 - this.resolutionMs), 2),
      max: round(Math.max(0, this.h.max / 1e6 - this.resolutionMs), 2),
      samples: this.h.count,
    };
    return r;
  }
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
