// What a new session is seeded with after a reconnect or a rollover (src/conversation/seed.ts): the
// summaries, then the turns no summary covers, as one text; expected texts written out from the
// seed's documented format ("Summary of the conversation so far: ..." / "Most recent turns, verbatim:").
import { describe, expect, it } from 'vitest';
import { buildSeed } from '../../src/conversation/seed.js';
import type { Turn } from '../../src/types.js';

const turn = (over: Partial<Turn> & { id: string }): Turn => ({ kind: 'message', role: 'user', text: 'x', textState: 'final', audio: false, at: 0, ...over });

describe('buildSeed', () => {
  it('an empty mirror seeds nothing', () => {
    expect(buildSeed([])).toBeNull();
  });

  it('summary + the turns it does not cover, in mirror order; covers every id', () => {
    const mirror = [
      turn({ id: 'a', text: 'old question' }),
      turn({ id: 'b', role: 'assistant', text: 'old answer' }),
      turn({ id: 'sum_001', role: 'system', text: '  The user asked about trains.  ', summaryOf: ['a', 'b'] }),
      turn({ id: 'c', text: 'when is the next one?' }),
      turn({ id: 'd', role: 'assistant', text: 'At 14:05.' }),
    ];
    expect(buildSeed(mirror)).toEqual({
      text: 'Summary of the conversation so far: The user asked about trains.\n\nMost recent turns, verbatim:\nuser: when is the next one?\nassistant: At 14:05.',
      covers: ['a', 'b', 'sum_001', 'c', 'd'],
    });
  });

  it('several summaries are joined with a space, empty ones left out; a seed_<n> id counts as a summary', () => {
    const mirror = [
      turn({ id: 'seed_1', role: 'system', text: 'Earlier: hello.' }),
      turn({ id: 'sum_002', role: 'system', text: '   ', summaryOf: [] }),
      turn({ id: 'sum_003', role: 'system', text: null, summaryOf: [] }),
      turn({ id: 'sum_004', role: 'system', text: 'Then: goodbye.', summaryOf: [] }),
    ];
    expect(buildSeed(mirror)).toEqual({
      text: 'Summary of the conversation so far: Earlier: hello. Then: goodbye.',
      covers: ['seed_1', 'sum_002', 'sum_003', 'sum_004'],
    });
  });

  it('without a summary the seed is the verbatim turns only (a pending user turn reads [inaudible])', () => {
    const mirror = [turn({ id: 'u1', text: 'hi' }), turn({ id: 'u2', text: null, textState: 'pending', audio: true })];
    expect(buildSeed(mirror)).toEqual({ text: 'Most recent turns, verbatim:\nuser: hi\nuser: [inaudible]', covers: ['u1', 'u2'] });
  });

  it('a turn a summary covers appears only through the summary (interrupted prune: nothing twice)', () => {
    // The summary landed but the deletes of a and b did not: a and b are still in the mirror.
    const mirror = [turn({ id: 'a', text: 'one' }), turn({ id: 'b', text: 'two' }), turn({ id: 'sum_001', role: 'system', text: 'One and two.', summaryOf: ['a', 'b'] })];
    expect(buildSeed(mirror)).toEqual({ text: 'Summary of the conversation so far: One and two.', covers: ['a', 'b', 'sum_001'] });
  });
});
