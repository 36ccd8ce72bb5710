// Prices in USD per 1M tokens (realtime-protocol.md section 7.3).
import type { RealtimeResponseUsage } from '../protocol/events.js';

export interface PriceRow {
  textIn: number;
  textCached: number;
  textOut: number;
  audioIn: number;
  audioCached: number;
  audioOut: number;
}

export const PRICES: Readonly<Record<string, PriceRow>> = {
  'gpt-realtime': { textIn: 4, textCached: 0.4, textOut: 16, audioIn: 32, audioCached: 0.4, audioOut: 64 },
  'gpt-realtime-mini': { textIn: 0.6, textCached: 0.06, textOut: 2.4, audioIn: 10, audioCached: 0.3, audioOut: 20 },
  'gpt-4o-realtime-preview': { textIn: 5, textCached: 2.5, textOut: 20, audioIn: 40, audioCached: 2.5, audioOut: 80 },
  'gpt-4o-mini-realtime-preview': { textIn: 0.6, textCached: 0.3, textOut: 2.4, audioIn: 10, audioCached: 0.3, audioOut: 20 },
};

/** The price row for a model id, matching dated snapshots by prefix; gpt-realtime's when unknown. */
export function priceFor(model: string): PriceRow {
  const keys = Object.keys(PRICES).sort((a, b) => b.length - a.length);
  const k = keys.find((key) => model === key || model.startsWith(`${key}-`));
  return PRICES[k ?? 'gpt-realtime'];
}

/** Cost of one response in USD. Cached tokens are billed at the cached rate, the rest at full rate. */
export function usageCost(usage: RealtimeResponseUsage | undefined, model: string): number {
  if (!usage) return 0;
  const p = priceFor(model);
  const inD = usage.input_token_details ?? {};
  const outD = usage.output_token_details ?? {};
  const cachedD = inD.cached_tokens_details ?? {};
  const textIn = inD.text_tokens ?? 0;
  const audioIn = inD.audio_tokens ?? 0;
  const cachedText = Math.min(cachedD.text_tokens ?? 0, textIn);
  const cachedAudio = Math.min(cachedD.audio_tokens ?? 0, audioIn);
  const cost =
    (textIn - cachedText) * p.textIn +
    cachedText * p.textCached +
    (audioIn - cachedAudio) * p.audioIn +
    cachedAudio * p.audioCached +
    (outD.text_tokens ?? 0) * p.textOut +
    (outD.audio_tokens ?? 0) * p.audioOut;
  return cost / 1_000_000;
}
