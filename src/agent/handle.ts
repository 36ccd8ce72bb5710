// The agent handle and its typed events: what createRealtimeAgent returns. Types only.
import type { AnyActorRef } from 'xstate';
import type { AgentError } from '../errors.js';
import type { ToolCallRecord } from '../conversation/journal.js';
import type { SummaryEvent, TranscriptEvent, Turn, WindowEvent } from '../conversation/turn.js';
import type { SessionInfo } from '../protocol/session-info.js';
import type { AgentState } from '../../machines/session/public-state.js';

export type { AgentState } from '../../machines/session/public-state.js';

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
  error: AgentError;
  /**
   * Fired when any of its fields changes: `state` is the coarse public state (also `agent.state`);
   * `session` the lifecycle part of the session's state value (`online.live`, `reconnecting`, ...);
   * `summariser` the summariser's state; `pendingTranscripts` the user items still without a transcript.
   */
  state: { state: AgentState; session: string; summariser: string; pendingTranscripts: string[] };
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
  'tool.result': ToolCallRecord;
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
  /**
   * Resolves once nothing is under way (no response asked for or running, no turn waiting, no tool
   * running, no summary being made or written: no `busy` tag in the session) and the store has
   * everything said so far. A turn held while the connection switches counts as under way.
   */
  idle(): Promise<void>;
  /** What the agent is doing now (docs/architecture.md, "Public state"); the `state` event reports changes. */
  readonly state: AgentState;
  on<K extends AgentEventName>(event: K, handler: (payload: AgentEvents[K]) => void): () => void;
  /** The root XState actor (for the inspector). */
  readonly actor: AnyActorRef;
  readonly journalPath: string | null;
  /** The conversation's id in the store (null without a journal or store). */
  readonly conversationId: string | null;
}
