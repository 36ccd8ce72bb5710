// The turn model: one item of the mirrored server conversation, and what the conversation reports
// about its turns (transcripts, the window, summaries). Types only.
import type { RealtimeResponseUsage } from '../protocol/events.js';

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

