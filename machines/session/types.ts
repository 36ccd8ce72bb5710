// The session's vocabulary: what it is given (input), what it keeps (context: data only, the state
// lives in the statechart), what it hears (events) and what it tells the agent (emitted events).
import type { DoneActorEvent } from 'xstate';
import type { WireEvent } from '../../src/protocol/events.js';
import type { AgentError } from '../../src/errors.js';
import type { EarlyTranscript } from '../../src/conversation/mirror-reducer.js';
import type { Dialect } from '../../src/protocol/events.js';
import type { SessionInfo } from '../../src/protocol/session-info.js';
import type { ContextStrategy, PolicyOptions } from '../../src/conversation/context-strategy.js';
import type { SummaryEvent, TranscriptEvent, Turn, WindowEvent } from '../../src/conversation/turn.js';
import type { SummariserReport } from '../summariser.machine.js';
import type { TranscriptOutput } from '../transcript.machine.js';
import type { ToolCallRequest, ToolsReport } from '../tools.machine.js';
import type { ToolCallOutput } from '../tool-call.machine.js';

/** Commands the session sends to the socket actor. */
export type SocketCommand = { type: 'SEND'; event: WireEvent } | { type: 'CLOSE'; code?: number; reason?: string };

/** What the socket actor reports. */
export type SocketReport =
  | { type: 'SOCKET.OPEN' }
  | { type: 'SOCKET.CLOSED'; code: number; reason: string }
  | { type: 'SOCKET.FAILED'; error: AgentError }
  | { type: 'SERVER.EVENT'; event: WireEvent };

export interface TranscriptDoneEvent extends DoneActorEvent<TranscriptOutput> {
  type: 'xstate.done.actor.transcript.*';
}

/**
 * Facts the session derives from one SERVER.EVENT (raised, never sent from outside). Each is handled
 * in exactly one place, so no state can shadow another's handling of the raw server event.
 */
export type DerivedEvent =
  | { type: 'SESSION.CREATED'; info: SessionInfo }
  | { type: 'SESSION.UPDATED' }
  | { type: 'SEED.ACKED' }
  /** A non-fatal, non-benign server error (fatal ones end the session before this is raised). */
  | { type: 'SERVER.ERROR'; code: string; message: string; eventId: string | null }
  | { type: 'RESPONSE.CREATED'; responseId: string }
  | { type: 'RESPONSE.DONE'; responseId: string }
  /** conversation_already_has_active_response: our response.create must wait. */
  | { type: 'RESPONSE.BUSY' }
  /** The summariser entered a state (from its SUMMARISER.STATE report). */
  | { type: 'SUMMARY.PHASE'; phase: SummaryPhase }
  /** An in-band response.done whose output holds function calls (raised before its RESPONSE.DONE). */
  | { type: 'TOOLS.CALLED'; responseId: string; calls: ToolCallRequest[] }
  /** The calls' outputs went in: one response.create is due (the queue region sends it). */
  | { type: 'TOOLS.ANSWERED'; responseId: string };

export type SummaryPhase = 'idle' | 'collecting' | 'summarising' | 'writing' | 'cooldown';

export type SessionEvent =
  | SocketReport
  | SummariserReport
  | ToolsReport
  | TranscriptDoneEvent
  | DerivedEvent
  | { type: 'USER.TEXT'; text: string }
  | { type: 'USER.COMMIT' }
  | { type: 'INTERRUPT'; itemId: string; playedMs: number; audioMs: number }
  | { type: 'AUDIO.MS'; itemId: string; ms: number }
  | { type: 'SUMMARISE_NOW' }
  /** Observer mode (realtime-proxy): a client's response.create the server has not started (pending) or has. */
  | { type: 'CLIENT.RESPONSE'; pending: boolean }
  | { type: 'STOP' };

/** The clock the session reads `expires_at` against; SimulatedClock-compatible. */
export interface SessionClock {
  now(): number;
}

export interface SessionInput {
  url: string;
  dialect: Dialect;
  model: string;
  /** GA session config sent in session.update. */
  sessionConfig: Record<string, unknown>;
  policy: PolicyOptions;
  /** When to summarise (asked after each in-band response.done); also handed to the summariser. */
  strategy?: ContextStrategy;
  /** connecting, awaiting session.created, configuring and seeding each time out after this (ms). */
  connectTimeoutMs?: number;
  firstSummaryNumber?: number;
  /** Reconnect after unexpected drops: attempts, then a clear failure. Fatal conditions never retry. */
  reconnect?: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** Roll over to a new session this long before `expires_at` (at a turn boundary). */
  rolloverMarginMs?: number;
  /** A connection counts as stable (reconnect attempts reset) after this long live. */
  stableAfterMs?: number;
  /** A response with no response.done after this long is treated as ended (default 5 min). */
  responseTimeoutMs?: number;
  /** Wall clock for `expires_at` and turn times. Without one, nothing rolls over early and turns get time 0. */
  clock?: SessionClock;
  /** Random source in [0, 1) for back-off jitter. Without one: no jitter (the midpoint). */
  random?: () => number;
  /** Resume: what the first session is seeded with (the store's summary and uncovered turns). */
  seed?: { id: string; text: string; covers: string[] };
  /** Resume: first connection generation (> 0 continues, so seed_<g> ids stay unique in the store). */
  firstGeneration?: number;
  /** Observer mode (realtime-proxy): never originate a response.create; the client owns the turns. */
  observer?: boolean;
  /** Tools the agent runs (declared in sessionConfig): the `tools` child answers the model's calls. */
  tools?: { timeouts: Record<string, number>; defaultTimeoutMs: number };
}

/** What a new session is seeded with after a reconnect or rollover. */
export interface SessionSeed {
  id: string;
  text: string;
  covers: string[];
  eventId: string | null;
}

export const CONTINUATION_NOTE =
  'This conversation continues an earlier session: the first system message holds what was said so far. Do not greet the user again, and keep the language the user has been speaking.';

export interface SessionContext {
  input: SessionInput;
  session: SessionInfo | null;
  /** The server conversation's turns in order (the mirror reducer's `turns`). */
  mirror: Turn[];
  /** Transcription events that came before their item. */
  early: Record<string, EarlyTranscript>;
  /** Item ids with a transcript hunt running (children `transcript.<id>`). */
  hunting: string[];
  /** Out-of-band response ids (our summaries), never counted. */
  oobResponses: string[];
  /** Output audio length per item (ms), for truncation at barge-in. */
  audioMs: Record<string, number>;
  /** usage.total_tokens of the last in-band response.done. */
  window: number;
  cachedTokens: number | undefined;
  costUsd: number;
  /** The in-band response in flight (the response region says whether there is one). */
  activeResponseId: string | null;
  /** event_id of the response.create in flight (the response region's `requested`), for error matching. */
  requestEventId: string | null;
  /** response.create events sent on this session (their event ids). */
  requests: number;
  /** A user turn waits for a response.create; kept across a reconnect or rollover (the queue region is not). */
  turnWaiting: boolean;
  seed: SessionSeed | null;
  error: AgentError | null;
  /** The connections so far (grouped: see ConnectionCounters). */
  link: ConnectionCounters;
  /** Responses whose tool calls are still running (their outputs + one response.create follow). */
  toolBatches: string[];
}

/**
 * Bookkeeping of the connections so far, changed only when a connection opens, goes live or drops.
 * One field of the context rather than seven: XState copies the context object on every assign, and
 * V8 keeps an object built that way in fast (non-dictionary) mode only up to about 18 properties.
 */
export interface ConnectionCounters {
  /** Connection generation: 0 for the first socket, +1 per reconnect or rollover. */
  generation: number;
  /** Sockets that opened: after the first, a drop is network trouble, not a bad URL or key. */
  socketsOpened: number;
  /** Connections that went live (error wording: "dropped" vs "refused"). */
  timesLive: number;
  reconnectAttempt: number;
  reconnectReason: 'drop' | 'rollover' | 'expired' | null;
  reconnectDelayMs: number;
  /** event_id of this connection's session.update (`rtc_cfg_<generation>`). */
  configEventId: string | null;
}

export type SessionEmitted =
  | { type: 'session'; info: SessionInfo }
  | { type: 'turn'; turn: Turn }
  | { type: 'transcript'; transcript: TranscriptEvent }
  | { type: 'window'; window: WindowEvent }
  | { type: 'summary'; summary: SummaryEvent }
  | { type: 'summary.inserted'; id: string; text: string; replaces: string[] }
  /** The summariser decided not to summarise (nothing to fold, or the summary would not shrink the window). */
  | { type: 'summary.skipped'; reason: string }
  | { type: 'deleted'; id: string }
  | { type: 'truncated'; id: string; audioEndMs: number; text: string | null }
  | { type: 'error'; error: AgentError }
  | { type: 'response'; phase: 'created' | 'done'; responseId: string; status?: string }
  | { type: 'reconnect'; attempt: number; delayMs: number; reason: 'drop' | 'rollover' | 'expired' }
  | { type: 'seeded'; id: string; generation: number }
  /** The summariser entered a state (for the agent's `state` event). */
  | { type: 'summariser'; state: string }
  | { type: 'tool.call'; responseId: string; callId: string; name: string; arguments: string }
  | { type: 'tool.result'; responseId: string; result: ToolCallOutput };
