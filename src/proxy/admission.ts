// Admitting one client, from its HTTP upgrade request to a live ProxyConnection: the path, the
// credential (and so the principal), the stored conversation, the engine options, the upstream, the
// upgrade. The server (server.ts) counts and caps admissions; this module runs one. The client may
// leave at any step: whatever has been opened for it by then (the stored conversation's lease, the
// engine and its upstream) is closed at once, never left running for a socket that is gone.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocketServer } from 'ws';
import { requestKey } from '../net/request-key.js';
import { redact } from '../errors.js';
import { openConversation, type OpenedConversation } from '../store/open.js';
import type { ConversationStore } from '../store/types.js';
import { ProxyConnection } from './connection.js';
import type { ProxyLimits } from './limits.js';
import type { ProxyOptions } from './options.js';
import { conversationFor, principalOf } from './principal.js';
import { storeRefusal } from './store-refusal.js';
import type { AgentOptions } from '../types.js';

export const REALTIME_PATHS = new Set(['/v1/realtime', '/realtime', '/openai/v1/realtime']);

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** The credential a client presented: Bearer, api-key header, or the browser subprotocol. */
export function clientCredential(req: IncomingMessage): string | undefined {
  return requestKey(req) || undefined; // an empty subprotocol key is no credential
}

function tokenMatches(given: string, tokens: readonly string[]): boolean {
  const a = Buffer.from(given);
  let ok = false;
  for (const t of tokens) {
    const b = Buffer.from(t);
    if (a.length === b.length && timingSafeEqual(a, b)) ok = true;
  }
  return ok;
}

/** Refuses an upgrade with an HTTP status and a JSON error body, as the real service does. */
export function refuse(socket: Socket, status: number, code: string, message: string, extraHeaders = ''): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { type: status === 401 ? 'invalid_request_error' : 'proxy_error', code, message } });
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}Connection: close\r\n\r\n${body}`);
}

/**
 * Account headers a client may send upstream, only with its own key (pass-through): with the
 * proxy's key they would bill or route the proxy's account as the client chose.
 */
const PASS_HEADERS = ['openai-organization', 'openai-project', 'openai-beta'];

/** What every admission shares: the proxy's options and its per-process state. */
export interface AdmissionContext {
  readonly o: ProxyOptions;
  readonly tokens: readonly string[];
  readonly secrets: readonly string[];
  readonly limits: ProxyLimits;
  readonly leaseTtlMs: number;
  readonly store: ConversationStore | undefined;
  readonly wss: WebSocketServer;
  readonly live: Set<ProxyConnection>;
  /** The id a 101 names in its conversation header (set here, read by the server's 'headers' hook). */
  readonly conversationOfRequest: WeakMap<IncomingMessage, string>;
  nextId(): string;
  log(line: string): void;
}

/** One client's way from the upgrade request to an attached connection (or a refusal). */
export class Admission {
  private gone: boolean;
  private conn: ProxyConnection | undefined;
  /** Until a ProxyConnection owns it (its engine closes it), the stored conversation is closed here, once. */
  private conversation: OpenedConversation | undefined;
  private readonly leave = () => {
    this.gone = true;
    if (this.conn) void this.conn.close('client left during the handshake');
    else void this.dropConversation();
  };

  constructor(
    private readonly ctx: AdmissionContext,
    private readonly req: IncomingMessage,
    private readonly socket: Socket,
    private readonly head: Buffer,
    /** Called once the connection counts as live (or the admission ended): the server's bookkeeping. */
    private readonly settle: () => void,
  ) {
    this.gone = socket.destroyed;
    socket.once('close', this.leave);
  }

  run(): void {
    this.steps()
      .catch((e) => {
        this.ctx.log(`upgrade failed: ${redact(String((e as Error)?.message ?? e), this.ctx.secrets)}`);
        refuse(this.socket, 502, 'proxy_error', 'the proxy could not open the connection');
        if (this.conn) void this.conn.close('upgrade failed');
        else void this.dropConversation();
      })
      .finally(this.settle);
  }

  private async steps(): Promise<void> {
    const { o } = this.ctx;
    const url = new URL(this.req.url ?? '/', 'http://proxy');
    if (!REALTIME_PATHS.has(url.pathname.replace(/\/+$/, ''))) {
      refuse(this.socket, 404, 'not_found', `no Realtime endpoint at ${url.pathname}: use /v1/realtime?model=...`);
      return;
    }
    const auth = this.authenticate();
    if (!auth) return;
    const id = this.ctx.nextId();
    let agentOptions = this.engineOptions(id, url, auth.upstreamKey);
    // ?conversation=<id>: the store's conversation, resumed (or created under that id); it is the journal.
    const conversationParam = url.searchParams.get('conversation');
    if (conversationParam !== null) {
      const stored = await this.openStored(id, conversationParam, auth.given);
      if (!stored) return;
      agentOptions = { ...agentOptions, conversation: stored, journal: undefined };
    }
    const headers: Record<string, string> = {};
    if (o.auth.mode === 'passthrough') for (const h of PASS_HEADERS) if (typeof this.req.headers[h] === 'string') headers[h] = this.req.headers[h] as string;
    const conn = await this.createConnection(id, url, agentOptions, headers, auth.upstreamKey);
    if (!conn) return;
    await this.openAndUpgrade(conn, auth.upstreamKey);
  }

  /** The client's credential checked; the key that goes upstream. Null: refused. */
  private authenticate(): { given: string | undefined; upstreamKey: string | undefined } | null {
    const { o, tokens } = this.ctx;
    const given = clientCredential(this.req);
    if (o.auth.mode === 'passthrough') {
      if (!given) {
        refuse(this.socket, 401, 'missing_api_key', 'no API key: send Authorization: Bearer <your key> (the proxy passes it upstream)');
        return null;
      }
      return { given, upstreamKey: given };
    }
    if (tokens.length > 0 && (!given || !tokenMatches(given, tokens))) {
      refuse(this.socket, 401, 'invalid_client_token', 'the proxy did not accept this client token: use one of the tokens given to --client-token / --client-tokens-file');
      return null;
    }
    return { given, upstreamKey: o.connection.apiKey };
  }

  private engineOptions(id: string, url: URL, upstreamKey: string | undefined): AgentOptions {
    const { o, secrets } = this.ctx;
    const model = url.searchParams.get('model') ?? o.connection.model ?? 'gpt-realtime';
    return {
      ...(o.engine ?? {}),
      connection: { ...o.connection, apiKey: upstreamKey, ...(o.connection.azureEndpoint ? {} : { model }) },
      summariser: { ...o.summariser, apiKey: o.summariser.apiKey ?? (o.auth.mode === 'passthrough' ? upstreamKey : undefined) },
      journal: o.journal ? o.journal(id) : false,
      log: (line) => this.ctx.log(`[${id}] ${redact(line, [...secrets, upstreamKey ?? ''])}`),
    };
  }

  /** The stored conversation of `?conversation=`, bound to the client's principal; null: refused or gone. */
  private async openStored(id: string, requested: string, given: string | undefined): Promise<OpenedConversation | null> {
    const { o, store, leaseTtlMs, secrets, tokens } = this.ctx;
    if (!store) {
      refuse(this.socket, 400, 'no_conversation_store', '?conversation= needs a conversation store: start the proxy with --store DIR|postgres://...');
      return null;
    }
    // Bound to the client's principal: another principal's id is to this client an unused one.
    const wanted = conversationFor(principalOf(o.auth.mode, given, tokens.length > 0), requested);
    if (!wanted.ok) {
      refuse(this.socket, 400, 'invalid_conversation_id', wanted.message);
      return null;
    }
    try {
      this.conversation = await openConversation({ store, resume: wanted.storeId, createMissing: true, leaseTtlMs, log: (line) => this.ctx.log(`[${id}] ${line}`) });
    } catch (e) {
      const r = storeRefusal(e, leaseTtlMs);
      const detail = `conversation ${wanted.storeId}: ${redact(r.logMessage, secrets)}`;
      this.ctx.log(`[${id}] ${detail}`);
      // The operator sees the cause (also without --debug); the client only its class.
      o.onEvent?.({ type: 'refused', conn: id, status: r.status, code: r.code, detail });
      refuse(this.socket, r.status, r.code, r.clientMessage);
      return null;
    }
    if (this.gone) {
      await this.dropConversation();
      return null;
    }
    this.ctx.conversationOfRequest.set(this.req, wanted.clientId);
    return this.conversation;
  }

  private async createConnection(id: string, url: URL, options: AgentOptions, headers: Record<string, string>, upstreamKey: string | undefined): Promise<ProxyConnection | null> {
    const { o, secrets } = this.ctx;
    try {
      const agentOptions = o.setupConnection ? await o.setupConnection({ url, headers: this.req.headers }, options) : options;
      if (this.gone) throw new Error('the client left during the handshake');
      this.conn = new ProxyConnection({
        id,
        agent: agentOptions,
        transcriptionModel: o.transcriptionModel ?? 'gpt-4o-mini-transcribe',
        upstreamHeaders: headers,
        onEvent: o.onEvent,
        log: (line) => this.ctx.log(line),
        limits: this.ctx.limits,
      });
      return this.conn;
    } catch (e) {
      await this.dropConversation();
      refuse(this.socket, 400, 'bad_request', redact((e as Error).message, [...secrets, upstreamKey ?? '']));
      return null;
    }
  }

  /** The connection counts as live, opens its upstream, then takes over the client's socket. */
  private async openAndUpgrade(opened: ProxyConnection, upstreamKey: string | undefined): Promise<void> {
    const { o, live, secrets, wss } = this.ctx;
    const detach = o.onConnection?.(opened);
    live.add(opened);
    this.settle();
    opened.once('closed', () => {
      live.delete(opened);
      detach?.();
    });
    try {
      await opened.start();
    } catch (f) {
      const { error, status } = f as { error: Error; status: number | null };
      const msg = redact(error.message, [...secrets, upstreamKey ?? '']);
      refuse(this.socket, status && status >= 400 ? status : 502, status === 401 ? 'invalid_api_key' : 'upstream_unavailable', msg);
      await opened.close('upstream failed');
      return;
    }
    if (this.gone || this.socket.destroyed) {
      await opened.close('client left during the handshake');
      return;
    }
    // handleUpgrade calls back only if the socket is still usable; otherwise it destroys it and
    // the 'close' watcher ends the connection.
    wss.handleUpgrade(this.req, this.socket, this.head, (ws) => {
      this.socket.off('close', this.leave);
      opened.attachClient(ws);
    });
  }

  private async dropConversation(): Promise<void> {
    const c = this.conversation;
    this.conversation = undefined;
    await c?.close();
  }
}
