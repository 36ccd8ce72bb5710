// One WebSocket connection, part 1 of 6: the session's state, the handle, and sending. The
// protocol is split along the session's sections: session-input (input audio, VAD, transcription),
// session-items (conversation items), session-tools (function calls), session-responses (response
// generation) and realtime-session (receiving and dispatch). Each layer extends the previous one.
import type { WebSocket,RawData } from 'ws';
import type {
ConversationItem,
RealtimeServerEvent,
RealtimeResponse,
RealtimeResponseStatus,
} from 'openai/resources/realtime/realtime';
import { serverEventToBeta } from '../protocol/dialect.js';
import type { WireEvent } from '../protocol/events.js';
import { type AudioFormatType } from './audio.js';
import { ConversationStore,computeBlock,type StoredItem } from './conversation-store.js';
import { E,type EmulatorError } from './errors.js';
import { type PlannedCall,type ToolCallScript } from './tools.js';
import { Rng,type Ids } from './rng.js';
import {
defaultSession,sessionToWire,
transcriptionSessionToWire,type EffectiveSession,
type ResponseParams
} from './session-config.js';
import {
type CacheResult,
type TokenBlock
} from './usage.js';
import { EnergyVad } from './vad.js';
import type { ResolvedOptions } from './options.js';


type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

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
] as const;

/**
 * The client events the service lists in its `invalid_value` error for an unknown type (captured,
 * in its order). `session.close` and `session.input_audio_buffer.append` are not in the SDK's
 * realtime client union (they are its translation-session events), so this list is not typed by it.
 */
export const SERVICE_CLIENT_EVENTS = [
  'session.update',
  'session.close',
  'input_audio_buffer.append',
  'session.input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
] as const;

/** Top-level parameters of each client event besides `type` and `event_id` (SDK client event types). */
export const EVENT_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  'session.update': ['session'],
  'session.close': [],
  'input_audio_buffer.append': ['audio'],
  'session.input_audio_buffer.append': ['audio'],
  'input_audio_buffer.commit': [],
  'input_audio_buffer.clear': [],
  'conversation.item.create': ['item', 'previous_item_id'],
  'conversation.item.truncate': ['item_id', 'content_index', 'audio_end_ms'],
  'conversation.item.delete': ['item_id'],
  'conversation.item.retrieve': ['item_id'],
  'response.create': ['response'],
  'response.cancel': ['response_id'],
};

/** Delta events that carry `obfuscation` (text captured; transcript and arguments deltas assumed alike). */
const OBFUSCATED: ReadonlySet<string> = new Set(['response.output_text.delta', 'response.output_audio_transcript.delta', 'response.function_call_arguments.delta']);

/** A JSON null where the SDK's type declares an optional string (see commitBuffer). */
export const WIRE_NULL = null as unknown as string;

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

export interface CallState extends PlannedCall {
  itemId: string;
  callId: string;
  stored?: StoredItem;
}

export interface ActiveResponse {
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

export interface LateTranscript {
  run: () => void;
  fallback: NodeJS.Timeout;
}


export interface SessionInit {
  model: string;
  dialect: 'ga' | 'beta';
  /** A transcription-only session (`?intent=transcription`). */
  transcription?: boolean;
  onClose: (s: SessionCore) => void;
  globalToolCalls?: ToolCallScript[][];
}

export abstract class SessionCore implements EmulatorSessionHandle {
  readonly id: string;
  readonly model: string;
  protected pingTimer: NodeJS.Timeout | undefined;
  protected pings = 0;
  protected readonly obfuscationRng: Rng;
  /** `transcription` for `?intent=transcription`: input audio and transcripts only, no responses. */
  readonly kind: 'realtime' | 'transcription';
  readonly dialect: 'ga' | 'beta';
  readonly conversationId: string;
  readonly expiresAt: number;
  protected cfg: EffectiveSession;
  protected readonly store = new ConversationStore();
  /** Items dropped from the model context by server-side truncation (they stay in the conversation). */
  protected readonly excluded = new Set<string>();
  protected readonly timers = new Set<NodeJS.Timeout>();
  protected readonly oob = new Set<ActiveResponse>();
  protected readonly sessionHints: string[] = [];
  protected readonly late: LateTranscript[] = [];
  protected active: ActiveResponse | undefined;
  protected expiryTimer: NodeJS.Timeout | undefined;
  protected closed = false;
  protected sent = 0;
  protected chunks: Buffer[] = [];
  protected buffered = 0;
  protected timelineMs = 0;
  protected vad: EnergyVad | undefined;
  protected speechItemId: string | undefined;
  protected inbandHint: string | undefined;
  protected inbandToolCalls: ToolCallScript[] | undefined;
  protected readonly scriptedCalls: ToolCallScript[][] = [];
  protected prevBlocks: TokenBlock[] | undefined;
  protected instrKey = '';
  protected instrBlock: TokenBlock = { key: '', text: 0, audio: 0 };
  protected scriptIndex = 0;
  protected contextEcho: boolean;
  protected rateLimited: number;
  protected responses = 0;
  protected tokensUsed = 0;
  protected hasAudioOutput = false;
  protected readonly globalToolCalls: ToolCallScript[][];


  constructor(
    protected readonly ws: WebSocket,
    protected readonly opts: ResolvedOptions,
    protected readonly ids: Ids,
    protected readonly rng: Rng,
    protected readonly globalHints: string[],
    protected readonly init: SessionInit,
  ) {
    this.id = ids.session();
    this.kind = init.transcription ? 'transcription' : 'realtime';
    this.model = init.model;
    this.dialect = init.dialect;
    this.conversationId = ids.conversation();
    this.cfg = defaultSession(init.model);
    // What a transcription session transcribes with by default was not captured: our choice.
    if (this.kind === 'transcription') this.cfg.transcription = { model: 'gpt-4o-mini-transcribe' };
    this.globalToolCalls = init.globalToolCalls ?? [];
    this.contextEcho = opts.contextEcho;
    this.rateLimited = opts.faults.rateLimitResponses ?? 0;
    this.expiresAt = Math.floor((Date.now() + opts.maxSessionMs) / 1000);
    this.obfuscationRng = new Rng((opts.seed ^ 0x5bd1e995) >>> 0);
  }

  protected abstract onMessage(data: RawData, isBinary: boolean): void;
  protected abstract configureVad(): void;
  protected abstract startResponse(p: ResponseParams, eventId: string | null): void;
  protected abstract finishResponse(
    r: ActiveResponse,
    status: 'completed' | 'cancelled' | 'incomplete',
    reason?: 'turn_detected' | 'client_cancelled' | 'max_output_tokens',
  ): void;

  /** Wires the socket and greets the client; called by the outermost constructor (all layers exist). */
  protected start(): void {
    const ws = this.ws;
    this.configureVad();
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.dispose();
      this.init.onClose(this);
    });
    ws.on('error', () => undefined);
    this.expiryTimer = setTimeout(() => this.expire(), this.opts.maxSessionMs);
    this.expiryTimer.unref?.();
    // The service pings every ~20.3 s with a 4-byte payload (captured on an idle session).
    if (this.opts.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => {
        // ws throws on a ping while the socket is closing: only an open socket is pinged.
        if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.ping(Buffer.from([0, 0, 0, ++this.pings & 0xff]));
      }, this.opts.pingIntervalMs);
      this.pingTimer.unref?.();
    }
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

  protected eid(): string {
    return this.ids.event();
  }

  /** Every server event goes through here: typed against the SDK's GA union, serialised once. */
  emit(ev: RealtimeServerEvent): void {
    if (this.closed) return;
    if (OBFUSCATED.has(ev.type)) {
      // The service pads streamed deltas with a random `obfuscation` string (captured on text deltas)
      // so that frame sizes do not leak token lengths. Its own PRNG: ids and fault dice stay put.
      const delta = (ev as { delta?: string }).delta ?? '';
      (ev as { obfuscation?: string }).obfuscation = this.obfuscationRng.base62(1 + ((16 - (delta.length % 16)) % 16));
    }
    if (this.dialect === 'beta') {
      for (const b of serverEventToBeta(ev as unknown as WireEvent)) this.sendRaw(JSON.stringify(b));
    } else this.sendRaw(JSON.stringify(ev));
  }

  protected sendRaw(frame: string): void {
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

  protected emitError(e: EmulatorError, clientEventId: string | null): void {
    this.emit({
      type: 'error',
      event_id: this.eid(),
      error: { type: e.type, code: e.code, message: e.message, param: e.param, event_id: clientEventId },
    });
  }

  protected later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  protected dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
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

  protected wireSession() {
    if (this.kind === 'transcription') return transcriptionSessionToWire(this.cfg, this.id, this.expiresAt);
    return sessionToWire(this.cfg, this.id, this.expiresAt);
  }

  protected makeStored(item: ConversationItem & { id: string }, extra: Partial<StoredItem> = {}): StoredItem {
    const base = { item, audioMs: 0, version: 0, ...extra };
    return { ...base, block: computeBlock(base) };
  }

  protected emitItemAddedDone(s: StoredItem, previous: string | null): void {
    this.emit({ type: 'conversation.item.added', event_id: this.eid(), previous_item_id: previous, item: s.item });
    this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: previous, item: s.item });
  }

  protected wireResponse(r: ActiveResponse, status: NonNullable<RealtimeResponse['status']>, details?: RealtimeResponseStatus): RealtimeResponse {
    // conversation_id, status_details and usage are null on the wire when absent (captured: null
    // conversation_id out of band, null usage on response.created); the SDK types them as optional
    // non-nullable, hence the casts.
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
    resp.conversation_id = r.conversationId ?? (null as unknown as string);
    resp.status_details = details ?? (null as unknown as RealtimeResponseStatus);
    resp.usage = null as unknown as RealtimeResponse['usage'];
    return resp;
  }

  /** response.done, then rate_limits.updated about 40 ms later (captured), one `tokens` entry. */
  protected emitResponseDone(resp: RealtimeResponse): void {
    this.emit({ type: 'response.done', event_id: this.eid(), response: resp });
    this.later(this.opts.rateLimitsDelayMs, () => {
      const limit = 15_000_000; // the tier-5 TPM of gpt-realtime-mini (model page)
      this.emit({
        type: 'rate_limits.updated',
        event_id: this.eid(),
        rate_limits: [{ name: 'tokens', limit, remaining: Math.max(0, limit - this.tokensUsed), reset_seconds: Math.round((this.tokensUsed / limit) * 60 * 1000) / 1000 }],
      });
    });
  }}
