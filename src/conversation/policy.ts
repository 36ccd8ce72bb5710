// When to summarise and what to fold. Pure functions; the summariser machine calls them.
import type { PolicyOptions, Turn } from '../types.js';
import { estimateItemTokens } from './tokens.js';

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
  return out;
}

/** Summary items (`sum_<n>`) and session seeds (`seed_<n>`): the ids the engine gives them. */
const SUMMARY_ID = /^(sum|seed)_\d+$/;

/** A summary (or a session seed) rather than a turn: folded into the next summary, never journaled as a turn. */
export function isSummary(t: Pick<Turn, 'id' | 'summaryOf'>): boolean {
  return t.summaryOf !== undefined || SUMMARY_ID.test(t.id);
}

export interface FoldPlan {
  /** Items to fold into the new summary and delete (includes the previous summary: rolling). */
  fold: Turn[];
  /** Items kept verbatim. */
  keep: Turn[];
  /** Estimated tokens removed from the window by folding (before the summary's own size). */
  foldedTokens: number;
}

/**
 * Chooses the oldest items to fold so the window falls to about `target`, keeping at least
 * `keepLastTurns` non-summary items verbatim. Works on units (an item, or a function call together
 * with its output) so a pair is never split. User turns whose transcript is still pending are kept
 * verbatim (never deleted unsummarised). The previous summary is always folded in (rolling summary).
 */
export function planFold(
  mirror: readonly Turn[],
  window: number,
  policy: Pick<PolicyOptions, 'targetTokens' | 'keepLastTurns'>,
  audioMs: (id: string) => number | undefined = () => undefined,
  summaryAllowance = 300,
): FoldPlan {
  const none: FoldPlan = { fold: [], keep: mirror.slice(), foldedTokens: 0 };
  const regular = mirror.filter((t) => !isSummary(t));
  if (regular.length <= policy.keepLastTurns) return none;
  // Everything from the K-th newest regular item on is protected.
  const firstProtected = policy.keepLastTurns === 0 ? null : regular[regular.length - policy.keepLastTurns];
  const protectedFrom = firstProtected ? mirror.indexOf(firstProtected) : mirror.length;
  const units = toUnits(mirror);
  const tokensOf = (t: Turn) => estimateItemTokens({ role: t.role, text: t.text, audio: t.audio, audioMs: audioMs(t.id) });
  const fold = new Set<Turn>();
  let folded = 0;
  let foldedRegular = 0;
  for (const unit of units) {
    // A unit with any member in the protected tail stays (pairs are never split).
    if (unit.some((t) => mirror.indexOf(t) >= protectedFrom)) continue;
    const summaryUnit = unit.every(isSummary);
    if (!summaryUnit && foldedRegular > 0 && window - folded + summaryAllowance <= policy.targetTokens) continue;
    if (unit.some((t) => t.textState === 'pending')) continue;
    for (const t of unit) {
      fold.add(t);
      folded += tokensOf(t);
      if (!isSummary(t)) foldedRegular++;
    }
  }
  // Folding only the old summary gains nothing.
  if (foldedRegular === 0) return none;
  return {
    fold: mirror.filter((t) => fold.has(t)),
    keep: mirror.filter((t) => !fold.has(t)),
    foldedTokens: folded,
  };
}

/** Groups items into units in order: function items sharing a call id form one unit. */
function toUnits(mirror: readonly Turn[]): Turn[][] {
  const units: Turn[][] = [];
  const byCall = new Map<string, Turn[]>();
  for (const t of mirror) {
    if (t.callId) {
      const existing = byCall.get(t.callId);
      if (existing) { existing.push(t); continue; }
      const unit = [t];
      byCall.set(t.callId, unit);
      units.push(unit);
    } else units.push([t]);
  }
  return units;
}

/** Should a summary start after this response? */
export function shouldSummarise(window: number, policy: Pick<PolicyOptions, 'triggerTokens'>): boolean {
  return window >= policy.triggerTokens;
}
