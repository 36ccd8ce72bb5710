// The deterministic "model": replies are pure functions of the conversation (README "Model").
import { readFileSync } from 'node:fs';
import type { StoredItem } from './conversation-store.js';

export const UNINTELLIGIBLE = '[unintelligible]';
const FILLER = 'I am the realtime emulator and this reply is deterministic so that tests can rely on every word of it'.split(' ');
const PREVIEW_CHARS = 60;

type Part = { type?: string; text?: string; transcript?: string };
type AnyItem = { id: string; type: string; role?: string; content?: Part[]; name?: string; arguments?: string; output?: string; call_id?: string };

/** The text the model perceives in an item (user audio = what was "heard": the hint). */
export function itemText(s: StoredItem): string {
  const it = s.item as AnyItem;
  if (it.type === 'function_call') return `${it.name ?? ''}(${it.arguments ?? ''})`;
  if (it.type === 'function_call_output') return it.output ?? '';
  if (it.type !== 'message') return '';
  const out: string[] = [];
  for (const p of it.content ?? []) {
    if (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') out.push(p.text ?? '');
    else if (p.type === 'input_audio') out.push(s.heard ?? p.transcript ?? UNINTELLIGIBLE);
    else if (p.type === 'output_audio' || p.type === 'audio') out.push(p.transcript ?? '');
  }
  return out.join(' ').trim();
}

export function itemRole(s: StoredItem): string {
  const it = s.item as AnyItem;
  return it.type === 'message' ? (it.role ?? 'unknown') : it.type;
}

const LANGUAGE_WORDS: Record<string, string[]> = {
  French: ['le', 'la', 'les', 'des', 'une', 'est', 'et', 'du', 'dans', 'avec', 'qui', 'pour', 'sur', 'une', 'au', 'aux', 'ses', 'son', 'résumé', "l'utilisateur", 'a', 'été'],
  Spanish: ['el', 'los', 'las', 'una', 'es', 'y', 'del', 'con', 'que', 'para', 'por', 'su', 'resumen', 'usuario'],
  German: ['der', 'die', 'das', 'und', 'ist', 'ein', 'eine', 'mit', 'den', 'dem', 'zu', 'von', 'zusammenfassung', 'nicht'],
  Italian: ['il', 'gli', 'della', 'che', 'è', 'con', 'per', 'una', 'sono', 'riassunto', 'utente'],
  Portuguese: ['os', 'uma', 'não', 'com', 'para', 'que', 'resumo', 'usuário', 'foi', 'ao'],
};
const ENGLISH = ['the', 'and', 'is', 'of', 'to', 'a', 'in', 'that', 'with', 'for', 'was', 'on', 'user', 'summary'];

/**
 * The language a text declares: the documented marker `[Summary in <Language>]` first, otherwise a
 * small stop-word vote (non-English languages only; undefined for English or unknown).
 */
export function declaredLanguage(text: string): string | undefined {
  const m = /\[Summary in ([A-Z][A-Za-z]+)\]/.exec(text);
  if (m) return m[1];
  const words = text.toLowerCase().split(/[^\p{L}']+/u).filter(Boolean);
  if (words.length < 4) return undefined;
  const en = words.filter((w) => ENGLISH.includes(w)).length;
  let best: string | undefined;
  let bestScore = 0;
  for (const [lang, list] of Object.entries(LANGUAGE_WORDS)) {
    const score = words.filter((w) => list.includes(w)).length;
    if (score > bestScore) {
      best = lang;
      bestScore = score;
    }
  }
  return best && bestScore >= 3 && bestScore > en ? best : undefined;
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}...` : flat;
}

/** Context echo: `Context: 1. system sum_001 "..." | 2. user item_x "..."` (items in model context). */
export function contextEcho(items: readonly StoredItem[]): string {
  if (!items.length) return 'Context: (empty)';
  return `Context: ${items.map((s, i) => `${i + 1}. ${itemRole(s)} ${s.item.id} "${preview(itemText(s))}"`).join(' | ')}`;
}

export interface ReplyInput {
  items: readonly StoredItem[];
  contextEcho: boolean;
  replyWords: number;
  /** Next scripted reply, if any remain. */
  scripted?: string;
}

/** The last user turn's text (typed text or heard audio). */
export function lastUserText(items: readonly StoredItem[]): string | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i].item as AnyItem;
    if (it.type === 'message' && it.role === 'user') return itemText(items[i]);
  }
  return undefined;
}

/** Index of the latest user message in the items, or -1. */
export function lastUserIndex(items: readonly StoredItem[]): number {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i].item as AnyItem;
    if (it.type === 'message' && it.role === 'user') return i;
  }
  return -1;
}

/** Function-call outputs after the latest user turn, with the name of the call each answers. */
export function toolResultsSinceLastUser(items: readonly StoredItem[]): Array<{ name: string; output: string }> {
  const out: Array<{ name: string; output: string }> = [];
  for (let i = lastUserIndex(items) + 1; i < items.length; i++) {
    const it = items[i].item as AnyItem;
    if (it.type !== 'function_call_output') continue;
    const call = items.find((s) => (s.item as AnyItem).type === 'function_call' && (s.item as AnyItem).call_id === it.call_id);
    out.push({ name: (call?.item as AnyItem | undefined)?.name ?? 'the tool', output: it.output ?? '' });
  }
  return out;
}

export function generateReply(input: ReplyInput): string {
  if (input.scripted !== undefined) return input.scripted;
  if (input.contextEcho) return contextEcho(input.items);
  // After function-call outputs the model answers with them (each output's text, verbatim).
  const results = toolResultsSinceLastUser(input.items);
  if (results.length) return `${results.map((r) => `${r.name} returned ${r.output.trim()}`).join('; ')}.`;
  const said = lastUserText(input.items);
  if (said !== undefined && /\blanguages?\b/i.test(said)) {
    for (const s of input.items) {
      const role = itemRole(s);
      if (role !== 'system' && role !== 'assistant') continue;
      const lang = declaredLanguage(itemText(s));
      if (lang) return `The first summary was in ${lang}.`;
    }
  }
  const base = said === undefined ? 'Hello from the realtime emulator.' : `You said: ${capWords(said.replace(/[.!?\s]+$/, ''), 200)}.`;
  const words = base.split(/\s+/).filter(Boolean);
  for (let i = 0; words.length < input.replyWords; i++) words.push(FILLER[i % FILLER.length]);
  return words.join(' ');
}

function capWords(s: string, n: number): string {
  const w = s.split(/\s+/);
  return w.length > n ? w.slice(0, n).join(' ') : s;
}

/** Loads scripted replies: an array, a JSON file holding an array of strings, or a text file (one reply per line). */
export function loadScript(script: string[] | string | undefined): string[] | undefined {
  if (script === undefined) return undefined;
  if (Array.isArray(script)) return [...script];
  const raw = readFileSync(script, 'utf8');
  const trimmed = raw.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`script ${script}: expected a JSON array of strings`);
    return parsed;
  }
  return raw.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}
