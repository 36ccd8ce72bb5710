// The inspector's frames: the wire format of the live view (one JSON object per SSE message) and of
// `--trace` files (one per JSONL line). Types only, plus the format version.
import type { AnyActorRef } from 'xstate';
import type { RealtimeAgent } from '../types.js';

/** What the inspector needs from an agent: the root actor and the typed event subscription. */
export interface InspectableAgent {
  readonly actor: AnyActorRef;
  on: RealtimeAgent['on'];
  /** The agent's public state now (agent.state); later changes come with the `state` event. */
  readonly state?: RealtimeAgent['state'];
}

// ---------------------------------------------------------------------------------------------
// Frames (the wire and trace format; one JSON object per SSE message / JSONL line)

export const FRAME_VERSION = 1;

export interface HelloFrame {
  k: 'hello';
  v: typeof FRAME_VERSION;
  t: number;
  /** Random id of this inspector instance; a new one means the CLI restarted. */
  boot: string;
  trigger?: number;
  target?: number;
}
export interface ActorFrame {
  k: 'actor';
  t: number;
  sid: string;
  id: string;
  systemId?: string;
  parent?: string;
  /** 'machine' actors carry `def` (machine.toJSON(), sanitised); others (callback, promise...) do not. */
  kind: 'machine' | 'actor';
  def?: unknown;
}
export interface SnapFrame {
  k: 'snap';
  t: number;
  sid: string;
  status: string;
  value?: unknown;
  /** Ids of every active state node (compound parents included). */
  active?: string[];
  /** Active leaf configurations passed through since the previous frame (only when > 1). */
  via?: string[][];
  context?: unknown;
  /** How many snapshots this frame stands for (coalescing). */
  n: number;
}
export interface EventFrame {
  k: 'event';
  t: number;
  sid: string;
  id: string;
  from?: string;
  type: string;
  /** For wrapper events (e.g. SERVER.EVENT / SEND): the wrapped payload's `type`. */
  detail?: string;
}
export interface WindowFrame {
  k: 'window';
  t: number;
  tokens: number;
  trigger: number;
  target: number;
}
export interface SummaryFrame {
  k: 'summary';
  t: number;
  id: string;
  turns: number;
  before: number;
  after: number;
  text?: string;
}
export interface TurnFrame {
  k: 'turn';
  t: number;
  id: string;
  role: string | null;
  kind: string;
  text?: string | null;
  textState?: string;
}
export interface ErrorFrame {
  k: 'error';
  t: number;
  code: string;
  message: string;
  fatal?: boolean;
}
/** The agent's public state (agent.state: listening, thinking, speaking, ...), when it changes. */
export interface AgentStateFrame {
  k: 'state';
  t: number;
  state: string;
}
export interface StopFrame {
  k: 'stop';
  t: number;
  sid: string;
}

export type Frame =
  | HelloFrame
  | ActorFrame
  | SnapFrame
  | EventFrame
  | WindowFrame
  | SummaryFrame
  | TurnFrame
  | ErrorFrame
  | AgentStateFrame
  | StopFrame;
