// A WebSocket man-in-the-middle for fault tests: the agent connects here, every connection is
// forwarded to the emulator (same path, query and auth headers), and the test decides, frame by frame,
// what to forward, hold back or where to cut the connection. Used where the emulator's own handles
// cannot hit a state precisely (right after the socket opens; while a summary insert or a delete is
// on the wire).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export type Verdict = 'forward' | 'drop' | 'swallow';

export interface ProxyConnection {
  /** 0 for the first upgrade attempt, 1 for the next... (refused attempts count too). */
  index: number;
  client: WebSocket;
  upstream: WebSocket | null;
  /** Cut both sides at once (the agent sees close 1006, as after a network failure). */
  kill(): void;
}

export interface WsProxy {
  url: string;
  connections: ProxyConnection[];
  /** Called for each client->server frame; 'drop' kills the connection before forwarding. */
  onClientFrame: (frame: string, conn: ProxyConnection) => Verdict;
  /** Called for each server->client frame; 'drop' kills the connection before forwarding. */
  onServerFrame: (frame: string, conn: ProxyConnection) => Verdict;
  /** Kill the connection with this index as soon as the agent's socket has opened (before any frame). */
  killOnOpen: Set<number>;
  /** Reset the TCP connection of this upgrade attempt before the handshake completes (never opens). */
  refuseUpgrade: Set<number>;
  /** Upgrade attempts so far (refused ones included); connection indexes count these. */
  attempts: number;
  close(): Promise<void>;
}

export async function startWsProxy(targetUrl: string): Promise<WsProxy> {
  const target = new URL(targetUrl);
  const http: Server = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const proxy: WsProxy = {
    url: '',
    connections: [],
    onClientFrame: () => 'forward',
    onServerFrame: () => 'forward',
    killOnOpen: new Set(),
    refuseUpgrade: new Set(),
    attempts: 0,
    async close() {
      for (const c of proxy.connections) c.kill();
      wss.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };

  http.on('upgrade', (req, socket, head) => {
    const index = proxy.attempts++;
    if (proxy.refuseUpgrade.has(index)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (client) => {
      const conn: ProxyConnection = {
        index,
        client,
        upstream: null,
        kill() {
          client.terminate();
          conn.upstream?.terminate();
        },
      };
      proxy.connections.push(conn);
      client.on('error', () => undefined);
      if (proxy.killOnOpen.has(index)) {
        // The upgrade has completed (the agent's socket is open): cut it before anything is said.
        setImmediate(() => conn.kill());
        return;
      }
      const url = new URL(req.url ?? '/', target);
      url.protocol = target.protocol;
      url.host = target.host;
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'api-key', 'openai-beta']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const up = new WebSocket(url.toString(), { headers, perMessageDeflate: false });
      conn.upstream = up;
      up.on('error', () => undefined);
      const pending: string[] = [];
      let dead = false;
      const die = () => {
        if (dead) return;
        dead = true;
        conn.kill();
      };
      up.on('open', () => {
        for (const f of pending.splice(0)) up.send(f);
      });
      up.on('message', (data: Buffer, isBinary: boolean) => {
        if (dead) return;
        const frame = isBinary ? data : data.toString();
        const verdict = typeof frame === 'string' ? proxy.onServerFrame(frame, conn) : 'forward';
        if (verdict === 'drop') return die();
        if (verdict === 'swallow') return;
        if (client.readyState === WebSocket.OPEN) client.send(frame);
      });
      client.on('message', (data: Buffer, isBinary: boolean) => {
        if (dead) return;
        const frame = isBinary ? data.toString('base64') : data.toString();
        const verdict = proxy.onClientFrame(frame, conn);
        if (verdict === 'drop') return die();
        if (verdict === 'swallow') return;
        if (up.readyState === WebSocket.OPEN) up.send(frame);
        else pending.push(frame);
      });
      up.on('close', (code, reason) => {
        if (dead) return;
        dead = true;
        if (client.readyState === WebSocket.OPEN) {
          // Pass a real close code on; 1005/1006 cannot be sent in a close frame.
          if (code === 1005 || code === 1006) client.terminate();
          else client.close(code, reason.toString());
        }
      });
      client.on('close', () => {
        dead = true;
        up.terminate();
      });
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const port = (http.address() as AddressInfo).port;
  proxy.url = `ws://127.0.0.1:${port}${target.pathname}`;
  return proxy;
}
