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
import { openConversation, type OpenedConversation } from '../store/open.js';
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
   * while the client is connected. Without a store such a client is refused (HTTP 400).
   */
  store?: string;
  /** Lease length of a stored conversation (default 30 s). */
  leaseTtlMs?: number;
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
function refuse(socket: Socket, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { type: status === 401 ? 'invalid_request_error' : 'proxy_error', code, message } });
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}


const PASS_HEADERS = ['openai-organization', 'openai-project', 'openai-beta'];

export async function startProxy(o: ProxyOptions): Promise<RealtimeProxy> {
  const host = o.host ?? '127.0.0.1';
  const tokens = o.auth.clientTokens ?? [];
  if (!isLoopback(host) && o.auth.mode === 'proxy-key' && tokens.length === 0) {
    throw new Error(`binding ${host} (not loopback) with a proxy-held key needs client tokens: add --client-token or --client-tokens-file, or use pass-through (no key on the proxy)`);
  }
  const log = o.log ?? (() => {});
  const secrets = [o.connection.apiKey, o.summariser.apiKey, ...tokens].filter((s): s is string => !!s);
  const tls = o.tls === true ? await selfSignedPem(host, 'realtime-proxy') : o.tls || undefined;
  const server: Server = tls ? createHttps({ cert: tls.cert, key: tls.key }) : createHttp();
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('realtime-proxy: connect with a WebSocket to /v1/realtime?model=...\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
    // Client frames go upstream as bytes and the upstream validates them: no UTF-8 pass in the proxy.
    skipUTF8Validation: true,
    // Browser clients offer ["realtime", "openai-insecure-api-key.…"]: answer with "realtime".
    handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : [...protocols][0] ?? false),
  });
  const live = new Set<ProxyConnection>();
  let counter = 0;
  const prefix = randomBytes(3).toString('hex');

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
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
      for (const h of PASS_HEADERS) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
      let agentOptions: AgentOptions = {
        ...(o.engine ?? {}),
        connection: { ...o.connection, apiKey: upstreamKey, ...(o.connection.azureEndpoint ? {} : { model }) },
        summariser: { ...o.summariser, apiKey: o.summariser.apiKey ?? (o.auth.mode === 'passthrough' ? upstreamKey : undefined) },
        journal: o.journal ? o.journal(id) : false,
        log: (line) => log(`[${id}] ${redact(line, [...secrets, upstreamKey ?? ''])}`),
      };
      // ?conversation=<id>: the store's conversation, resumed (or created under that id); it is the journal.
      const conversationId = url.searchParams.get('conversation');
      let conversation: OpenedConversation | undefined;
      if (conversationId !== null) {
        if (!o.store) {
          refuse(socket, 400, 'no_conversation_store', '?conversation= needs a conversation store: start the proxy with --store DIR|postgres://...');
          return;
        }
        if (!/^[A-Za-z0-9_.-]{1,100}$/.test(conversationId) || conversationId.startsWith('.')) {
          refuse(socket, 400, 'invalid_conversation_id', 'a conversation id is 1-100 letters, digits, "_", "-" or "." (not starting with ".")');
          return;
        }
        try {
          conversation = await openConversation({ store: o.store, resume: conversationId, createMissing: true, leaseTtlMs: o.leaseTtlMs });
        } catch (e) {
          const err = e instanceof AgentError ? e : new AgentError('store_unavailable', String((e as Error)?.message ?? e), true);
          const status = err.code === 'conversation_busy' ? 409 : err.code === 'store_unavailable' ? 503 : 400;
          refuse(socket, status, err.code, redact(err.message, secrets));
          return;
        }
        agentOptions = { ...agentOptions, conversation, journal: undefined };
      }
      if (o.setupConnection) agentOptions = await o.setupConnection({ url, headers: req.headers }, agentOptions);
      let conn: ProxyConnection;
      try {
        conn = new ProxyConnection({
          id,
          agent: agentOptions,
          transcriptionModel: o.transcriptionModel ?? 'gpt-4o-mini-transcribe',
          upstreamHeaders: headers,
          onEvent: o.onEvent,
          log,
        });
      } catch (e) {
        await conversation?.close();
        refuse(socket, 400, 'bad_request', redact((e as Error).message, [...secrets, upstreamKey ?? '']));
        return;
      }
      const detach = o.onConnection?.(conn);
      live.add(conn);
      conn.once('closed', () => {
        live.delete(conn);
        detach?.();
      });
      try {
        await conn.start();
      } catch (f) {
        const { error, status } = f as { error: Error; status: number | null };
        const msg = redact(error.message, [...secrets, upstreamKey ?? '']);
        refuse(socket, status && status >= 400 ? status : 502, status === 401 ? 'invalid_api_key' : 'upstream_unavailable', msg);
        await conn.close('upstream failed');
        return;
      }
      if (socket.destroyed) {
        await conn.close('client left during the handshake');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => conn.attachClient(ws));
    })().catch((e) => {
      log(`upgrade failed: ${redact(String((e as Error)?.message ?? e), secrets)}`);
      if (!socket.destroyed) refuse(socket, 502, 'proxy_error', 'the proxy could not open the connection');
    });
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
        await Promise.all([...live].map((c) => c.close('proxy shutting down', 1001, 'proxy shutting down')));
        wss.close();
        await new Promise<void>((r) => server.close(() => r()));
      })()),
  };
}
