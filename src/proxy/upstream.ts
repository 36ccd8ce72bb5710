// One upstream WebSocket (one connection generation), shaped as the engine's transport. It does not
// decide what the client sees: every frame goes to the owning connection first (`onFrame`), which
// forwards it raw and hands the engine the parsed events it needs (`deliver`).
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { closeOrTerminate, connectionTarget, keepAlive, PendingRequests, safeUrl, type KeepAlive } from '../../adapters/realtime-socket.js';
import { AgentError, redact } from '../errors.js';
import type { RealtimeTransport, TransportOptions as RealtimeTransportOptions } from '../protocol/transport.js';

type Ev = { type: string; event_id?: string; [key: string]: unknown };

export interface UpstreamHooks {
  /** Every upstream frame, raw. */
  onFrame(link: UpstreamLink, data: Buffer, isBinary: boolean): void;
  /** An event the engine is about to send: the connection may rewrite it; null drops it. */
  beforeSend(link: UpstreamLink, event: Ev): Ev | null;
  onOpen(link: UpstreamLink): void;
  onClose(link: UpstreamLink, code: number, reason: string): void;
  onFailure(link: UpstreamLink, error: AgentError, status: number | null): void;
}

let linkCounter = 0;

export class UpstreamLink extends EventEmitter implements RealtimeTransport {
  readonly ws: WebSocket;
  readonly id = ++linkCounter;
  private opened = false;
  private failed = false;
  private closed = false;
  private counter = 0;
  private keepalive: KeepAlive | null = null;
  private readonly secrets: string[];
  /** The engine's requests (inserts, deletes, retrieves) awaiting their answer: the same mechanism as RealtimeSocket. */
  private readonly pending = new PendingRequests();

  constructor(readonly options: RealtimeTransportOptions, private readonly hooks: UpstreamHooks, extraHeaders: Record<string, string> = {}) {
    super();
    this.secrets = options.apiKey ? [options.apiKey] : [];
    const { url, headers } = connectionTarget({ ...options, model: options.model });
    const where = safeUrl(url);
    this.ws = new WebSocket(url, {
      headers: { ...extraHeaders, ...headers },
      ca: options.ca,
      perMessageDeflate: false,
      // Frames are relayed as bytes and the client validates what it receives: no second UTF-8 pass here.
      skipUTF8Validation: true,
      handshakeTimeout: options.connectTimeoutMs ?? 15_000,
    });
    this.ws.on('open', () => {
      this.opened = true;
      this.keepalive = keepAlive(this.ws, options.keepaliveMs ?? 15_000, (s) => options.log?.(`no traffic from the upstream for ${s} s: treating it as dead`));
      hooks.onOpen(this);
      this.emit('open');
    });
    this.ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const err =
        status === 401 || status === 403
          ? new AgentError('bad_api_key', `the upstream at ${where} refused the API key (HTTP ${status}): check the key`, true)
          : new AgentError('handshake_failed', `the upstream at ${where} refused the connection (HTTP ${status}): check --url and --model`, true);
      this.fail(err, status);
      this.ws.terminate();
    });
    this.ws.on('error', (e: NodeJS.ErrnoException) => {
      if (this.opened) return;
      this.fail(new AgentError('unreachable', `cannot reach the upstream at ${where} (${e.code ?? redact(e.message, this.secrets)}): check --url and the network`, true), null);
    });
    this.ws.on('close', (code, reasonBuf) => {
      this.closed = true;
      this.keepalive?.stop();
      this.pending.rejectAll(`the upstream closed (code ${code}) before it answered`);
      const reason = reasonBuf.toString();
      if (!this.opened) {
        this.fail(new AgentError('unreachable', `the upstream at ${where} closed during the handshake (code ${code})`, true), null);
        return;
      }
      hooks.onClose(this, code, reason);
      this.emit('close', { code, reason });
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.keepalive?.heard();
      hooks.onFrame(this, data, isBinary);
    });
  }

  private fail(err: AgentError, status: number | null): void {
    if (this.failed) return;
    this.failed = true;
    this.hooks.onFailure(this, err, status);
    this.emit('failure', err);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Raw bytes from the client, unchanged. */
  sendRaw(data: Buffer | string, isBinary = false): void {
    if (this.isOpen) this.ws.send(data, { binary: isBinary });
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** A parsed server event for the engine: settles its requests, then reaches the session machine. */
  deliver(ev: Ev): void {
    this.pending.settle(ev);
    this.emit('event', ev);
  }

  /** An engine event (its own event_id prefix, so its replies can be told from the client's). */
  send(event: Ev): string {
    const eventId = event.event_id ?? `rtcp_${this.id.toString(36)}_${(++this.counter).toString(36)}`;
    const out = this.hooks.beforeSend(this, { ...event, event_id: eventId });
    if (out && this.isOpen) this.ws.send(JSON.stringify(out));
    return eventId;
  }

  sendAudio(): void {
    // Observer mode: audio comes from the client, never from the engine.
  }

  request(event: Ev, match: (e: Ev) => boolean, timeoutMs: number): Promise<Ev> {
    if (!this.isOpen) return Promise.reject(new Error('the upstream is not open'));
    const eventId = event.event_id ?? `rtcp_${this.id.toString(36)}_${(++this.counter).toString(36)}`;
    return this.pending.request({ ...event, event_id: eventId }, match, timeoutMs, (e) => this.send(e));
  }

  close(code = 1000, reason = 'proxy closing'): void {
    if (!this.closed) closeOrTerminate(this.ws, code, reason);
  }
}
