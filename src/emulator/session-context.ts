// What the parts of one emulated session share: who the session is, its configuration, its
// conversation and the outbox. Each part (input audio, transcription, items, tool calls, replies,
// responses) keeps its own state and reaches the shared parts through this one object, wired by
// RealtimeSession. Also the shapes of a response in flight, shared by the response parts.
import type { ConversationItem } from 'openai/resources/realtime/realtime';
import type { AudioFormatType } from './audio.js';
import { computeBlock, type ConversationStore, type StoredItem } from './conversation-store.js';
import type { ResolvedOptions } from './options.js';
import type { Ids, Rng } from './rng.js';
import type { Outbox } from './session-outbox.js';
import type { EffectiveSession } from './session-config.js';
import type { PlannedCall } from './tools.js';
import type { CacheResult, TokenBlock } from './usage.js';

export interface SessionContext {
  readonly id: string;
  readonly model: string;
  /** `transcription` for `?intent=transcription`: input audio and transcripts only, no responses. */
  readonly kind: 'realtime' | 'transcription';
  readonly dialect: 'ga' | 'beta';
  readonly conversationId: string;
  readonly opts: ResolvedOptions;
  readonly ids: Ids;
  readonly rng: Rng;
  readonly store: ConversationStore;
  /** Items dropped from the model context by server-side truncation (they stay in the conversation). */
  readonly excluded: Set<string>;
  readonly out: Outbox;
  /** The effective session configuration (replaced by each accepted session.update). */
  cfg: EffectiveSession;
}

export interface CallState extends PlannedCall {
  itemId: string;
  callId: string;
  stored?: StoredItem;
}

export interface ActiveResponse {
  id: string;
  inBand: boolean;
  modality: 'audio' | 'text';
  format: AudioFormatType;
  voice: unknown;
  maxTokens: number | 'inf';
  metadata: Record<string, string> | null;
  conversationId?: string;
  stored: StoredItem;
  words: string[];
  sentWords: number;
  chunks: number;
  sentChunks: number;
  textDeltas: string[];
  sentTextDeltas: number;
  inputBlocks: TokenBlock[];
  cache: CacheResult;
  limited: boolean;
  timer?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
  finished: boolean;
  /** Set when this response calls functions instead of speaking. */
  calls?: CallState[];
}

export type FinishStatus = 'completed' | 'cancelled' | 'incomplete';
export type FinishReason = 'turn_detected' | 'client_cancelled' | 'max_output_tokens';

/** A conversation item with its token block computed. */
export function makeStored(item: ConversationItem & { id: string }, extra: Partial<StoredItem> = {}): StoredItem {
  const base = { item, audioMs: 0, version: 0, ...extra };
  return { ...base, block: computeBlock(base) };
}

/** Starts streaming after the configured latency (or on the next turn of the event loop). */
export function scheduleStart(r: ActiveResponse, latencyMs: number, start: () => void): void {
  if (latencyMs > 0) r.timer = setTimeout(start, latencyMs);
  else r.immediate = setImmediate(start);
}
