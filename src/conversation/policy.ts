// When to summarise and what to fold. Pure functions; the summariser machine calls them.
import type { FoldPlan, PolicyOptions } from './context-strategy.js';
import type { Turn } from './turn.js';
import { estimateItemTokens, ITEM_OVERHEAD_TOKENS, textTokens } from './tokens.js';

export type { FoldPlan } from './context-strategy.js';

export const DEFAULT_POLICY: PolicyOptions = {
  triggerTokens: 20_000,
  targetTokens: 10_000,
  keepLastTurns: 2,
  summaryRole: 'system',
  summaryLanguage: undefined,
  transcriptWaitMs: 3_000,
  transcriptMaxAttempts: 5,
  transcriptBackoffMs: 400,
  ackTimeoutMs: 10_000,
  cooldownMs: 15_000,
};

/** The cookbook notebook's demo values: trigger 2,000 tokens, keep 2, fold everything else. */
export const SEED_DEMO_POLICY: Partial<PolicyOptions> = { triggerTokens: 2_000, targetTokens: 0, keepLastTurns: 2 };

export type PolicyInput = Partial<PolicyOptions> & { preset?: 'default' | 'seedDemo' };

/** The strategies known by name (`policy.strategy`, `--policy-strategy`). */
export const STRATEGY_NAMES = ['hysteresis', 'cache-aware'] as const;

export function resolvePolicy(input: PolicyInput = {}): PolicyOptions {
  const { preset, ...rest } = input;
  const base = { ...DEFAULT_POLICY, ...(preset === 'seedDemo' ? SEED_DEMO_POLICY : {}) };
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const p: PolicyOptions = { ...base, ...defined };
  const problems = validatePolicy(p);
  if (problems.length) throw new RangeError(problems[0]);
  return p;
}

export function validatePolicy(p: PolicyOptions): string[] {
  const out: string[] = [];
  if (!(p.triggerTokens > 0)) out.push(`trigger must be a positive number of tokens (got ${p.triggerTokens})`);
  if (!(p.targetTokens >= 0)) out.push(`target must be 0 or more tokens (got ${p.targetTokens})`);
  if (p.targetTokens >= p.triggerTokens) out.push(`target (${p.targetTokens}) must be below trigger (${p.triggerTokens})`);
  if (!Number.isInteger(p.keepLastTurns) || p.keepLastTurns < 0) out.push(`keep must be a whole number >= 0 (got ${p.keepLastTurns})`);
  if (!['system', 'user', 'assistant'].includes(p.summaryRole)) out.push(`summary role must be system, user or assistant (got ${p.summaryRole})`);
  const st = p.strategy;
  if (typeof st === 'string' && !(STRATEGY_NAMES as readonly string[]).includes(st)) {
    out.push(`policy strategy must be ${STRATEGY_NAMES.join(' or ')} (got ${st})`);
  } else if (st !== undefined && typeof st !== 'string' && (typeof st !== 'object' || st === null || typeof st.planFold !== 'function' || typeof st.shouldSummarise !== 'function' || typeof st.estimateWindowAfter !== 'function')) {
    out.push('policy strategy must be a name or an object with shouldSummarise, planFold and estimateWindowAfter');
  }
  return out;
}

/** Summary items (`sum_<n>`) and session seeds (`seed_<n>`): the ids the engine gives them. */
const SUMMARY_ID = /^(sum|seed)_\d+$/;

/** A summary (or a session seed) rather than a turn: folded into the next summary, never journaled as a turn. */
export function isSummary(t: Pick<Turn, 'id' | 'summaryOf'>): boolean {
  return t.summaryOf !== undefined || SUMMARY_ID.test(t.id);
}

/**
 * Chooses the oldest items to fold so the window falls to about `target`, keeping at least
 * `keepLastTurns` non-summary items verbatim. Works on whole units (see foldableUnits), so a user
 * turn is never separated from the reply to it, nor a function call from its output. The previous
 * summary is always folded in (rolling summary).
 */
export function planFold(
  mirror: readonly Turn[],
  window: number,
  policy: Pick<PolicyOptions, 'targetTokens' | 'keepLastTurns'>,
  audioMs: (id: string) => number | undefined = () => undefined,
  summaryAllowance = 300,
): FoldPlan {
  const chosen: FoldUnit[] = [];
  let folded = 0;
  let regular = 0;
  for (const unit of foldableUnits(mirror, policy.keepLastTurns, audioMs)) {
    if (!unit.summary && regular > 0 && window - folded + summaryAllowance <= policy.targetTokens) continue;
    chosen.push(unit);
    folded += unit.tokens;
    if (!unit.summary) regular++;
  }
  return planOf(mirror, chosen);
}

export interface FoldUnit {
  items: Turn[];
  /** Estimated tokens of the unit's items. */
  tokens: number;
  /** A previous summary (or seed): always folded in when anything else is. */
  summary: boolean;
}

/**
 * The units a fold may take, oldest first: whole units (see toUnits) wholly outside the protected
 * tail (from the `keepLastTurns`-th newest non-summary item on), with no user transcript still
 * pending (such a unit is kept verbatim, never deleted unsummarised).
 */
export function foldableUnits(
  mirror: readonly Turn[],
  keepLastTurns: number,
  audioMs: (id: string) => number | undefined = () => undefined,
): FoldUnit[] {
  const regular = mirror.filter((t) => !isSummary(t));
  if (regular.length <= keepLastTurns) return [];
  const firstProtected = keepLastTurns === 0 ? null : regular[regular.length - keepLastTurns];
  const protectedFrom = firstProtected ? mirror.indexOf(firstProtected) : mirror.length;
  const tokensOf = (t: Turn) => estimateItemTokens({ role: t.role, text: t.text, audio: t.audio, audioMs: audioMs(t.id) });
  return toUnits(mirror)
    .filter((unit) => unit.every((t) => mirror.indexOf(t) < protectedFrom) && !unit.some((t) => t.textState === 'pending'))
    .map((items) => ({ items, tokens: items.reduce((n, t) => n + tokensOf(t), 0), summary: items.every(isSummary) }));
}

/** The plan that folds `units` (nothing when they hold no regular item: folding only an old summary gains nothing). */
export function planOf(mirror: readonly Turn[], units: readonly FoldUnit[]): FoldPlan {
  if (!units.some((u) => !u.summary)) return { fold: [], keep: mirror.slice(), foldedTokens: 0 };
  const fold = new Set(units.flatMap((u) => u.items));
  return {
    fold: mirror.filter((t) => fold.has(t)),
    keep: mirror.filter((t) => !fold.has(t)),
    foldedTokens: units.reduce((n, u) => n + u.tokens, 0),
  };
}

/**
 * Groups items into fold units (each unit's items in mirror order; units ordered by their first item).
 * A fold takes whole units, so it never separates:
 * - a user turn from the reply to it: a user message and the assistant messages after it (up to the
 *   next user message or summary) are one unit, even when function items sit between them;
 * - a function call from its output: function items sharing a call id are one unit.
 * A summary is a unit of its own (the rolling summary is folded in whole). Assistant messages before
 * the first user message (a greeting) form one leading unit.
 */
export function toUnits(mirror: readonly Turn[]): Turn[][] {
  const units: Turn[][] = [];
  const byCall = new Map<string, Turn[]>();
  let exchange: Turn[] | null = null;
  for (const t of mirror) {
    if (isSummary(t)) {
      units.push([t]);
      exchange = null;
    } else if (t.callId) {
      const pair = byCall.get(t.callId);
      if (pair) pair.push(t);
      else {
        const unit = [t];
        byCall.set(t.callId, unit);
        units.push(unit);
      }
    } else if (t.kind === 'message' && t.role === 'user') {
      exchange = [t];
      units.push(exchange);
    } else if (t.kind === 'message' && exchange) {
      exchange.push(t);
    } else if (t.kind === 'message') {
      exchange = [t];
      units.push(exchange);
    } else units.push([t]);
  }
  return units;
}

/** Tokens a summary item of `text` adds to the window (o200k count plus the item overhead). */
export function summaryTokens(text: string): number {
  return textTokens(text) + ITEM_OVERHEAD_TOKENS;
}

/** The window after the fold: what was folded goes, the summary comes in. */
export function windowAfter(plan: Pick<FoldPlan, 'foldedTokens'>, summaryText: string, window: number): number {
  return Math.max(0, window - plan.foldedTokens) + summaryTokens(summaryText);
}
