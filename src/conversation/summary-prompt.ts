// The summariser's prompt. Language: the conversation's own by default (the seed's French was a demo
// device); the previous summary is part of the input, so nothing folded earlier is ever dropped.
import { INAUDIBLE } from '../protocol/constants.js';
import type { Turn } from './turn.js';
import { isSummary } from './policy.js';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** Re-exported from src/protocol/constants.ts (its one home) for existing importers. */
export { INAUDIBLE };

export function summarySystemPrompt(language?: string): string {
  const lang = language
    ? `Write the summary in ${language}.`
    : 'Write the summary in the same language the conversation is in.';
  return [
    'Summarise the following conversation in one concise, faithful paragraph so it can be used as context for future dialogue.',
    'Keep names, numbers, decisions, commitments and open questions; do not invent anything.',
    'If an earlier summary is included, merge it in: nothing it says may be lost.',
    'Turns marked [inaudible] could not be transcribed; mention them only if it matters.',
    'For each tool call, state in one sentence what was asked and what the tool returned (e.g. "The assistant looked up the time in Tokyo: 14:05."), or that it failed.',
    lang,
  ].join(' ');
}

/**
 * One line per folded item, in order, in a plain "role: text" transcript. A tool call and its result
 * read as two sentences naming the tool, so a summary or a seed carries the result as text.
 */
export function transcriptOf(turns: readonly Turn[]): string {
  const lines: string[] = [];
  const toolOf = new Map(turns.filter((t) => t.kind === 'function_call' && t.callId && t.name).map((t) => [t.callId!, t.name!]));
  for (const t of turns) {
    if (isSummary(t)) {
      lines.push(`Earlier summary: ${t.text ?? ''}`);
    } else if (t.kind === 'function_call') {
      lines.push(`assistant called the tool ${t.text ?? `${t.name ?? 'function'}()`}`);
    } else if (t.kind === 'function_call_output') {
      const name = t.callId ? toolOf.get(t.callId) : undefined;
      lines.push(`${name ? `the tool ${name}` : 'the tool'} returned: ${t.text ?? ''}`);
    } else if (t.kind === 'message') {
      const text = t.textState === 'inaudible' || t.text === null ? INAUDIBLE : t.text;
      lines.push(`${t.role ?? 'user'}: ${text}`);
    }
  }
  return lines.join('\n');
}

export function buildSummaryMessages(turns: readonly Turn[], language?: string): ChatMessage[] {
  return [
    { role: 'system', content: summarySystemPrompt(language) },
    { role: 'user', content: transcriptOf(turns) },
  ];
}

/** Summary ids: `sum_001`, `sum_002`, ... (<= 32 chars, unique within a session chain). */
export function summaryId(n: number): string {
  return `sum_${String(n).padStart(3, '0')}`;
}

/** Wraps the summary text so the model reads it as background, not a new request. */
export function summaryItemText(text: string): string {
  return text.trim();
}
