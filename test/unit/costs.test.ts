import { describe, expect, it } from 'vitest';
import { PRICES, priceFor, usageCost } from '../../src/conversation/costs.js';

describe('priceFor', () => {
  it('matches exact model ids', () => {
    for (const k of Object.keys(PRICES)) expect(priceFor(k)).toBe(PRICES[k]);
  });

  it('matches dated snapshots by the longest prefix', () => {
    expect(priceFor('gpt-realtime-2025-08-28')).toBe(PRICES['gpt-realtime']);
    expect(priceFor('gpt-realtime-mini-2025-10-06')).toBe(PRICES['gpt-realtime-mini']);
    expect(priceFor('gpt-4o-realtime-preview-2024-12-17')).toBe(PRICES['gpt-4o-realtime-preview']);
    expect(priceFor('gpt-4o-mini-realtime-preview-2024-12-17')).toBe(PRICES['gpt-4o-mini-realtime-preview']);
  });

  it('falls back to gpt-realtime for unknown models, and does not match a bare substring', () => {
    expect(priceFor('my-local-model')).toBe(PRICES['gpt-realtime']);
    expect(priceFor('gpt-realtimex')).toBe(PRICES['gpt-realtime']);
    expect(priceFor('gpt-realtime-minix')).toBe(PRICES['gpt-realtime']);
  });

  it('has the published gpt-realtime prices', () => {
    expect(PRICES['gpt-realtime']).toEqual({ textIn: 4, textCached: 0.4, textOut: 16, audioIn: 32, audioCached: 0.4, audioOut: 64 });
  });
});

describe('usageCost', () => {
  it('is 0 without usage', () => {
    expect(usageCost(undefined, 'gpt-realtime')).toBe(0);
    expect(usageCost({}, 'gpt-realtime')).toBe(0);
  });

  it('bills text and audio in and out at the model\'s rates', () => {
    const cost = usageCost(
      {
        total_tokens: 4_000,
        input_token_details: { text_tokens: 1_000, audio_tokens: 2_000 },
        output_token_details: { text_tokens: 500, audio_tokens: 500 },
      },
      'gpt-realtime',
    );
    // (1000*4 + 2000*32 + 500*16 + 500*64) / 1e6
    expect(cost).toBeCloseTo((4_000 + 64_000 + 8_000 + 32_000) / 1e6, 12);
  });

  it('bills cached tokens at the cached rate and the rest at the full rate', () => {
    const cost = usageCost(
      {
        input_token_details: { text_tokens: 1_000, audio_tokens: 1_000, cached_tokens: 1_200, cached_tokens_details: { text_tokens: 800, audio_tokens: 400 } },
      },
      'gpt-realtime',
    );
    // text: 200*4 + 800*0.4; audio: 600*32 + 400*0.4
    expect(cost).toBeCloseTo((800 + 320 + 19_200 + 160) / 1e6, 12);
  });

  it('never bills more cached tokens than input tokens', () => {
    const cost = usageCost(
      { input_token_details: { text_tokens: 100, audio_tokens: 0, cached_tokens_details: { text_tokens: 500, audio_tokens: 50 } } },
      'gpt-realtime',
    );
    expect(cost).toBeCloseTo((100 * 0.4) / 1e6, 12);
  });

  it('uses the snapshot\'s price row', () => {
    const usage = { output_token_details: { audio_tokens: 1_000_000 } };
    expect(usageCost(usage, 'gpt-realtime-mini-2025-10-06')).toBeCloseTo(20, 9);
    expect(usageCost(usage, 'gpt-realtime')).toBeCloseTo(64, 9);
  });
});

describe('price rows of the reference models (realtime-protocol.md §7.3)', () => {
  it('gpt-4o-realtime-preview and gpt-4o-mini-realtime-preview', () => {
    expect(priceFor('gpt-4o-realtime-preview-2024-12-17')).toEqual({ textIn: 5, textCached: 2.5, textOut: 20, audioIn: 40, audioCached: 2.5, audioOut: 80 });
    expect(priceFor('gpt-4o-mini-realtime-preview')).toEqual({ textIn: 0.6, textCached: 0.3, textOut: 2.4, audioIn: 10, audioCached: 0.3, audioOut: 20 });
  });
});
