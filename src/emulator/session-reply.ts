// The spoken or written reply of one emulated response: its words (cut to max_output_tokens), the
// assistant message item, the streamed deltas (fast batches or real-time pacing) and the closing
// done events with what was actually sent.
import { CHUNK_MS, speechDurationMs, voiceChunk } from './audio.js';
import { makeStored, scheduleStart, type ActiveResponse, type FinishStatus, type SessionContext } from './session-context.js';
import { outputAudioTokens, textTokens } from './usage.js';

type ReplyContent = Array<{ type: 'output_audio'; transcript: string } | { type: 'output_text'; text: string }>;

/** The assistant message a finished reply leaves in the conversation. */
export interface ReplyItem {
  id: string;
  object: 'realtime.item';
  type: 'message';
  role: 'assistant';
  status: 'completed' | 'incomplete';
  content: ReplyContent;
}

/** The words of `text` that fit in `maxTokens` (text plus audio tokens), and whether any were cut. */
export function fitWords(text: string, maxTokens: number | 'inf', modality: 'audio' | 'text'): { words: string[]; limited: boolean } {
  let words = text.split(/\s+/).filter(Boolean);
  if (maxTokens === 'inf') return { words, limited: false };
  const cost = (ws: string[]) => {
    const t = ws.join(' ');
    return textTokens(t) + (modality === 'audio' ? outputAudioTokens(speechDurationMs(t)) : 0);
  };
  if (cost(words) <= maxTokens) return { words, limited: false };
  while (words.length > 1 && cost(words) > maxTokens) words = words.slice(0, Math.max(1, Math.floor(words.length * 0.8)));
  return { words, limited: true };
}

export class Replies {
  constructor(
    private readonly ctx: SessionContext,
    /** Every delta of a reply has been sent. */
    private readonly onStreamed: (r: ActiveResponse) => void,
  ) {}

  /** Opens the assistant message of `r` with the words of `text` and starts streaming it. */
  start(r: ActiveResponse, text: string): void {
    const { out, store, ids } = this.ctx;
    const fitted = fitWords(text, r.maxTokens, r.modality);
    if (fitted.limited) r.limited = true;
    const words = fitted.words;
    r.words = words;
    const itemId = ids.item();
    const item = { id: itemId, object: 'realtime.item' as const, type: 'message' as const, role: 'assistant' as const, status: 'in_progress' as const, content: [] };
    r.stored = makeStored(item, { audioFormat: r.format });
    out.emit({ type: 'response.output_item.added', event_id: out.eid(), response_id: r.id, output_index: 0, item: { ...item, content: [] } });
    if (r.inBand) {
      const previous = store.last()?.item.id ?? null;
      store.insert(r.stored);
      out.emit({ type: 'conversation.item.added', event_id: out.eid(), previous_item_id: previous, item: { ...item, content: [] } });
    }
    out.emit({
      type: 'response.content_part.added',
      event_id: out.eid(),
      response_id: r.id,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: r.modality === 'audio' ? { type: 'audio', transcript: '' } : { type: 'text', text: '' },
    });
    if (r.modality === 'audio') r.chunks = Math.max(1, Math.ceil(speechDurationMs(words.join(' ')) / CHUNK_MS));
    else for (let i = 0; i < words.length; i += 3) r.textDeltas.push((i > 0 ? ' ' : '') + words.slice(i, i + 3).join(' '));
    scheduleStart(r, this.ctx.opts.latencyMs, () => this.pump(r));
  }

  /** Sends the closing events of the reply (what was sent so far) and settles its item. */
  finish(r: ActiveResponse, status: FinishStatus): { item: ReplyItem; text: string; audioMs: number } {
    const { out, store } = this.ctx;
    const itemId = r.stored.item.id;
    const text = r.words.slice(0, r.sentWords).join(' ');
    const ids = { event_id: '', response_id: r.id, item_id: itemId, output_index: 0, content_index: 0 };
    let audioMs = 0;
    let content: ReplyContent;
    if (r.modality === 'audio') {
      audioMs = r.sentChunks >= r.chunks ? speechDurationMs(r.words.join(' ')) : r.sentChunks * CHUNK_MS;
      out.emit({ ...ids, event_id: out.eid(), type: 'response.output_audio.done' });
      out.emit({ ...ids, event_id: out.eid(), type: 'response.output_audio_transcript.done', transcript: text });
      out.emit({ ...ids, event_id: out.eid(), type: 'response.content_part.done', part: { type: 'audio', transcript: text } });
      content = [{ type: 'output_audio', transcript: text }];
    } else {
      out.emit({ ...ids, event_id: out.eid(), type: 'response.output_text.done', text });
      out.emit({ ...ids, event_id: out.eid(), type: 'response.content_part.done', part: { type: 'text', text } });
      content = [{ type: 'output_text', text }];
    }
    const item: ReplyItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'assistant',
      status: status === 'completed' ? 'completed' : 'incomplete',
      content,
    };
    r.stored.item = item;
    r.stored.audioMs = audioMs;
    store.touch(r.stored);
    // Captured order: conversation.item.done, then response.output_item.done.
    if (r.inBand && store.has(itemId)) {
      const all = store.all();
      const at = all.indexOf(r.stored);
      out.emit({ type: 'conversation.item.done', event_id: out.eid(), previous_item_id: at > 0 ? all[at - 1].item.id : null, item });
    }
    out.emit({ type: 'response.output_item.done', event_id: out.eid(), response_id: r.id, output_index: 0, item });
    return { item, text, audioMs };
  }

  /** Streams the next batch of deltas (fast) or one chunk (realtime pacing). */
  private pump(r: ActiveResponse): void {
    const { out } = this.ctx;
    r.timer = undefined;
    r.immediate = undefined;
    if (r.finished || out.closed) return;
    const realtime = this.ctx.opts.audioPacing === 'realtime';
    const batch = realtime ? 1 : 16;
    for (let n = 0; n < batch; n++) {
      if (!this.sendNext(r)) break;
      if (out.closed || r.finished) return;
    }
    const more = r.modality === 'audio' ? r.sentChunks < r.chunks : r.sentTextDeltas < r.textDeltas.length;
    if (more) {
      if (realtime) r.timer = setTimeout(() => this.pump(r), r.modality === 'audio' ? CHUNK_MS : 50);
      else r.immediate = setImmediate(() => this.pump(r));
      return;
    }
    this.onStreamed(r);
  }

  /** One audio chunk (with the transcript words due by then) or one text delta; false when all are sent. */
  private sendNext(r: ActiveResponse): boolean {
    const { out } = this.ctx;
    const itemId = r.stored.item.id;
    if (r.modality === 'audio') {
      if (r.sentChunks >= r.chunks) return false;
      const i = r.sentChunks++;
      const due = Math.min(r.words.length, Math.ceil(((i + 1) / r.chunks) * r.words.length));
      if (due > r.sentWords) {
        const delta = (r.sentWords > 0 ? ' ' : '') + r.words.slice(r.sentWords, due).join(' ');
        r.sentWords = due;
        out.emit({ type: 'response.output_audio_transcript.delta', event_id: out.eid(), response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta });
      }
      out.emit({ type: 'response.output_audio.delta', event_id: out.eid(), response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta: voiceChunk(r.format, i) });
      return true;
    }
    if (r.sentTextDeltas >= r.textDeltas.length) return false;
    const delta = r.textDeltas[r.sentTextDeltas++];
    r.sentWords = Math.min(r.words.length, r.sentTextDeltas * 3);
    out.emit({ type: 'response.output_text.delta', event_id: out.eid(), response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta });
    return true;
  }
}
