// The cache-aware strategy's cost model (src/conversation/cache-aware-strategy.ts) candidate by
// candidate: W_c, A_c and J_c of every fold depth against the formula of the file's doc comment,
// evaluated here by hand with gpt-realtime's prices (realtime-protocol.md §7.3) and token estimates
// from the protocol's rates (§7.2: 4-token item overhead, audio 10 tokens/s in, 20 out).
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { createCacheAwareStrategy, cacheAwareStrategy, foldCandidates } from '../../src/conversation/cache-aware-strategy.js';
import type { FoldPlan } from '../../src/conversation/policy.js';
import type { StrategyView } from '../../src/conversation/strategy.js';
import type { Turn } from '../../src/types.js';

const P = { textIn: 4, textCached: 0.4, audioIn: 32, audioCached: 0.4 }; // gpt-realtime, USD per 1M
const msg = (id: string, role: Turn['role'], text: string | null, over: Partial<Turn> = {}): Turn => ({ id, kind: 'message', role, text, textState: 'final', audio: false, at: 0, ...over });
const call = (id: string, callId: string): Turn => ({ id, kind: 'function_call', role: null, text: 'lookup({"q":1})', textState: 'final', audio: false, callId, name: 'lookup', at: 0 });
const output = (id: string, callId: string): Turn => ({ id, kind: 'function_call_output', role: null, text: '{"ok":true}', textState: 'final', audio: false, callId, at: 0 });

const ms: Record<string, number> = { u1: 3_000, a1: 6_000, u3: 2_500, u4: 1_800, a4: 4_200 };
/** Oracle token estimate: overhead 4 + audio at 10/s (user) or 20/s (assistant), else o200k text. */
const tokens = (t: Turn) => 4 + (t.audio ? Math.ceil((ms[t.id] / 1000) * (t.role === 'assistant' ? 20 : 10)) : countTokens(t.text ?? ''));
const sumOf = (ts: Turn[]) => ts.reduce((n, t) => n + tokens(t), 0);

// A greeting, a summary, an audio exchange, a tool pair, a text exchange, a lone user turn, and the
// kept last two items (an audio exchange).
const g1 = msg('g1', 'assistant', 'Hello!');
const g2 = msg('g2', 'assistant', 'How can I help?');
const s = msg('sum_001', 'system', 'Earlier the user asked about trains.', { summaryOf: ['old_1'] });
const u1 = msg('u1', 'user', 'when is the train', { audio: true });
const a1 = msg('a1', 'assistant', 'at five past two', { audio: true });
const fc = call('fc', 'call_1');
const fo = output('fo', 'call_1');
const u2 = msg('u2', 'user', 'and the one after that, please?');
const a2 = msg('a2', 'assistant', 'At twenty to three.');
const u3 = msg('u3', 'user', 'thanks', { audio: true });
const u4 = msg('u4', 'user', 'one more thing', { audio: true });
const a4 = msg('a4', 'assistant', 'sure, go ahead', { audio: true });
const mirror = [g1, g2, s, u1, a1, fc, fo, u2, a2, u3, u4, a4];
// Foldable, oldest first (the summary is always folded); u4+a4 are the kept last two items.
const foldable = [[g1, g2], [u1, a1], [fc, fo], [u2, a2], [u3]];
// Complete exchanges (a user message and its reply) measure the growth per exchange.
const exchanges = [[u1, a1], [u2, a2], [u4, a4]];

function oracle(window: number, trigger: number, S = 300, g = exchanges.reduce((n, x) => n + sumOf(x), 0) / exchanges.length) {
  return foldable.map((_, i) => {
    const folded = [s, ...foldable.slice(0, i + 1).flat()];
    const W = Math.max(0, window - sumOf(folded)) + S;
    const A = Math.min(W, sumOf(mirror.filter((t) => t.audio && !folded.includes(t))));
    const B = (A * (P.audioIn - P.audioCached) + (W - A) * (P.textIn - P.textCached)) / 1e6;
    const n = Math.max(1, (trigger - W) / g);
    return { depth: i + 1, windowAfter: W, keptAudioTokens: A, costPerTurn: B / n + (P.textCached / 1e6) * (W + (g * (n - 1)) / 2), ids: folded.map((t) => t.id) };
  });
}
const view = (turns: Turn[], window: number, trigger: number, keepLastTurns = 2): StrategyView => ({
  turns, window, policy: { triggerTokens: trigger, targetTokens: 0, keepLastTurns }, audioMs: (id) => ms[id],
});
const shape = (cs: ReturnType<typeof foldCandidates>) => cs.map((c) => ({ depth: c.depth, windowAfter: c.windowAfter, keptAudioTokens: c.keptAudioTokens, costPerTurn: c.costPerTurn, ids: c.units.flatMap((u) => u.items.map((t) => t.id)) }));
const expectCandidates = (got: ReturnType<typeof foldCandidates>, want: ReturnType<typeof oracle>) => {
  const g = shape(got);
  expect(g.map(({ costPerTurn: _, ...rest }) => rest)).toEqual(want.map(({ costPerTurn: _, ...rest }) => rest));
  g.forEach((c, i) => expect(c.costPerTurn).toBeCloseTo(want[i].costPerTurn, 12));
};
const folded = (r: FoldPlan | { skip: string }): FoldPlan => {
  if ('skip' in r) throw new Error(`skipped: ${r.skip}`);
  return r;
};

describe('cache-aware cost model, candidate by candidate', () => {
  const total = sumOf(mirror);

  it('the trigger has just fired: every depth costed as the formula says', () => {
    const window = total + 500;
    expectCandidates(foldCandidates(view(mirror, window, window)), oracle(window, window));
  });

  it('a trigger far above the window (a long cycle) and one below it (n clamped to 1)', () => {
    expectCandidates(foldCandidates(view(mirror, total, total * 4)), oracle(total, total * 4));
    expectCandidates(foldCandidates(view(mirror, total, 10)), oracle(total, 10));
  });

  it('a window smaller than what is folded: W floors at the summary, kept audio at W', () => {
    expectCandidates(foldCandidates(view(mirror, 60, 1_000)), oracle(60, 1_000));
    expectCandidates(foldCandidates(view(mirror, 60, 1_000), { summaryTokens: 20 }), oracle(60, 1_000, 20));
  });

  it('without a complete exchange the growth per exchange is 200 tokens', () => {
    const lone = [msg('t1', 'user', 'one'), msg('t2', 'user', 'two'), msg('t3', 'user', 'three'), msg('t4', 'user', 'four')];
    const W = (k: number) => 400 - sumOf(lone.slice(0, k)) + 300;
    const got = foldCandidates(view(lone, 400, 5_000, 1));
    expect(got.map((c) => c.windowAfter)).toEqual([W(1), W(2), W(3)]);
    got.forEach((c, i) => {
      const n = (5_000 - W(i + 1)) / 200;
      expect(c.costPerTurn).toBeCloseTo((W(i + 1) * (P.textIn - P.textCached)) / 1e6 / n + (P.textCached / 1e6) * (W(i + 1) + (200 * (n - 1)) / 2), 12);
    });
  });

  it('planFold takes the least cost per turn: the deepest fold here; name and trigger as documented', () => {
    const window = total + 500;
    const best = oracle(window, window).reduce((b, c) => (c.costPerTurn < b.costPerTurn ? c : b));
    expect(best.depth).toBe(5);
    const plan = folded(cacheAwareStrategy.planFold(view(mirror, window, window)));
    expect(plan.fold.map((t) => t.id)).toEqual(mirror.filter((t) => best.ids.includes(t.id)).map((t) => t.id));
    expect(cacheAwareStrategy.name).toBe('cache-aware');
    expect(cacheAwareStrategy.shouldSummarise(view(mirror, 999, 1_000))).toBe(false);
    expect(cacheAwareStrategy.shouldSummarise(view(mirror, 1_000, 1_000))).toBe(true);
  });

  it('equal costs: the smaller fold wins (more verbatim context)', () => {
    // Window 0: every candidate's window after is the summary alone, no audio kept -> equal costs.
    const text = [msg('t1', 'user', 'one'), msg('t2', 'assistant', 'two'), msg('t3', 'user', 'three'), msg('t4', 'assistant', 'four'), msg('t5', 'user', 'five'), msg('t6', 'assistant', 'six')];
    const cs = foldCandidates(view(text, 0, 1_000));
    expect(new Set(cs.map((c) => c.costPerTurn)).size).toBe(1);
    expect(folded(createCacheAwareStrategy().planFold(view(text, 0, 1_000))).fold.map((t) => t.id)).toEqual(['t1', 't2']);
  });
});
