// A transparent WebSocket relay between the CLI and the emulator that timestamps every event in both
// directions. It changes nothing: it lets a test see what actually crossed the wire (e.g. the
// milliseconds in conversation.item.truncate, and when speech_started reached the client).
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { WebSocket as WsSocket, WebSocketServer as WsServer } from 'ws';

const require = createRequire(import.meta.url);
const { WebSocket, WebSocketServer } = require('ws') as typeof import('ws');

export interface WireRecord {
  dir: 'client' | 'server';
  at: number; // performance.now() when the relay forwarded it
  type: string;
  event: Record<string, unknown>;
}

export interface RecordingProxy {
  url: string;
  log: WireRecord[];
  find(dir: WireRecord['dir'], type: string): WireRecord[];
  waitFor(dir: WireRecord['dir'], type: string, timeoutMs?: number, after?: number): Promise<WireRecord>;
  close(): Promise<void>;
}

export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const log: WireRecord[] = [];
  const waiters: Array<() => void> = [];
  const server: WsServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const record = (dir: WireRecord['dir'], data: string) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    // Keep the log small: audio payloads become their decoded byte count.
    const slim = { ...event };
    for (const k of ['audio', 'delta']) {
      if (typeof slim[k] === 'string' && String(slim.type).includes('audio') && !String(slim.type).includes('transcript')) {
        slim[k] = Buffer.from(slim[k] as string, 'base64').length;
      }
    }
    log.push({ dir, at: performance.now(), type: String(event.type), event: slim });
    waiters.splice(0).forEach((w) => w());
  };
  const target = new URL(targetUrl);
  server.on('connection', (client: WsSocket, req) => {
    const path = req.url ?? '/';
    const upstreamUrl = `${target.protocol}//${target.host}${path}`;
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'api-key', 'openai-beta']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const upstream = new WebSocket(upstreamUrl, { headers });
    const pending: string[] = [];
    upstream.on('open', () => pending.splice(0).forEach((m) => upstream.send(m)));
    client.on('message', (m) => {
      const s = m.toString();
      record('client', s);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(s);
      else pending.push(s);
    });
    upstream.on('message', (m) => {
      const s = m.toString();
      record('server', s);
      if (client.readyState === WebSocket.OPEN) client.send(s);
    });
    upstream.on('close', (code, reason) => client.readyState === WebSocket.OPEN && client.close(code, reason));
    client.on('close', () => upstream.close());
    upstream.on('error', () => client.terminate());
    client.on('error', () => upstream.terminate());
  });
  const port = (server.address() as AddressInfo).port;
  const find = (dir: WireRecord['dir'], type: string) => log.filter((r) => r.dir === dir && r.type === type);
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}`,
    log,
    find,
    waitFor: (dir, type, timeoutMs = 20_000, after = 0) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${dir} ${type} within ${timeoutMs} ms; seen: ${log.map((r) => r.type).filter((t) => !t.includes('delta') && !t.includes('append')).join(', ')}`)), timeoutMs);
        const check = () => {
          const hit = find(dir, type).find((r) => r.at >= after);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      }),
    close: () =>
      new Promise<void>((r) => {
        for (const c of server.clients) c.terminate();
        server.close(() => r());
      }),
  };
}
