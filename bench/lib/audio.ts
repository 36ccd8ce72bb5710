// Synthetic microphone audio: pcm16 24 kHz mono, speech-like (voiced tone with an envelope).
export const BYTES_PER_MS = 48;
export const CHUNK_MS = 40;
export const CHUNK_BYTES = CHUNK_MS * BYTES_PER_MS; // 1,920 bytes per 40 ms chunk

export function speechPcm(ms: number, freq = 180): Buffer {
  const n = Math.round((ms / 1000) * 24000);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / 1200, (n - i) / 1200);
    const v = Math.sin((2 * Math.PI * freq * i) / 24000) * 0.5 + Math.sin((2 * Math.PI * freq * 2.7 * i) / 24000) * 0.2;
    b.writeInt16LE(Math.round(v * env * 12000), i * 2);
  }
  return b;
}

/** `count` distinct 40 ms chunks cut from one speech-like buffer (reused round robin by callers). */
export function micChunks(count = 25): Buffer[] {
  const all = speechPcm(count * CHUNK_MS);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(Buffer.from(all.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)));
  return out;
}

const WORDS = (
  'we need to move the meeting to thursday because the client asked for more time on the budget review and ' +
  'I think the new design looks better but the colours on the landing page are still too dark for most people ' +
  'can you remind me what we decided about the travel plans for next month and whether the hotel was booked ' +
  'my daughter starts school next week so mornings will be busy and I would like a quieter schedule please'
).split(' ');

/** A user utterance of about 2.5 words per second of audio. */
export function utterance(rand: () => number, ms: number): string {
  const n = Math.max(3, Math.round((ms / 1000) * 2.5));
  const start = Math.floor(rand() * WORDS.length);
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(WORDS[(start + i * 3) % WORDS.length]);
  return `${w.join(' ')}.`;
}

/** An assistant reply of exactly `n` words (the emulator speaks 400 ms per word). */
export function reply(rand: () => number, n: number): string {
  const w: string[] = [];
  const start = Math.floor(rand() * WORDS.length);
  for (let i = 0; i < n; i++) w.push(WORDS[(start + i * 7) % WORDS.length]);
  return `${w.join(' ')}.`;
}
