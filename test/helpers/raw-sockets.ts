// Raw TCP tools for the proxy's edge tests: a hand-made WebSocket upgrade (to drop or stall a client
// mid-handshake, or to stop reading), a TCP relay in front of the emulator (to slow its accept and to
// see the bytes the proxy sends upstream), and an HTTP refusal reader.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/** Sends a WebSocket upgrade request by hand on a raw socket (never completes a handshake itself). */
export function rawUpgrade(wsUrl: string, headers: Record<string, string> = {}): Socket {
  const u = new URL(wsUrl);
  const socket = connect(Number(u.port), u.hostname);
  const lines = [
    `GET ${u.pathname}${u.search} HTTP/1.1`,
    `Host: ${u.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.on('error', () => {});
  return socket;
}

/** Resolves with everything the server wrote once it closes the socket. */
export function readUntilClosed(socket: Socket): Promise<string> {
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  return new Promise((resolve) => socket.once('close', () => resolve(got)));
}

export interface Relay {
  url: string;
  /** The first bytes of each connection the relay accepted (the upgrade request the proxy sent). */
  requests: string[];
  /** Connections accepted and not yet closed on both sides. */
  open(): number;
  close(): Promise<void>;
}

/** A TCP relay to `target` that waits `delayMs` before connecting each accepted socket through. */
export async function slowRelay(targetWsUrl: string, delayMs: number): Promise<Relay> {
  const target = new URL(targetWsUrl);
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    const first: Buffer[] = [];
    let recorded = false;
    client.on('data', (d) => {
      if (!recorded) first.push(d);
    });
    client.pause();
    const timer = setTimeout(() => {
      if (client.destroyed) return;
      const up = connect(Number(target.port), target.hostname, () => {
        recorded = true;
        requests.push(Buffer.concat(first).toString('latin1'));
        for (const b of first) up.write(b);
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
      sockets.add(up);
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
      client.on('close', () => up.destroy());
      up.on('close', () => {
        client.destroy();
        sockets.delete(up);
      });
    }, delayMs);
    client.on('close', () => {
      clearTimeout(timer);
      sockets.delete(client);
    });
    client.resume(); // collect the request while waiting (nothing is forwarded before the delay)
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}${target.pathname}`,
    requests,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
