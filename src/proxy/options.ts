// realtime-proxy's public option and result types (startProxy's contract), apart from the server so
// the admission pipeline and the server can both read them without importing each other.
import type { IncomingMessage } from 'node:http';
import type { ProxyConnection } from './connection.js';
import type { ProxyLimits } from './limits.js';
import type { ConversationStore } from '../store/types.js';
import type { AgentOptions, ConnectionOptions, SummariserOptions } from '../types.js';

export interface ProxyAuth {
  /**
   * 'passthrough': the client's own key (Authorization: Bearer, api-key, or the
   * openai-insecure-api-key.<key> subprotocol) goes upstream; the proxy never stores it.
   * 'proxy-key': the upstream key is `upstreamKey`; clients present one of `clientTokens`
   * (none = any local client, allowed on loopback only).
   */
  mode: 'passthrough' | 'proxy-key';
  clientTokens?: string[];
}

export interface ProxyOptions {
  port?: number;
  host?: string;
  /** Upstream: from the CLI's backend plan (OpenAI, Azure, --url or the embedded emulator). */
  connection: ConnectionOptions;
  summariser: SummariserOptions;
  auth: ProxyAuth;
  /** Engine options shared by every connection (policy, reconnect, rollover, keepalive...). */
  engine?: Omit<AgentOptions, 'connection' | 'summariser' | 'journal' | 'transport' | 'observer' | 'log'>;
  /** Journal path for a connection (its id), or false. */
  journal?: false | ((connId: string) => string);
  /**
   * Conversation store (a directory of JSONL journals or a postgres:// URL) for clients that connect
   * with `?conversation=<id>`: that conversation is resumed (or created under that id), its lease held
   * while the client is connected. Without a store such a client is refused (HTTP 400). One store (one
   * pool, one migration) serves every connection; the proxy closes it at shutdown.
   */
  store?: string | ConversationStore;
  /** Lease length of a stored conversation (default 30 s). */
  leaseTtlMs?: number;
  /** Per-connection and per-process limits; each unset one keeps its default (limits.ts, docs/proxy.md "Limits"). */
  limits?: Partial<ProxyLimits>;
  transcriptionModel?: string;
  /** Serve wss: with a self-signed certificate (true) or the given PEM pair. */
  tls?: boolean | { cert: string; key: string };
  /** One object per connection event (--json). */
  onEvent?: (e: Record<string, unknown>) => void;
  log?: (line: string) => void;
  /** Called for each new connection (e.g. the live inspector attaches here); returns a detach function. */
  onConnection?: (conn: ProxyConnection) => (() => void) | void;
  /**
   * Seam for per-connection setup (e.g. `?conversation=<id>` resume from a store): may adjust the
   * engine options of one connection before its upstream opens.
   */
  setupConnection?: (req: { url: URL; headers: IncomingMessage['headers'] }, options: AgentOptions) => AgentOptions | Promise<AgentOptions>;
}

export interface RealtimeProxy {
  /** ws(s)://host:port/v1/realtime */
  url: string;
  /** http(s)://host:port/v1: baseURL for the openai SDK. */
  httpUrl: string;
  port: number;
  certificatePem?: string;
  connections(): ProxyConnection[];
  close(): Promise<void>;
}
