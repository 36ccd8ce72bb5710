// Starts an emulator in this process and returns its handle (URL, hints, sessions, close).
import { EmulatorServer } from './server.js';
import { resolveOptions, type EmulatorOptions } from './options.js';
import type { EmulatorSessionHandle } from './realtime-session.js';
import type { ToolCallScript } from './tools.js';

export interface Emulator {
  /** ws://host:port/v1/realtime (wss: with TLS). */
  url: string;
  /** http(s)://host:port/v1: baseURL for the openai SDK. */
  httpUrl: string;
  port: number;
  /** PEM of the self-signed certificate (tls: true) or of the given cert. */
  certificatePem?: string;
  /** File holding certificatePem (tls: true only; removed on close). */
  certificatePath?: string;
  close(): Promise<void>;
  /** FIFO: the next committed user audio item (any session) gets this transcript. */
  hint(text: string): void;
  /** Script the function calls of the next in-band response (any session; FIFO, one entry per response). */
  toolCalls(calls: ToolCallScript | ToolCallScript[]): void;
  /** Live sessions, newest last. */
  sessions(): EmulatorSessionHandle[];
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = resolveOptions(options);
  const server = new EmulatorServer(opts);
  await server.listen();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const ws = server.tls ? 'wss' : 'ws';
  let closed: Promise<void> | undefined;
  return {
    url: `${ws}://${host}:${server.port}/v1/realtime`,
    httpUrl: `${server.scheme}://${host}:${server.port}/v1`,
    port: server.port,
    certificatePem: server.tls?.cert,
    certificatePath: server.tls?.path,
    close: () => (closed ??= server.close()),
    hint: (text: string) => {
      server.globalHints.push(text);
    },
    toolCalls: (calls) => {
      server.globalToolCalls.push(Array.isArray(calls) ? [...calls] : [calls]);
    },
    sessions: () => [...server.sessions],
  };
}
