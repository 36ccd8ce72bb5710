import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, readWav, resampleLinear, WavError, wavHeader, WavWriter, writeWav } from '../../adapters/wav.js';

function wav(opts: { rate: number; channels: number; bits: number; format?: number; frames: Float64Array[] }): Buffer {
  const { rate, channels, bits } = opts;
  const format = opts.format ?? 1;
  const bps = bits / 8;
  const n = opts.frames[0].length;
  const data = Buffer.alloc(n * channels * bps);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const v = opts.frames[c][i];
      const o = (i * channels + c) * bps;
      if (format === 3) data.writeFloatLE(v, o);
      else if (bits === 8) data[o] = Math.round(v * 127 + 128);
      else if (bits === 16) data.writeInt16LE(Math.round(v * 32767), o);
      else if (bits === 24) data.writeIntLE(Math.round(v * 8388607), o, 3);
      else data.writeInt32LE(Math.round(v * 2147483647), o);
    }
  }
  const h = wavHeader(data.length, rate, channels, bits);
  h.writeUInt16LE(format, 20);
  return Buffer.concat([h, data]);
}

const sine = (n: number, rate: number, f = 440, a = 0.5) => Float64Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * f * i) / rate));

describe('wav adapter', () => {
  it('round-trips 24 kHz mono pcm16 untouched', () => {
    const pcm = Buffer.alloc(4800);
    for (let i = 0; i < 2400; i++) pcm.writeInt16LE((i * 37) % 30000 - 15000, i * 2);
    const dir = mkdtempSync(join(tmpdir(), 'wav-'));
    writeWav(join(dir, 'a.wav'), pcm);
    const back = readWav(join(dir, 'a.wav'));
    expect(back.converted).toBe(false);
    expect(back.pcm.equals(pcm)).toBe(true);
    expect(back.info).toMatchObject({ sampleRate: 24000, channels: 1, bitsPerSample: 16, frames: 2400 });
  });

  it('converts 48 kHz stereo to 24 kHz mono (downmix + resample)', () => {
    const left = sine(48000, 48000, 440, 0.5);
    const right = sine(48000, 48000, 440, 0.5);
    const out = decodeWav(wav({ rate: 48000, channels: 2, bits: 16, frames: [left, right] }));
    expect(out.converted).toBe(true);
    expect(out.pcm.length).toBe(48000); // 1 s at 24 kHz, 2 bytes
    let peak = 0;
    for (let i = 0; i < out.pcm.length / 2; i++) peak = Math.max(peak, Math.abs(out.pcm.readInt16LE(i * 2)));
    expect(peak / 32767).toBeGreaterThan(0.48);
    expect(peak / 32767).toBeLessThan(0.52);
  });

  it('downmixes opposite channels to silence', () => {
    const a = sine(1600, 16000);
    const b = a.map((x) => -x);
    const out = decodeWav(wav({ rate: 16000, channels: 2, bits: 16, frames: [a, b] }));
    expect(out.pcm.length).toBe(4800);
    for (let i = 0; i < out.pcm.length / 2; i++) expect(Math.abs(out.pcm.readInt16LE(i * 2))).toBeLessThanOrEqual(1);
  });

  it.each([8, 24, 32])('reads %i-bit integer PCM', (bits) => {
    const out = decodeWav(wav({ rate: 24000, channels: 1, bits, frames: [sine(240, 24000, 1000, 0.25)] }));
    expect(out.pcm.length).toBe(480);
    const ref = Math.round(0.25 * Math.sin((2 * Math.PI * 1000 * 5) / 24000) * 32767);
    expect(Math.abs(out.pcm.readInt16LE(10) - ref)).toBeLessThan(bits === 8 ? 300 : 3);
  });

  it('reads 32-bit float', () => {
    const out = decodeWav(wav({ rate: 24000, channels: 1, bits: 32, format: 3, frames: [sine(240, 24000)] }));
    expect(out.converted).toBe(true);
    expect(out.pcm.length).toBe(480);
  });

  it('refuses compressed and malformed files with one clear line', () => {
    const mulaw = wav({ rate: 8000, channels: 1, bits: 16, frames: [sine(100, 8000)] });
    mulaw.writeUInt16LE(7, 20);
    expect(() => decodeWav(mulaw, 'x.wav')).toThrow(/x\.wav is mu-law, not PCM: convert it first/);
    expect(() => decodeWav(Buffer.from('hello world, not a wav'), 'y.wav')).toThrow(/y\.wav is not a WAV file/);
    const low = wav({ rate: 4000, channels: 1, bits: 16, frames: [sine(100, 4000)] });
    expect(() => decodeWav(low, 'z.wav')).toThrow(WavError);
    expect(() => readWav('/nonexistent/file.wav')).toThrow(/^cannot read \/nonexistent\/file\.wav: no such file or directory: check the path$/);
  });

  it('resamples linearly with the right length', () => {
    expect(resampleLinear(new Float64Array(441), 44100, 24000).length).toBe(240);
    expect(Array.from(resampleLinear(Float64Array.from([0, 1]), 1, 2))).toEqual([0, 0.5, 1, 1]);
  });

  it('streams a WAV and patches its sizes on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wav-'));
    const p = join(dir, 'out.wav');
    const w = new WavWriter(p);
    w.write(Buffer.alloc(960, 1));
    // Readable even before close (streaming size marker).
    expect(readWav(p).pcm.length).toBe(960);
    w.write(Buffer.alloc(960, 2));
    w.close();
    const raw = readFileSync(p);
    expect(raw.readUInt32LE(40)).toBe(1920);
    expect(raw.readUInt32LE(4)).toBe(36 + 1920);
    expect(readWav(p).pcm.length).toBe(1920);
    writeFileSync(p, raw);
  });
});
