import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  isSummary,
  planFold,
  resolvePolicy,
  SEED_DEMO_POLICY,
  shouldSummarise,
  validatePolicy,
} from '../src/conversation/policy.js';
import { estimateItemTokens } from '../src/conversation/tokens.js';
import type { Turn } from '../src/types.js';

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

  it('accepts keep 0 and validatePolicy lists nothing for the defaults', () => {
    expect(resolvePolicy({ keepLastTurns: 0 }).keepLastTurns).toBe(0);
    expect(validatePolicy(DEFAULT_POLICY)).toEqual([]);
    expect(validatePolicy({ ...DEFAULT_POLICY, keepLastTurns: -1, targetTokens: 99_999 })).toHaveLength(2);
  });
});

describe('isSummary and shouldSummarise', () => {
  it('recognises summaries by id or by summaryOf', () => {
    expect(isSummary(msg('sum_001', 'system', 'x'))).toBe(true);
    expect(isSummary(msg('item_1', 'system', 'x', { summaryOf: [] }))).toBe(true);
    expect(isSummary(msg('item_sum_1', 'system', 'x'))).toBe(false);
    expect(isSummary(msg('summary', 'system', 'x'))).toBe(false);
  });

  it('summarises when the window reaches the trigger', () => {
    expect(shouldSummarise(1_999, { triggerTokens: 2_000 })).toBe(false);
    expect(shouldSummarise(2_000, { triggerTokens: 2_000 })).toBe(true);
    expect(shouldSummarise(2_001, { triggerTokens: 2_000 })).toBe(true);
  });
});

describe('planFold', () => {
  it('folds nothing when there are no more regular items than keepLastTurns', () => {
    expect(planFold([], 50_000, FOLD_ALL).fold).toEqual([]);
    expect(planFold([u('u1')], 50_000, FOLD_ALL).fold).toEqual([]);
    const two = [u('u1'), a('a1')];
    const plan = planFold(two, 50_000, FOLD_ALL);
    expect(plan.fold).toEqual([]);
    expect(ids(plan.keep)).toEqual(['u1', 'a1']);
    expect(plan.foldedTokens).toBe(0);
  });

  it('does not count the old summary as a regular item, and never folds it alone', () => {
    const plan = planFold([sum('sum_001'), u('u1'), a('a1')], 50_000, FOLD_ALL);
    expect(plan.fold).toEqual([]);
    expect(ids(plan.keep)).toEqual(['sum_001', 'u1', 'a1']);
  });

  it('keeps at least keepLastTurns regular items verbatim', () => {
    const m = [u('u1'), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    expect(ids(plan.fold)).toEqual(['u1', 'a1', 'u2', 'a2']);
    expect(ids(plan.keep)).toEqual(['u3', 'a3']);
    const keep3 = planFold(m, 50_000, { targetTokens: 0, keepLastTurns: 3 });
    expect(ids(keep3.keep)).toEqual(['a2', 'u3', 'a3']);
  });

  it('with keepLastTurns 0 folds every foldable item', () => {
    const m = [u('u1'), a('a1'), u('u2')];
    expect(ids(planFold(m, 50_000, { targetTokens: 0, keepLastTurns: 0 }).fold)).toEqual(['u1', 'a1', 'u2']);
  });

  it('folds the previous summary into the next one (rolling summary)', () => {
    const m = [sum('sum_001'), u('u1'), a('a1'), u('u2'), a('a2')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    expect(ids(plan.fold)).toEqual(['sum_001', 'u1', 'a1']);
    expect(ids(plan.keep)).toEqual(['u2', 'a2']);
  });

  it('folds the previous summary even when the target is reached before it would be', () => {
    const m = [u('u1'), a('a1'), sum('sum_001'), u('u2'), a('a2')];
    // After u1 the window is already at the target: regular items stop, the summary still rolls in.
    const plan = planFold(m, tok(m[0]) - 300, FOLD_ALL);
    expect(ids(plan.fold)).toContain('sum_001');
    expect(ids(plan.fold)).toContain('u1');
    expect(ids(plan.fold)).not.toContain('a1');
  });

  it('never splits a function_call from its output when the pair straddles the keep boundary', () => {
    // The two newest regular items are fo_1 and u2: the call fc_1 sits just before the boundary.
    const m = [u('u1'), a('a1'), call('fc_1', 'call_1'), output('fo_1', 'call_1'), u('u2')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    expect(ids(plan.fold)).toEqual(['u1', 'a1']);
    expect(ids(plan.keep)).toEqual(['fc_1', 'fo_1', 'u2']);
  });

  it('folds a function_call together with its output when both are old', () => {
    const m = [u('u1'), call('fc_1', 'call_1'), output('fo_1', 'call_1'), a('a1'), u('u2'), a('a2')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    expect(ids(plan.fold)).toEqual(['u1', 'fc_1', 'fo_1', 'a1']);
  });

  it('never ends a fold between a call and its output when the target is reached inside the pair', () => {
    const m = [call('fc_1', 'call_1'), u('u1'), output('fo_1', 'call_1'), a('a1'), u('u2'), a('a2')];
    // Folding the first unit (the whole pair) reaches the target at once.
    const pairTokens = tok(m[0]) + tok(m[2]);
    const plan = planFold(m, pairTokens + 100, { targetTokens: 400, keepLastTurns: 2 });
    expect(ids(plan.fold)).toEqual(['fc_1', 'fo_1']);
    expect(plan.foldedTokens).toBe(pairTokens);
  });

  it('skips user turns whose transcript is still pending (kept verbatim)', () => {
    const m = [u('u1', null, { audio: true, textState: 'pending' }), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    expect(ids(plan.fold)).toEqual(['a1', 'u2', 'a2']);
    expect(ids(plan.keep)).toEqual(['u1', 'u3', 'a3']);
  });

  it('folds nothing when the only foldable items are pending transcripts', () => {
    const m = [u('u1', null, { audio: true, textState: 'pending' }), u('u2', null, { audio: true, textState: 'pending' }), u('u3'), a('a3')];
    expect(planFold(m, 50_000, FOLD_ALL).fold).toEqual([]);
  });

  it('folds nothing when only an old summary and pending transcripts precede the kept turns', () => {
    const m = [sum('sum_001'), u('u1', null, { audio: true, textState: 'pending' }), u('u2'), a('a2')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    expect(plan.fold).toEqual([]);
    expect(ids(plan.keep)).toEqual(ids(m));
  });

  it('stops folding once window - folded + 300 <= target', () => {
    const m = [u('u1'), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    const t1 = tok(m[0]);
    const t2 = tok(m[1]);
    const window = 10_000;
    // Exactly at the target after the first unit: stop there.
    const exact = planFold(m, window, { targetTokens: window - t1 + 300, keepLastTurns: 2 });
    expect(ids(exact.fold)).toEqual(['u1']);
    expect(exact.foldedTokens).toBe(t1);
    // One token short: the second unit is needed too.
    const short = planFold(m, window, { targetTokens: window - t1 + 299, keepLastTurns: 2 });
    expect(ids(short.fold)).toEqual(['u1', 'a1']);
    expect(short.foldedTokens).toBe(t1 + t2);
  });

  it('always folds at least one regular item even when the window is already below the target', () => {
    const m = [u('u1'), a('a1'), u('u2'), a('a2')];
    const plan = planFold(m, 100, { targetTokens: 5_000, keepLastTurns: 2 });
    expect(ids(plan.fold)).toEqual(['u1']);
  });

  it('honours a custom summary allowance', () => {
    const m = [u('u1'), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    const t1 = tok(m[0]);
    const plan = planFold(m, 10_000, { targetTokens: 10_000 - t1, keepLastTurns: 2 }, () => undefined, 0);
    expect(ids(plan.fold)).toEqual(['u1']);
  });

  it('uses audio durations for the token estimate when given', () => {
    const m = [u('u1', 'hello', { audio: true }), a('a1', 'hi', { audio: true }), u('u2'), a('a2')];
    const ms: Record<string, number> = { u1: 1_000, a1: 1_000 };
    const plan = planFold(m, 50_000, FOLD_ALL, (id) => ms[id]);
    // 4 overhead + 1 s of input audio (10/s) + 1 s of output audio (20/s).
    expect(plan.foldedTokens).toBe(4 + 10 + 4 + 20);
  });

  it('counts the old summary in foldedTokens', () => {
    const s = sum('sum_001');
    const m = [s, u('u1'), u('u2'), a('a2')];
    expect(planFold(m, 50_000, FOLD_ALL).foldedTokens).toBe(tok(s) + tok(m[1]));
  });

  it('fold and keep partition the mirror, each in mirror order', () => {
    const m = [sum('sum_001'), u('u1'), call('fc', 'c'), output('fo', 'c'), a('a1'), u('u2', null, { audio: true, textState: 'pending' }), u('u3'), a('a3')];
    const plan = planFold(m, 50_000, FOLD_ALL);
    const all = [...plan.fold, ...plan.keep];
    expect(new Set(ids(all))).toEqual(new Set(ids(m)));
    expect(all).toHaveLength(m.length);
    expect(ids(plan.fold)).toEqual(ids(m.filter((t) => plan.fold.includes(t))));
    expect(ids(plan.keep)).toEqual(ids(m.filter((t) => plan.keep.includes(t))));
  });

  it('does not mutate the mirror', () => {
    const m = [u('u1'), a('a1'), u('u2'), a('a2')];
    const before = ids(m);
    planFold(m, 50_000, FOLD_ALL);
    expect(ids(m)).toEqual(before);
  });
});
