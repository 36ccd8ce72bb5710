// The inspector's HTTP routes: read-only (GET only, 405 otherwise), loopback Host only (a
// DNS-rebinding guard), every route behind the token (401 otherwise). `/` is the embedded page under
// a strict nonce CSP, `/events` the live stream, `/trace.jsonl` the frames so far for download.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactJson, type Frame, type FrameHub } from '../src/inspector/frames.js';
import { renderPage } from '../src/inspector/page.js';
import type { SseClients } from './inspector-sse.js';

export interface InspectorRoutes {
  token: string;
  /** The port once listening (the Host check and URL base need it). */
  port: () => number;
  hub: FrameHub;
  clients: SseClients;
  /** A frame as sent: JSON with every secret redacted. */
  serialize: (frame: Frame) => string;
  secrets: readonly (string | undefined | null)[];
  title?: string;
}

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'nonce-%N'",
  "style-src 'nonce-%N'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function tokenOk(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...headers,
  });
  res.end(body);
}

/** The request handler of one inspector server. */
export function inspectorHandler(o: InspectorRoutes): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const port = o.port();
    if (req.method !== 'GET') return send(res, 405, 'method not allowed: the inspector is read-only\n', { Allow: 'GET' });
    // DNS-rebinding guard: only our own loopback origin.
    const host = String(req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 403, 'forbidden host\n');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (!tokenOk(url.searchParams.get('token'), o.token)) {
      return send(res, 401, 'unauthorized: open the URL printed by realtime-agent (it carries ?token=...)\n');
    }
    switch (url.pathname) {
      case '/':
      case '/index.html': {
        const nonce = randomBytes(16).toString('base64');
        const html = redactJson(renderPage({ nonce, title: o.title }), o.secrets);
        return send(res, 200, html, {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': PAGE_CSP.replaceAll('%N', nonce),
          'X-Frame-Options': 'DENY',
        });
      }
      case '/events':
        return o.clients.open(req, res, o.hub.boot, o.hub.backlog().map(o.serialize));
      case '/trace.jsonl': {
        const body = [o.hub.hello(), ...o.hub.frames()].map((f) => o.serialize(f)).join('\n') + '\n';
        return send(res, 200, body, {
          'Content-Type': 'application/x-ndjson; charset=utf-8',
          'Content-Disposition': 'attachment; filename="realtime-agent-trace.jsonl"',
        });
      }
      default:
        return send(res, 404, 'not found\n');
    }
  };
}
