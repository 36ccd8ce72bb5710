// One emulated WebSocket connection: the protocol state machine of a realtime (or transcription)
// session, GA canonical, beta translated at the edge (src/protocol/dialect.ts). This object only
// assembles the parts and routes client events to them: input audio (session-input), transcription
// (session-transcription), items (session-items), responses (session-responses, with session-reply
// and session-tools), all sending through one outbox (session-outbox) and sharing one context.
import type { WebSocket, RawData } from 'ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import type { WireEvent } from '../protocol/events.js';
import { readClientFrame } from './client-event.js';
import { ConversationStore } from './conversation-store.js';
import { E } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { Ids, Rng } from './rng.js';
import {
  applyGaSessionUpdate,
  applyTranscriptionSessionUpdate,
  defaultSession,
  isErr,
  parseResponseParams,
  sessionToWire,
  transcriptionSessionToWire,
} from './session-config.js';
import type { SessionContext } from './session-context.js';
import { InputAudio } from './session-input.js';
import { Items } from './session-items.js';
import { Outbox } from './session-outbox.js';
import { SERVICE_CLIENT_EVENTS, type EmulatorSessionHandle } from './session-protocol.js';
import { Responses } from './session-responses.js';
import { Transcriber } from './session-transcription.js';
import type { ToolCallScript } from './tools.js';

export { HINT_FIELD, SERVICE_CLIENT_EVENTS, SUPPORTED_CLIENT_EVENTS, type EmulatorSessionHandle } from './session-protocol.js';

export interface SessionInit {
  model: string;
  dialect: 'ga' | 'beta';
  /** A transcription-only session (`?intent=transcription`). */
  transcription?: boolean;
  onClose: (s: RealtimeSession) => void;
  globalToolCalls?: ToolCallScript[][];
}

export class RealtimeSession implements EmulatorSessionHandle {
  readonly id: string;
  readonly model: string;
  readonly kind: 'realtime' | 'transcription';
  readonly dialect: 'ga' | 'beta';
  readonly conversationId: string;
  readonly expiresAt: number;
  private readonly ctx: SessionContext;
  private readonly out: Outbox;
  private readonly input: InputAudio;
  private readonly transcriber: Transcriber;
  private readonly items_: Items;
  private readonly responses: Responses;
  private expiryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pings = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: ResolvedOptions,
    ids: Ids,
    rng: Rng,
    globalHints: string[],
    private readonly init: SessionInit,
  ) {
    this.id = ids.session();
    this.kind = init.transcription ? 'transcription' : 'realtime';
    this.model = init.model;
    this.dialect = init.dialect;
    this.conversationId = ids.conversation();
    this.expiresAt = Math.floor((Date.now() + opts.maxSessionMs) / 1000);
    this.out = new Outbox(ws, opts, ids, this.id, this.dialect, () => this.dispose());
    const cfg = defaultSession(init.model);
    // What a transcription session transcribes with by default was not captured: our choice.
    if (this.kind === 'transcription') cfg.transcription = { model: 'gpt-4o-mini-transcribe' };
    this.ctx = {
      id: this.id, model: this.model, kind: this.kind, dialect: this.dialect, conversationId: this.conversationId,
      opts, ids, rng, store: new ConversationStore(), excluded: new Set(), out: this.out, cfg,
    };
    this.transcriber = new Transcriber(this.ctx);
    this.responses = new Responses(this.ctx, init.globalToolCalls ?? [], () => this.transcriber.releaseLate());
    this.input = new InputAudio(this.ctx, globalHints, this.transcriber, {
      interrupt: () => this.responses.interrupt(),
      respond: () => this.responses.respondToTurn(),
    });
    this.items_ = new Items(this.ctx);
    this.start();
  }

  // ------------------------------------------------------------------ handle

  items(): unknown[] {
    return this.ctx.store.all().map((s) => JSON.parse(JSON.stringify(s.item)) as unknown);
  }
  hint(text: string): void {
    this.input.hint(text);
  }
  inject(raw: string | object): void {
    if (this.out.closed) return;
    this.ws.send(typeof raw === 'string' ? raw : JSON.stringify(raw));
  }
  drop(code?: number, reason?: string): void {
    if (code === undefined) this.ws.terminate();
    else this.ws.close(code, reason);
  }
  expire(): void {
    if (this.out.closed) return;
    const minutes = this.opts.maxSessionMs / 60_000;
    const text = String(Number(minutes.toFixed(4)));
    const e = E.sessionExpired(text);
    this.out.error(e, null);
    this.ws.close(1001, e.message);
    this.dispose();
  }
  setContextEcho(on: boolean): void {
    this.responses.setContextEcho(on);
  }
  failNextResponses(n: number): void {
    this.responses.failNext(n);
  }
  scriptToolCalls(calls: ToolCallScript[]): void {
    this.responses.scriptToolCalls(calls);
  }

  /** Sends one server event (typed against the SDK's GA union; see Outbox.emit). */
  emit(ev: RealtimeServerEvent): void {
    this.out.emit(ev);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Wires the socket, arms expiry and pings, and greets the client. */
  private start(): void {
    const ws = this.ws;
    this.input.configureVad();
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
        if (!this.out.closed && ws.readyState === ws.OPEN) ws.ping(Buffer.from([0, 0, 0, ++this.pings & 0xff]));
      }, this.opts.pingIntervalMs);
      this.pingTimer.unref?.();
    }
    this.emit({ type: 'session.created', event_id: this.out.eid(), session: this.wireSession() });
    if (this.dialect === 'beta') {
      this.emit({ type: 'conversation.created', event_id: this.out.eid(), conversation: { id: this.conversationId, object: 'realtime.conversation' } });
    }
  }

  private dispose(): void {
    if (this.out.closed) return;
    this.out.close();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.responses.dispose();
    this.transcriber.dispose();
    this.input.dispose();
  }

  private wireSession() {
    const { cfg } = this.ctx;
    if (this.kind === 'transcription') return transcriptionSessionToWire(cfg, this.id, this.expiresAt);
    return sessionToWire(cfg, this.id, this.expiresAt);
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.out.closed) return;
    const frame = readClientFrame(data, isBinary, this.dialect);
    if (!frame.ok) return this.out.error(frame.error, frame.eventId);
    const { ev, eventId } = frame;
    try {
      this.dispatch(ev, eventId, frame.raw);
    } catch (e) {
      this.opts.log(`session ${this.id}: internal error on ${ev.type}: ${(e as Error).stack ?? String(e)}`);
      this.out.error({ type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.', param: null }, eventId);
    }
  }

  private dispatch(ev: WireEvent, eventId: string | null, raw: WireEvent): void {
    switch (ev.type) {
      case 'session.update':
        return this.onSessionUpdate(ev, eventId);
      case 'input_audio_buffer.append':
      case 'session.input_audio_buffer.append':
        return this.input.onAppend(ev, eventId);
      case 'session.close':
        // Listed by the service as a client event; what it answers was not captured: a normal close.
        this.ws.close(1000, 'session closed by the client');
        return;
      case 'input_audio_buffer.commit':
        return this.input.onCommit(ev, eventId);
      case 'input_audio_buffer.clear':
        return this.input.onClear();
      case 'conversation.item.create':
        return this.items_.onCreate(ev, eventId);
      case 'conversation.item.delete':
        return this.items_.onDelete(ev, eventId);
      case 'conversation.item.retrieve':
        return this.items_.onRetrieve(ev, eventId);
      case 'conversation.item.truncate':
        return this.items_.onTruncate(ev, eventId);
      case 'response.create': {
        if (this.kind === 'transcription') return this.out.error(E.noResponsesInTranscription(), eventId);
        const params = parseResponseParams(ev.response, this.dialect, raw.response);
        if (isErr(params)) return this.out.error(params, eventId);
        return this.responses.start(params, eventId);
      }
      case 'response.cancel':
        return this.responses.onCancel(ev, eventId);
      default:
        this.out.error(E.invalidValue('type', ev.type, SERVICE_CLIENT_EVENTS), eventId);
    }
  }

  private onSessionUpdate(ev: WireEvent, eventId: string | null): void {
    if (ev.session === undefined) return this.out.error(E.missingParameter('session'), eventId);
    const r =
      this.kind === 'transcription'
        ? applyTranscriptionSessionUpdate(ev.session, this.ctx.cfg)
        : applyGaSessionUpdate(ev.session, this.ctx.cfg, this.responses.hasAudioOutput);
    if (!r.ok) return this.out.error(r.error, eventId);
    this.ctx.cfg = r.session;
    this.input.configureVad();
    this.emit({ type: 'session.updated', event_id: this.out.eid(), session: this.wireSession() });
  }
}
