// One WebSocket connection: the protocol state machine of a realtime session (GA canonical;
// beta translated at the edge with src/protocol/dialect.ts). This last layer receives and dispatches
// client events; the sections live in session-core/-input/-items/-tools/-responses.ts.
import type { WebSocket,RawData } from 'ws';
import { clientEventFromBeta } from '../protocol/dialect.js';
import type { WireEvent } from '../protocol/events.js';
import { E } from './errors.js';
import { MAX_JSON_DEPTH, scanFrame } from '../protocol/frame-scan.js';
import type { Ids,Rng } from './rng.js';
import {
applyGaSessionUpdate,
applyTranscriptionSessionUpdate,isErr,
parseResponseParams,validateBetaSession
} from './session-config.js';
import type { ResolvedOptions } from './options.js';
import { Responses } from './session-responses.js';
import { EVENT_PARAMETERS,SERVICE_CLIENT_EVENTS,isObj,type SessionInit } from './session-core.js';

export { HINT_FIELD, SERVICE_CLIENT_EVENTS, SUPPORTED_CLIENT_EVENTS, type EmulatorSessionHandle } from './session-core.js';

export class RealtimeSession extends Responses {
  constructor(ws: WebSocket, opts: ResolvedOptions, ids: Ids, rng: Rng, globalHints: string[], init: SessionInit) {
    super(ws, opts, ids, rng, globalHints, init);
    this.start();
  }

  // ------------------------------------------------------------------ receiving

  protected override onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return this.emitError(E.binaryFrame(), null);
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    // Bounded before anything parses or walks it: a frame thousands of levels deep is refused whole.
    if (scanFrame(buf).tooDeep) return this.emitError(E.invalidJson(`recursion limit exceeded: the event nests deeper than ${MAX_JSON_DEPTH} levels.`), null);
    const raw = buf.toString('utf8');
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
    if (!Object.hasOwn(EVENT_PARAMETERS, parsed.type)) return this.emitError(E.invalidValue('type', parsed.type, SERVICE_CLIENT_EVENTS), eventId);
    // Unknown top-level parameters are rejected like the service does; `x_…` fields are the
    // emulator's own test hints (x_transcript_hint, x_tool_call) and are allowed.
    for (const k of Object.keys(parsed)) {
      if (k === 'type' || k === 'event_id' || k.startsWith('x_') || EVENT_PARAMETERS[parsed.type].includes(k)) continue;
      return this.emitError(E.unknownParameter(k), eventId);
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

  protected dispatch(ev: WireEvent, eventId: string | null, betaRaw: WireEvent): void {
    switch (ev.type) {
      case 'session.update':
        return this.onSessionUpdate(ev, eventId);
      case 'input_audio_buffer.append':
      case 'session.input_audio_buffer.append':
        return this.onAppend(ev, eventId);
      case 'session.close':
        // Listed by the service as a client event; what it answers was not captured: a normal close.
        this.ws.close(1000, 'session closed by the client');
        return;
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
        if (this.kind === 'transcription') return this.emitError(E.noResponsesInTranscription(), eventId);
        const params = parseResponseParams(ev.response, this.dialect, betaRaw.response);
        if (isErr(params)) return this.emitError(params, eventId);
        this.startResponse(params, eventId);
        return;
      }
      case 'response.cancel':
        return this.onCancel(ev, eventId);
      default:
        this.emitError(E.invalidValue('type', ev.type, SERVICE_CLIENT_EVENTS), eventId);
    }
  }

  // ------------------------------------------------------------------ session.update

  protected onSessionUpdate(ev: WireEvent, eventId: string | null): void {
    if (ev.session === undefined) return this.emitError(E.missingParameter('session'), eventId);
    const r =
      this.kind === 'transcription'
        ? applyTranscriptionSessionUpdate(ev.session, this.cfg)
        : applyGaSessionUpdate(ev.session, this.cfg, this.hasAudioOutput);
    if (!r.ok) return this.emitError(r.error, eventId);
    this.cfg = r.session;
    this.configureVad();
    this.emit({ type: 'session.updated', event_id: this.eid(), session: this.wireSession() });
  }
}
