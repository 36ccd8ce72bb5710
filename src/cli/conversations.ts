// `realtime-agent conversations`: the stored conversations, newest activity first, from either store
// (JSONL directory or PostgreSQL): id, start, last activity, turns, summaries, cost, and whether a
// live instance holds it now. A conversation with no turn and no summary that nobody holds (a run
// that failed to start, or ended before anything was said) is hidden unless --all, then marked.
import { dirname } from 'node:path';
import { storeFromSpec } from '../store/open.js';
import type { ConversationInfo } from '../store/types.js';
import type { CliOptions } from './args.js';
import { count } from './format.js';

/** Nothing was said and no live instance holds it: nothing to resume. */
export function isEmptyConversation(r: ConversationInfo): boolean {
  return r.turns === 0 && r.summaries === 0 && r.holder === null;
}

export async function listConversations(o: CliOptions, out: NodeJS.WritableStream): Promise<ConversationInfo[]> {
  const spec = o.store ?? (o.journal ? dirname(o.journal) : '.rtc');
  const store = storeFromSpec(spec);
  let all: ConversationInfo[];
  try {
    await store.open();
    all = await store.list();
  } catch (e) {
    throw new Error(`cannot list conversations in the ${store.label} (${(e as Error).message.split('\n')[0]})`);
  } finally {
    await store.close().catch(() => undefined);
  }
  const rows = o.all ? all : all.filter((r) => !isEmptyConversation(r));
  const hidden = all.length - rows.length;
  if (o.json) {
    for (const r of rows) out.write(JSON.stringify({ type: 'conversation', ...r, ...(isEmptyConversation(r) ? { empty: true } : {}) }) + '\n');
    return rows;
  }
  const hiddenNote = hidden ? ` (${count(hidden, 'conversation')} with no turns hidden: --all shows them)` : '';
  if (rows.length === 0) {
    out.write(`no conversations in the ${store.label}${hiddenNote}\n`);
    return rows;
  }
  // With --all, a last column marks the conversations the default listing hides.
  const marked = rows.some(isEmptyConversation);
  const head = ['id', 'started', 'last activity', 'turns', 'summaries', 'cost', 'held by', ...(marked ? ['note'] : [])];
  const table = rows.map((r) => [
    r.id, when(r.startedAt), when(r.lastActivityAt), String(r.turns), String(r.summaries), `$${r.costUsd.toFixed(4)}`, r.holder ?? '-',
    ...(marked ? [isEmptyConversation(r) ? 'no turns' : ''] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table]) out.write(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  if (hiddenNote) out.write(`${hiddenNote.slice(2, -1)}\n`);
  return rows;
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}
