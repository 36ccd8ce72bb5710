// `realtime-agent --inspect[=PORT]`: a local, read-only live view of the agent's actors.
//
// node:http + Server-Sent Events, bound to 127.0.0.1 only. Every route needs the random token
// (`?token=`), 401 otherwise; anything but GET is 405 and there is no route that takes input, so
// the page cannot send events to the machines. The page is embedded (src/inspector/page.ts): no CDN,
// nothing fetched from the internet. Frames come from src/inspector/frame-hub.ts (sanitised, redacted,
// snapshot frames coalesced to <= 20 per second per actor); `tracePath` also writes them to a
// JSONL file the page can replay. See docs/inspector.md.
// This module assembles the parts: the hub, the trace file, the live streams (inspector-sse.ts)
// and the routes (inspector-routes.ts).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameHub, redactJson, type Frame, type InspectableAgent } from '../src/inspector/frames.js';
import { inspectorHandler } from './inspector-routes.js';
import { SseClients } from './inspector-sse.js';
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
  const clients = new SseClients();
  hub.addSink((frame) => {
    if (trace) trace.write(frame);
    if (!clients.size) return; // nothing to serialise for
    clients.send(serialize(frame));
  });

  let port = 0;
  const server = createServer(inspectorHandler({ token, port: () => port, hub, clients, serialize, secrets, title: options.title }));
  server.keepAliveTimeout = 5_000;
  try {
    port = await listenLoopback(server, options.port ?? 0);
  } catch (e) {
    clients.close();
    throw e;
  }

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
        hub.close();
        clients.close();
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

/** Listens on 127.0.0.1 only; answers the port. */
async function listenLoopback(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
