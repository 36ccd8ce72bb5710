// `realtime-agent conversations`: the stored conversations, newest activity first, from either store
// (JSONL directory or PostgreSQL): id, start, last activity, turns, summaries, cost, and whether a
// live instance holds it now.
import { dirname } from 'node:path';
import { storeFromSpec } from '../store/open.js';
import type { ConversationInfo } from '../store/types.js';
import type { CliOptions } from './args.js';

export async function listConversations(o: CliOptions, out: NodeJS.WritableStream): Promise<ConversationInfo[]> {
  const spec = o.store ?? (o.journal ? dirname(o.journal) : '.rtc');
  const store = storeFromSpec(spec);
  let rows: ConversationInfo[];
  try {
    await store.open();
    rows = await store.list();
  } catch (e) {
    throw new Error(`cannot list conversations in ${store.label}: ${(e as Error).message}`);
  } finally {
    await store.close().catch(() => undefined);
  }
  if (o.json) {
    for (const r of rows) out.write(JSON.stringify({ type: 'conversation', ...r }) + '\n');
    return rows;
  }
  if (rows.length === 0) {
    out.write(`no conversations in ${store.label}\n`);
    return rows;
  }
  const head = ['id', 'started', 'last activity', 'turns', 'summaries', 'cost', 'held by'];
  const table = rows.map((r) => [r.id, when(r.startedAt), when(r.lastActivityAt), String(r.turns), String(r.summaries), `$${r.costUsd.toFixed(4)}`, r.holder ?? '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table]) out.write(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  return rows;
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}
