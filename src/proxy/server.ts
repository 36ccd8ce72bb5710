// realtime-proxy's server: accepts GA Realtime WebSocket clients on /v1/realtime, authenticates them,
// and gives each one a ProxyConnection (its own upstream and its own engine). Nothing is shared
// between connections but this process, so instances are stateless and scale behind any
// WebSocket-capable load balancer.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createHttp, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { selfSignedPem } from '../net/tls.js';
import { requestKey } from '../net/request-key.js';
import { ProxyConnection } from './connection.js';
import { AgentError, redact } from '../errors.js';
import { DEFAULT_LEASE_TTL_MS, openConversation, storeFromSpec, type OpenedConversation } from '../store/open.js';
import type { ConversationStore } from '../store/types.js';
import { guardHandshakes } from './handshake.js';
import { resolveLimits, type ProxyLimits } from './limits.js';
import { conversationFor, CONVERSATION_HEADER, principalOf } from './principal.js';
import { storeRefusal } from './store-refusal.js';
import type { AgentOptions, ConnectionOptions, SummariserOptions } from '../types.js';

export const REALTIME_PATHS = new Set(['/v1/realtime', '/realtime', '/openai/v1/realtime']);

export interface ProxyAuth {
  /**
   * 'passthrough': the client's own key (Authorization: Bearer, api-key, or the
   * openai-insecure-api-key.<key> subprotocol) goes upstream; the proxy never stores it.
   * 'proxy-key': the upstream key is `upstreamKey`; clients present one of `clientTokens`
   * (none = any local client, allowed on loopback only).
   */
  mode: 'passthrough' | 'proxy-key';
  clientTokens?: string[];
}

export interface ProxyOptions {
  port?: number;
  host?: string;
  /** Upstream: from the CLI's backend plan (OpenAI, Azure, --url or the embedded emulator). */
  connection: ConnectionOptions;
  summariser: SummariserOptions;
  auth: ProxyAuth;
  /** Engine options shared by every connection (policy, reconnect, rollover, keepalive...). */
  engine?: Omit<AgentOptions, 'connection' | 'summariser' | 'journal' | 'transport' | 'observer' | 'log'>;
  /** Journal path for a connection (its id), or false. */
  journal?: false | ((connId: string) => string);
  /**
   * Conversation store (a directory of JSONL journals or a postgres:// URL) for clients that connect
   * with `?conversation=<id>`: that conversation is resumed (or created under that id), its lease held
   * while the client is connected. Without a store such a client is refused (HTTP 400). One store (one
   * pool, one migration) serves every connection; the proxy closes it at shutdown.
   */
  store?: string | ConversationStore;
  /** Lease length of a stored conversation (default 30 s). */
  leaseTtlMs?: number;
  /** Per-connection and per-process limits; each unset one keeps its default (limits.ts, docs/proxy.md "Limits"). */
  limits?: Partial<ProxyLimits>;
  transcriptionModel?: string;
  /** Serve wss: with a self-signed certificate (true) or the given PEM pair. */
  tls?: boolean | { cert: string; key: string };
  /** One object per connection event (--json). */
  onEvent?: (e: Record<string, unknown>) => void;
  log?: (line: string) => void;
  /** Called for each new connection (e.g. the live inspector attaches here); returns a detach function. */
  onConnection?: (conn: ProxyConnection) => (() => void) | void;
  /**
   * Seam for per-connection setup (e.g. `?conversation=<id>` resume from a store): may adjust the
   * engine options of one connection before its upstream opens.
   */
  setupConnection?: (req: { url: URL; headers: IncomingMessage['headers'] }, options: AgentOptions) => AgentOptions | Promise<AgentOptions>;
}

export interface RealtimeProxy {
  /** ws(s)://host:port/v1/realtime */
  url: string;
  /** http(s)://host:port/v1: baseURL for the openai SDK. */
  httpUrl: string;
  port: number;
  certificatePem?: string;
  connections(): ProxyConnection[];
  close(): Promise<void>;
}

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
function refuse(socket: Socket, status: number, code: string, message: string, extraHeaders = ''): void {
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

export async function startProxy(o: ProxyOptions): Promise<RealtimeProxy> {
  const host = o.host ?? '127.0.0.1';
  const tokens = o.auth.clientTokens ?? [];
  if (!isLoopback(host) && o.auth.mode === 'proxy-key' && tokens.length === 0) {
    throw new Error(`binding ${host} (not loopback) with a proxy-held key needs client tokens: add --client-token or --client-tokens-file, or use pass-through (no key on the proxy)`);
  }
  const log = o.log ?? (() => {});
  const secrets = [o.connection.apiKey, o.summariser.apiKey, ...tokens].filter((s): s is string => !!s);
  const limits = resolveLimits(o.limits);
  const leaseTtlMs = o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const tls = o.tls === true ? await selfSignedPem(host, 'realtime-proxy') : o.tls || undefined;
  const server: Server = tls
    ? createHttps({ cert: tls.cert, key: tls.key, ...(limits.handshakeTimeoutMs > 0 ? { handshakeTimeout: limits.handshakeTimeoutMs } : {}) })
    : createHttp();
  const handshakes = guardHandshakes(server, !!tls, limits.handshakeTimeoutMs);
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' }).end('realtime-proxy: connect with a WebSocket to /v1/realtime?model=...\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: limits.maxPayloadBytes,
    // Client text frames are UTF-8-validated here (ws closes 1007 on a bad one): forwarded, the service
    // would close the upstream 1007 and the proxy would take that for a drop. Upstream frames are not.
    // Browser clients offer ["realtime", "openai-insecure-api-key.…"]: answer with "realtime".
    handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : [...protocols][0] ?? false),
  });
  const live = new Set<ProxyConnection>();
  // Opened at the first ?conversation= connect (a store that is down then gives 503 and is tried again).
  const store: ConversationStore | undefined = typeof o.store === 'string' ? storeFromSpec(o.store) : o.store;
  /** Upgrades being admitted (store, upstream): they count against maxConnections too. */
  let admitting = 0;
  /** Their sockets: a proxy shutting down cuts them, which closes whatever was opened for them. */
  const handshaking = new Set<Socket>();
  let shuttingDown = false;
  let counter = 0;
  const prefix = randomBytes(3).toString('hex');
  // The 101 names the conversation the connection holds (the id the client gave, or the one minted for "new").
  const conversationOfRequest = new WeakMap<IncomingMessage, string>();
  wss.on('headers', (headers, req) => {
    const id = conversationOfRequest.get(req);
    if (id) headers.push(`${CONVERSATION_HEADER}: ${id}`);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    handshakes.arrived(socket);
    if (shuttingDown) {
      refuse(socket, 503, 'proxy_shutting_down', 'the proxy is shutting down; reconnect to another instance', 'Retry-After: 1\r\n');
      return;
    }
    if (live.size + admitting >= limits.maxConnections) {
      log(`refused a connection: ${live.size + admitting} open, limit ${limits.maxConnections}`);
      refuse(socket, 503, 'too_many_connections', `the proxy is at its connection limit (${limits.maxConnections}); retry shortly`, 'Retry-After: 5\r\n');
      return;
    }
    admitting++;
    handshaking.add(socket);
    // From here to the end of the upgrade the client may leave at any moment: whatever has been
    // opened for it by then (the stored conversation's lease, the engine and its upstream) is closed
    // at once, never left running for a socket that is gone.
    let gone = socket.destroyed;
    let conn: ProxyConnection | undefined;
    let conversation: OpenedConversation | undefined;
    // Until a ProxyConnection owns it (its engine closes it), the stored conversation is closed here, once.
    const dropConversation = async () => {
      const c = conversation;
      conversation = undefined;
      await c?.close();
    };
    const leave = () => {
      gone = true;
      if (conn) void conn.close('client left during the handshake');
      else void dropConversation();
    };
    socket.once('close', leave);
    let admitted = false;
    const settle = () => {
      if (admitted) return;
      admitted = true;
      admitting--;
      handshaking.delete(socket);
    };
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      if (!REALTIME_PATHS.has(url.pathname.replace(/\/+$/, ''))) {
        refuse(socket, 404, 'not_found', `no Realtime endpoint at ${url.pathname}: use /v1/realtime?model=...`);
        return;
      }
      const given = clientCredential(req);
      let upstreamKey = o.connection.apiKey;
      if (o.auth.mode === 'passthrough') {
        if (!given) {
          refuse(socket, 401, 'missing_api_key', 'no API key: send Authorization: Bearer <your key> (the proxy passes it upstream)');
          return;
        }
        upstreamKey = given;
      } else if (tokens.length > 0 && (!given || !tokenMatches(given, tokens))) {
        refuse(socket, 401, 'invalid_client_token', 'the proxy did not accept this client token: use one of the tokens given to --client-token / --client-tokens-file');
        return;
      }
      const id = `${prefix}-${++counter}`;
      const model = url.searchParams.get('model') ?? o.connection.model ?? 'gpt-realtime';
      const headers: Record<string, string> = {};
      if (o.auth.mode === 'passthrough') for (const h of PASS_HEADERS) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
      let agentOptions: AgentOptions = {
        ...(o.engine ?? {}),
        connection: { ...o.connection, apiKey: upstreamKey, ...(o.connection.azureEndpoint ? {} : { model }) },
        summariser: { ...o.summariser, apiKey: o.summariser.apiKey ?? (o.auth.mode === 'passthrough' ? upstreamKey : undefined) },
        journal: o.journal ? o.journal(id) : false,
        log: (line) => log(`[${id}] ${redact(line, [...secrets, upstreamKey ?? ''])}`),
      };
      // ?conversation=<id>: the store's conversation, resumed (or created under that id); it is the journal.
      const conversationParam = url.searchParams.get('conversation');
      if (conversationParam !== null) {
        if (!store) {
          refuse(socket, 400, 'no_conversation_store', '?conversation= needs a conversation store: start the proxy with --store DIR|postgres://...');
          return;
        }
        // Bound to the client's principal: another principal's id is to this client an unused one.
        const wanted = conversationFor(principalOf(o.auth.mode, given, tokens.length > 0), conversationParam);
        if (!wanted.ok) {
          refuse(socket, 400, 'invalid_conversation_id', wanted.message);
          return;
        }
        try {
          conversation = await openConversation({ store, resume: wanted.storeId, createMissing: true, leaseTtlMs, log: (line) => log(`[${id}] ${line}`) });
        } catch (e) {
          const r = storeRefusal(e, leaseTtlMs);
          const detail = `conversation ${wanted.storeId}: ${redact(r.logMessage, secrets)}`;
          log(`[${id}] ${detail}`);
          // The operator sees the cause (also without --debug); the client only its class.
          o.onEvent?.({ type: 'refused', conn: id, status: r.status, code: r.code, detail });
          refuse(socket, r.status, r.code, r.clientMessage);
          return;
        }
        if (gone) {
          await dropConversation();
          return;
        }
        conversationOfRequest.set(req, wanted.clientId);
        agentOptions = { ...agentOptions, conversation, journal: undefined };
      }
      try {
        if (o.setupConnection) agentOptions = await o.setupConnection({ url, headers: req.headers }, agentOptions);
        if (gone) throw new Error('the client left during the handshake');
        conn = new ProxyConnection({
          id,
          agent: agentOptions,
          transcriptionModel: o.transcriptionModel ?? 'gpt-4o-mini-transcribe',
          upstreamHeaders: headers,
          onEvent: o.onEvent,
          log,
          limits,
        });
      } catch (e) {
        await dropConversation();
        refuse(socket, 400, 'bad_request', redact((e as Error).message, [...secrets, upstreamKey ?? '']));
        return;
      }
      const opened = conn;
      const detach = o.onConnection?.(opened);
      live.add(opened);
      settle();
      opened.once('closed', () => {
        live.delete(opened);
        detach?.();
      });
      try {
        await opened.start();
      } catch (f) {
        const { error, status } = f as { error: Error; status: number | null };
        const msg = redact(error.message, [...secrets, upstreamKey ?? '']);
        refuse(socket, status && status >= 400 ? status : 502, status === 401 ? 'invalid_api_key' : 'upstream_unavailable', msg);
        await opened.close('upstream failed');
        return;
      }
      if (gone || socket.destroyed) {
        await opened.close('client left during the handshake');
        return;
      }
      // handleUpgrade calls back only if the socket is still usable; otherwise it destroys it and
      // the 'close' watcher above ends the connection.
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', leave);
        opened.attachClient(ws);
      });
    })()
      .catch((e) => {
        log(`upgrade failed: ${redact(String((e as Error)?.message ?? e), secrets)}`);
        refuse(socket, 502, 'proxy_error', 'the proxy could not open the connection');
        if (conn) void conn.close('upgrade failed');
        else void dropConversation();
      })
      .finally(settle);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8787, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const h = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `${tls ? 'wss' : 'ws'}://${h}:${port}/v1/realtime`,
    httpUrl: `${tls ? 'https' : 'http'}://${h}:${port}/v1`,
    port,
    certificatePem: tls?.cert,
    connections: () => [...live],
    close: () =>
      (closing ??= (async () => {
        shuttingDown = true;
        for (const s of handshaking) s.destroy();
        await Promise.all([...live].map((c) => c.close('proxy shutting down', 1001, 'proxy shutting down')));
        wss.close();
        await new Promise<void>((r) => server.close(() => r()));
        await store?.close().catch(() => undefined);
      })()),
  };
}
