// Small pure formatting helpers shared by the terminal view, the demo and the JSON output.
import type { Turn } from '../types.js';

export const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/** A count with its noun, singular for one: count(1, 'summary', 'summaries') = "1 summary", count(2, 'turn') = "2 turns". */
export const count = (x: number, one: string, many = `${one}s`): string => `${n(x)} ${x === 1 ? one : many}`;

/** A text gauge of the window against the trigger: [#######.....] */
export function gauge(tokens: number, trigger: number, width = 20): string {
  const ratio = trigger > 0 ? tokens / trigger : 0;
  const filled = Math.max(0, Math.min(width, Math.round(ratio * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function usd(x: number): string {
  return `$${x < 1 ? x.toFixed(4) : x.toFixed(2)}`;
}

/**
 * One labelling rule for window figures everywhere in the CLI: a plain number is the server's usage
 * (total_tokens of the last response.done); an estimate (the window after a summary, until the next
 * response reports usage) is written ≈N.
 */
export const estimate = (x: number): string => `≈${n(x)}`;

/** `state`: the agent's public state (agent.state), shown on the live status line only. */
export function statusText(s: { tokens: number; trigger: number; costUsd: number; note?: string; estimated?: boolean; state?: string }): string {
  const pct = s.trigger > 0 ? Math.round((s.tokens / s.trigger) * 100) : 0;
  return `window ${s.estimated ? estimate(s.tokens) : n(s.tokens)} / ${n(s.trigger)} ${gauge(s.tokens, s.trigger)} ${pct}% · cost ${usd(s.costUsd)}${s.state ? ` · ${s.state}` : ''}${s.note ? ` · ${s.note}` : ''}`;
}

export function summaryText(s: { turns: number; windowBefore: number; windowAfterEstimate: number }): string {
  return `summarised ${count(s.turns, 'turn')} into 1, window ${n(s.windowBefore)} -> ${estimate(s.windowAfterEstimate)} (estimate until the next response)`;
}

export function skippedText(s: { reason: string }): string {
  return `summary skipped: ${s.reason}`;
}

/** The notebook's print_history, line for line. */
export function historyText(turns: readonly Turn[]): string {
  const lines = ['—— Conversation so far ———————————————'];
  for (const t of turns) {
    const role = t.role ?? t.kind;
    const text = (t.text ?? '').trim().replace(/\n/g, ' ');
    lines.push(`[${role.padEnd(9)}] ${text} (${t.id})`);
  }
  lines.push('——————————————————————————————————————————');
  return lines.join('\n');
}
