// One WebSocket connection, part 2: input audio, server VAD and input transcription.
import type { WireEvent } from '../protocol/events.js';
import { bytesPerMs,durationMs } from './audio.js';
import { type StoredItem } from './conversation-store.js';
import { E } from './errors.js';
import { DEFAULT_TRANSCRIPTION_DELAY_MS,transcriptionOutcome } from './faults.js';
import { UNINTELLIGIBLE } from './model.js';
import { TOOL_CALL_FIELD,parseToolCallHint } from './tools.js';
import {
vadSilenceMs
} from './session-config.js';
import {
textTokens
} from './usage.js';
import { EnergyVad,type VadEvent } from './vad.js';
import { SessionCore,type LateTranscript,HINT_FIELD,WIRE_NULL } from './session-core.js';

export abstract class InputAudio extends SessionCore {
  protected override configureVad(): void {
    const td = this.cfg.turn_detection;
    if (!td) {
      this.vad = undefined;
      this.speechItemId = undefined;
      return;
    }
    const config = { threshold: td.type === 'server_vad' ? (td.threshold ?? 0.5) : 0.5, silenceMs: vadSilenceMs(td) };
    if (this.vad) this.vad.config = config;
    else this.vad = new EnergyVad(config);
  }

  // ------------------------------------------------------------------ input audio

  protected takeHint(ev: WireEvent): void {
    const h = ev[HINT_FIELD];
    if (typeof h === 'string') this.inbandHint = h;
    const calls = parseToolCallHint(ev[TOOL_CALL_FIELD]);
    if (calls) this.inbandToolCalls = calls;
  }

  protected bufferedMs(): number {
    return durationMs(this.buffered, this.cfg.input_format);
  }

  protected onAppend(ev: WireEvent, eventId: string | null): void {
    if (ev.audio === undefined) return this.emitError(E.missingParameter('audio'), eventId);
    if (typeof ev.audio !== 'string') return this.emitError(E.invalidType('audio', 'a string', ev.audio), eventId);
    if (ev.audio.length > 15 * 1024 * 1024 * 4 / 3 + 4) return this.emitError(E.stringTooLong('audio', 15 * 1024 * 1024, ev.audio.length), eventId);
    this.takeHint(ev);
    const buf = Buffer.from(ev.audio, 'base64');
    if (buf.length === 0) return;
    const format = this.cfg.input_format;
    const startMs = this.timelineMs;
    this.timelineMs += durationMs(buf.length, format);
    this.chunks.push(buf);
    this.buffered += buf.length;
    const td = this.cfg.turn_detection;
    if (!td || !this.vad) return;
    const events: VadEvent[] = [];
    this.vad.process(buf, format, startMs, events);
    for (const e of events) {
      if (e.kind === 'start') {
        this.speechItemId = this.ids.item();
        this.emit({ type: 'input_audio_buffer.speech_started', event_id: this.eid(), audio_start_ms: e.atMs, item_id: this.speechItemId });
        if (td.interrupt_response && this.active) this.finishResponse(this.active, 'cancelled', 'turn_detected');
      } else {
        const itemId = this.speechItemId ?? this.ids.item();
        this.speechItemId = undefined;
        this.emit({ type: 'input_audio_buffer.speech_stopped', event_id: this.eid(), audio_end_ms: e.atMs, item_id: itemId });
        this.commitBuffer(itemId);
        // A transcription session never responds (captured: no response events, no rate_limits).
        if (td.create_response && !this.active && this.kind === 'realtime') this.startResponse({ conversation: 'auto' }, null);
      }
    }
    if (!this.vad.speaking) this.trimIdleBuffer(td.type === 'server_vad' ? (td.prefix_padding_ms ?? 300) : 300);
  }

  /** While nobody speaks, keep only the prefix padding (plus the current chunk). */
  protected trimIdleBuffer(prefixMs: number): void {
    const keep = prefixMs * bytesPerMs(this.cfg.input_format);
    while (this.chunks.length > 1 && this.buffered - this.chunks[0].length >= keep) {
      this.buffered -= this.chunks[0].length;
      this.chunks.shift();
    }
  }

  protected onCommit(ev: WireEvent, eventId: string | null): void {
    this.takeHint(ev);
    const ms = this.bufferedMs();
    if (ms < 100) return this.emitError(E.commitEmpty(ms), eventId);
    const itemId = this.speechItemId ?? this.ids.item();
    this.speechItemId = undefined;
    this.vad?.reset();
    this.commitBuffer(itemId);
  }

  protected commitBuffer(itemId: string): void {
    const audio = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    const format = this.cfg.input_format;
    const heard = this.inbandHint ?? this.sessionHints.shift() ?? this.globalHints.shift();
    const toolCalls = this.inbandToolCalls;
    this.inbandHint = undefined;
    this.inbandToolCalls = undefined;
    // The real service sends `"transcript": null` on a fresh user audio part (the SDK's TS type says
    // optional string, but clients such as @openai/agents-realtime validate the wire shape): fidelity wins.
    const content = [{ type: 'input_audio' as const, transcript: WIRE_NULL }];
    const stored = this.makeStored({ id: itemId, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content }, {
      audio: this.opts.retainAudio ? audio : undefined,
      audioFormat: format,
      audioMs: durationMs(audio.length, format),
      heard,
      toolCalls,
    });
    const previous = this.store.last()?.item.id ?? null;
    this.store.insert(stored);
    this.emit({ type: 'input_audio_buffer.committed', event_id: this.eid(), item_id: itemId, previous_item_id: previous });
    this.emitItemAddedDone(stored, previous);
    if (this.cfg.transcription) this.scheduleTranscription(stored);
  }

  // ------------------------------------------------------------------ transcription

  protected scheduleTranscription(s: StoredItem): void {
    const t = this.opts.transcription;
    const delay = t.delayMs ?? DEFAULT_TRANSCRIPTION_DELAY_MS;
    const outcome = transcriptionOutcome(this.rng, t);
    const text = s.heard ?? UNINTELLIGIBLE;
    if (outcome === 'never') return;
    if (outcome === 'fail') {
      this.later(delay, () =>
        this.emit({
          type: 'conversation.item.input_audio_transcription.failed',
          event_id: this.eid(),
          item_id: s.item.id,
          content_index: 0,
          error: { type: 'server_error', code: 'transcription_failed', message: 'Input transcription failed for this item (injected fault).' },
        }),
      );
      return;
    }
    if (outcome === 'late') {
      const entry: LateTranscript = {
        run: () => {
          clearTimeout(entry.fallback);
          this.timers.delete(entry.fallback);
          this.later(delay, () => this.emitTranscript(s, text));
        },
        fallback: this.later(Math.max(2000, delay * 10), () => {
          const i = this.late.indexOf(entry);
          if (i >= 0) this.late.splice(i, 1);
          this.emitTranscript(s, text);
        }),
      };
      this.late.push(entry);
      return;
    }
    this.later(delay, () => this.emitTranscript(s, text));
  }

  protected emitTranscript(s: StoredItem, text: string): void {
    const words = text.split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i += 3) {
      const delta = (i > 0 ? ' ' : '') + words.slice(i, i + 3).join(' ');
      this.emit({ type: 'conversation.item.input_audio_transcription.delta', event_id: this.eid(), item_id: s.item.id, content_index: 0, delta });
    }
    const part = (s.item as { content?: Array<{ transcript?: string }> }).content?.[0];
    if (part) part.transcript = text;
    const model = this.cfg.transcription?.model ?? 'gpt-4o-mini-transcribe';
    const audioTokens = Math.ceil(s.audioMs / 100);
    const outTokens = textTokens(text);
    this.emit({
      type: 'conversation.item.input_audio_transcription.completed',
      event_id: this.eid(),
      item_id: s.item.id,
      content_index: 0,
      transcript: text,
      usage:
        model === 'whisper-1'
          ? { type: 'duration', seconds: Math.round(s.audioMs) / 1000 }
          : {
              type: 'tokens',
              input_tokens: audioTokens,
              output_tokens: outTokens,
              total_tokens: audioTokens + outTokens,
              input_token_details: { audio_tokens: audioTokens, text_tokens: 0 },
            },
    });
  }
}
