// Audio formats and the emulator's synthetic voice: deterministic, non-silent, cheap.
// Output audio is a fixed set of pre-encoded 100 ms chunks (one pitch per word), so generating
// real-time audio for hundreds of sessions costs no more than a base64 string lookup.

export type AudioFormatType = 'audio/pcm' | 'audio/pcmu' | 'audio/pcma';

export const PCM_RATE = 24_000;
export const CHUNK_MS = 100;
/** About 150 words per minute. */
export const MS_PER_WORD = 400;

/** Bytes per millisecond of audio on the wire for a format. */
export function bytesPerMs(format: AudioFormatType): number {
  return format === 'audio/pcm' ? 48 : 8; // pcm16 24 kHz mono, G.711 8 kHz
}

export function durationMs(bytes: number, format: AudioFormatType): number {
  return bytes / bytesPerMs(format);
}

export function speechDurationMs(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(1, words) * MS_PER_WORD;
}

function linearToMulaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function linearToAlaw(sample: number): number {
  let s = sample >> 3;
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  const seg = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let i = 0;
  while (i < 8 && s > seg[i]) i++;
  if (i >= 8) return 0x7f ^ mask;
  let aval = i << 4;
  aval |= i < 2 ? (s >> 1) & 0xf : (s >> i) & 0xf;
  return aval ^ mask;
}

const PITCHES = [220, 247, 262, 294, 330, 349, 392, 440];
const chunkCache = new Map<string, string[]>();

/** Synthetic tone (with a soft envelope and a little deterministic noise) for one chunk. */
function synthChunk(pitch: number, rate: number, ms: number): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  let noise = 12345 + pitch;
  for (let i = 0; i < n; i++) {
    noise = (noise * 1103515245 + 12345) & 0x7fffffff;
    const env = Math.min(1, i / (n * 0.1), (n - i) / (n * 0.1));
    const v = Math.sin((2 * Math.PI * pitch * i) / rate) * 0.3 + ((noise / 0x7fffffff) - 0.5) * 0.02;
    out[i] = Math.round(v * env * 32767);
  }
  return out;
}

/** The pre-encoded base64 100 ms chunks for a format (one per pitch). */
export function voiceChunks(format: AudioFormatType): string[] {
  let c = chunkCache.get(format);
  if (c) return c;
  c = PITCHES.map((p) => {
    if (format === 'audio/pcm') {
      const s = synthChunk(p, PCM_RATE, CHUNK_MS);
      return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64');
    }
    const s = synthChunk(p, 8000, CHUNK_MS);
    const b = Buffer.alloc(s.length);
    for (let i = 0; i < s.length; i++) b[i] = format === 'audio/pcmu' ? linearToMulaw(s[i]) : linearToAlaw(s[i]);
    return b.toString('base64');
  });
  chunkCache.set(format, c);
  return c;
}

/** Base64 chunk number `index` of the synthetic voice (deterministic pitch sequence). */
export function voiceChunk(format: AudioFormatType, index: number): string {
  const chunks = voiceChunks(format);
  return chunks[(index * 5 + (index >> 2)) % chunks.length];
}

/** The whole synthetic audio for `ms` milliseconds (used by conversation.item.retrieve). */
export function voiceAudio(format: AudioFormatType, ms: number): Buffer {
  const n = Math.ceil(ms / CHUNK_MS);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(Buffer.from(voiceChunk(format, i), 'base64'));
  const all = Buffer.concat(parts);
  return all.subarray(0, Math.round(ms * bytesPerMs(format)));
}

/** Mean absolute level of a pcm16 little-endian slice, normalised to 0..1. */
export function pcm16Level(buf: Buffer, start: number, end: number): number {
  let sum = 0;
  let n = 0;
  for (let i = start; i + 1 < end; i += 2) {
    sum += Math.abs(buf.readInt16LE(i));
    n++;
  }
  return n ? sum / n / 32768 : 0;
}

/** Level of a G.711 slice (decoded magnitude approximation), 0..1. */
export function g711Level(buf: Buffer, start: number, end: number, format: 'audio/pcmu' | 'audio/pcma'): number {
  let sum = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    let v = buf[i];
    if (format === 'audio/pcmu') {
      v = ~v & 0xff;
      const exp = (v >> 4) & 7;
      const mant = v & 0x0f;
      sum += (((mant << 3) + 0x84) << exp) - 0x84;
    } else {
      v ^= 0x55;
      const exp = (v >> 4) & 7;
      const mant = v & 0x0f;
      sum += exp === 0 ? (mant << 4) + 8 : ((mant << 4) + 0x108) << (exp - 1);
    }
    n++;
  }
  return n ? sum / n / 32768 : 0;
}
