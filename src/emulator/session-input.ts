// Input audio of one emulated session: the input buffer (append, commit, clear), server VAD
// (speech started/stopped, which may interrupt or start a response) and the transcript hints a
// test attaches to the next committed user audio item.
import type { WireEvent } from '../protocol/events.js';
import { bytesPerMs, durationMs } from './audio.js';
import { E } from './errors.js';
import { vadSilenceMs } from './session-config.js';
import { makeStored, type SessionContext } from './session-context.js';
import { HINT_FIELD, WIRE_NULL } from './session-protocol.js';
import type { Transcriber } from './session-transcription.js';
import { TOOL_CALL_FIELD, parseToolCallHint, type ToolCallScript } from './tools.js';
import { EnergyVad, type VadEvent } from './vad.js';

/** What server VAD asks of the response side at a turn boundary. */
export interface TurnHooks {
  /** Speech started while turn detection interrupts responses. */
  interrupt(): void;
  /** Speech stopped and the turn was committed while turn detection creates responses. */
  respond(): void;
}

export class InputAudio {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private timelineMs = 0;
  private vad: EnergyVad | undefined;
  private speechItemId: string | undefined;
  private inbandHint: string | undefined;
  private inbandToolCalls: ToolCallScript[] | undefined;
  private readonly sessionHints: string[] = [];

  constructor(
    private readonly ctx: SessionContext,
    private readonly globalHints: string[],
    private readonly transcriber: Transcriber,
    private readonly turns: TurnHooks,
  ) {}

  /** Queue a transcript for this session's next committed user audio item. */
  hint(text: string): void {
    this.sessionHints.push(text);
  }

  configureVad(): void {
    const td = this.ctx.cfg.turn_detection;
    if (!td) {
      this.vad = undefined;
      this.speechItemId = undefined;
      return;
    }
    const config = { threshold: td.type === 'server_vad' ? (td.threshold ?? 0.5) : 0.5, silenceMs: vadSilenceMs(td) };
    if (this.vad) this.vad.config = config;
    else this.vad = new EnergyVad(config);
  }

  onAppend(ev: WireEvent, eventId: string | null): void {
    const { out, cfg } = this.ctx;
    if (ev.audio === undefined) return out.error(E.missingParameter('audio'), eventId);
    if (typeof ev.audio !== 'string') return out.error(E.invalidType('audio', 'a string', ev.audio), eventId);
    if (ev.audio.length > 15 * 1024 * 1024 * 4 / 3 + 4) return out.error(E.stringTooLong('audio', 15 * 1024 * 1024, ev.audio.length), eventId);
    this.takeHint(ev);
    const buf = Buffer.from(ev.audio, 'base64');
    if (buf.length === 0) return;
    const format = cfg.input_format;
    const startMs = this.timelineMs;
    this.timelineMs += durationMs(buf.length, format);
    this.chunks.push(buf);
    this.buffered += buf.length;
    const td = cfg.turn_detection;
    if (!td || !this.vad) return;
    const events: VadEvent[] = [];
    this.vad.process(buf, format, startMs, events);
    for (const e of events) {
      if (e.kind === 'start') {
        this.speechItemId = this.ctx.ids.item();
        out.emit({ type: 'input_audio_buffer.speech_started', event_id: out.eid(), audio_start_ms: e.atMs, item_id: this.speechItemId });
        if (td.interrupt_response) this.turns.interrupt();
      } else {
        const itemId = this.speechItemId ?? this.ctx.ids.item();
        this.speechItemId = undefined;
        out.emit({ type: 'input_audio_buffer.speech_stopped', event_id: out.eid(), audio_end_ms: e.atMs, item_id: itemId });
        this.commitBuffer(itemId);
        if (td.create_response) this.turns.respond();
      }
    }
    if (!this.vad.speaking) this.trimIdleBuffer(td.type === 'server_vad' ? (td.prefix_padding_ms ?? 300) : 300);
  }

  onCommit(ev: WireEvent, eventId: string | null): void {
    this.takeHint(ev);
    const ms = durationMs(this.buffered, this.ctx.cfg.input_format);
    if (ms < 100) return this.ctx.out.error(E.commitEmpty(ms), eventId);
    const itemId = this.speechItemId ?? this.ctx.ids.item();
    this.speechItemId = undefined;
    this.vad?.reset();
    this.commitBuffer(itemId);
  }

  onClear(): void {
    this.chunks = [];
    this.buffered = 0;
    this.vad?.reset();
    this.speechItemId = undefined;
    this.ctx.out.emit({ type: 'input_audio_buffer.cleared', event_id: this.ctx.out.eid() });
  }

  dispose(): void {
    this.chunks = [];
  }

  private takeHint(ev: WireEvent): void {
    const h = ev[HINT_FIELD];
    if (typeof h === 'string') this.inbandHint = h;
    const calls = parseToolCallHint(ev[TOOL_CALL_FIELD]);
    if (calls) this.inbandToolCalls = calls;
  }

  /** While nobody speaks, keep only the prefix padding (plus the current chunk). */
  private trimIdleBuffer(prefixMs: number): void {
    const keep = prefixMs * bytesPerMs(this.ctx.cfg.input_format);
    while (this.chunks.length > 1 && this.buffered - this.chunks[0].length >= keep) {
      this.buffered -= this.chunks[0].length;
      this.chunks.shift();
    }
  }

  private commitBuffer(itemId: string): void {
    const { out, cfg, store, opts } = this.ctx;
    const audio = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    const format = cfg.input_format;
    const heard = this.inbandHint ?? this.sessionHints.shift() ?? this.globalHints.shift();
    const toolCalls = this.inbandToolCalls;
    this.inbandHint = undefined;
    this.inbandToolCalls = undefined;
    // The real service sends `"transcript": null` on a fresh user audio part (the SDK's TS type says
    // optional string, but clients such as @openai/agents-realtime validate the wire shape): fidelity wins.
    const content = [{ type: 'input_audio' as const, transcript: WIRE_NULL }];
    const stored = makeStored({ id: itemId, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content }, {
      audio: opts.retainAudio ? audio : undefined,
      audioFormat: format,
      audioMs: durationMs(audio.length, format),
      heard,
      toolCalls,
    });
    const previous = store.last()?.item.id ?? null;
    store.insert(stored);
    out.emit({ type: 'input_audio_buffer.committed', event_id: out.eid(), item_id: itemId, previous_item_id: previous });
    out.itemAddedDone(stored, previous);
    if (cfg.transcription) this.transcriber.schedule(stored);
  }
}
