// The agent handle and its typed events: what createRealtimeAgent returns. Types only.
import type { AnyActorRef } from 'xstate';
import type { AgentError } from '../errors.js';
import type { ToolCallRecord } from '../conversation/journal.js';
import type { SummaryEvent, TranscriptEvent, Turn, WindowEvent } from '../conversation/turn.js';
import type { SessionInfo } from '../protocol/session-info.js';

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
  /** Resolves once no response is in flight and the summariser is idle. */
  idle(): Promise<void>;
  on<K extends AgentEventName>(event: K, handler: (payload: AgentEvents[K]) => void): () => void;
  /** The root XState actor (for the inspector). */
  readonly actor: AnyActorRef;
  readonly journalPath: string | null;
  /** The conversation's id in the store (null without a journal or store). */
  readonly conversationId: string | null;
}
