// Token estimates for selection decisions. The server's usage is the truth for the window; these
// estimates only decide how much to fold so the window lands near the target.
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

/** Per-item overhead the server counts (role/boundary tokens); matches the emulator's rule. */
export const ITEM_OVERHEAD_TOKENS = 4;
/** Audio rates from OpenAI's cost guide: 1 token per 100 ms in, 1 per 50 ms out. */
export const INPUT_AUDIO_TOKENS_PER_SECOND = 10;
export const OUTPUT_AUDIO_TOKENS_PER_SECOND = 20;

/** Past this length exact counting gets super-linear on unbroken text: count in pieces instead. */
const EXACT_LIMIT = 4096;

export function textTokens(text: string | null | undefined): number {
  if (!text) return 0;
  if (text.length <= EXACT_LIMIT) return countTokens(text);
  // Pieces split at whitespace, counted in batches of at most EXACT_LIMIT characters; a single piece
  // longer than that (no whitespace at all) is estimated at ~4 characters per token, so one hostile
  // string cannot stall the event loop.
  let n = 0;
  let buf = '';
  for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
    if (piece.length > EXACT_LIMIT) {
      n += Math.ceil(piece.length / 4);
      continue;
    }
    if (buf.length + piece.length > EXACT_LIMIT) {
      n += countTokens(buf);
      buf = '';
    }
    buf += piece;
  }
  return n + (buf ? countTokens(buf) : 0);
}

export interface TokenEstimateInput {
  role: string | null;
  text: string | null;
  audio: boolean;
  /** Duration of the item's audio, when known (ms). */
  audioMs?: number;
}

/** Estimated tokens an item occupies in the model's context. */
export function estimateItemTokens(item: TokenEstimateInput): number {
  let n = ITEM_OVERHEAD_TOKENS;
  if (item.audio && item.audioMs !== undefined) {
    const rate = item.role === 'assistant' ? OUTPUT_AUDIO_TOKENS_PER_SECOND : INPUT_AUDIO_TOKENS_PER_SECOND;
    n += Math.ceil((item.audioMs / 1000) * rate);
  } else if (item.audio) {
    // Unknown duration: speech runs ~150 words/min; text tokens are ~1.3 per word, audio 10-20/s.
    const words = item.text ? item.text.split(/\s+/).length : 10;
    const seconds = words / 2.5;
    const rate = item.role === 'assistant' ? OUTPUT_AUDIO_TOKENS_PER_SECOND : INPUT_AUDIO_TOKENS_PER_SECOND;
    n += Math.ceil(seconds * rate);
  } else {
    n += textTokens(item.text);
  }
  return n;
}
