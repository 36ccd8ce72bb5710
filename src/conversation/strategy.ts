// The context policy as a strategy: when to summarise, which turns to fold, and what the window will
// be afterwards. The session machine asks `shouldSummarise` after each in-band response.done; the
// summariser asks `planFold` and `estimateWindowAfter`. Pure: no xstate, no I/O.
import type { PolicyOptions, Turn } from '../types.js';
import { planFold, type FoldPlan } from './policy.js';

export interface StrategyView {
  /** The mirror of the server conversation, in order. */
  turns: readonly Turn[];
  /** usage.total_tokens of the last in-band response.done. */
  window: number;
  /** usage.input_token_details.cached_tokens of that response, when the server reported it. */
  cachedTokens?: number;
  policy: PolicyOptions;
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

/** Today's default: summarise at `triggerTokens`, fold the oldest turns until about `targetTokens`. */
export const hysteresisStrategy: ContextStrategy = {
  name: 'hysteresis',
  shouldSummarise: ({ window, policy }) => window >= policy.triggerTokens,
  planFold: ({ turns, window, policy, audioMs }) => {
    const plan = planFold(turns, window, policy, audioMs);
    return plan.fold.length ? plan : { skip: 'nothing to fold: every turn is recent or still waiting for its transcript' };
  },
  estimateWindowAfter: (plan, summaryText, window) => Math.max(0, window - plan.foldedTokens) + Math.ceil(summaryText.length / 4) + 4,
};
