// The server-side conversation: an ordered list of items with O(1) lookup by id.
import type { ConversationItem } from 'openai/resources/realtime/realtime';
import type { AudioFormatType } from './audio.js';
import type { ToolCallScript } from './tools.js';
import { ITEM_OVERHEAD_TOKENS, inputAudioTokens, outputAudioTokens, textTokens, type TokenBlock } from './usage.js';

export interface StoredItem {
  /** GA item shape without audio bytes (what conversation.item.added/done carry). */
  item: ConversationItem & { id: string };
  /** User input audio bytes (kept for conversation.item.retrieve unless retainAudio is off). */
  audio?: Buffer;
  audioFormat?: AudioFormatType;
  /** Audio length in ms (user input audio, or assistant output audio after truncation). */
  audioMs: number;
  /** What the model "heard" in user audio (the transcript hint), independent of ASR. */
  heard?: string;
  /** `x_tool_call` given with this user item: the calls the model makes in answer to it. */
  toolCalls?: ToolCallScript[];
  /** Bumped whenever the model-visible content changes (truncate): part of the cache key. */
  version: number;
  /** Token cost of this item in a prompt (cached; recomputed on change). */
  block: TokenBlock;
}

type Part = { type?: string; text?: string; transcript?: string; audio?: string };

/** Tokens an item costs in a prompt: 4 overhead + text (tokenizer) + audio (10 or 20 tok/s). */
export function computeBlock(s: Omit<StoredItem, 'block'>): TokenBlock {
  const it = s.item as { type: string; content?: Part[]; name?: string; arguments?: string; output?: string; role?: string };
  let text = ITEM_OVERHEAD_TOKENS;
  let audio = 0;
  if (it.type === 'message') {
    for (const p of it.content ?? []) {
      if (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') text += textTokens(p.text);
      else if (p.type === 'input_audio') audio += inputAudioTokens(s.audioMs);
      else if (p.type === 'output_audio' || p.type === 'audio') audio += outputAudioTokens(s.audioMs);
    }
  } else if (it.type === 'function_call') {
    text += textTokens(it.name) + textTokens(it.arguments);
  } else if (it.type === 'function_call_output') {
    text += textTokens(it.output);
  }
  return { key: `${s.item.id}#${s.version}`, text, audio };
}

export class ConversationStore {
  private list: StoredItem[] = [];
  private byId = new Map<string, StoredItem>();

  get size(): number {
    return this.list.length;
  }
  has(id: string): boolean {
    return this.byId.has(id);
  }
  get(id: string): StoredItem | undefined {
    return this.byId.get(id);
  }
  all(): readonly StoredItem[] {
    return this.list;
  }
  last(): StoredItem | undefined {
    return this.list[this.list.length - 1];
  }

  /**
   * Inserts after `previousId` ('root' = at the beginning, undefined = at the end).
   * Returns the predecessor id (null when first), or undefined when previousId is unknown.
   */
  insert(s: StoredItem, previousId?: string): { previous: string | null } | undefined {
    let index: number;
    if (previousId === undefined) index = this.list.length;
    else if (previousId === 'root') index = 0;
    else {
      const at = this.list.findIndex((x) => x.item.id === previousId);
      if (at < 0) return undefined;
      index = at + 1;
    }
    this.list.splice(index, 0, s);
    this.byId.set(s.item.id, s);
    return { previous: index > 0 ? this.list[index - 1].item.id : null };
  }

  remove(id: string): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    this.byId.delete(id);
    const at = this.list.lastIndexOf(s);
    if (at >= 0) this.list.splice(at, 1);
    return true;
  }

  /** Recomputes an item's token block after its content changed. */
  touch(s: StoredItem): void {
    s.version++;
    s.block = computeBlock(s);
  }
}
