// The context policy as a strategy: when to summarise, which turns to fold, and what the window will
// be afterwards. The session machine asks `shouldSummarise` after each in-band response.done; the
// summariser asks `planFold` and `estimateWindowAfter`. Pure: no xstate, no I/O.
import type { PolicyOptions, StrategyName, Turn } from '../types.js';
import { cacheAwareStrategy } from './cache-aware-strategy.js';
import { planFold, STRATEGY_NAMES, windowAfter, type FoldPlan } from './policy.js';

export interface StrategyView {
  /** The mirror of the server conversation, in order. */
  turns: readonly Turn[];
  /** usage.total_tokens of the last in-band response.done. */
  window: number;
  /** usage.input_token_details.cached_tokens of that response, when the server reported it. */
  cachedTokens?: number;
  policy: Pick<PolicyOptions, 'triggerTokens' | 'targetTokens' | 'keepLastTurns'>;
  /** Audio duration of an item (ms), when known. */
  audioMs?: (id: string) => number | undefined;
}

export interface ContextStrategy {
  readonly name: string;
  /** After an in-band response.done: should a summary start now? */
  shouldSummarise(view: StrategyView): boolean;
  /**
   * Which turns to fold. Never separates a user turn from the reply to it, nor a function call from
   * its output; `{ skip }` (with a reason a person can read) when folding would not help.
   */
  planFold(view: StrategyView): FoldPlan | { skip: string };
  /** Estimated window (tokens) after the fold is replaced by a summary of `summaryText`. */
  estimateWindowAfter(plan: FoldPlan, summaryText: string, window: number): number;
}

export const NOTHING_TO_FOLD = 'nothing to fold: every older turn is among the kept recent turns or still waiting for its transcript';

/** Today's default: summarise at `triggerTokens`, fold the oldest turns until about `targetTokens`. */
export const hysteresisStrategy: ContextStrategy = {
  name: 'hysteresis',
  shouldSummarise: ({ window, policy }) => window >= policy.triggerTokens,
  planFold: ({ turns, window, policy, audioMs }) => {
    const plan = planFold(turns, window, policy, audioMs);
    return plan.fold.length ? plan : { skip: NOTHING_TO_FOLD };
  },
  estimateWindowAfter: windowAfter,
};

/** A strategy by name, or the object itself; undefined = the default (hysteresis). */
export function resolveStrategy(x: StrategyName | ContextStrategy | undefined): ContextStrategy {
  if (x === undefined || x === 'hysteresis') return hysteresisStrategy;
  if (x === 'cache-aware') return cacheAwareStrategy;
  if (typeof x === 'object' && x !== null && typeof x.planFold === 'function') return x;
  throw new RangeError(`policy strategy must be ${STRATEGY_NAMES.join(' or ')} or a ContextStrategy object (got ${String(x)})`);
}
