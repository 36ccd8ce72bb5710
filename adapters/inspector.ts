// `realtime-agent --inspect[=PORT]`: a local, read-only live view of the agent's actors.
//
// node:http + Server-Sent Events, bound to 127.0.0.1 only. Every route needs the random token
// (`?token=`), 401 otherwise; anything but GET is 405 and there is no route that takes input, so
// the page cannot send events to the machines. The page is embedded (src/inspector/page.ts): no CDN,
// nothing fetched from the internet. Frames come from src/inspector/frame-hub.ts (sanitised, redacted,
// snapshot frames coalesced to <= 20 per second per actor); `tracePath` also writes them to a
// JSONL file the page can replay. See docs/inspector.md.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameHub, redactJson, type Frame, type InspectableAgent } from '../src/inspector/frames.js';
import { renderPage } from '../src/inspector/page.js';
import { openTraceSink, type TraceSink } from './trace-file.js';

export type { Frame, InspectableAgent } from '../src/inspector/frames.js';
export { startTrace, readTrace, type TraceHandle } from './trace-file.js';
export { startStatelyBridge, type StatelyBridge, type StatelyBridgeOptions } from './stately-bridge.js';

export interface InspectorOptions {
  /** TCP port on 127.0.0.1; 0 or undefined = a free port. */
  port?: number;
  /** Access token (hex); random 16 bytes by default. Give the same one to let pages reconnect across CLI restarts. */
  token?: string;
  /** Strings that must never leave the process (API keys); redacted from every frame, trace line and page. */
  secrets?: (string | undefined | null)[];
  /** Also write every frame to this JSONL file (same as --trace). */
  tracePath?: string;
  /** Window chart lines until the first `window` event tells the real ones. */
  trigger?: number;
  target?: number;
  /** Snapshot frames per actor per second, at most (default 20). */
  maxSnapshotsPerSecond?: number;
  /** Page title. */
  title?: string;
}

export interface LiveInspector {
  /** http://127.0.0.1:PORT/?token=... */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Starts observing an agent (root actor + agent events); returns the detach function. */
  attach(agent: InspectableAgent): () => void;
  /** Ends SSE streams, stops the server, detaches every agent and closes the trace. */
  close(): Promise<void>;
  /** Frames published so far (bounded), for tests. */
  frames(): readonly Frame[];
  /** Number of connected live views. */
  clients(): number;
}

const SSE_HIGH_WATER = 4 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

function tokenOk(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startInspector(options: InspectorOptions = {}): Promise<LiveInspector> {
  const token = options.token ?? randomBytes(16).toString('hex');
  if (!/^[A-Za-z0-9_-]{16,}$/.test(token)) throw new Error('inspector token: use at least 16 characters of [A-Za-z0-9_-]');
  const secrets = [...(options.secrets ?? [])];
  const hub = new FrameHub({
    secrets,
    trigger: options.trigger,
    target: options.target,
    maxSnapshotsPerSecond: options.maxSnapshotsPerSecond ?? 20,
  });
  const serialize = (f: Frame) => redactJson(JSON.stringify(f), secrets);

  let trace: TraceSink | null = null;
  if (options.tracePath) {
    trace = openTraceSink(options.tracePath, secrets);
    trace.write(hub.hello());
  }

  // Live clients; frames are batched per tick into one write per client.
  const clients = new Set<ServerResponse>();
  let queue: string[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (!queue.length) return;
    const chunk = queue.join('');
    queue = [];
    for (const res of clients) {
      if (res.writableLength > SSE_HIGH_WATER) {
        // A stalled tab: drop it; EventSource reconnects and gets a fresh backlog.
        clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  };
  hub.addSink((frame) => {
    if (trace) trace.write(frame);
    if (!clients.size) return; // nothing to serialise for
    queue.push(`data: ${serialize(frame)}\n\n`);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });

  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      ...headers,
    });
    res.end(body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') return send(res, 405, 'method not allowed: the inspector is read-only\n', { Allow: 'GET' });
    // DNS-rebinding guard: only our own loopback origin.
    if (!allowedHosts().has(String(req.headers.host ?? '').toLowerCase())) return send(res, 403, 'forbidden host\n');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (!tokenOk(url.searchParams.get('token'), token)) {
      return send(res, 401, 'unauthorized: open the URL printed by realtime-agent (it carries ?token=...)\n');
    }
    switch (url.pathname) {
      case '/':
      case '/index.html': {
        const nonce = randomBytes(16).toString('base64');
        const html = redactJson(renderPage({ nonce, title: options.title }), secrets);
        return send(res, 200, html, {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': [
            "default-src 'none'",
            `script-src 'nonce-${nonce}'`,
            `style-src 'nonce-${nonce}'`,
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
          ].join('; '),
          'X-Frame-Options': 'DENY',
        });
      }
      case '/events': {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          Connection: 'keep-alive',
          'X-Accel-Buffering': 'no',
          'X-Content-Type-Options': 'nosniff',
        });
        res.socket?.setNoDelay(true);
        const backlog = hub.backlog().map((f) => `data: ${serialize(f)}\n\n`);
        // Frames queued for this tick are already part of the backlog.
        flush();
        res.write(`retry: 1000\nevent: reset\ndata: ${JSON.stringify({ boot: hub.boot })}\n\n` + backlog.join(''));
        clients.add(res);
        const drop = () => clients.delete(res);
        req.on('close', drop);
        res.on('error', drop);
        return;
      }
      case '/trace.jsonl': {
        const body = [hub.hello(), ...hub.frames()].map((f) => serialize(f)).join('\n') + '\n';
        return send(res, 200, body, {
          'Content-Type': 'application/x-ndjson; charset=utf-8',
          'Content-Disposition': 'attachment; filename="realtime-agent-trace.jsonl"',
        });
      }
      default:
        return send(res, 404, 'not found\n');
    }
  };

  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    attach: (agent) => hub.attach(agent),
    frames: () => hub.frames(),
    clients: () => clients.size,
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        hub.close();
        flush();
        for (const res of clients) res.end();
        clients.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await trace?.close();
      })();
      return closing;
    },
  };
}
