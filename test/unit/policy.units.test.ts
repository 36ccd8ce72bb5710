// The fold units and policy validation of src/conversation/policy.ts, and strategy resolution
// (src/conversation/strategy.ts), checked against the rules their doc comments state: a user turn
// and the messages after it are one unit, a call and its output are one unit, a summary is its own
// unit, a greeting before the first user turn is one leading unit; the keep floor counts only
// non-summary items.
import { describe, expect, it } from 'vitest';
import { foldableUnits, isSummary, planFold, planOf, resolvePolicy, toUnits, validatePolicy, DEFAULT_POLICY } from '../../src/conversation/policy.js';
import { hysteresisStrategy, resolveStrategy, type ContextStrategy } from '../../src/conversation/strategy.js';
import type { Turn } from '../../src/types.js';

const msg = (id: string, role: Turn['role'], over: Partial<Turn> = {}): Turn => ({ id, kind: 'message', role, text: `${id} text`, textState: 'final', audio: false, at: 0, ...over });
const u = (id: string, over: Partial<Turn> = {}) => msg(id, 'user', over);
const a = (id: string, over: Partial<Turn> = {}) => msg(id, 'assistant', over);
const sum = (id: string) => msg(id, 'system', { summaryOf: ['old'] });
const other = (id: string): Turn => ({ id, kind: 'other', role: null, text: null, textState: 'none', audio: false, at: 0 });
const call = (id: string, callId: string): Turn => ({ id, kind: 'function_call', role: null, text: 'f()', textState: 'final', audio: false, callId, name: 'f', at: 0 });
const ids = (units: readonly (readonly Turn[])[]) => units.map((x) => x.map((t) => t.id));

describe('toUnits', () => {
  it('groups a user turn with the messages after it, up to the next user turn or summary', () => {
    expect(ids(toUnits([u('u1'), a('a1'), a('a1b'), u('u2'), a('a2')]))).toEqual([['u1', 'a1', 'a1b'], ['u2', 'a2']]);
    expect(ids(toUnits([u('u1'), a('a1'), sum('sum_001'), a('a2')]))).toEqual([['u1', 'a1'], ['sum_001'], ['a2']]);
  });

  it('a greeting before any user turn is one leading unit; an item of another kind is a unit of its own and ends nothing', () => {
    expect(ids(toUnits([a('g1'), a('g2'), u('u1')]))).toEqual([['g1', 'g2'], ['u1']]);
    expect(ids(toUnits([other('o1'), a('a1')]))).toEqual([['o1'], ['a1']]);
    expect(ids(toUnits([u('u1'), other('o1'), a('a1')]))).toEqual([['u1', 'a1'], ['o1']]);
  });

  it('a call and its output are one unit, wherever the output lands', () => {
    expect(ids(toUnits([u('u1'), call('c1', 'k'), a('a1'), call('o1', 'k'), a('a2')]))).toEqual([['u1', 'a1', 'a2'], ['c1', 'o1']]);
  });
});

describe('foldableUnits', () => {
  it('the keep floor counts non-summary items only; nothing is foldable when the floor covers them all', () => {
    expect(foldableUnits([sum('sum_001'), u('u1'), a('a1')], 2)).toEqual([]);
    expect(foldableUnits([sum('sum_001'), u('u1')], 1)).toEqual([]);
    expect(ids(foldableUnits([u('u1'), a('a1'), u('u2'), a('a2'), sum('seed_1')], 1).map((x) => x.items))).toEqual([['u1', 'a1']]);
    expect(ids(foldableUnits([sum('sum_001'), u('u1'), a('a1'), u('u2'), a('a2')], 0).map((x) => x.items))).toEqual([['sum_001'], ['u1', 'a1'], ['u2', 'a2']]);
  });

  it('marks summary units', () => {
    expect(foldableUnits([sum('sum_001'), u('u1'), a('a1'), u('u2')], 1).map((x) => x.summary)).toEqual([true, false]);
  });
});

describe('planFold and planOf', () => {
  it('folds the summary and at least one exchange even when the window is already below the target', () => {
    const m = [sum('sum_001'), u('u1'), a('a1'), u('u2'), a('a2'), u('u3'), a('a3')];
    expect(planFold(m, 100, { targetTokens: 5_000, keepLastTurns: 2 }).fold.map((t) => t.id)).toEqual(['sum_001', 'u1', 'a1']);
  });

  it('the plan never hands back the caller\'s own array', () => {
    const m = [u('u1'), a('a1')];
    const plan = planOf(m, []);
    expect(plan).toEqual({ fold: [], keep: m, foldedTokens: 0 });
    expect(plan.keep).not.toBe(m);
  });
});

describe('isSummary', () => {
  it('sum_<n> and seed_<n> exactly; anything after the number is not a summary id', () => {
    expect(isSummary({ id: 'seed_12' })).toBe(true);
    expect(isSummary({ id: 'sum_1x' })).toBe(false);
    expect(isSummary({ id: 'seed_1_b' })).toBe(false);
  });
});

describe('validatePolicy / resolvePolicy', () => {
  it('every summary role of the spec is accepted', () => {
    for (const summaryRole of ['system', 'user', 'assistant'] as const) expect(resolvePolicy({ summaryRole }).summaryRole).toBe(summaryRole);
  });

  it('a strategy object needs shouldSummarise, planFold and estimateWindowAfter functions', () => {
    const full = { name: 'mine', shouldSummarise: () => false, planFold: () => ({ skip: 'no' }), estimateWindowAfter: () => 0 };
    const wrong = 'policy strategy must be a name or an object with shouldSummarise, planFold and estimateWindowAfter';
    const check = (strategy: unknown) => validatePolicy({ ...DEFAULT_POLICY, strategy: strategy as ContextStrategy });
    expect(check(full)).toEqual([]);
    expect(check(undefined)).toEqual([]);
    expect(check(null)).toEqual([wrong]);
    expect(check(42)).toEqual([wrong]);
    expect(check({})).toEqual([wrong]);
    expect(check({ ...full, planFold: 1 })).toEqual([wrong]);
    expect(check({ ...full, shouldSummarise: undefined })).toEqual([wrong]);
    expect(check({ ...full, estimateWindowAfter: 'x' })).toEqual([wrong]);
    const { name: _n, ...fns } = full;
    expect(check(Object.assign(() => 0, fns))).toEqual([wrong]);
  });
});

describe('resolveStrategy', () => {
  it('the default is hysteresis, by that name', () => {
    expect(resolveStrategy(undefined)).toBe(hysteresisStrategy);
    expect(hysteresisStrategy.name).toBe('hysteresis');
  });

  it('an object with planFold is used as is; null, functions and objects without planFold are refused with one line', () => {
    const mine = { name: 'mine', shouldSummarise: () => false, planFold: () => ({ skip: 'no' }), estimateWindowAfter: () => 0 };
    expect(resolveStrategy(mine)).toBe(mine);
    const refused = (x: unknown) => `policy strategy must be hysteresis or cache-aware or a ContextStrategy object (got ${String(x)})`;
    expect(() => resolveStrategy(null as never)).toThrow(refused(null));
    const { name: _n, ...fns } = mine;
    const fn = Object.assign(() => 0, fns);
    expect(() => resolveStrategy(fn as never)).toThrow(RangeError);
    expect(() => resolveStrategy({ name: 'x' } as never)).toThrow(refused({}));
  });
});
