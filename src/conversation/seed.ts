// What a new session starts with after a reconnect or a rollover: the summaries and the turns they do
// not cover, as ONE system item (assistant audio cannot be re-created, and assistant-role text can
// switch the model to text-only answers). Turns a summary already covers are left out, so a summary
// interrupted mid-prune appears exactly once and no turn is lost.
import type { Turn } from './turn.js';
import { isSummary } from './policy.js';
import { transcriptOf } from './summary-prompt.js';

export interface SeedPlan {
  text: string;
  /** Every mirror id the seed stands for (summaries included). */
  covers: string[];
}

export function buildSeed(mirror: readonly Turn[]): SeedPlan | null {
  if (mirror.length === 0) return null;
  const covered = new Set(mirror.flatMap((t) => t.summaryOf ?? []));
  const summaries = mirror.filter(isSummary);
  const rest = mirror.filter((t) => !isSummary(t) && !covered.has(t.id));
  // Never empty for a non-empty mirror: a turn is only covered by a summary, which is written out.
  const parts: string[] = [];
  if (summaries.length) parts.push(`Summary of the conversation so far: ${summaries.map((s) => (s.text ?? '').trim()).filter(Boolean).join(' ')}`);
  if (rest.length) parts.push(`Most recent turns, verbatim:\n${transcriptOf(rest)}`);
  return { text: parts.join('\n\n'), covers: mirror.map((t) => t.id) };
}
