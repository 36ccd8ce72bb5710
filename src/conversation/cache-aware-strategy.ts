// The cache-aware strategy: fold where the fewest dollars are re-billed once the summary busts the
// prompt cache. Pure: no xstate, no I/O.
//
// Cost model (prices per token from realtime-protocol.md §7.3; gpt-realtime by default):
//   The summary is inserted at the root, so the next response re-bills everything after it at the
//   uncached price (the service caches the prefix again from that response on, in 64-token steps).
//   For a candidate fold c (the previous summary plus the oldest k foldable units):
//     W_c = window - folded_c + S                 window after the fold (S: summary estimate, 300)
//     A_c = audio tokens of the items kept        (audio is 80x dearer uncached than cached)
//     B_c = A_c (audioIn - audioCached) + (W_c - A_c)(textIn - textCached)
//                                                 extra paid once: the bust re-bills W_c uncached
//     g   = mean tokens one exchange (user turn + reply) adds to the window
//     n_c = max(1, (trigger - W_c) / g)           turns until the trigger fires again
//     J_c = B_c / n_c + textCached (W_c + g (n_c - 1) / 2)
//                                                 cost per turn over that cycle: the bust spread
//                                                 over the cycle, plus the cached window each turn
//   The strategy picks the candidate with the least J_c (ties: the smaller fold, more verbatim
//   context). Every unit folded lowers W_c, A_c and B_c and lengthens the cycle, so J_c falls with
//   depth and the choice is the deepest fold the `keepLastTurns` floor allows: `targetTokens` is not
//   used (keepLastTurns is the only bound on how much is folded). Whether the fold makes the window
//   smaller is checked against the written summary, as for every strategy (the summariser skips it).
import type { Turn } from './turn.js';
import { priceFor, type PriceRow } from './costs.js';
import { foldableUnits, isSummary, planOf, toUnits, windowAfter, type FoldUnit } from './policy.js';
import type { ContextStrategy, StrategyView } from './context-strategy.js';
import { estimateItemTokens } from './tokens.js';

/** The summary's size before it is written: the same allowance the hysteresis plan uses. */
export const SUMMARY_ESTIMATE_TOKENS = 300;
/** Growth per exchange when the mirror has no complete exchange to measure yet. */
const DEFAULT_GROWTH_TOKENS = 200;

export interface CacheAwareOptions {
  /** Price row (USD per 1M tokens); gpt-realtime's by default. */
  prices?: PriceRow;
  summaryTokens?: number;
}

export interface FoldCandidate {
  units: FoldUnit[];
  /** Regular (non-summary) units folded. */
  depth: number;
  windowAfter: number;
  keptAudioTokens: number;
  /** USD per turn over the cycle (J_c above). */
  costPerTurn: number;
}

/** Every candidate fold with its modelled cost, shallowest first. */
export function foldCandidates(view: StrategyView, o: CacheAwareOptions = {}): FoldCandidate[] {
  const p = o.prices ?? priceFor('gpt-realtime');
  const perToken = (usdPerM: number) => usdPerM / 1e6;
  const S = o.summaryTokens ?? SUMMARY_ESTIMATE_TOKENS;
  const audioMs = view.audioMs ?? (() => undefined);
  const tokensOf = (t: Turn) => estimateItemTokens({ role: t.role, text: t.text, audio: t.audio, audioMs: audioMs(t.id) });
  const units = foldableUnits(view.turns, view.policy.keepLastTurns, audioMs);
  const summaries = units.filter((u) => u.summary);
  const regular = units.filter((u) => !u.summary);
  const g = growthPerExchange(view.turns, tokensOf);
  const out: FoldCandidate[] = [];
  for (let k = 1; k <= regular.length; k++) {
    const chosen = [...summaries, ...regular.slice(0, k)];
    const folded = new Set(chosen.flatMap((u) => u.items));
    const W = Math.max(0, view.window - chosen.reduce((n, u) => n + u.tokens, 0)) + S;
    const A = Math.min(W, view.turns.filter((t) => t.audio && !folded.has(t)).reduce((n, t) => n + tokensOf(t), 0));
    const B = A * perToken(p.audioIn - p.audioCached) + (W - A) * perToken(p.textIn - p.textCached);
    const n = Math.max(1, (view.policy.triggerTokens - W) / g);
    const J = B / n + perToken(p.textCached) * (W + (g * (n - 1)) / 2);
    out.push({ units: chosen, depth: k, windowAfter: W, keptAudioTokens: A, costPerTurn: J });
  }
  return out;
}

/** Mean tokens of the complete exchanges (a unit that starts with a user message) in the mirror. */
function growthPerExchange(turns: readonly Turn[], tokensOf: (t: Turn) => number): number {
  const exchanges = toUnits(turns).filter((u) => !u.every(isSummary) && u[0].role === 'user' && u.length > 1);
  if (!exchanges.length) return DEFAULT_GROWTH_TOKENS;
  const total = exchanges.reduce((n, u) => n + u.reduce((m, t) => m + tokensOf(t), 0), 0);
  return Math.max(1, total / exchanges.length);
}

export function createCacheAwareStrategy(o: CacheAwareOptions = {}): ContextStrategy {
  return {
    name: 'cache-aware',
    shouldSummarise: ({ window, policy }) => window >= policy.triggerTokens,
    planFold: (view) => {
      const candidates = foldCandidates(view, o);
      if (!candidates.length) return { skip: 'nothing to fold: every older turn is among the kept recent turns or still waiting for its transcript' };
      const best = candidates.reduce((b, c) => (c.costPerTurn < b.costPerTurn ? c : b));
      return planOf(view.turns, best.units);
    },
    estimateWindowAfter: windowAfter,
  };
}

export const cacheAwareStrategy: ContextStrategy = createCacheAwareStrategy();
