// The inspector's live views: Server-Sent Events streams that get the backlog on connect, then
// every frame, batched per tick into one write per client. A stalled tab (more than 4 MiB unsent)
// is dropped; its EventSource reconnects and gets a fresh backlog. A heartbeat keeps proxies open.
import type { IncomingMessage, ServerResponse } from 'node:http';

const SSE_HIGH_WATER = 4 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export class SseClients {
  private readonly clients = new Set<ServerResponse>();
  private queue: string[] = [];
  private flushScheduled = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor() {
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Queues one frame (already serialised) for every client; nothing is kept while nobody watches. */
  send(json: string): void {
    this.queue.push(`data: ${json}\n\n`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Opens a stream: the reset event with the hub's boot id, then the backlog (serialised frames). */
  open(req: IncomingMessage, res: ServerResponse, boot: string, backlog: string[]): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.socket?.setNoDelay(true);
    // Frames queued for this tick are already part of the backlog.
    this.flush();
    res.write(`retry: 1000\nevent: reset\ndata: ${JSON.stringify({ boot })}\n\n` + backlog.map((f) => `data: ${f}\n\n`).join(''));
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on('close', drop);
    res.on('error', drop);
  }

  flush(): void {
    this.flushScheduled = false;
    if (!this.queue.length) return;
    const chunk = this.queue.join('');
    this.queue = [];
    for (const res of this.clients) {
      if (res.writableLength > SSE_HIGH_WATER) {
        // A stalled tab: drop it; EventSource reconnects and gets a fresh backlog.
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  }

  /** Sends what is queued and ends every stream. */
  close(): void {
    clearInterval(this.heartbeat);
    this.flush();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
