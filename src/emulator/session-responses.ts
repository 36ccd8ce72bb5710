// One WebSocket connection, part 5: response generation (the reply, streaming, cancel, usage).
import type {
ConversationItem,RealtimeResponseStatus
} from 'openai/resources/realtime/realtime';
import type { WireEvent } from '../protocol/events.js';
import { CHUNK_MS,durationMs,speechDurationMs,voiceChunk } from './audio.js';
import { type StoredItem } from './conversation-store.js';
import { E } from './errors.js';
import { rateLimitMessage } from './faults.js';
import { validateItem } from './items.js';
import { generateReply } from './model.js';
import {
isErr,type ResponseParams
} from './session-config.js';
import {
buildUsage,
cachedTokens,
outputAudioTokens,
planTruncation,
textTokens,type TokenBlock
} from './usage.js';
import { ToolCalls } from './session-tools.js';
import { type ActiveResponse,HINT_FIELD,isObj } from './session-core.js';

export abstract class Responses extends ToolCalls {
  // ------------------------------------------------------------------ responses

  protected instructionsBlock(instructions: string, tools: unknown[]): TokenBlock {
    const toolsJson = tools.length ? JSON.stringify(tools) : '';
    const key = `I:${instructions}\u0000${toolsJson}`;
    if (key !== this.instrKey) {
      this.instrKey = key;
      this.instrBlock = { key, text: textTokens(instructions) + textTokens(toolsJson), audio: 0 };
    }
    return this.instrBlock;
  }

  protected contextItems(): StoredItem[] {
    const all = this.store.all();
    if (!this.excluded.size) return all.slice();
    return all.filter((s) => !this.excluded.has(s.item.id));
  }

  protected resolveInput(input: unknown[], eventId: string | null): StoredItem[] | undefined {
    const out: StoredItem[] = [];
    for (let i = 0; i < input.length; i++) {
      const x = input[i];
      if (isObj(x) && x.type === 'item_reference') {
        const s = typeof x.id === 'string' ? this.store.get(x.id) : undefined;
        if (!s) {
          this.emitError(E.itemReferenceMissing(String(x.id), `response.input[${i}].id`), eventId);
          return undefined;
        }
        out.push(s);
        continue;
      }
      const v = validateItem(x, this.dialect, `response.input[${i}]`);
      if (isErr(v)) {
        this.emitError(v, eventId);
        return undefined;
      }
      const id = v.item.id ?? this.ids.item();
      out.push(
        this.makeStored({ ...v.item, id } as ConversationItem & { id: string }, {
          audioMs: v.audio ? durationMs(v.audio.length, this.cfg.input_format) : 0,
          heard: isObj(x) && typeof x[HINT_FIELD] === 'string' ? (x[HINT_FIELD] as string) : undefined,
        }),
      );
    }
    return out;
  }

  protected override startResponse(p: ResponseParams, eventId: string | null): void {
    const inBand = p.conversation !== 'none';
    if (inBand && this.active) return this.emitError(E.activeResponse(this.active.id), eventId);
    let items: StoredItem[];
    if (p.input !== undefined) {
      const resolved = this.resolveInput(p.input, eventId);
      if (!resolved) return;
      items = resolved;
    } else items = this.contextItems();
    const instr = this.instructionsBlock(p.instructions ?? this.cfg.instructions, p.tools ?? this.cfg.tools);
    let blocks = [instr, ...items.map((s) => s.block)];
    let failure: { code: string; message: string; type: string } | undefined;
    if (inBand && p.input === undefined) {
      const plan = planTruncation(blocks, this.model, this.cfg.truncation);
      if (plan.drop > 0) {
        for (const s of items.slice(0, plan.drop)) this.excluded.add(s.item.id);
        this.opts.log(`session ${this.id}: truncation dropped ${plan.drop} oldest item(s) from the model context`);
        items = items.slice(plan.drop);
        blocks = [instr, ...items.map((s) => s.block)];
      }
      if (plan.overflow) {
        failure = {
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
          message: `The conversation has ${plan.overflow.inputTokens} input tokens, more than the ${plan.overflow.limit} allowed for ${this.model} with truncation disabled.`,
        };
      }
    }
    if (!failure && this.rateLimited > 0) {
      this.rateLimited--;
      failure = { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: rateLimitMessage(this.model) };
    }
    const modality = (p.output_modalities ?? this.cfg.output_modalities)[0] ?? 'audio';
    const format = p.output_format ?? this.cfg.output_format;
    const voice = p.voice ?? this.cfg.voice;
    const maxTokens = p.max_output_tokens ?? this.cfg.max_output_tokens;
    const cache = cachedTokens(this.prevBlocks, blocks);
    const r: ActiveResponse = {
      id: this.ids.response(),
      inBand,
      modality,
      format,
      voice,
      maxTokens,
      metadata: p.metadata ?? null,
      conversationId: inBand ? this.conversationId : undefined,
      stored: undefined as unknown as StoredItem,
      words: [],
      sentWords: 0,
      chunks: 0,
      sentChunks: 0,
      textDeltas: [],
      sentTextDeltas: 0,
      inputBlocks: blocks,
      cache,
      limited: false,
      finished: false,
    };
    this.responses++;
    if (inBand) this.active = r;
    else this.oob.add(r);
    this.emit({ type: 'response.created', event_id: this.eid(), response: this.wireResponse(r, 'in_progress') });
    if (failure) {
      r.finished = true;
      this.cleanupResponse(r);
      const status: RealtimeResponseStatus = { type: 'failed', error: failure };
      const resp = this.wireResponse(r, 'failed', status);
      resp.output = [];
      resp.usage = buildUsage([], { cached: 0, cachedText: 0, cachedAudio: 0 }, { text: 0, audio: 0 });
      this.emitResponseDone(resp);
      return;
    }
    const calls = this.planToolCalls(items, p, inBand);
    if (calls.length) return this.startToolCalls(r, calls);
    // The reply.
    let scripted: string | undefined;
    if (inBand && this.opts.script && this.scriptIndex < this.opts.script.length) scripted = this.opts.script[this.scriptIndex++];
    const text = generateReply({ items, contextEcho: this.contextEcho, replyWords: this.opts.replyWords, scripted });
    let words = text.split(/\s+/).filter(Boolean);
    if (maxTokens !== 'inf') {
      const cost = (ws: string[]) => {
        const t = ws.join(' ');
        return textTokens(t) + (modality === 'audio' ? outputAudioTokens(speechDurationMs(t)) : 0);
      };
      if (cost(words) > maxTokens) {
        r.limited = true;
        while (words.length > 1 && cost(words) > maxTokens) words = words.slice(0, Math.max(1, Math.floor(words.length * 0.8)));
      }
    }
    r.words = words;
    const itemId = this.ids.item();
    const item = { id: itemId, object: 'realtime.item' as const, type: 'message' as const, role: 'assistant' as const, status: 'in_progress' as const, content: [] };
    r.stored = this.makeStored(item, { audioFormat: format });
    this.emit({ type: 'response.output_item.added', event_id: this.eid(), response_id: r.id, output_index: 0, item: { ...item, content: [] } });
    if (inBand) {
      const previous = this.store.last()?.item.id ?? null;
      this.store.insert(r.stored);
      this.emit({ type: 'conversation.item.added', event_id: this.eid(), previous_item_id: previous, item: { ...item, content: [] } });
    }
    this.emit({
      type: 'response.content_part.added',
      event_id: this.eid(),
      response_id: r.id,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: modality === 'audio' ? { type: 'audio', transcript: '' } : { type: 'text', text: '' },
    });
    if (modality === 'audio') r.chunks = Math.max(1, Math.ceil(speechDurationMs(words.join(' ')) / CHUNK_MS));
    else for (let i = 0; i < words.length; i += 3) r.textDeltas.push((i > 0 ? ' ' : '') + words.slice(i, i + 3).join(' '));
    const start = () => this.pump(r);
    if (this.opts.latencyMs > 0) r.timer = setTimeout(start, this.opts.latencyMs);
    else r.immediate = setImmediate(start);
  }

  /** Streams the next batch of deltas (fast) or one chunk (realtime pacing). */
  protected pump(r: ActiveResponse): void {
    r.timer = undefined;
    r.immediate = undefined;
    if (r.finished || this.closed) return;
    const realtime = this.opts.audioPacing === 'realtime';
    const batch = realtime ? 1 : 16;
    const itemId = r.stored.item.id;
    for (let n = 0; n < batch; n++) {
      if (r.modality === 'audio') {
        if (r.sentChunks >= r.chunks) break;
        const i = r.sentChunks++;
        const due = Math.min(r.words.length, Math.ceil(((i + 1) / r.chunks) * r.words.length));
        if (due > r.sentWords) {
          const delta = (r.sentWords > 0 ? ' ' : '') + r.words.slice(r.sentWords, due).join(' ');
          r.sentWords = due;
          this.emit({ type: 'response.output_audio_transcript.delta', event_id: this.eid(), response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta });
        }
        this.emit({ type: 'response.output_audio.delta', event_id: this.eid(), response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta: voiceChunk(r.format, i) });
      } else {
        if (r.sentTextDeltas >= r.textDeltas.length) break;
        const delta = r.textDeltas[r.sentTextDeltas++];
        r.sentWords = Math.min(r.words.length, r.sentTextDeltas * 3);
        this.emit({ type: 'response.output_text.delta', event_id: this.eid(), response_id: r.id, item_id: itemId, output_index: 0, content_index: 0, delta });
      }
      if (this.closed || r.finished) return;
    }
    const more = r.modality === 'audio' ? r.sentChunks < r.chunks : r.sentTextDeltas < r.textDeltas.length;
    if (more) {
      if (realtime) r.timer = setTimeout(() => this.pump(r), r.modality === 'audio' ? CHUNK_MS : 50);
      else r.immediate = setImmediate(() => this.pump(r));
      return;
    }
    this.finishResponse(r, r.limited ? 'incomplete' : 'completed', r.limited ? 'max_output_tokens' : undefined);
  }

  protected onCancel(ev: WireEvent, eventId: string | null): void {
    let r: ActiveResponse | undefined;
    if (typeof ev.response_id === 'string' && ev.response_id) {
      if (this.active?.id === ev.response_id) r = this.active;
      else for (const o of this.oob) if (o.id === ev.response_id) r = o;
    } else r = this.active;
    if (!r || r.finished) return this.emitError(E.cancelNotActive(), eventId);
    this.finishResponse(r, 'cancelled', 'client_cancelled');
  }

  protected cleanupResponse(r: ActiveResponse): void {
    if (r.timer) clearTimeout(r.timer);
    if (r.immediate) clearImmediate(r.immediate);
    r.timer = undefined;
    r.immediate = undefined;
    if (this.active === r) this.active = undefined;
    this.oob.delete(r);
  }

  protected override finishResponse(
    r: ActiveResponse,
    status: 'completed' | 'cancelled' | 'incomplete',
    reason?: 'turn_detected' | 'client_cancelled' | 'max_output_tokens',
  ): void {
    if (r.finished) return;
    r.finished = true;
    this.cleanupResponse(r);
    if (r.calls) return this.finishToolResponse(r, status, reason);
    const itemId = r.stored.item.id;
    const text = r.words.slice(0, r.sentWords).join(' ');
    const ids = { event_id: '', response_id: r.id, item_id: itemId, output_index: 0, content_index: 0 };
    let audioMs = 0;
    let content: Array<{ type: 'output_audio'; transcript: string } | { type: 'output_text'; text: string }>;
    if (r.modality === 'audio') {
      audioMs = r.sentChunks >= r.chunks ? speechDurationMs(r.words.join(' ')) : r.sentChunks * CHUNK_MS;
      this.emit({ ...ids, event_id: this.eid(), type: 'response.output_audio.done' });
      this.emit({ ...ids, event_id: this.eid(), type: 'response.output_audio_transcript.done', transcript: text });
      this.emit({ ...ids, event_id: this.eid(), type: 'response.content_part.done', part: { type: 'audio', transcript: text } });
      content = [{ type: 'output_audio', transcript: text }];
      if (r.inBand && audioMs > 0) this.hasAudioOutput = true;
    } else {
      this.emit({ ...ids, event_id: this.eid(), type: 'response.output_text.done', text });
      this.emit({ ...ids, event_id: this.eid(), type: 'response.content_part.done', part: { type: 'text', text } });
      content = [{ type: 'output_text', text }];
    }
    const item = {
      id: itemId,
      object: 'realtime.item' as const,
      type: 'message' as const,
      role: 'assistant' as const,
      status: status === 'completed' ? ('completed' as const) : ('incomplete' as const),
      content,
    };
    r.stored.item = item;
    r.stored.audioMs = audioMs;
    this.store.touch(r.stored);
    // Captured order: conversation.item.done, then response.output_item.done.
    if (r.inBand && this.store.has(itemId)) {
      const all = this.store.all();
      const at = all.indexOf(r.stored);
      this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: at > 0 ? all[at - 1].item.id : null, item });
    }
    this.emit({ type: 'response.output_item.done', event_id: this.eid(), response_id: r.id, output_index: 0, item });
    const out = { text: textTokens(text), audio: outputAudioTokens(audioMs) };
    const usage = buildUsage(r.inputBlocks, r.cache, out);
    this.tokensUsed += usage.total_tokens ?? 0;
    const statusDetails: RealtimeResponseStatus | undefined =
      status === 'completed' ? undefined : { type: status, ...(reason ? { reason } : {}) };
    const resp = this.wireResponse(r, status, statusDetails);
    resp.output = [item];
    resp.usage = usage;
    if (r.inBand) this.prevBlocks = [...r.inputBlocks, r.stored.block];
    this.emitResponseDone(resp);
    if (r.inBand && this.late.length) for (const l of this.late.splice(0)) l.run();
  }
}
