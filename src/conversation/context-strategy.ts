// The contract between the session, the summariser and a context strategy: the policy numbers, the
// view a strategy decides on, the strategy itself and the fold it plans. Types only, so the
// strategies (strategy.ts, cache-aware-strategy.ts) and the policy helpers (policy.ts) import it
// without importing each other.
import type { Turn } from './turn.js';

export interface PolicyOptions {
  /** Summarise when the window (total_tokens of the last in-band response.done) reaches this. */
  triggerTokens: number;
  /** Fold enough old turns that the window falls to about this. */
  targetTokens: number;
  /** Always keep at least this many of the most recent turns verbatim. */
  keepLastTurns: number;
  /** Role of the summary item; 'system' avoids the text-only answers assistant text can cause. */
  summaryRole: 'system' | 'user' | 'assistant';
  /** Language of the summary; undefined = the conversation's own language. */
  summaryLanguage?: string;
  /** Wait at most this long for pending user transcripts before summarising (ms). */
  transcriptWaitMs: number;
  /** Transcript retrieve loop: attempts and base back-off (attempt n waits n * base). */
  transcriptMaxAttempts: number;
  transcriptBackoffMs: number;
  /** How long to wait for the server's acknowledgement of an insert or delete (ms). */
  ackTimeoutMs: number;
  /** After a failed summary, wait this long before trying again (ms). */
  cooldownMs: number;
  /**
   * When to summarise and which turns to fold: 'hysteresis' (default: fold the oldest turns until the
   * window is about `targetTokens`), 'cache-aware' (fold where the fewest tokens are re-billed once the
   * summary busts the prompt cache), or your own `ContextStrategy` object.
   */
  strategy?: StrategyName | ContextStrategy;
}

export type StrategyName = 'hysteresis' | 'cache-aware';

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

export interface FoldPlan {
  /** Items to fold into the new summary and delete (includes the previous summary: rolling). */
  fold: Turn[];
  /** Items kept verbatim. */
  keep: Turn[];
  /** Estimated tokens removed from the window by folding (before the summary's own size). */
  foldedTokens: number;
}
