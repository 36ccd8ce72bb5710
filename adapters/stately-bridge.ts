// `--inspect=stately`: bridge to Stately's hosted inspector (https://stately.ai/inspect) through
// `@statelyai/inspect` 0.7.2's WebSocket inspector and relay. NEEDS INTERNET (the UI is a hosted,
// closed-source page; see docs/inspector.md). Use `--inspect` for the offline live view.
//
// Data flow: agent --(createWebSocketInspector, a ws client)--> relay (ws server) --> bridge page
// (ws client, opened in the user's browser) --postMessage--> iframe https://stately.ai/inspect.
//
// Relay: by default a loopback-only re-implementation of `createInspectorServer` from
// `@statelyai/inspect/server` (same protocol: every message from a client is kept in a
// 200-message replay buffer and forwarded to every other client; same bridge page), with two
// differences: it binds 127.0.0.1 (the package's relay listens on every interface and has no
// access control) and it requires the same `?token=` as the live view on both the page and the
// WebSocket. `relay: 'package'` uses the package's own server instead (port 8080 by default, all
// interfaces, no token).
//
// Every event is sanitised (context, event payloads) and redacted (secrets, sk-... keys) before
// it is handed to the inspector.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { exec } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyActorRef } from 'xstate';
import { WebSocket, WebSocketServer } from 'ws';
import { redactJson, sanitize, type InspectableAgent } from '../src/inspector/frames.js';

export interface StatelyBridgeOptions {
  /** Relay port (127.0.0.1). 0 = free port; default 0 for the local relay, 8080 for relay: 'package'. */
  port?: number;
  token?: string;
  secrets?: (string | undefined | null)[];
  /** The hosted UI embedded by the bridge page (default https://stately.ai/inspect). */
  inspectorUrl?: string;
  /** 'local' (default): loopback + token relay; 'package': @statelyai/inspect/server's createInspectorServer. */
  relay?: 'local' | 'package';
  /** Open the bridge page in the default browser (default false). */
  open?: boolean;
}

export interface StatelyBridge {
  /** The bridge page to open in a browser (needs internet for the embedded Stately UI). */
  readonly url: string;
  /** The WebSocket the inspector client connects to. */
  readonly wsUrl: string;
  readonly port: number;
  readonly token: string;
  attach(agent: InspectableAgent): () => void;
  close(): Promise<void>;
}

function tokenOk(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bridgeHtml(wsUrl: string, inspectorUrl: string): string {
  const j = (s: string) => JSON.stringify(s).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Stately Inspector (realtime-agent)</title>
<style>*{margin:0;padding:0}html,body{height:100%}iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="${inspectorUrl.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}"></iframe>
<script>
const iframe = document.getElementById('inspector');
const buffer = [];
let connected = false;
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    connected = true;
    buffer.forEach((event) => iframe.contentWindow.postMessage(event, '*'));
    buffer.length = 0;
  }
});
const ws = new WebSocket(${j(wsUrl)});
ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  if (connected) iframe.contentWindow.postMessage(data, '*'); else buffer.push(data);
};
</script></body></html>`;
}

interface Relay {
  port: number;
  close(): Promise<void>;
}

async function startLocalRelay(port: number, token: string, inspectorUrl: string): Promise<Relay> {
  let actualPort = 0;
  const hosts = () => new Set([`127.0.0.1:${actualPort}`, `localhost:${actualPort}`]);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end('method not allowed\n');
      return;
    }
    if (!hosts().has(String(req.headers.host ?? '').toLowerCase())) {
      res.writeHead(403).end('forbidden host\n');
      return;
    }
    if (!tokenOk(url.searchParams.get('token'), token)) {
      res.writeHead(401, { 'Content-Type': 'text/plain' }).end('unauthorized\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end(bridgeHtml(`ws://127.0.0.1:${actualPort}/?token=${token}`, inspectorUrl));
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: 8 * 1024 * 1024,
    verifyClient: (info: { req: IncomingMessage }) => {
      const url = new URL(info.req.url ?? '/', 'http://127.0.0.1');
      return hosts().has(String(info.req.headers.host ?? '').toLowerCase()) && tokenOk(url.searchParams.get('token'), token);
    },
  });
  const buffer: string[] = [];
  wss.on('connection', (ws) => {
    for (const msg of buffer) ws.send(msg);
    ws.on('message', (data) => {
      const msg = data.toString();
      buffer.push(msg);
      if (buffer.length > 200) buffer.shift();
      for (const client of wss.clients) if (client !== ws && client.readyState === WebSocket.OPEN) client.send(msg);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts the relay and returns a bridge whose attach() streams an agent's actors to it. */
export async function startStatelyBridge(options: StatelyBridgeOptions = {}): Promise<StatelyBridge> {
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const token = options.token ?? randomBytes(16).toString('hex');
  const secrets = [...(options.secrets ?? [])];
  const inspectorUrl = options.inspectorUrl ?? 'https://stately.ai/inspect';
  let relay: Relay;
  let url: string;
  let wsUrl: string;
  if (options.relay === 'package') {
    const { createInspectorServer } = await import('@statelyai/inspect/server');
    const port = options.port || 8080;
    const srv = createInspectorServer({ port, url: inspectorUrl, autoOpen: false });
    relay = { port, close: async () => srv.stop() };
    url = `http://localhost:${port}/`;
    wsUrl = `ws://localhost:${port}`;
  } else {
    relay = await startLocalRelay(options.port ?? 0, token, inspectorUrl);
    url = `http://127.0.0.1:${relay.port}/?token=${token}`;
    wsUrl = `ws://127.0.0.1:${relay.port}/?token=${token}`;
  }

  const clean = (v: unknown) => sanitize(v, { secrets });
  const inspector = createWebSocketInspector({
    url: wsUrl,
    sanitizeContext: (ctx) => clean(ctx) as Record<string, unknown>,
    sanitizeEvent: (ev) => clean(ev) as { type: string },
    // Backstop over the whole event (the actor event carries a raw snapshot and the config).
    serialize: (ev) => JSON.parse(redactJson(JSON.stringify(sanitize(ev, { secrets, maxString: Infinity, maxDepth: 40, maxArray: 10_000, maxKeys: 10_000 })), secrets)) as typeof ev,
  });
  if (options.open) {
    const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'start ""' : 'xdg-open';
    exec(`${cmd} "${url}"`);
  }

  const detachers = new Set<() => void>();
  return {
    url,
    wsUrl,
    port: relay.port,
    token,
    attach(agent) {
      const sub = agent.actor.system.inspect(inspector.inspect);
      // Actors created before attaching produced no @xstate.actor event: announce them now.
      const walk = (ref: AnyActorRef) => {
        const snap = ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
        inspector.actor(ref as never, snap as never);
        if (snap) inspector.snapshot(ref as never, snap as never);
        for (const c of Object.values(snap?.children ?? {})) if (c) walk(c);
      };
      try {
        walk(agent.actor);
      } catch {
        /* ignore */
      }
      const detach = () => {
        sub.unsubscribe();
        detachers.delete(detach);
      };
      detachers.add(detach);
      return detach;
    },
    async close() {
      for (const d of [...detachers]) d();
      // Let deferred (setTimeout 0) conversions go out before closing the socket.
      await new Promise((r) => setTimeout(r, 20));
      inspector.stop();
      await relay.close();
    },
  };
}
