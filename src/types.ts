// The library's public contract: options, the turn model, typed events and the agent handle.
import type { AnyActorRef } from 'xstate';
import type { Dialect, RealtimeResponseUsage } from './protocol/events.js';

export type { Dialect };

export type Role = 'user' | 'assistant' | 'system';

/** Where a turn's text came from, and whether it is final. */
export type TextState =
  | 'pending' // user audio whose transcript has not arrived yet
  | 'final' // transcript or text known
  | 'inaudible' // transcription failed or never came after every retry: text is "[inaudible]"
  | 'none'; // item without text (e.g. function call arguments only)

/** One item of the mirrored server conversation. */
export interface Turn {
  /** Server item id (`item_...`, or `sum_<n>` for summaries). */
  id: string;
  kind: 'message' | 'function_call' | 'function_call_output' | 'other';
  /** Message role; null for function items (they have no role). */
  role: Role | null;
  /** Transcript or text; null while pending. */
  text: string | null;
  textState: TextState;
  /** True when the item carries audio (user input audio or assistant output audio). */
  audio: boolean;
  /** Function items: the call id that pairs a call with its output. */
  callId?: string;
  name?: string;
  /** Set on summary items: the ids the summary replaced (journal keeps them). */
  summaryOf?: string[];
  /** Assistant audio truncated at barge-in: milliseconds actually heard. */
  heardMs?: number;
  /** Response that produced this item, for assistant output. */
  responseId?: string;
  /** Local wall-clock time the item was first seen. */
  at: number;
}

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

export type TurnDetection = 'server_vad' | 'semantic_vad' | null | Record<string, unknown>;

export interface SessionSettings {
  instructions?: string;
  voice?: string;
  /** Input transcription model; null disables transcription. */
  transcriptionModel?: string | null;
  turnDetection?: TurnDetection;
  outputModalities?: ['audio'] | ['text'];
  /** Server-side safety net (GA only): 'auto' | 'disabled' | { retentionRatio } */
  truncation?: 'auto' | 'disabled' | { retentionRatio: number; postInstructionsTokens?: number };
  /** Anything else to merge into the GA session.update (advanced). */
  extra?: Record<string, unknown>;
}

export interface PolicyOptions {
  /** Summarise when the window (total_tokens of the last in-band response.done) reaches this. */
  triggerTokens: number;
  /** Fold enough old turns that the window falls to about this. */
  targetTokens: number;
  /** Always keep at least this many of the most recent turns verbatim. */
  keepLastTurns: number;
  /** Role of the summary item; 'system' avoids the text-only answers assistant text can cause. */
  summaryRole: 'system' | 'user' | 'assistant';
  /** Language of the summary; undefined = the conversation's own language. */
  summaryLanguage?: string;
  /** Wait at most this long for pending user transcripts before summarising (ms). */
  transcriptWaitMs: number;
  /** Transcript retrieve loop: attempts and base back-off (attempt n waits n * base). */
  transcriptMaxAttempts: number;
  transcriptBackoffMs: number;
  /** How long to wait for the server's acknowledgement of an insert or delete (ms). */
  ackTimeoutMs: number;
  /** After a failed summary, wait this long before trying again (ms). */
  cooldownMs: number;
  /**
   * When to summarise and which turns to fold: 'hysteresis' (default: fold the oldest turns until the
   * window is about `targetTokens`), 'cache-aware' (fold where the fewest tokens are re-billed once the
   * summary busts the prompt cache), or your own `ContextStrategy` object.
   */
  strategy?: StrategyName | import('./conversation/strategy.js').ContextStrategy;
}

export type StrategyName = 'hysteresis' | 'cache-aware';

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
  conversation?: import('./store/open.js').OpenedConversation;
  /** Where journal entries go that the store could not take (default: next to the journal file). */
  storeSpillPath?: string;
  /** stop() waits this long for a store that is down before spilling what is left (default 5000 ms). */
  storeCloseTimeoutMs?: number;
  /**
   * Functions the model may call: `{ name, description, parameters (JSON Schema or zod), execute, timeoutMs? }`.
   * Calls from one response run in parallel; their outputs go back with one response.create.
   */
  tools?: import('./tools/types.js').Tool[];
  /** tool_choice in session.update (default "auto"). */
  toolChoice?: import('./tools/types.js').ToolChoice;
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
  transport?: import('./protocol/transport.js').TransportFactory;
  /**
   * Observer mode (used by realtime-proxy): the engine originates no turns. It never sends
   * response.create of its own (the client decides when to respond); it still mirrors, fetches
   * transcripts, summarises, prunes, journals and rolls over.
   */
  observer?: boolean;
}

export interface WindowEvent {
  tokens: number;
  trigger: number;
  target: number;
  usage: RealtimeResponseUsage;
  /** Cost so far in USD, from usage and the model's price table. */
  costUsd: number;
  responseId: string;
}

export interface SummaryEvent {
  id: string;
  text: string;
  replacedIds: string[];
  turns: number;
  windowBefore: number;
  /** Estimate of the window after pruning (tokens of kept items + summary). */
  windowAfterEstimate: number;
}

export interface TranscriptEvent {
  itemId: string;
  text: string;
  final: boolean;
  source: 'event' | 'retrieve' | 'inaudible';
}

export interface SessionInfo {
  id: string;
  model: string;
  expiresAt: number | null;
  url: string;
  dialect: Dialect;
}

export interface AgentEvents {
  session: SessionInfo;
  turn: Turn;
  transcript: TranscriptEvent;
  /** Streaming assistant transcript/text. */
  'assistant.delta': { itemId: string; responseId: string; delta: string };
  window: WindowEvent;
  summary: SummaryEvent;
  /** A summary (automatic or summariseNow) was not made: the reason says why (nothing to fold, or it would not shrink the window). */
  'summary.skipped': { reason: string };
  error: import('./errors.js').AgentError;
  state: { session: string; summariser: string; pendingTranscripts: string[] };
  /** Output audio (pcm16 24 kHz mono). Audio plane: never passes through a machine. */
  audio: { itemId: string; responseId: string; pcm: Buffer };
  'audio.done': { itemId: string; responseId: string };
  'speech.started': { itemId: string; audioStartMs: number };
  'speech.stopped': { itemId: string; audioEndMs: number };
  'response.created': { responseId: string };
  'response.done': { responseId: string; status: string };
  closed: { code: number; reason: string };
  /** A reconnect (after a drop) or a rollover (planned, or at expiry) is under way. */
  reconnect: { attempt: number; delayMs: number; reason: 'drop' | 'rollover' | 'expired' };
  /** The new session was seeded with the summary and recent turns. */
  seeded: { id: string; generation: number };
  /** The model called a tool: its arguments are being validated and the tool run. */
  'tool.call': { callId: string; name: string; arguments: string; responseId: string };
  /** A tool call settled (done, failed, timedOut or cancelled), with what the model was told. */
  'tool.result': import('./tools/types.js').ToolCallEvent;
}

export type AgentEventName = keyof AgentEvents;

export interface RealtimeAgent {
  start(): Promise<SessionInfo>;
  stop(): Promise<void>;
  /** A user text turn followed by a response. */
  sendText(text: string): void;
  /** Microphone audio, pcm16 24 kHz mono; goes straight to the socket. */
  appendAudio(pcm: Buffer): void;
  /** Commit the input buffer and ask for a response (manual turn detection). */
  commitAudio(): void;
  /**
   * Barge-in: cancel the response in flight, truncate the playing item to what was heard, and abort
   * running tool calls (their signal fires; the model gets "cancelled"). No argument: nothing is playing.
   */
  interrupt(heard?: { itemId: string; playedMs: number }): void;
  /** Advanced: send a raw client event (GA shape), e.g. function_call_output items for tools. */
  send(event: { type: string; [key: string]: unknown }): void;
  /** Summarise now, whatever the window (still never while a response is in flight). */
  summariseNow(): void;
  /** The local mirror, in server order. */
  history(): Turn[];
  /** Resolves once no response is in flight and the summariser is idle. */
  idle(): Promise<void>;
  on<K extends AgentEventName>(event: K, handler: (payload: AgentEvents[K]) => void): () => void;
  /** The root XState actor (for the inspector). */
  readonly actor: AnyActorRef;
  readonly journalPath: string | null;
  /** The conversation's id in the store (null without a journal or store). */
  readonly conversationId: string | null;
}
