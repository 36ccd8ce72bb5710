// realtime-proxy's server: accepts GA Realtime WebSocket clients on /v1/realtime and admits each one
// (admission.ts: auth, principal, stored conversation, upstream, upgrade) as a ProxyConnection (its own
// upstream and its own engine). It owns what is per process: the listener, the TLS material, the
// connection cap, the one conversation store, shutdown. Nothing else is shared between connections,
// so instances are stateless and scale behind any WebSocket-capable load balancer.
import { randomBytes } from 'node:crypto';
import { createServer as createHttp, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { selfSignedPem } from '../net/tls.js';
import type { ProxyConnection } from './connection.js';
import { DEFAULT_LEASE_TTL_MS, storeFromSpec } from '../store/open.js';
import type { ConversationStore } from '../store/types.js';
import { Admission, isLoopback, refuse, type AdmissionContext } from './admission.js';
import { guardHandshakes } from './handshake.js';
import { resolveLimits, type ProxyLimits } from './limits.js';
import type { ProxyOptions, RealtimeProxy } from './options.js';
import { CONVERSATION_HEADER } from './principal.js';

export { clientCredential, isLoopback, REALTIME_PATHS } from './admission.js';
export type { ProxyAuth, ProxyOptions, RealtimeProxy } from './options.js';

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
  const { tls, server, handshakes, wss } = await openListener(o, host, limits);
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
  const ctx: AdmissionContext = {
    o,
    tokens,
    secrets,
    limits,
    leaseTtlMs,
    store,
    wss,
    live,
    conversationOfRequest,
    nextId: () => `${prefix}-${++counter}`,
    log,
  };

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
    let admitted = false;
    const settle = () => {
      if (admitted) return;
      admitted = true;
      admitting--;
      handshaking.delete(socket);
    };
    new Admission(ctx, req, socket, head, settle).run();
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

/** The HTTP(S) listener, its handshake guard and the WebSocket server the admissions upgrade into. */
async function openListener(o: ProxyOptions, host: string, limits: ProxyLimits) {
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
  return { tls, server, handshakes, wss };
}
