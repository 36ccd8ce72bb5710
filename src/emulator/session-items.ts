// Conversation items of one emulated session: create, delete, retrieve and truncate, validated
// and answered as the service does (errors, ids, previous_item_id placement, audio on retrieve).
import type { ConversationItem } from 'openai/resources/realtime/realtime';
import type { WireEvent } from '../protocol/events.js';
import { durationMs, voiceAudio } from './audio.js';
import { E } from './errors.js';
import { deleteShouldFail } from './faults.js';
import { validateItem } from './items.js';
import { isErr } from './session-config.js';
import { makeStored, type SessionContext } from './session-context.js';
import { HINT_FIELD, isObj } from './session-protocol.js';
import { TOOL_CALL_FIELD, parseToolCallHint } from './tools.js';

export class Items {
  constructor(private readonly ctx: SessionContext) {}

  onCreate(ev: WireEvent, eventId: string | null): void {
    const v = validateItem(ev.item, this.ctx.dialect);
    if (isErr(v)) return this.ctx.out.error(v, eventId);
    const prev = ev.previous_item_id;
    if (prev !== undefined && prev !== null && typeof prev !== 'string') return this.ctx.out.error(E.invalidType('previous_item_id', 'a string', prev), eventId);
    const id = v.item.id ?? this.ctx.ids.item();
    if (this.ctx.store.has(id)) return this.ctx.out.error(E.duplicateId(id), eventId);
    if (typeof prev === 'string' && prev !== 'root' && !this.ctx.store.has(prev)) return this.ctx.out.error(E.previousMissing(prev), eventId);
    const item = v.item as ConversationItem & { type: string; call_id?: string };
    if (item.type === 'function_call_output') {
      const found = this.ctx.store.all().some((s) => s.item.type === 'function_call' && (s.item as { call_id?: string }).call_id === item.call_id);
      if (!found) return this.ctx.out.error(E.toolCallMissing(item.call_id ?? ''), eventId);
    }
    if (item.type === 'function_call' && !item.call_id) (item as { call_id?: string }).call_id = this.ctx.ids.call();
    const withId = { ...v.item, id } as ConversationItem & { id: string };
    const hint = typeof ev[HINT_FIELD] === 'string' ? (ev[HINT_FIELD] as string) : undefined;
    const rawCalls = ev[TOOL_CALL_FIELD] ?? (isObj(ev.item) ? ev.item[TOOL_CALL_FIELD] : undefined);
    const toolCalls = parseToolCallHint(rawCalls);
    if (rawCalls !== undefined && !toolCalls)
      return this.ctx.out.error(E.invalidType(TOOL_CALL_FIELD, 'an object {name, arguments?} or an array of them', rawCalls), eventId);
    const stored = makeStored(withId, {
      audio: v.audio && this.ctx.opts.retainAudio ? v.audio : undefined,
      audioFormat: this.ctx.cfg.input_format,
      audioMs: v.audio ? durationMs(v.audio.length, this.ctx.cfg.input_format) : 0,
      heard: hint,
      toolCalls,
    });
    const r = this.ctx.store.insert(stored, typeof prev === 'string' ? prev : undefined);
    if (!r) return this.ctx.out.error(E.previousMissing(String(prev)), eventId);
    this.ctx.out.itemAddedDone(stored, r.previous);
  }

  private itemIdOf(ev: WireEvent, eventId: string | null): string | undefined {
    if (ev.item_id === undefined) {
      this.ctx.out.error(E.missingParameter('item_id'), eventId);
      return undefined;
    }
    if (typeof ev.item_id !== 'string') {
      this.ctx.out.error(E.invalidType('item_id', 'a string', ev.item_id), eventId);
      return undefined;
    }
    return ev.item_id;
  }

  onDelete(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    if (!this.ctx.store.has(id)) return this.ctx.out.error(E.deleteMissing(id), eventId);
    if (deleteShouldFail(this.ctx.opts.faults, id)) return this.ctx.out.error(E.injectedDeleteFailure(id), eventId);
    this.ctx.store.remove(id);
    this.ctx.excluded.delete(id);
    this.ctx.out.emit({ type: 'conversation.item.deleted', event_id: this.ctx.out.eid(), item_id: id });
  }

  onRetrieve(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    const s = this.ctx.store.get(id);
    if (!s) return this.ctx.out.error(E.retrieveMissing(id), eventId);
    const item = JSON.parse(JSON.stringify(s.item)) as ConversationItem & { content?: Array<{ type?: string; audio?: string }> };
    for (const p of item.content ?? []) {
      if (p.type === 'input_audio' && s.audio) p.audio = s.audio.toString('base64');
      else if (p.type === 'output_audio' && s.audioMs > 0) p.audio = voiceAudio(s.audioFormat ?? 'audio/pcm', s.audioMs).toString('base64');
    }
    this.ctx.out.emit({ type: 'conversation.item.retrieved', event_id: this.ctx.out.eid(), item });
  }

  onTruncate(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    if (typeof ev.content_index !== 'number') return this.ctx.out.error(E.missingParameter('content_index'), eventId);
    if (typeof ev.audio_end_ms !== 'number' || !Number.isInteger(ev.audio_end_ms) || ev.audio_end_ms < 0)
      return this.ctx.out.error(E.invalidType('audio_end_ms', 'a non-negative integer', ev.audio_end_ms), eventId);
    const s = this.ctx.store.get(id);
    if (!s) return this.ctx.out.error(E.truncateMissing(id), eventId);
    const it = s.item as { type: string; role?: string; content?: Array<{ type?: string; transcript?: string }> };
    const part = it.content?.[ev.content_index];
    if (it.type !== 'message' || it.role !== 'assistant' || part?.type !== 'output_audio' || ev.audio_end_ms === 0)
      return this.ctx.out.error(E.truncateNotAudio(), eventId);
    let end = ev.audio_end_ms;
    if (end > s.audioMs) {
      this.ctx.out.error(E.truncateOvershoot(s.audioMs, end), null);
      end = Math.floor(s.audioMs);
    }
    s.audioMs = end;
    part.transcript = ''; // the server drops the transcript of truncated audio
    this.ctx.store.touch(s);
    this.ctx.out.emit({ type: 'conversation.item.truncated', event_id: this.ctx.out.eid(), item_id: id, content_index: ev.content_index, audio_end_ms: end });
  }
}
