// The client side of a handshake, bounded: from TCP accept (after TLS for wss:) until the upgrade
// request is complete, a client has `handshakeTimeoutMs`; a slowloris connection that trickles its
// headers is destroyed then. Node's own headersTimeout/requestTimeout are set to the same value for
// plain HTTP requests, and the TLS handshake gets the same budget.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface HandshakeGuard {
  /** The socket's upgrade request is complete: its timer stops (the proxy's own work is bounded elsewhere). */
  arrived(socket: Socket): void;
}

export function guardHandshakes(server: Server, tls: boolean, timeoutMs: number): HandshakeGuard {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  if (timeoutMs > 0) {
    server.headersTimeout = timeoutMs;
    server.requestTimeout = timeoutMs;
    // The socket the 'upgrade' event carries: the TLS socket for wss:, the TCP one otherwise.
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      const t = setTimeout(() => socket.destroy(), timeoutMs);
      t.unref();
      timers.set(socket, t);
      socket.once('close', () => clearTimeout(t));
    });
  }
  return {
    arrived(socket) {
      const t = timers.get(socket);
      if (t) clearTimeout(t);
      timers.delete(socket);
    },
  };
}
