// Token estimates (src/conversation/tokens.ts). Expected values: the o200k tokenizer itself for text
// (the library, not the code under test), the audio rates of realtime-protocol.md §7.2 (input 1 token
// per 100 ms = 10/s, output 1 per 50 ms = 20/s), a 4-token item overhead, ~150 words/min speech for
// audio of unknown length, and ~4 characters per token for one unbroken piece past 4096 characters.
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { estimateItemTokens, textTokens } from '../../src/conversation/tokens.js';

const LIMIT = 4096;
/** Oracle for long text: whitespace-ended pieces packed greedily into batches of <= 4096 characters. */
function batchedOracle(text: string): number {
  const pieces: string[] = [];
  let cur = '';
  for (const ch of text) {
    const startsWord = !/\s/.test(ch) && /\s$/.test(cur); // a word after whitespace starts a piece
    if (!startsWord) cur += ch;
    else {
      pieces.push(cur);
      cur = ch;
    }
  }
  if (cur) pieces.push(cur);
  let n = 0;
  let batch = '';
  for (const p of pieces) {
    if (p.length > LIMIT) {
      n += Math.ceil(p.length / 4);
      continue;
    }
    if (batch.length + p.length > LIMIT) {
      n += countTokens(batch);
      batch = '';
    }
    batch += p;
  }
  return n + (batch ? countTokens(batch) : 0);
}

describe('textTokens', () => {
  it('no text is 0 tokens; short text is the exact o200k count', () => {
    expect(textTokens(null)).toBe(0);
    expect(textTokens(undefined)).toBe(0);
    expect(textTokens('')).toBe(0);
    expect(textTokens('one two three')).toBe(3);
    const exactly = 'word '.repeat(819) + 'a'; // 4096 characters: still counted in one go
    expect(exactly.length).toBe(LIMIT);
    expect(textTokens(exactly)).toBe(countTokens(exactly));
  });

  it('one unbroken piece past 4096 characters is estimated at 4 characters per token', () => {
    expect(textTokens('a'.repeat(5001))).toBe(Math.ceil(5001 / 4));
    // The piece keeps its trailing space; what follows is counted exactly.
    expect(textTokens('a'.repeat(5000) + ' hello world')).toBe(Math.ceil(5001 / 4) + countTokens('hello world'));
    expect(textTokens('hello world ' + 'b'.repeat(5000))).toBe(countTokens('hello world ') + Math.ceil(5000 / 4));
  });

  it('long text with spaces is counted exactly in batches of at most 4096 characters, split between words', () => {
    const words = Array.from({ length: 1800 }, (_, i) => `w${i}`).join(' '); // ~9,700 characters, no trailing space
    expect(words.length).toBeGreaterThan(2 * LIMIT);
    expect(textTokens(words)).toBe(batchedOracle(words));
    const leading = '   ' + 'hello '.repeat(1000) + 'end';
    expect(textTokens(leading)).toBe(batchedOracle(leading));
    const spaced = 'hello  \n\n world '.repeat(400) + 'x';
    expect(textTokens(spaced)).toBe(batchedOracle(spaced));
    const newlines = '\n'.repeat(5000) + 'end'; // a whitespace run past the limit is one piece too
    expect(textTokens(newlines)).toBe(batchedOracle(newlines));
    expect(textTokens(newlines)).toBe(Math.ceil(5000 / 4) + countTokens('end'));
    // A piece of exactly 4096 characters is still counted exactly.
    const exact = 'a'.repeat(4095) + ' b';
    expect(textTokens(exact)).toBe(countTokens('a'.repeat(4095) + ' ') + countTokens('b'));
    // A batch may be exactly 4096 characters; the next piece starts a new one.
    const full = 'a'.repeat(4000) + ' ' + 'hello '.repeat(15) + 'abcd ' + 'tail';
    expect(textTokens(full)).toBe(countTokens(full.slice(0, 4096)) + countTokens('tail'));
    expect(textTokens(full)).toBe(batchedOracle(full));
    // Batching costs at most a token per boundary against the exact count.
    expect(Math.abs(textTokens(words) - countTokens(words))).toBeLessThanOrEqual(3);
  });
});

describe('estimateItemTokens', () => {
  it('text items: the 4-token overhead plus the text tokens', () => {
    expect(estimateItemTokens({ role: 'user', text: 'one two three', audio: false })).toBe(4 + 3);
    expect(estimateItemTokens({ role: 'assistant', text: null, audio: false })).toBe(4);
    // A duration given for an item without audio does not make it audio.
    expect(estimateItemTokens({ role: 'user', text: 'one two three', audio: false, audioMs: 60_000 })).toBe(4 + 3);
  });

  it('audio of known length: 10 tokens/s in, 20 tokens/s out, rounded up', () => {
    expect(estimateItemTokens({ role: 'user', text: 'whatever', audio: true, audioMs: 1500 })).toBe(4 + 15);
    expect(estimateItemTokens({ role: 'assistant', text: 'whatever', audio: true, audioMs: 1500 })).toBe(4 + 30);
    expect(estimateItemTokens({ role: 'user', text: null, audio: true, audioMs: 1010 })).toBe(4 + 11);
    expect(estimateItemTokens({ role: 'assistant', text: null, audio: true, audioMs: 1010 })).toBe(4 + 21);
    expect(estimateItemTokens({ role: null, text: null, audio: true, audioMs: 2000 })).toBe(4 + 20);
  });

  it('audio of unknown length: words at 150/min (2.5 words/s), 10 words when there is no transcript', () => {
    // 5 words = 2 s
    expect(estimateItemTokens({ role: 'user', text: 'one two  three\nfour five', audio: true })).toBe(4 + 20);
    expect(estimateItemTokens({ role: 'assistant', text: 'one two  three\nfour five', audio: true })).toBe(4 + 40);
    // 10 words = 4 s
    expect(estimateItemTokens({ role: 'user', text: null, audio: true })).toBe(4 + 40);
    expect(estimateItemTokens({ role: 'assistant', text: null, audio: true })).toBe(4 + 80);
    // 1 word = 0.4 s, rounded up
    expect(estimateItemTokens({ role: 'user', text: 'hi', audio: true })).toBe(4 + 4);
    expect(estimateItemTokens({ role: 'assistant', text: 'hi', audio: true })).toBe(4 + 8);
  });
});
