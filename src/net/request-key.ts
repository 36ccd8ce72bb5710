// The API key a client presents on an HTTP request or WebSocket upgrade. Shared by the emulator
// (which checks it) and the proxy (which binds conversations to it).
import type { IncomingMessage } from 'node:http';

/** The API key of a request: `Authorization: Bearer`, Azure `api-key`, or a browser subprotocol. */
export function requestKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m && m[1].trim()) return m[1].trim();
  }
  const az = req.headers['api-key'];
  if (typeof az === 'string' && az.trim()) return az.trim();
  const proto = req.headers['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    for (const p of proto.split(',').map((s) => s.trim())) if (p.startsWith('openai-insecure-api-key.')) return p.slice('openai-insecure-api-key.'.length);
  }
  return undefined;
}
