// Speech-like test audio without a TTS engine: a voiced buzz (120 Hz with falling harmonics) under
// a syllable-rate envelope, so energy-based VAD and audio token counts behave as with a voice.
import { PCM_BYTES_PER_MS, PCM_SAMPLE_RATE as RATE } from '../protocol/constants.js';

export function speechLikePcm(text: string, opts: { msPerWord?: number; amplitude?: number } = {}): Buffer {
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const ms = Math.min(6000, 300 + words * (opts.msPerWord ?? 260));
  const samples = Math.round((ms / 1000) * RATE);
  const amp = opts.amplitude ?? 0.3;
  const out = Buffer.alloc(samples * 2);
  // Deterministic: the pitch wobble is derived from the text, not from Math.random().
  let seed = 0;
  for (const c of text) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
  const f0 = 110 + (seed % 40);
  for (let i = 0; i < samples; i++) {
    const t = i / RATE;
    const syllable = Math.max(0, Math.sin(Math.PI * 4 * t)) ** 0.6; // ~4 syllables per second
    const edge = Math.min(1, t / 0.05, (ms / 1000 - t) / 0.05); // 50 ms fades: no clicks
    const f = f0 * (1 + 0.05 * Math.sin(2 * Math.PI * 3 * t));
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * f * h * t) / h;
    out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, v * 0.45 * amp * syllable * edge)) * 32767), i * 2);
  }
  return out;
}

export const pcmMs = (pcm: Buffer): number => Math.round(pcm.length / PCM_BYTES_PER_MS);
