import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import {
  DEFAULT_POLICY,
  isSummary,
  planFold,
  resolvePolicy,
  SEED_DEMO_POLICY,
  validatePolicy,
  type FoldPlan,
} from '../../src/conversation/policy.js';
import { cacheAwareStrategy, createCacheAwareStrategy } from '../../src/conversation/cache-aware-strategy.js';
import { hysteresisStrategy, resolveStrategy, type ContextStrategy, type StrategyView } from '../../src/conversation/strategy.js';
import { estimateItemTokens } from '../../src/conversation/tokens.js';
import type { Turn } from '../../src/types.js';

const msg = (id: string, role: 'user' | 'assistant' | 'system', text: string | null, over: Partial<Turn> = {}): Turn => ({
  id,
  kind: 'message',
  role,
  text,
  textState: text === null ? 'pending' : 'final',
  audio: false,
  at: 0,
  ...over,
});
const u = (id: string, text: string | null = `user says ${id}`, over: Partial<Turn> = {}) => msg(id, 'user', text, over);
const a = (id: string, text: string | null = `assistant answers ${id}`, over: Partial<Turn> = {}) => msg(id, 'assistant', text, over);
const sum = (id: string, text = 'Earlier the user asked about trains.') => msg(id, 'system', text, { summaryOf: ['old_1'] });
const call = (id: string, callId: string): Turn => ({
  id, kind: 'function_call', role: null, text: 'lookup({"q":1})', textState: 'final', audio: false, callId, name: 'lookup', at: 0,
});
const output = (id: string, callId: string): Turn => ({
  id, kind: 'function_call_output', role: null, text: '{"ok":true}', textState: 'final', audio: false, callId, at: 0,
});
const ids = (ts: readonly Turn[]) => ts.map((t) => t.id);
const tok = (t: Turn) => estimateItemTokens({ role: t.role, text: t.text, audio: t.audio });
const FOLD_ALL = { targetTokens: 0, keepLastTurns: 2 };

describe('policy defaults and presets', () => {
  it('defaults to trigger 20,000, target 10,000, keep 2', () => {
    expect(DEFAULT_POLICY.triggerTokens).toBe(20_000);
    expect(DEFAULT_POLICY.targetTokens).toBe(10_000);
    expect(DEFAULT_POLICY.keepLastTurns).toBe(2);
    expect(resolvePolicy()).toEqual(DEFAULT_POLICY);
    expect(resolvePolicy({ preset: 'default' })).toEqual(DEFAULT_POLICY);
  });

  it('the seedDemo preset is trigger 2,000, target 0, keep 2', () => {
    expect(SEED_DEMO_POLICY).toEqual({ triggerTokens: 2_000, targetTokens: 0, keepLastTurns: 2 });
    const p = resolvePolicy({ preset: 'seedDemo' });
    expect(p).toMatchObject({ triggerTokens: 2_000, targetTokens: 0, keepLastTurns: 2 });
    expect(p.summaryRole).toBe(DEFAULT_POLICY.summaryRole);
  });

  it('explicit values override the preset; undefined values do not', () => {
    expect(resolvePolicy({ preset: 'seedDemo', keepLastTurns: 4 })).toMatchObject({ triggerTokens: 2_000, keepLastTurns: 4 });
    expect(resolvePolicy({ triggerTokens: undefined, keepLastTurns: undefined }).triggerTokens).toBe(20_000);
    expect(resolvePolicy({ triggerTokens: 30_000 })).toMatchObject({ triggerTokens: 30_000, targetTokens: 10_000 });
  });

  it('summaries default to the system role and no fixed language', () => {
    expect(DEFAULT_POLICY.summaryRole).toBe('system');
    expect(DEFAULT_POLICY.summaryLanguage).toBeUndefined();
  });
});

describe('resolvePolicy validation', () => {
  it('rejects a target at or above the trigger', () => {
    expect(() => resolvePolicy({ triggerTokens: 5_000, targetTokens: 5_000 })).toThrow(RangeError);
    expect(() => resolvePolicy({ triggerTokens: 5_000, targetTokens: 5_000 })).toThrow('target (5000) must be below trigger (5000)');
    expect(() => resolvePolicy({ targetTokens: 25_000 })).toThrow(/target \(25000\) must be below trigger \(20000\)/);
  });

  it('rejects a negative or fractional keep', () => {
    expect(() => resolvePolicy({ keepLastTurns: -1 })).toThrow(RangeError);
    expect(() => resolvePolicy({ keepLastTurns: -1 })).toThrow(/keep must be a whole number >= 0 \(got -1\)/);
    expect(() => resolvePolicy({ keepLastTurns: 1.5 })).toThrow(/keep must be a whole number/);
  });

  it('rejects a non-positive or non-numeric trigger', () => {
    expect(() => resolvePolicy({ triggerTokens: 0, targetTokens: 0 })).toThrow(/trigger must be a positive number of tokens \(got 0\)/);
    expect(() => resolvePolicy({ triggerTokens: Number.NaN })).toThrow(RangeError);
  });

  it('rejects a negative target', () => {
    expect(() => resolvePolicy({ targetTokens: -5 })).toThrow(/target must be 0 or more tokens \(got -5\)/);
  });

  it('rejects an unknown summary role', () => {
    expect(() => resolvePolicy({ summaryRole: 'developer' as never })).toThrow(/summary role must be system, user or assistant/);
  });

  it('accepts the strategy names and rejects an unknown one', () => {
    expect(resolvePolicy({ strategy: 'cache-aware' }).strategy).toBe('cache-aware');
    expect(() => resolvePolicy({ strategy: 'greedy' as never })).toThrow('policy strategy must be hysteresis or cache-aware (got greedy)');
    expect(() => resolvePolicy({ strategy: {} as never })).toThrow(/policy strategy must be a name or an object with shouldSummarise, planFold and estimateWindowAfter/);
  });

  it('accepts keep 0 and validatePolicy lists nothing for the defaults', () => {
    expect(resolvePolicy({ keepLastTurns: 0 }).keepLastTurns).toBe(0);
    expect(validatePolicy(DEFAULT_POLICY)).toEqual([]);
    expect(validatePolicy({ ...DEFAULT_POLICY, keepLastTurns: -1, targetTokens: 99_999 })).toHaveLength(2);
  });
});


describe('resolveStrategy', () => {
  it('maps names to the shipped strategies; undefined is hysteresis; an object is used as is', () => {
    expect(resolveStrategy(undefined)).toBe(hysteresisStrategy);
    expect(resolveStrategy('hysteresis')).toBe(hysteresisStrategy);
    expect(resolveStrategy('cache-aware')).toBe(cacheAwareStrategy);
    const own: ContextStrategy = { name: 'own', shouldSummarise: () => false, planFold: () => ({ skip: 'never' }), estimateWindowAfter: (_p, _t, w) => w };
    expect(resolveStrategy(own)).toBe(own);
    expect(() => resolveStrategy('greedy' as never)).toThrow('policy strategy must be hysteresis or cache-aware or a ContextStrategy object (got greedy)');
  });

  it('isSummary recognises summaries by id or by summaryOf', () => {
    expect(isSummary(msg('sum_001', 'system', 'x'))).toBe(true);
    expect(isSummary(msg('item_1', 'system', 'x', { summaryOf: [] }))).toBe(true);
    expect(isSummary(msg('item_sum_1', 'system', 'x'))).toBe(false);
    expect(isSummary(msg('summary', 'system', 'x'))).toBe(false);
  });
});

// ---- the rules every strategy keeps ------------------------------------------------------------------

const view = (turns: Turn[], window = 50_000, policy: Partial<StrategyView['policy']> = {}, audioMs?: (id: string) => number | undefined): StrategyView => ({
  turns, window, policy: { triggerTokens: 20_000, targetTokens: 0, keepLastTurns: 2, ...policy }, audioMs,
});
const folded = (r: FoldPlan | { skip: string }): FoldPlan => {
  if ('skip' in r) throw new Error(`expected a fold, got skip: ${r.skip}`);
  return r;
};
const skipped = (r: FoldPlan | { skip: string }): string => {
  if (!('skip' in r)) throw new Error(`expected a skip, got a fold of ${ids(r.fold)}`);
  return r.skip;
};

describe.each([hysteresisStrategy, cacheAwareStrategy])('strategy $name', (strategy) => {
  it('summarises when the window reaches the trigger', () => {
    expect(strategy.shouldSummarise(view([], 1_999, { triggerTokens: 2_000 }))).toBe(false);
    expect(strategy.shouldSummarise(view([], 2_000, { triggerTokens: 2_000 }))).toBe(true);
    expect(strategy.shouldSummarise(view([], 2_001, { triggerTokens: 2_000 }))).toBe(true);
  });

  it('skips with a reason when there are no more regular items than keepLastTurns', () => {
    expect(skipped(strategy.planFold(view([])))).toMatch(/nothing to fold/);
    expect(skipped(strategy.planFold(view([u('u1')])))).toMatch(/nothing to fold/);
    expect(skipped(strategy.planFold(view([u('u1'), a('a1')])))).toMatch(/nothing to fold/);
  });

  it('does not count the old summary as a regular item, and never folds it alone', () => {
    expect(skipped(strategy.planFold(view([sum('sum_001'), u('u1'), a('a1')])))).toMatch(/nothing to fold/);
  });

  it('issue 10: early in a conversation it never folds a user turn without the reply to it', () => {
    // Today's defect: [u1, a1, u2] with keep 2 folded u1 alone and left a1 after the summary.
    expect(skipped(strategy.planFold(view([u('u1'), a('a1'), u('u2')])))).toMatch(/nothing to fold/);
    const plan = folded(strategy.planFold(view([u('u1'), a('a1'), u('u2'), a('a2'), u('u3')])));
    expect(ids(plan.fold)).toEqual(['u1', 'a1']);
    expect(ids(plan.keep)).toEqual(['u2', 'a2', 'u3']);
  });

  it('keeps at least keepLastTurns regular items verbatim, widened to whole exchanges', () => {
    const m = [u('u1'), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    expect(ids(folded(strategy.planFold(view(m))).keep)).toEqual(['u3', 'a3']);
    // keep 3 protects a2, so its user turn u2 stays too.
    const keep3 = folded(strategy.planFold(view(m, 50_000, { keepLastTurns: 3 })));
    expect(ids(keep3.fold)).toEqual(['u1', 'a1']);
    expect(ids(keep3.keep)).toEqual(['u2', 'a2', 'u3', 'a3']);
  });

  it('with keepLastTurns 0 folds every foldable item', () => {
    expect(ids(folded(strategy.planFold(view([u('u1'), a('a1'), u('u2')], 50_000, { keepLastTurns: 0 }))).fold)).toEqual(['u1', 'a1', 'u2']);
  });

  it('folds the previous summary into the next one (rolling summary)', () => {
    const plan = folded(strategy.planFold(view([sum('sum_001'), u('u1'), a('a1'), u('u2'), a('a2')])));
    expect(ids(plan.fold)).toEqual(['sum_001', 'u1', 'a1']);
    expect(ids(plan.keep)).toEqual(['u2', 'a2']);
  });

  it('never splits a function_call from its output when the pair straddles the keep boundary', () => {
    // The two newest regular items are fo_1 and u2: the call fc_1 sits just before the boundary.
    const m = [u('u1'), a('a1'), call('fc_1', 'call_1'), output('fo_1', 'call_1'), u('u2')];
    const plan = folded(strategy.planFold(view(m)));
    expect(ids(plan.fold)).toEqual(['u1', 'a1']);
    expect(ids(plan.keep)).toEqual(['fc_1', 'fo_1', 'u2']);
  });

  it('keeps the reply with its user turn across the function items between them', () => {
    // keep 1 protects a1, the reply to u1 given after a tool call: u1 stays with it; the pair may go.
    const m = [u('u1'), call('fc_1', 'call_1'), output('fo_1', 'call_1'), a('a1')];
    const plan = folded(strategy.planFold(view(m, 50_000, { keepLastTurns: 1 })));
    expect(ids(plan.fold)).toEqual(['fc_1', 'fo_1']);
    expect(ids(plan.keep)).toEqual(['u1', 'a1']);
  });

  it('folds a function_call together with its output when both are old', () => {
    const m = [u('u1'), call('fc_1', 'call_1'), output('fo_1', 'call_1'), a('a1'), u('u2'), a('a2')];
    expect(ids(folded(strategy.planFold(view(m))).fold)).toEqual(['u1', 'fc_1', 'fo_1', 'a1']);
  });

  it('keeps a user turn whose transcript is still pending verbatim, together with its reply', () => {
    const m = [u('u1', null, { audio: true, textState: 'pending' }), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    const plan = folded(strategy.planFold(view(m)));
    expect(ids(plan.fold)).toEqual(['u2', 'a2']);
    expect(ids(plan.keep)).toEqual(['u1', 'a1', 'u3', 'a3']);
  });

  it('skips when the only foldable items are pending transcripts, or an old summary and pending transcripts', () => {
    const p1 = [u('u1', null, { audio: true, textState: 'pending' }), u('u2', null, { audio: true, textState: 'pending' }), u('u3'), a('a3')];
    expect(skipped(strategy.planFold(view(p1)))).toMatch(/nothing to fold/);
    const p2 = [sum('sum_001'), u('u1', null, { audio: true, textState: 'pending' }), u('u2'), a('a2')];
    expect(skipped(strategy.planFold(view(p2)))).toMatch(/nothing to fold/);
  });

  it('uses audio durations for the token estimate when given', () => {
    const m = [u('u1', 'hello', { audio: true }), a('a1', 'hi', { audio: true }), u('u2'), a('a2')];
    const ms: Record<string, number> = { u1: 1_000, a1: 1_000 };
    // 4 overhead + 1 s of input audio (10/s) + 1 s of output audio (20/s).
    expect(folded(strategy.planFold(view(m, 50_000, {}, (id) => ms[id]))).foldedTokens).toBe(4 + 10 + 4 + 20);
  });

  it('counts the old summary in foldedTokens', () => {
    const s = sum('sum_001');
    const m = [s, u('u1'), u('u2'), a('a2')];
    expect(folded(strategy.planFold(view(m))).foldedTokens).toBe(tok(s) + tok(m[1]));
  });

  it('estimates the window after as window - folded + the summary item (o200k tokens + 4)', () => {
    const plan = folded(strategy.planFold(view([u('u1'), a('a1'), u('u2'), a('a2')], 1_000)));
    const text = 'The user greeted the assistant, who answered.';
    expect(strategy.estimateWindowAfter(plan, text, 1_000)).toBe(1_000 - plan.foldedTokens + countTokens(text) + 4);
  });

  it('property: fold and keep partition the mirror in order; a user turn and its reply, a call and its output, are never split; the mirror is not mutated', () => {
    const item = fc.constantFrom('u', 'a', 'up', 'call', 'sum');
    fc.assert(
      fc.property(fc.array(item, { maxLength: 14 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 60_000 }), (kinds, keep, target) => {
        const m: Turn[] = [];
        kinds.forEach((k, i) => {
          if (k === 'u') m.push(u(`u${i}`));
          else if (k === 'up') m.push(u(`u${i}`, null, { audio: true, textState: 'pending' }));
          else if (k === 'a') m.push(a(`a${i}`));
          else if (k === 'sum') m.push(sum(`sum_${i}`));
          else m.push(call(`fc${i}`, `c${i}`), output(`fo${i}`, `c${i}`));
        });
        const before = ids(m);
        const r = strategy.planFold(view(m, 60_000, { keepLastTurns: keep, targetTokens: Math.min(target, 19_999) }));
        expect(ids(m)).toEqual(before);
        if ('skip' in r) return;
        expect([...ids(r.fold), ...ids(r.keep)].sort()).toEqual([...before].sort());
        expect(ids(r.fold)).toEqual(ids(m.filter((t) => r.fold.includes(t))));
        expect(ids(r.keep)).toEqual(ids(m.filter((t) => r.keep.includes(t))));
        const isFolded = (t: Turn) => r.fold.includes(t);
        // Oracle for "the reply": every assistant message after a user message, up to the next user message or summary.
        let owner: Turn | null = null;
        for (const t of m) {
          if (isSummary(t)) owner = null;
          else if (t.role === 'user') owner = t;
          else if (owner && t.role === 'assistant') expect(isFolded(t), `${t.id} goes with ${owner.id}`).toBe(isFolded(owner));
        }
        for (const t of m) if (t.kind === 'function_call') expect(isFolded(t)).toBe(isFolded(m.find((o) => o.kind === 'function_call_output' && o.callId === t.callId)!));
        // Never deletes a pending transcript; never folds only old summaries.
        expect(r.fold.some((t) => t.textState === 'pending')).toBe(false);
        expect(r.fold.some((t) => !isSummary(t))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// ---- hysteresis: fold to the target -------------------------------------------------------------------

describe('hysteresis planFold (target)', () => {
  const exchange = (i: number) => [u(`u${i}`), a(`a${i}`)];
  const m = [...exchange(1), ...exchange(2), ...exchange(3)];
  const t1 = tok(m[0]) + tok(m[1]);
  const t2 = tok(m[2]) + tok(m[3]);

  it('stops folding once window - folded + 300 <= target', () => {
    const window = 10_000;
    const exact = planFold(m, window, { targetTokens: window - t1 + 300, keepLastTurns: 2 });
    expect(ids(exact.fold)).toEqual(['u1', 'a1']);
    expect(exact.foldedTokens).toBe(t1);
    const short = planFold(m, window, { targetTokens: window - t1 + 299, keepLastTurns: 2 });
    expect(ids(short.fold)).toEqual(['u1', 'a1', 'u2', 'a2']);
    expect(short.foldedTokens).toBe(t1 + t2);
  });

  it('folds the previous summary even when the target is reached before it would be', () => {
    const mm = [u('u1'), a('a1'), sum('sum_001'), u('u2'), a('a2')];
    const plan = planFold(mm, t1 - 300, FOLD_ALL);
    expect(ids(plan.fold)).toEqual(['u1', 'a1', 'sum_001']);
  });

  it('always folds at least one exchange even when the window is already below the target', () => {
    expect(ids(planFold([...exchange(1), ...exchange(2)], 100, { targetTokens: 5_000, keepLastTurns: 2 }).fold)).toEqual(['u1', 'a1']);
  });

  it('honours a custom summary allowance', () => {
    expect(ids(planFold(m, 10_000, { targetTokens: 10_000 - t1, keepLastTurns: 2 }, () => undefined, 0).fold)).toEqual(['u1', 'a1']);
  });

  it('never ends a fold between a call and its output when the target is reached inside the pair', () => {
    const mm = [call('fc_1', 'call_1'), u('u1'), output('fo_1', 'call_1'), a('a1'), u('u2'), a('a2')];
    // Folding the first unit (the whole pair) reaches the target at once.
    const pairTokens = tok(mm[0]) + tok(mm[2]);
    const plan = planFold(mm, pairTokens + 100, { targetTokens: 400, keepLastTurns: 2 });
    expect(ids(plan.fold)).toEqual(['fc_1', 'fo_1']);
    expect(plan.foldedTokens).toBe(pairTokens);
  });
});

// ---- cache-aware: the fold with the least cost per turn ----------------------------------------------

describe('cache-aware planFold (oracle)', () => {
  // Oracle: the cost model written out from the comment in cache-aware-strategy.ts, evaluated for every
  // depth k (fold the oldest k exchanges), prices of gpt-realtime per 1M tokens (realtime-protocol.md §7.3).
  const GPT_REALTIME = { textIn: 4, textCached: 0.4, audioIn: 32, audioCached: 0.4 };
  function oracle(exchanges: Turn[][], keptTail: Turn[], window: number, trigger: number, ms: Record<string, number>, S = 300, P = GPT_REALTIME) {
    const tokens = (t: Turn) => 4 + (t.audio ? Math.ceil((ms[t.id] / 1000) * (t.role === 'assistant' ? 20 : 10)) : countTokens(t.text ?? ''));
    const sumOf = (ts: Turn[]) => ts.reduce((n, t) => n + tokens(t), 0);
    const all = [...exchanges.flat(), ...keptTail];
    const complete = [...exchanges, [keptTail[0], ...keptTail.slice(1)]].filter((x) => x.length > 1 && x[0].role === 'user');
    const g = complete.reduce((n, x) => n + sumOf(x), 0) / complete.length;
    const costs = exchanges.map((_, i) => {
      const k = i + 1;
      const foldedItems = exchanges.slice(0, k).flat();
      const W = window - sumOf(foldedItems) + S;
      const A = sumOf(all.filter((t) => t.audio && !foldedItems.includes(t)));
      const B = (A * (P.audioIn - P.audioCached) + (W - A) * (P.textIn - P.textCached)) / 1e6;
      const n = Math.max(1, (trigger - W) / g);
      return { k, W, J: B / n + (P.textCached / 1e6) * (W + (g * (n - 1)) / 2) };
    });
    return costs.reduce((b, c) => (c.J < b.J ? c : b));
  }
  const voice = (i: number): Turn[] => [u(`u${i}`, `question ${i}`, { audio: true }), a(`a${i}`, `answer ${i}`, { audio: true })];
  const ms: Record<string, number> = {};
  for (let i = 1; i <= 8; i++) { ms[`u${i}`] = 2_000 + 700 * i; ms[`a${i}`] = 5_000 + 900 * i; }

  it('folds to the depth with the least modelled cost per turn, which for a voice conversation is the deepest the keep floor allows', () => {
    const exchanges = [1, 2, 3, 4, 5, 6, 7].map(voice);
    const tail = voice(8);
    const mirror = [...exchanges.flat(), ...tail];
    // The window: every item plus 500 tokens of instructions; the trigger has just fired.
    const window = mirror.reduce((n, t) => n + 4 + Math.ceil((ms[t.id] / 1000) * (t.role === 'assistant' ? 20 : 10)), 0) + 500;
    const policy = { triggerTokens: window, targetTokens: Math.round(window * 0.6) };
    const best = oracle(exchanges, tail, window, window, ms);
    const plan = folded(cacheAwareStrategy.planFold(view(mirror, window, policy, (id) => ms[id])));
    expect(ids(plan.fold)).toEqual(ids(exchanges.slice(0, best.k).flat()));
    expect(best.k).toBe(7);
    // Hysteresis stops at the target and keeps more (and re-bills it all after the insert).
    const h = folded(hysteresisStrategy.planFold(view(mirror, window, policy, (id) => ms[id])));
    expect(h.fold.length).toBeLessThan(plan.fold.length);
  });

  it('a custom price row and summary estimate still give the oracle\'s choice', () => {
    const exchanges = [1, 2, 3].map(voice);
    const tail = voice(4);
    const mini = { textIn: 0.6, textCached: 0.06, textOut: 2.4, audioIn: 10, audioCached: 0.3, audioOut: 20 };
    const strategy = createCacheAwareStrategy({ prices: mini, summaryTokens: 50 });
    const plan = folded(strategy.planFold(view([...exchanges.flat(), ...tail], 4_000, { triggerTokens: 4_000 }, (id) => ms[id])));
    expect(ids(plan.fold)).toEqual(ids(exchanges.slice(0, oracle(exchanges, tail, 4_000, 4_000, ms, 50, mini).k).flat()));
  });
});
