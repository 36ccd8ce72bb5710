// The context policy as a strategy: when to summarise, which turns to fold, and what the window will
// be afterwards. The session machine asks `shouldSummarise` after each in-band response.done; the
// summariser asks `planFold` and `estimateWindowAfter`. Pure: no xstate, no I/O.
import type { ContextStrategy, StrategyName } from './context-strategy.js';
import { cacheAwareStrategy } from './cache-aware-strategy.js';
import { planFold, STRATEGY_NAMES, windowAfter } from './policy.js';

export type { ContextStrategy, StrategyView } from './context-strategy.js';

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
