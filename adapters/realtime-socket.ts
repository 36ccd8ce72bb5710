// The WebSocket to a Realtime server. One job: move frames. GA is canonical inside; a beta peer is
// translated at this edge. Output audio deltas take a fast path that skips parsing the whole event
// (audio never reaches a machine). Handshake failures become one-line AgentErrors.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { clientEventToBeta, serverEventFromBeta } from '../src/protocol/dialect.js';
import type { Dialect, WireEvent } from '../src/protocol/events.js';
import { parseFrame } from '../src/protocol/parse.js';
import { AgentError, redact } from '../src/errors.js';
import { isKnownServerEvent } from '../src/protocol/event-registry.js';
import type { AudioDelta, RealtimeTransport, TransportEvents, TransportOptions } from '../src/protocol/transport.js';

export const OPENAI_REALTIME_URL = 'wss://api.openai.com/v1/realtime';

/** How to open the socket (the transport options every transport takes), plus the recorder hook. */
export type SocketOptions = TransportOptions & {
  /** Every frame as it crosses the socket (the recorder, adapters/recorder.ts); close: `{code, reason}` JSON. */
  onFrame?: (direction: 'send' | 'recv' | 'close', data: string | Buffer, binary?: boolean) => void;
};

export type { AudioDelta };

/** Builds the URL and headers for a connection (OpenAI GA/beta, Azure GA, or any compatible server). */
export function connectionTarget(o: SocketOptions): { url: string; headers: Record<string, string> } {
  const url = new URL(o.url);
  if (!url.searchParams.has('model') && !url.searchParams.has('deployment')) url.searchParams.set('model', o.model);
  const headers: Record<string, string> = {};
  if (o.apiKey) {
    if (o.azure) headers['api-key'] = o.apiKey;
    else headers.Authorization = `Bearer ${o.apiKey}`;
  }
  if (o.dialect === 'beta') headers['OpenAI-Beta'] = 'realtime=v1';
  return { url: url.toString(), headers };
}

/**
 * Events: 'open', 'event' (WireEvent, GA shape), 'audio' (AudioDelta), 'close' ({code, reason}),
 * 'failure' (AgentError: the connection could not be made).
 */
export class RealtimeSocket extends EventEmitter<TransportEvents> implements RealtimeTransport {
  readonly ws: WebSocket;
  private readonly dialect: Dialect;
  private readonly log: (line: string) => void;
  private readonly secrets: string[];
  private readonly unknownTypes = new Set<string>();
  private counter = 0;
  private opened = false;
  private keepalive: KeepAlive | null = null;
  private failed = false;
  private closed = false;
  private readonly pending = new PendingRequests();

  constructor(readonly options: SocketOptions) {
    super();
    this.dialect = options.dialect;
    this.log = options.log ?? (() => {});
    this.secrets = options.apiKey ? [options.apiKey] : [];
    const { url, headers } = connectionTarget(options);
    const where = safeUrl(url);
    this.ws = new WebSocket(url, {
      headers,
      ca: options.ca,
      perMessageDeflate: false,
      handshakeTimeout: options.connectTimeoutMs ?? 15_000,
    });
    this.ws.on('open', () => {
      this.opened = true;
      this.keepalive = keepAlive(this.ws, options.keepaliveMs ?? 15_000, (s) => this.log(`no traffic from the server for ${s} s: treating the socket as dead`));
      this.emit('open');
    });
    this.ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const err =
        status === 401 || status === 403
          ? new AgentError('bad_api_key', `the server at ${where} refused the API key (HTTP ${status}): check OPENAI_API_KEY or --api-key`, true)
          : status === 404
            ? new AgentError('handshake_failed', `no Realtime endpoint at ${where} (HTTP 404): check --url (it should end in /v1/realtime)`, true)
            : new AgentError('handshake_failed', `the server at ${where} refused the connection (HTTP ${status}): check --url and --model`, true);
      this.fail(err);
      this.ws.terminate();
    });
    this.ws.on('error', (e: NodeJS.ErrnoException) => {
      if (this.opened) return; // 'close' follows; the session decides
      const code = e.code ?? '';
      const err =
        code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ECONNRESET'
          ? new AgentError('unreachable', `cannot reach ${where} (${code}): check --url and that the server is running`, true)
          : /timed out|timeout/i.test(e.message)
            ? new AgentError('connect_timeout', `no answer from ${where} in time: check --url and the network`, true)
            : /certificate|self.signed|CERT/i.test(e.message + code)
              ? new AgentError('unreachable', `TLS to ${where} failed (${redact(e.message, this.secrets)}): trust the server's certificate (e.g. --ca) or use ws://`, true)
              : new AgentError('unreachable', `cannot connect to ${where}: ${redact(e.message, this.secrets)}`, true);
      this.fail(err);
    });
    this.ws.on('close', (code, reasonBuf) => {
      this.closed = true;
      this.keepalive?.stop();
      const reason = reasonBuf.toString();
      if (this.opened) options.onFrame?.('close', JSON.stringify({ code, reason }));
      this.pending.rejectAll(`the connection closed (code ${code}) before the server answered`);
      if (!this.opened && !this.failed) this.fail(new AgentError('unreachable', `the connection to ${where} closed during the handshake (code ${code})`, true));
      if (this.opened) this.emit('close', { code, reason });
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      options.onFrame?.('recv', data, isBinary);
      try {
        this.onFrame(data, isBinary);
      } catch (e) {
        // A frame the engine cannot handle is dropped with a log line; it must never kill the process.
        this.log(`ignored a server frame that could not be handled: ${redact((e as Error).message, this.secrets)}`);
      }
    });
  }

  private fail(err: AgentError): void {
    if (this.failed) return;
    this.failed = true;
    this.emit('failure', err);
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    this.keepalive?.heard();
    if (isBinary) {
      this.log('ignored a binary frame from the server');
      return;
    }
    // Fast path: audio deltas are most of the traffic; pull the three fields without a full parse.
    if (data.length > 256) {
      const fast = fastAudioDelta(data);
      if (fast) {
        this.emit('audio', fast);
        return;
      }
    }
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.log(`ignored: ${parsed.error}`);
      return;
    }
    let ev = parsed.event;
    if (this.dialect === 'beta') ev = serverEventFromBeta(ev);
    if (ev.type === 'response.output_audio.delta') {
      if (typeof ev.delta === 'string') this.emit('audio', { itemId: String(ev.item_id ?? ''), responseId: String(ev.response_id ?? ''), pcm: Buffer.from(ev.delta, 'base64') });
      return;
    }
    if (!isKnownServerEvent(ev.type)) {
      if (!this.unknownTypes.has(ev.type)) {
        this.unknownTypes.add(ev.type);
        this.log(`ignored unknown server event type ${JSON.stringify(ev.type.slice(0, 80))} (logged once)`);
      }
      return;
    }
    this.pending.settle(ev);
    this.emit('event', ev);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a client event (GA shape); returns its event_id. Dropped with a log line when closed. */
  send(event: WireEvent): string {
    const eventId = event.event_id ?? `c_${(++this.counter).toString(36)}`;
    const ev = { ...event, event_id: eventId };
    if (!this.isOpen) {
      this.log(`not sent (socket not open): ${ev.type}`);
      return eventId;
    }
    const frame = JSON.stringify(this.dialect === 'beta' ? clientEventToBeta(ev) : ev);
    this.options.onFrame?.('send', frame);
    this.ws.send(frame);
    return eventId;
  }

  /** Microphone audio: one append per chunk, built without an intermediate object. */
  sendAudio(pcm: Buffer, hint?: string): void {
    if (!this.isOpen) return;
    const extra = hint ? `,"x_transcript_hint":${JSON.stringify(hint)}` : '';
    const frame = `{"type":"input_audio_buffer.append","audio":"${pcm.toString('base64')}"${extra}}`;
    this.options.onFrame?.('send', frame);
    this.ws.send(frame);
  }

  /**
   * Sends an event and resolves with the first server event that `match`es; rejects on an `error`
   * that names this event's id, on timeout, or if the socket closes first.
   */
  request(event: WireEvent, match: (e: WireEvent) => boolean, timeoutMs: number): Promise<WireEvent> {
    if (!this.isOpen) return Promise.reject(new Error('the connection is not open'));
    const eventId = event.event_id ?? `c_${(++this.counter).toString(36)}`;
    return this.pending.request({ ...event, event_id: eventId }, match, timeoutMs, (ev) => this.send(ev));
  }

  close(code = 1000, reason = 'client closing'): void {
    if (!this.closed) closeOrTerminate(this.ws, code, reason);
  }
}

/** A graceful close when the socket is open, else terminate (a socket still connecting has no close handshake). */
export function closeOrTerminate(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  else ws.terminate();
}

export interface KeepAlive {
  /** Something arrived: the peer is alive. */
  heard(): void;
  stop(): void;
}

/**
 * Pings every `everyMs` and terminates the socket after three intervals without traffic (a dead
 * peer sends no close). 0 = off. Shared by RealtimeSocket and realtime-proxy's UpstreamLink.
 */
export function keepAlive(ws: WebSocket, everyMs: number, onDead: (silentSeconds: number) => void): KeepAlive {
  let last = Date.now();
  const heard = () => {
    last = Date.now();
  };
  ws.on('pong', heard);
  const timer =
    everyMs > 0
      ? setInterval(() => {
          if (Date.now() - last > everyMs * 3) {
            onDead(Math.round((Date.now() - last) / 1000));
            ws.terminate();
          } else if (ws.readyState === WebSocket.OPEN) ws.ping();
        }, everyMs)
      : null;
  timer?.unref();
  return { heard, stop: () => timer && clearInterval(timer) };
}

/**
 * Requests awaiting their answer: each resolves with the first server event its `match` accepts,
 * rejects on an `error` naming its event_id, on its timeout, or when the socket closes (rejectAll).
 * Shared by RealtimeSocket and realtime-proxy's UpstreamLink.
 */
export class PendingRequests {
  private readonly waiters = new Set<{ match: (e: WireEvent) => boolean; eventId: string; resolve: (e: WireEvent) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  /** Registers `event` (its event_id set), then sends it. */
  request(event: WireEvent & { event_id: string }, match: (e: WireEvent) => boolean, timeoutMs: number, send: (e: WireEvent) => void): Promise<WireEvent> {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        eventId: event.event_id,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no answer to ${event.type} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      send(event);
    });
  }

  /** A server event: settles every request it answers. */
  settle(ev: WireEvent): void {
    for (const w of this.waiters) {
      const err = ev.type === 'error' && (ev.error as { event_id?: unknown } | undefined)?.event_id === w.eventId;
      if (err || w.match(ev)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        if (err) {
          const e = ev.error as { code?: string; message?: string };
          w.reject(Object.assign(new Error(e.message ?? 'server error'), { code: e.code }));
        } else w.resolve(ev);
      }
    }
  }

  rejectAll(message: string): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(message));
    }
    this.waiters.clear();
  }
}

const AUDIO_TYPES = ['"response.output_audio.delta"', '"response.audio.delta"'];
const DELTA_KEY = Buffer.from('"delta":"');
const QUOTE = 0x22;
const ITEM_ID = /"item_id":"([^"]*)"/;
const RESPONSE_ID = /"response_id":"([^"]*)"/;

/**
 * Extracts item_id, response_id and the base64 delta from an audio delta frame without JSON.parse and
 * without copying the frame: only the short parts around the payload become strings. (Base64 has no
 * quotes, and a quoted `"delta":"` inside another string value would be escaped, so the first match
 * is the field.)
 */
export function fastAudioDelta(data: Buffer): AudioDelta | null {
  // Look for the type near the start of the frame only (the base64 payload is long).
  const head = data.toString('latin1', 0, Math.min(data.length, 200));
  if (!AUDIO_TYPES.some((t) => head.includes(t))) return null;
  const d = data.indexOf(DELTA_KEY);
  if (d < 0) return null;
  const start = d + DELTA_KEY.length;
  const end = data.indexOf(QUOTE, start);
  if (end < 0) return null;
  const before = data.toString('latin1', 0, d);
  const after = data.toString('latin1', end + 1);
  const item = ITEM_ID.exec(before) ?? ITEM_ID.exec(after);
  if (!item) return null;
  const resp = RESPONSE_ID.exec(before) ?? RESPONSE_ID.exec(after);
  return { itemId: item[1], responseId: resp ? resp[1] : '', pcm: Buffer.from(data.toString('latin1', start, end), 'base64') };
}

/** The URL without credentials or query secrets, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the given URL';
  }
}
