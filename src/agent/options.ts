// The agent's options: where to connect, the session, the context policy, the summariser, the store,
// tools and the advanced seams. Types only.
import type { Dialect } from '../protocol/events.js';
import type { SessionSettings } from '../protocol/session-config.js';
import type { TransportFactory } from '../protocol/transport.js';
import type { PolicyOptions } from '../conversation/context-strategy.js';
import type { OpenedConversation } from '../store/open.js';
import type { Tool, ToolChoice } from '../tools/types.js';

export interface ConnectionOptions {
  /** Full realtime URL (ws:, wss:); defaults to OpenAI's GA endpoint when an API key is set. */
  url?: string;
  apiKey?: string;
  model?: string;
  dialect?: Dialect;
  /** Azure OpenAI: https://<resource>.openai.azure.com and the deployment name. */
  azureEndpoint?: string;
  azureDeployment?: string;
  /** Extra trusted CA (PEM) for wss: servers with private certificates (e.g. the emulator with --tls). */
  ca?: string | Buffer;
  /** Abort connecting after this long (ms). */
  connectTimeoutMs?: number;
}

export interface SummariserOptions {
  /** 'chat': chat completions through the openai SDK (default); 'realtime-oob': out-of-band response. */
  kind?: 'chat' | 'realtime-oob';
  model?: string;
  baseURL?: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface AgentOptions {
  connection?: ConnectionOptions;
  session?: SessionSettings;
  policy?: Partial<PolicyOptions> & { preset?: 'default' | 'seedDemo' };
  summariser?: SummariserOptions;
  /**
   * Reconnect after an unexpected drop or a dead socket: exponential back-off with jitter, then a
   * clear failure. Fatal conditions (bad key, wrong dialect, quota, model) never retry. false = off.
   */
  reconnect?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number } | false;
  /** Roll over to a fresh session this long before `expires_at` (default 5 min); false = never. */
  rolloverMarginMs?: number | false;
  /** Ping the server this often; no traffic for 3 intervals means the socket is dead (default 15 s). */
  keepaliveMs?: number;
  /** A response with no `response.done` after this long is treated as ended, with a warning (default 5 min). */
  responseTimeoutMs?: number;
  /** JSONL journal path; false disables it. Ignored when `conversation` is given (the store is the journal). */
  journal?: string | false;
  /**
   * A conversation opened with openConversation(): its store (JSONL directory or PostgreSQL) receives
   * the journal, its lease is renewed while the agent runs, and a resumed one seeds the first session.
   * The agent closes it in stop().
   */
  conversation?: OpenedConversation;
  /** Where journal entries go that the store could not take (default: next to the journal file). */
  storeSpillPath?: string;
  /** stop() waits this long for a store that is down before spilling what is left (default 5000 ms). */
  storeCloseTimeoutMs?: number;
  /**
   * Functions the model may call: `{ name, description, parameters (JSON Schema or zod), execute, timeoutMs? }`.
   * Calls from one response run in parallel; their outputs go back with one response.create.
   */
  tools?: Tool[];
  /** tool_choice in session.update (default "auto"). */
  toolChoice?: ToolChoice;
  /** Default per-call timeout for tools without their own timeoutMs (default 30 s). */
  toolTimeoutMs?: number;
  /**
   * Record every WebSocket frame (both ways, monotonic ms timestamps, audio as byte counts, key
   * redacted, mode 0600) to this JSONL file; `realtime-emulator --replay FILE` checks it later.
   */
  record?: string;
  /** Logger for one-line diagnostics (unknown events, benign errors). Defaults to silent. */
  log?: (line: string) => void;
  /**
   * Advanced: opens the connection instead of the built-in `ws` socket (a proxy, a test harness). It
   * must speak GA-shaped events and emit `open`, `event`, `audio`, `close`, `failure` as
   * `RealtimeTransport` (src/protocol/transport.ts) describes.
   */
  transport?: TransportFactory;
  /**
   * Observer mode (used by realtime-proxy): the engine originates no turns. It never sends
   * response.create of its own (the client decides when to respond); it still mirrors, fetches
   * transcripts, summarises, prunes, journals and rolls over.
   */
  observer?: boolean;
}
