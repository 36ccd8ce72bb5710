// Token accounting, the prompt-cache rule and server-side truncation (README "Usage and cache").
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { RealtimeResponseUsage } from 'openai/resources/realtime/realtime';

/** Special tokens added per conversation item (role markers etc.). */
export const ITEM_OVERHEAD_TOKENS = 4;
/** Input (user) audio: 1 token per 100 ms. */
export const INPUT_AUDIO_TOKENS_PER_SECOND = 10;
/** Output (assistant) audio: 1 token per 50 ms, also when it re-enters later prompts. */
export const OUTPUT_AUDIO_TOKENS_PER_SECOND = 20;
/** No minimum prefix on the realtime service (captured); kept as a named constant for clarity. */
export const CACHE_MIN_TOKENS = 0;
export const CACHE_GRANULARITY = 64;
export const MAX_OUTPUT_TOKENS = 4096;

export function textTokens(text: string | undefined | null): number {
  if (!text) return 0;
  return countTokens(text);
}

export function inputAudioTokens(ms: number): number {
  return ms > 0 ? Math.ceil((ms * INPUT_AUDIO_TOKENS_PER_SECOND) / 1000) : 0;
}

export function outputAudioTokens(ms: number): number {
  return ms > 0 ? Math.ceil((ms * OUTPUT_AUDIO_TOKENS_PER_SECOND) / 1000) : 0;
}

/** Context window per model family (realtime-protocol.md 7.1). Unknown models get 32,000. */
export function contextWindow(model: string): number {
  const m = model.toLowerCase();
  if (m.startsWith('gpt-4o-mini-realtime')) return 16_000;
  if (m.startsWith('gpt-realtime-2')) return 128_000;
  if (m.startsWith('gpt-realtime') || m.startsWith('gpt-4o-realtime')) return 32_000;
  return 32_000;
}

/** One block of a request: the instructions+tools block, or one conversation item. */
export interface TokenBlock {
  /** Identity for the cache rule: equal keys = identical content. */
  key: string;
  text: number;
  audio: number;
}

export function blockTotal(b: TokenBlock): number {
  return b.text + b.audio;
}

export interface CacheResult {
  cached: number;
  cachedText: number;
  cachedAudio: number;
}

/**
 * Cache rule (fitted to the captured service: 64 of 120 input tokens cached on a session's first
 * response, 128 of 139 on the second): the longest common prefix of whole blocks with the previous
 * in-band request *and its output* (the service caches the conversation as it grew), rounded down to
 * a multiple of 64 tokens, from the first response and with no minimum. On a session's first
 * response the instructions+tools block counts as cached (shared instructions are warm on the
 * service). Cached tokens are attributed to text first, then audio.
 */
export function cachedTokens(previous: readonly TokenBlock[] | undefined, current: readonly TokenBlock[]): CacheResult {
  let text = 0;
  let audio = 0;
  if (!previous) {
    if (current.length) {
      text = current[0].text;
      audio = current[0].audio;
    }
  } else {
    const n = Math.min(previous.length, current.length);
    for (let i = 0; i < n; i++) {
      if (previous[i].key !== current[i].key) break;
      text += current[i].text;
      audio += current[i].audio;
    }
  }
  const prefix = text + audio;
  if (prefix < CACHE_MIN_TOKENS) return { cached: 0, cachedText: 0, cachedAudio: 0 };
  const cached = Math.floor(prefix / CACHE_GRANULARITY) * CACHE_GRANULARITY;
  const cachedText = Math.min(text, cached);
  return { cached, cachedText, cachedAudio: cached - cachedText };
}

export interface OutputTokens {
  text: number;
  audio: number;
}

export function buildUsage(input: readonly TokenBlock[], cache: CacheResult, output: OutputTokens): RealtimeResponseUsage {
  let text = 0;
  let audio = 0;
  for (const b of input) {
    text += b.text;
    audio += b.audio;
  }
  const inputTokens = text + audio;
  const outputTokens = output.text + output.audio;
  return {
    total_tokens: inputTokens + outputTokens,
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    input_token_details: {
      text_tokens: text,
      audio_tokens: audio,
      image_tokens: 0,
      cached_tokens: cache.cached,
      cached_tokens_details: { text_tokens: cache.cachedText, audio_tokens: cache.cachedAudio, image_tokens: 0 },
    },
    output_token_details: { text_tokens: output.text, audio_tokens: output.audio },
  };
}

export type TruncationSetting =
  | 'auto'
  | 'disabled'
  | { type: 'retention_ratio'; retention_ratio: number; token_limits?: { post_instructions?: number } };

export interface TruncationPlan {
  /** Number of oldest item blocks to drop from the model context (persistently). */
  drop: number;
  /** Set when truncation is disabled and the request does not fit. */
  overflow?: { inputTokens: number; limit: number };
}

/**
 * Decides how many of the oldest items to drop before a response. `blocks[0]` is the
 * instructions+tools block and is never dropped.
 * - auto: drop oldest until input <= context - max output.
 * - retention_ratio: when the post-instructions tokens exceed their limit (token_limits.post_instructions,
 *   default context - max output - instructions), drop oldest until they are <= ratio * limit.
 * - disabled: never drop; report overflow when input > context - max output.
 */
export function planTruncation(blocks: readonly TokenBlock[], model: string, setting: TruncationSetting): TruncationPlan {
  const limit = contextWindow(model) - MAX_OUTPUT_TOKENS;
  const head = blocks.length ? blockTotal(blocks[0]) : 0;
  let total = 0;
  for (const b of blocks) total += blockTotal(b);
  if (setting === 'disabled') {
    return total > limit ? { drop: 0, overflow: { inputTokens: total, limit } } : { drop: 0 };
  }
  if (setting === 'auto') {
    if (total <= limit) return { drop: 0 };
    let drop = 0;
    for (let i = 1; i < blocks.length && total > limit; i++) {
      total -= blockTotal(blocks[i]);
      drop++;
    }
    return { drop };
  }
  const postLimit = Math.min(setting.token_limits?.post_instructions ?? limit - head, limit - head);
  let post = total - head;
  if (post <= postLimit) return { drop: 0 };
  const target = Math.max(0, Math.min(1, setting.retention_ratio)) * postLimit;
  let drop = 0;
  for (let i = 1; i < blocks.length && post > target; i++) {
    post -= blockTotal(blocks[i]);
    drop++;
  }
  return { drop };
}
