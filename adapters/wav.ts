// WAV in and out for headless runs and tests. The realtime API wants 24 kHz mono pcm16; other PCM
// WAVs are converted (downmix by averaging, linear resampling), compressed ones are refused clearly.
import { closeSync, openSync, readFileSync, writeSync, writeFileSync } from 'node:fs';
import { PCM_SAMPLE_RATE } from '../src/protocol/constants.js';
import { fsReason } from '../src/errors.js';

/** The realtime API's sample rate (src/protocol/constants.ts), under the name this module's callers use. */
export const RATE = PCM_SAMPLE_RATE;

export class WavError extends Error {
  override readonly name = 'WavError';
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** 1 = integer PCM, 3 = IEEE float (after unwrapping WAVE_FORMAT_EXTENSIBLE). */
  format: 1 | 3;
  frames: number;
}

export interface DecodedWav {
  info: WavInfo;
  /** 24 kHz mono pcm16 little-endian. */
  pcm: Buffer;
  converted: boolean;
}

const FORMAT_NAMES: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'mu-law', 0x11: 'IMA ADPCM', 0x55: 'MP3' };

/** Parses a WAV file's header and returns its samples as floats per channel-interleaved frame. */
export function parseWav(buf: Buffer, name = 'WAV'): { info: WavInfo; data: Buffer } {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavError(`${name} is not a WAV file (no RIFF/WAVE header)`);
  }
  let off = 12;
  let fmt: Omit<WavInfo, 'frames'> | undefined;
  let data: Buffer | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    // Streamed WAVs (and our own writer if interrupted) may carry 0 or 0xFFFFFFFF as the data size.
    if (id === 'data' && (size === 0 || size === 0xffffffff || body + size > buf.length)) size = buf.length - body;
    if (id === 'fmt ') {
      if (size < 16) throw new WavError(`${name}: fmt chunk too short`);
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const bitsPerSample = buf.readUInt16LE(body + 14);
      if (tag === 0xfffe && size >= 26) tag = buf.readUInt16LE(body + 24); // sub-format GUID starts with the tag
      if (tag !== 1 && tag !== 3) {
        const what = FORMAT_NAMES[tag] ?? `format tag ${tag}`;
        throw new WavError(`${name} is ${what}, not PCM: convert it first, e.g. sox in.wav -r 24000 -c 1 -b 16 out.wav`);
      }
      if (tag === 1 && ![8, 16, 24, 32].includes(bitsPerSample)) throw new WavError(`${name}: ${bitsPerSample}-bit PCM is not supported`);
      if (tag === 3 && ![32, 64].includes(bitsPerSample)) throw new WavError(`${name}: ${bitsPerSample}-bit float is not supported`);
      if (channels < 1 || sampleRate < 1) throw new WavError(`${name}: invalid fmt chunk (${channels} channels, ${sampleRate} Hz)`);
      fmt = { format: tag as 1 | 3, channels, sampleRate, bitsPerSample };
    } else if (id === 'data') {
      data = buf.subarray(body, body + size);
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new WavError(`${name}: no fmt chunk`);
  if (!data) throw new WavError(`${name}: no data chunk`);
  const frameBytes = (fmt.bitsPerSample / 8) * fmt.channels;
  return { info: { ...fmt, frames: Math.floor(data.length / frameBytes) }, data };
}

function sampleReader(info: WavInfo): (b: Buffer, o: number) => number {
  const { format, bitsPerSample: bits } = info;
  if (format === 3) return bits === 32 ? (b, o) => b.readFloatLE(o) : (b, o) => b.readDoubleLE(o);
  if (bits === 8) return (b, o) => (b[o] - 128) / 128;
  if (bits === 16) return (b, o) => b.readInt16LE(o) / 32768;
  if (bits === 24) return (b, o) => b.readIntLE(o, 3) / 8388608;
  return (b, o) => b.readInt32LE(o) / 2147483648;
}

/** Mono float samples from any supported WAV (channels averaged). */
function toMonoFloat(info: WavInfo, data: Buffer): Float64Array {
  const read = sampleReader(info);
  const bps = info.bitsPerSample / 8;
  const out = new Float64Array(info.frames);
  for (let f = 0; f < info.frames; f++) {
    let sum = 0;
    const base = f * bps * info.channels;
    for (let c = 0; c < info.channels; c++) sum += read(data, base + c * bps);
    out[f] = sum / info.channels;
  }
  return out;
}

/** Linear-interpolation resampling: good enough for speech into an ASR/VAD, and dependency-free. */
export function resampleLinear(input: Float64Array, fromRate: number, toRate: number): Float64Array {
  if (fromRate === toRate) return input;
  const outLen = Math.max(0, Math.round((input.length * toRate) / fromRate));
  const out = new Float64Array(outLen);
  const step = fromRate / toRate;
  for (let i = 0; i < outLen; i++) {
    const pos = i * step;
    const i0 = Math.floor(pos);
    const i1 = Math.min(i0 + 1, input.length - 1);
    const t = pos - i0;
    out[i] = (input[i0] ?? 0) * (1 - t) + (input[i1] ?? 0) * t;
  }
  return out;
}

export function floatToPcm16(samples: Float64Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out.writeInt16LE(Math.round(s < 0 ? s * 32768 : s * 32767), i * 2);
  }
  return out;
}

/** Decodes a WAV buffer to 24 kHz mono pcm16, converting rate, channels and sample format when needed. */
export function decodeWav(buf: Buffer, name = 'WAV'): DecodedWav {
  const { info, data } = parseWav(buf, name);
  if (info.sampleRate < 8000) {
    throw new WavError(`${name} is ${info.sampleRate} Hz: too low for speech; use at least 8000 Hz (24000 preferred)`);
  }
  const native = info.format === 1 && info.bitsPerSample === 16 && info.channels === 1 && info.sampleRate === RATE;
  if (native) return { info, pcm: Buffer.from(data.subarray(0, info.frames * 2)), converted: false };
  const mono = toMonoFloat(info, data);
  return { info, pcm: floatToPcm16(resampleLinear(mono, info.sampleRate, RATE)), converted: true };
}

export function readWav(path: string): DecodedWav {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new WavError(`cannot read ${path}: ${fsReason(e)}`);
  }
  return decodeWav(buf, path);
}

export function wavHeader(dataBytes: number, sampleRate = RATE, channels = 1, bits = 16): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE((sampleRate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export function writeWav(path: string, pcm: Buffer, sampleRate = RATE): void {
  writeFileSync(path, Buffer.concat([wavHeader(pcm.length, sampleRate), pcm]));
}

/** Streams pcm16 24 kHz mono to a WAV file as it arrives; sizes are patched on close (a crash leaves a readable file). */
export class WavWriter {
  private fd: number;
  private bytes = 0;
  private closed = false;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new WavError(`cannot write ${path}: ${fsReason(e)}`);
    }
    writeSync(this.fd, wavHeader(0xffffffff - 36), 0, 44, 0);
  }
  write(pcm: Buffer): void {
    if (this.closed || pcm.length === 0) return;
    writeSync(this.fd, pcm, 0, pcm.length, 44 + this.bytes);
    this.bytes += pcm.length;
  }
  get durationMs(): number {
    return (this.bytes / 2 / RATE) * 1000;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    writeSync(this.fd, wavHeader(this.bytes), 0, 44, 0);
    closeSync(this.fd);
  }
}
