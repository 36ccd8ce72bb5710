// One WebSocket connection: the protocol state machine of a realtime session (GA canonical;
// beta translated at the edge with src/protocol/dialect.ts).
import type { WebSocket, RawData } from 'ws';
import type {
  ConversationItem,
  RealtimeServerEvent,
  RealtimeResponse,
  RealtimeResponseStatus,
} from 'openai/resources/realtime/realtime';
import { clientEventFromBeta, serverEventToBeta } from '../protocol/dialect.js';
import type { WireEvent } from '../protocol/events.js';
import { CHUNK_MS, bytesPerMs, durationMs, speechDurationMs, voiceAudio, voiceChunk, type AudioFormatType } from './audio.js';
import { ConversationStore, computeBlock, type StoredItem } from './conversation-store.js';
import { E, type EmulatorError } from './errors.js';
import { DEFAULT_TRANSCRIPTION_DELAY_MS, deleteShouldFail, rateLimitMessage, transcriptionOutcome } from './faults.js';
import { validateItem } from './items.js';
import { UNINTELLIGIBLE, generateReply, lastUserIndex, lastUserText } from './model.js';
import { TOOL_CALL_FIELD, argumentDeltas, decideToolCalls, parseToolCallHint, type PlannedCall, type ToolCallScript } from './tools.js';
import type { Ids, Rng } from './rng.js';
import {
  applyGaSessionUpdate,
  defaultSession,
  isErr,
  parseResponseParams,
  sessionToWire,
  validateBetaSession,
  vadSilenceMs,
  type EffectiveSession,
  type ResponseParams,
} from './session-config.js';
import {
  buildUsage,
  cachedTokens,
  outputAudioTokens,
  planTruncation,
  textTokens,
  type CacheResult,
  type TokenBlock,
} from './usage.js';
import { EnergyVad, type VadEvent } from './vad.js';
import type { ResolvedOptions } from './options.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Client event types the emulator accepts (listed in the `invalid_value` error for unknown types). */
export const SUPPORTED_CLIENT_EVENTS = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
  'output_audio_buffer.clear',
] as const;

/** A JSON null where the SDK's type declares an optional string (see commitBuffer). */
const WIRE_NULL = null as unknown as string;

/** Non-standard field a test harness may put on input_audio_buffer.append/commit (stripped). */
export const HINT_FIELD = 'x_transcript_hint';

/** Control surface of one live session (library handle; see index.ts). */
export interface EmulatorSessionHandle {
  id: string;
  dialect: 'ga' | 'beta';
  model: string;
  /** The server conversation in order (GA item shapes, no audio bytes). */
  items(): unknown[];
  /** Queue a transcript hint for this session's next committed user audio item. */
  hint(text: string): void;
  /** Send a raw frame to the client. */
  inject(raw: string | object): void;
  /** Close abruptly (terminate, no close frame) or with a close code. */
  drop(code?: number, reason?: string): void;
  /** Trigger session_expired now (error event, then close 1001). */
  expire(): void;
  /** Toggle context-echo replies for this session. */
  setContextEcho(on: boolean): void;
  /** Make the next n responses fail with a rate-limit `status: "failed"`. */
  failNextResponses(n: number): void;
  /** Script the function calls of this session's next in-band response (README "Function calling"). */
  scriptToolCalls(calls: ToolCallScript[]): void;
}

interface CallState extends PlannedCall {
  itemId: string;
  callId: string;
  stored?: StoredItem;
}

interface ActiveResponse {
  id: string;
  inBand: boolean;
  modality: 'audio' | 'text';
  format: AudioFormatType;
  voice: unknown;
  maxTokens: number | 'inf';
  metadata: Record<string, string> | null;
  conversationId?: string;
  stored: StoredItem;
  words: string[];
  sentWords: number;
  chunks: number;
  sentChunks: number;
  textDeltas: string[];
  sentTextDeltas: number;
  inputBlocks: TokenBlock[];
  cache: CacheResult;
  limited: boolean;
  timer?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
  finished: boolean;
  /** Set when this response calls functions instead of speaking. */
  calls?: CallState[];
}

interface LateTranscript {
  run: () => void;
  fallback: NodeJS.Timeout;
}

export class RealtimeSession implements EmulatorSessionHandle {
  readonly id: string;
  readonly model: string;
  readonly dialect: 'ga' | 'beta';
  readonly conversationId: string;
  readonly expiresAt: number;
  private cfg: EffectiveSession;
  private readonly store = new ConversationStore();
  /** Items dropped from the model context by server-side truncation (they stay in the conversation). */
  private readonly excluded = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly oob = new Set<ActiveResponse>();
  private readonly sessionHints: string[] = [];
  private readonly late: LateTranscript[] = [];
  private active: ActiveResponse | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private sent = 0;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private timelineMs = 0;
  private vad: EnergyVad | undefined;
  private speechItemId: string | undefined;
  private inbandHint: string | undefined;
  private inbandToolCalls: ToolCallScript[] | undefined;
  private readonly scriptedCalls: ToolCallScript[][] = [];
  private prevBlocks: TokenBlock[] | undefined;
  private instrKey = '';
  private instrBlock: TokenBlock = { key: '', text: 0, audio: 0 };
  private scriptIndex = 0;
  private contextEcho: boolean;
  private rateLimited: number;
  private responses = 0;
  private tokensUsed = 0;
  private hasAudioOutput = false;
  private readonly globalToolCalls: ToolCallScript[][];

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: ResolvedOptions,
    private readonly ids: Ids,
    private readonly rng: Rng,
    private readonly globalHints: string[],
    init: { model: string; dialect: 'ga' | 'beta'; onClose: (s: RealtimeSession) => void; globalToolCalls?: ToolCallScript[][] },
  ) {
    this.id = ids.session();
    this.model = init.model;
    this.dialect = init.dialect;
    this.conversationId = ids.conversation();
    this.cfg = defaultSession(init.model);
    this.globalToolCalls = init.globalToolCalls ?? [];
    this.contextEcho = opts.contextEcho;
    this.rateLimited = opts.faults.rateLimitResponses ?? 0;
    this.expiresAt = Math.floor((Date.now() + opts.maxSessionMs) / 1000);
    this.configureVad();
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.dispose();
      init.onClose(this);
    });
    ws.on('error', () => undefined);
    this.expiryTimer = setTimeout(() => this.expire(), opts.maxSessionMs);
    this.expiryTimer.unref?.();
    this.emit({ type: 'session.created', event_id: this.eid(), session: this.wireSession() });
    if (this.dialect === 'beta') {
      this.emit({ type: 'conversation.created', event_id: this.eid(), conversation: { id: this.conversationId, object: 'realtime.conversation' } });
    }
  }

  // ------------------------------------------------------------------ handle

  items(): unknown[] {
    return this.store.all().map((s) => JSON.parse(JSON.stringify(s.item)) as unknown);
  }
  hint(text: string): void {
    this.sessionHints.push(text);
  }
  inject(raw: string | object): void {
    if (this.closed) return;
    this.ws.send(typeof raw === 'string' ? raw : JSON.stringify(raw));
  }
  drop(code?: number, reason?: string): void {
    if (code === undefined) this.ws.terminate();
    else this.ws.close(code, reason);
  }
  expire(): void {
    if (this.closed) return;
    const minutes = this.opts.maxSessionMs / 60_000;
    const text = String(Number(minutes.toFixed(4)));
    const e = E.sessionExpired(text);
    this.emitError(e, null);
    this.ws.close(1001, e.message);
    this.dispose();
  }
  setContextEcho(on: boolean): void {
    this.contextEcho = on;
  }
  failNextResponses(n: number): void {
    this.rateLimited = n;
  }
  scriptToolCalls(calls: ToolCallScript[]): void {
    this.scriptedCalls.push(calls);
  }

  // ------------------------------------------------------------------ sending

  private eid(): string {
    return this.ids.event();
  }

  /** Every server event goes through here: typed against the SDK's GA union, serialised once. */
  emit(ev: RealtimeServerEvent): void {
    if (this.closed) return;
    if (this.dialect === 'beta') {
      for (const b of serverEventToBeta(ev as unknown as WireEvent)) this.sendRaw(JSON.stringify(b));
    } else this.sendRaw(JSON.stringify(ev));
  }

  private sendRaw(frame: string): void {
    if (this.closed) return;
    this.ws.send(frame);
    this.sent++;
    const limit = this.opts.faults.dropAfterEvents;
    if (limit !== undefined && this.sent >= limit) {
      this.opts.log(`session ${this.id}: dropping socket after ${this.sent} events (fault)`);
      this.ws.terminate();
      this.dispose();
    }
  }

  private emitError(e: EmulatorError, clientEventId: string | null): void {
    this.emit({
      type: 'error',
      event_id: this.eid(),
      error: { type: e.type, code: e.code, message: e.message, param: e.param, event_id: clientEventId },
    });
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of [this.active, ...this.oob]) {
      if (!r) continue;
      if (r.timer) clearTimeout(r.timer);
      if (r.immediate) clearImmediate(r.immediate);
    }
    for (const l of this.late) clearTimeout(l.fallback);
    this.late.length = 0;
    this.chunks = [];
  }

  private wireSession() {
    return sessionToWire(this.cfg, this.id, this.expiresAt);
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const raw = isBinary ? '' : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      this.emitError(E.invalidJson((e as Error).message), null);
      return;
    }
    if (!isObj(parsed)) {
      this.emitError(E.invalidJson('expected a JSON object'), null);
      return;
    }
    const eventId = typeof parsed.event_id === 'string' ? parsed.event_id : null;
    if (typeof parsed.type !== 'string') {
      this.emitError(E.missingType(), eventId);
      return;
    }
    if (eventId !== null && eventId.length > 512) {
      this.emitError(E.stringTooLong('event_id', 512, eventId.length), null);
      return;
    }
    let ev = parsed as WireEvent;
    const betaRaw = ev;
    if (this.dialect === 'beta') {
      if (ev.type === 'session.update' && ev.session !== undefined) {
        const bad = validateBetaSession(ev.session);
        if (bad) return this.emitError(bad, eventId);
      }
      ev = clientEventFromBeta(ev);
      if (ev.type === 'session.update' && isObj(ev.session)) delete ev.session.client_secret;
    }
    try {
      this.dispatch(ev, eventId, betaRaw);
    } catch (e) {
      this.opts.log(`session ${this.id}: internal error on ${ev.type}: ${(e as Error).stack ?? String(e)}`);
      this.emitError({ type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.', param: null }, eventId);
    }
  }

  private dispatch(ev: WireEvent, eventId: string | null, betaRaw: WireEvent): void {
    switch (ev.type) {
      case 'session.update':
        return this.onSessionUpdate(ev, eventId);
      case 'input_audio_buffer.append':
        return this.onAppend(ev, eventId);
      case 'input_audio_buffer.commit':
        return this.onCommit(ev, eventId);
      case 'input_audio_buffer.clear':
        this.chunks = [];
        this.buffered = 0;
        this.vad?.reset();
        this.speechItemId = undefined;
        this.emit({ type: 'input_audio_buffer.cleared', event_id: this.eid() });
        return;
      case 'conversation.item.create':
        return this.onItemCreate(ev, eventId);
      case 'conversation.item.delete':
        return this.onItemDelete(ev, eventId);
      case 'conversation.item.retrieve':
        return this.onItemRetrieve(ev, eventId);
      case 'conversation.item.truncate':
        return this.onItemTruncate(ev, eventId);
      case 'response.create': {
        const params = parseResponseParams(ev.response, this.dialect, betaRaw.response);
        if (isErr(params)) return this.emitError(params, eventId);
        this.startResponse(params, eventId);
        return;
      }
      case 'response.cancel':
        return this.onCancel(ev, eventId);
      case 'output_audio_buffer.clear':
        return this.emitError(
          { type: 'invalid_request_error', code: 'invalid_value', message: 'output_audio_buffer.clear is only supported for WebRTC and SIP connections.', param: 'type' },
          eventId,
        );
      default:
        this.emitError(E.invalidValue('type', ev.type, SUPPORTED_CLIENT_EVENTS), eventId);
    }
  }

  // ------------------------------------------------------------------ session.update

  private onSessionUpdate(ev: WireEvent, eventId: string | null): void {
    if (ev.session === undefined) return this.emitError(E.missingParameter('session'), eventId);
    const r = applyGaSessionUpdate(ev.session, this.cfg, this.hasAudioOutput);
    if (!r.ok) return this.emitError(r.error, eventId);
    this.cfg = r.session;
    this.configureVad();
    this.emit({ type: 'session.updated', event_id: this.eid(), session: this.wireSession() });
  }

  private configureVad(): void {
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

  private takeHint(ev: WireEvent): void {
    const h = ev[HINT_FIELD];
    if (typeof h === 'string') this.inbandHint = h;
    const calls = parseToolCallHint(ev[TOOL_CALL_FIELD]);
    if (calls) this.inbandToolCalls = calls;
  }

  private bufferedMs(): number {
    return durationMs(this.buffered, this.cfg.input_format);
  }

  private onAppend(ev: WireEvent, eventId: string | null): void {
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
        if (td.create_response && !this.active) this.startResponse({ conversation: 'auto' }, null);
      }
    }
    if (!this.vad.speaking) this.trimIdleBuffer(td.type === 'server_vad' ? (td.prefix_padding_ms ?? 300) : 300);
  }

  /** While nobody speaks, keep only the prefix padding (plus the current chunk). */
  private trimIdleBuffer(prefixMs: number): void {
    const keep = prefixMs * bytesPerMs(this.cfg.input_format);
    while (this.chunks.length > 1 && this.buffered - this.chunks[0].length >= keep) {
      this.buffered -= this.chunks[0].length;
      this.chunks.shift();
    }
  }

  private onCommit(ev: WireEvent, eventId: string | null): void {
    this.takeHint(ev);
    const ms = this.bufferedMs();
    if (ms < 100) return this.emitError(E.commitEmpty(ms), eventId);
    const itemId = this.speechItemId ?? this.ids.item();
    this.speechItemId = undefined;
    this.vad?.reset();
    this.commitBuffer(itemId);
  }

  private commitBuffer(itemId: string): void {
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

  private makeStored(item: ConversationItem & { id: string }, extra: Partial<StoredItem> = {}): StoredItem {
    const base = { item, audioMs: 0, version: 0, ...extra };
    return { ...base, block: computeBlock(base) };
  }

  private emitItemAddedDone(s: StoredItem, previous: string | null): void {
    this.emit({ type: 'conversation.item.added', event_id: this.eid(), previous_item_id: previous, item: s.item });
    this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: previous, item: s.item });
  }

  // ------------------------------------------------------------------ transcription

  private scheduleTranscription(s: StoredItem): void {
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

  private emitTranscript(s: StoredItem, text: string): void {
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

  // ------------------------------------------------------------------ items

  private onItemCreate(ev: WireEvent, eventId: string | null): void {
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

  private itemIdOf(ev: WireEvent, eventId: string | null): string | undefined {
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

  private onItemDelete(ev: WireEvent, eventId: string | null): void {
    const id = this.itemIdOf(ev, eventId);
    if (id === undefined) return;
    if (!this.store.has(id)) return this.emitError(E.deleteMissing(id), eventId);
    if (deleteShouldFail(this.opts.faults, id)) return this.emitError(E.injectedDeleteFailure(id), eventId);
    this.store.remove(id);
    this.excluded.delete(id);
    this.emit({ type: 'conversation.item.deleted', event_id: this.eid(), item_id: id });
  }

  private onItemRetrieve(ev: WireEvent, eventId: string | null): void {
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

  private onItemTruncate(ev: WireEvent, eventId: string | null): void {
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

  // ------------------------------------------------------------------ responses

  private instructionsBlock(instructions: string, tools: unknown[]): TokenBlock {
    const toolsJson = tools.length ? JSON.stringify(tools) : '';
    const key = `I:${instructions}\u0000${toolsJson}`;
    if (key !== this.instrKey) {
      this.instrKey = key;
      this.instrBlock = { key, text: textTokens(instructions) + textTokens(toolsJson), audio: 0 };
    }
    return this.instrBlock;
  }

  private contextItems(): StoredItem[] {
    const all = this.store.all();
    if (!this.excluded.size) return all.slice();
    return all.filter((s) => !this.excluded.has(s.item.id));
  }

  private resolveInput(input: unknown[], eventId: string | null): StoredItem[] | undefined {
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

  private startResponse(p: ResponseParams, eventId: string | null): void {
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
    this.emitRateLimits(blocks);
    if (failure) {
      r.finished = true;
      this.cleanupResponse(r);
      const status: RealtimeResponseStatus = { type: 'failed', error: failure };
      const resp = this.wireResponse(r, 'failed', status);
      resp.output = [];
      resp.usage = buildUsage([], { cached: 0, cachedText: 0, cachedAudio: 0 }, { text: 0, audio: 0 });
      this.emit({ type: 'response.done', event_id: this.eid(), response: resp });
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

  // ------------------------------------------------------------------ function calls

  private planToolCalls(items: readonly StoredItem[], p: ResponseParams, inBand: boolean): PlannedCall[] {
    const at = lastUserIndex(items);
    const answered = items.slice(at + 1).some((s) => s.item.type === 'function_call');
    const scripted = inBand ? (this.scriptedCalls.shift() ?? this.globalToolCalls.shift()) : undefined;
    return decideToolCalls({
      tools: p.tools ?? this.cfg.tools,
      toolChoice: p.tool_choice ?? this.cfg.tool_choice,
      userText: lastUserText(items),
      hinted: at >= 0 ? items[at].toolCalls : undefined,
      scripted,
      answered,
    });
  }

  private startToolCalls(r: ActiveResponse, calls: PlannedCall[]): void {
    r.calls = calls.map((c) => ({ ...c, itemId: this.ids.item(), callId: this.ids.call() }));
    const start = () => this.streamToolCalls(r);
    if (this.opts.latencyMs > 0) r.timer = setTimeout(start, this.opts.latencyMs);
    else r.immediate = setImmediate(start);
  }

  /** Streams every call as the service does: item added, argument deltas, done; then response.done. */
  private streamToolCalls(r: ActiveResponse): void {
    r.timer = undefined;
    r.immediate = undefined;
    if (r.finished || this.closed || !r.calls) return;
    r.calls.forEach((c, output_index) => {
      const base = { id: c.itemId, object: 'realtime.item' as const, type: 'function_call' as const, call_id: c.callId, name: c.name };
      const added = { ...base, status: 'in_progress' as const, arguments: '' };
      c.stored = this.makeStored(added);
      this.emit({ type: 'response.output_item.added', event_id: this.eid(), response_id: r.id, output_index, item: { ...added } });
      let previous: string | null = null;
      if (r.inBand) {
        previous = this.store.last()?.item.id ?? null;
        this.store.insert(c.stored);
        this.emit({ type: 'conversation.item.added', event_id: this.eid(), previous_item_id: previous, item: { ...added } });
      }
      const ids = { response_id: r.id, item_id: c.itemId, output_index, call_id: c.callId };
      for (const delta of argumentDeltas(c.arguments))
        this.emit({ type: 'response.function_call_arguments.delta', event_id: this.eid(), ...ids, delta });
      this.emit({ type: 'response.function_call_arguments.done', event_id: this.eid(), ...ids, name: c.name, arguments: c.arguments });
      const done = { ...base, status: 'completed' as const, arguments: c.arguments };
      c.stored.item = done;
      this.store.touch(c.stored);
      if (r.inBand && this.store.has(c.itemId)) this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: previous, item: { ...done } });
      this.emit({ type: 'response.output_item.done', event_id: this.eid(), response_id: r.id, output_index, item: { ...done } });
    });
    this.finishResponse(r, 'completed');
  }

  /** response.done of a function-call response: its output is the calls streamed so far. */
  private finishToolResponse(r: ActiveResponse, status: 'completed' | 'cancelled' | 'incomplete', reason?: 'turn_detected' | 'client_cancelled' | 'max_output_tokens'): void {
    const output = (r.calls ?? []).filter((c) => c.stored && (c.stored.item as { status?: string }).status === 'completed').map((c) => c.stored!.item);
    let outText = 0;
    for (const c of r.calls ?? []) if (c.stored) outText += textTokens(c.name) + textTokens(c.arguments);
    const usage = buildUsage(r.inputBlocks, r.cache, { text: outText, audio: 0 });
    this.tokensUsed += usage.total_tokens ?? 0;
    const statusDetails: RealtimeResponseStatus | undefined = status === 'completed' ? undefined : { type: status, ...(reason ? { reason } : {}) };
    const resp = this.wireResponse(r, status, statusDetails);
    resp.output = output;
    resp.usage = usage;
    if (r.inBand) this.prevBlocks = r.inputBlocks;
    this.emit({ type: 'response.done', event_id: this.eid(), response: resp });
    if (r.inBand && this.late.length) for (const l of this.late.splice(0)) l.run();
  }

  private emitRateLimits(blocks: TokenBlock[]): void {
    let input = 0;
    for (const b of blocks) input += b.text + b.audio;
    this.emit({
      type: 'rate_limits.updated',
      event_id: this.eid(),
      rate_limits: [
        { name: 'requests', limit: 20_000, remaining: Math.max(0, 20_000 - this.responses), reset_seconds: 0.003 },
        { name: 'tokens', limit: 15_000_000, remaining: Math.max(0, 15_000_000 - this.tokensUsed - input - 4096), reset_seconds: 0.01 },
      ],
    });
  }

  /** Streams the next batch of deltas (fast) or one chunk (realtime pacing). */
  private pump(r: ActiveResponse): void {
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

  private onCancel(ev: WireEvent, eventId: string | null): void {
    let r: ActiveResponse | undefined;
    if (typeof ev.response_id === 'string' && ev.response_id) {
      if (this.active?.id === ev.response_id) r = this.active;
      else for (const o of this.oob) if (o.id === ev.response_id) r = o;
    } else r = this.active;
    if (!r || r.finished) return this.emitError(E.cancelNotActive(), eventId);
    this.finishResponse(r, 'cancelled', 'client_cancelled');
  }

  private cleanupResponse(r: ActiveResponse): void {
    if (r.timer) clearTimeout(r.timer);
    if (r.immediate) clearImmediate(r.immediate);
    r.timer = undefined;
    r.immediate = undefined;
    if (this.active === r) this.active = undefined;
    this.oob.delete(r);
  }

  private finishResponse(
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
    this.emit({ type: 'response.output_item.done', event_id: this.eid(), response_id: r.id, output_index: 0, item });
    if (r.inBand && this.store.has(itemId)) {
      const all = this.store.all();
      const at = all.indexOf(r.stored);
      this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: at > 0 ? all[at - 1].item.id : null, item });
    }
    const out = { text: textTokens(text), audio: outputAudioTokens(audioMs) };
    const usage = buildUsage(r.inputBlocks, r.cache, out);
    this.tokensUsed += usage.total_tokens ?? 0;
    const statusDetails: RealtimeResponseStatus | undefined =
      status === 'completed' ? undefined : { type: status, ...(reason ? { reason } : {}) };
    const resp = this.wireResponse(r, status, statusDetails);
    resp.output = [item];
    resp.usage = usage;
    if (r.inBand) this.prevBlocks = r.inputBlocks;
    this.emit({ type: 'response.done', event_id: this.eid(), response: resp });
    if (r.inBand && this.late.length) for (const l of this.late.splice(0)) l.run();
  }

  private wireResponse(r: ActiveResponse, status: NonNullable<RealtimeResponse['status']>, details?: RealtimeResponseStatus): RealtimeResponse {
    // conversation_id and status_details are null on the wire when absent; the SDK type has them
    // as optional non-nullable fields, so they are omitted instead (README "Differences").
    const resp: RealtimeResponse = {
      object: 'realtime.response',
      id: r.id,
      status,
      output: [],
      output_modalities: [r.modality],
      max_output_tokens: r.maxTokens,
      audio: { output: { format: (r.format === 'audio/pcm' ? { type: 'audio/pcm', rate: 24000 } : { type: r.format }) as never, voice: r.voice as never } },
      metadata: r.metadata,
    };
    if (r.conversationId) resp.conversation_id = r.conversationId;
    if (details) resp.status_details = details;
    return resp;
  }
}
