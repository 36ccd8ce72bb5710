// One WebSocket connection, part 3: conversation items (create, delete, retrieve, truncate).
import type {
ConversationItem
} from 'openai/resources/realtime/realtime';
import type { WireEvent } from '../protocol/events.js';
import { durationMs,voiceAudio } from './audio.js';
import { E } from './errors.js';
import { deleteShouldFail } from './faults.js';
import { validateItem } from './items.js';
import { TOOL_CALL_FIELD,parseToolCallHint } from './tools.js';
import {
isErr
} from './session-config.js';
import { InputAudio } from './session-input.js';
import { HINT_FIELD,isObj } from './session-core.js';

export abstract class Items extends InputAudio {
  // ------------------------------------------------------------------ items

  protected onItemCreate(ev: WireEvent, eventId: string | null): void {
    const v = validateItem(ev.item, this.dialect);
    if (isErr(v)) return this.emitError(v, eventId);
    const prev = ev.previous_item_id;
    if (prev !== undefined && prev !== null && typeof prev !== 'string') return this.emitError(E.invalidType('previous_item_id', 'a string', prev), eventId);
    const id = v.item.id ?? this.ids.item();
    if (this.store.has(id)) return this.emitError(E.duplicateId(id), eventId);
    if (typeof prev === 'string' && prev !== 'root' && !this.store.has(prev)) return this.emitError(E.previousMissing(prev), eventId);
    const item = v.item as ConversationItem & { type: string; call_id?: string };
    if (item.type === 'function_call_output') {
      const found = this.store.all().some((s) => s.item.type === 'function_call' && (s.item as { call_id?: string }).call_id === item.call_id);
      if (!found) return this.emitError(E.toolCallMissing(item.call_id ?? ''), eventId);
    }
    if (item.type === 'function_call' && !item.call_id) (item as { call_id?: string }).call_id = this.ids.call();
    const withId = { ...v.item, id } as ConversationItem & { id: string };
    const hint = typeof ev[HINT_FIELD] === 'string' ? (ev[HINT_FIELD] as string) : undefined;
    const rawCalls = ev[TOOL_CALL_FIELD] ?? (isObj(ev.item) ? ev.item[TOOL_CALL_FIELD] : undefined);
    const toolCalls = parseToolCallHint(rawCalls);
    if (rawCalls !== undefined && !toolCalls)
      return this.emitError(E.invalidType(TOOL_CALL_FIELD, 'an object {name, arguments?} or an array of them', rawCalls), eventId);
    const stored = this.makeStored(withId, {
      audio: v.audio && this.opts.retainAudio ? v.audio : undefined,
      audioFormat: this.cfg.input_format,
      audioMs: v.audio ? durationMs(v.audio.length, this.cfg.input_format) : 0,
      heard: hint,
      toolCalls,
    });
    const r = this.store.insert(stored, typeof prev === 'string' ? prev : undefined);
    if (!r) return this.emitError(E.previousMissing(String(prev)), eventId);
    this.emitItemAddedDone(stored, r.previous);
  }

  protected itemIdOf(ev: WireEvent, eventId: string | null): string | undefined {
    if (ev.item_id === undefined) {
      this.emitError(E.missingParameter('item_id'), eventId);
      return undefined;
    }
    if (typeof ev.item_id !== 'string') {
      this.emitError(E.invalidType('item_id', 'a string', ev.item_id), eventId);
      return undefined;
    }
    return ev.item_id;
  }

  protected onItemDelete(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    if (!this.store.has(id)) return this.emitError(E.deleteMissing(id), eventId);
    if (deleteShouldFail(this.opts.faults, id)) return this.emitError(E.injectedDeleteFailure(id), eventId);
    this.store.remove(id);
    this.excluded.delete(id);
    this.emit({ type: 'conversation.item.deleted', event_id: this.eid(), item_id: id });
  }

  protected onItemRetrieve(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    const s = this.store.get(id);
    if (!s) return this.emitError(E.retrieveMissing(id), eventId);
    const item = JSON.parse(JSON.stringify(s.item)) as ConversationItem & { content?: Array<{ type?: string; audio?: string }> };
    for (const p of item.content ?? []) {
      if (p.type === 'input_audio' && s.audio) p.audio = s.audio.toString('base64');
      else if (p.type === 'output_audio' && s.audioMs > 0) p.audio = voiceAudio(s.audioFormat ?? 'audio/pcm', s.audioMs).toString('base64');
    }
    this.emit({ type: 'conversation.item.retrieved', event_id: this.eid(), item });
  }

  protected onItemTruncate(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    if (typeof ev.content_index !== 'number') return this.emitError(E.missingParameter('content_index'), eventId);
    if (typeof ev.audio_end_ms !== 'number' || !Number.isInteger(ev.audio_end_ms) || ev.audio_end_ms < 0)
      return this.emitError(E.invalidType('audio_end_ms', 'a non-negative integer', ev.audio_end_ms), eventId);
    const s = this.store.get(id);
    if (!s) return this.emitError(E.truncateMissing(id), eventId);
    const it = s.item as { type: string; role?: string; content?: Array<{ type?: string; transcript?: string }> };
    const part = it.content?.[ev.content_index];
    if (it.type !== 'message' || it.role !== 'assistant' || part?.type !== 'output_audio' || ev.audio_end_ms === 0)
      return this.emitError(E.truncateNotAudio(), eventId);
    let end = ev.audio_end_ms;
    if (end > s.audioMs) {
      this.emitError(E.truncateOvershoot(s.audioMs, end), null);
      end = Math.floor(s.audioMs);
    }
    s.audioMs = end;
    part.transcript = ''; // the server drops the transcript of truncated audio
    this.store.touch(s);
    this.emit({ type: 'conversation.item.truncated', event_id: this.eid(), item_id: id, content_index: ev.content_index, audio_end_ms: end });
  }
}
