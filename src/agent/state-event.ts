// The `state` event: the public state (machines/session/public-state.ts), the session's lifecycle,
// the summariser's state and the pending transcripts, reported when any of them changes. Also tells
// the agent when the session goes live (held input is released then).
import { publicState, type AgentState } from '../../machines/session.machine.js';
import type { AgentEventName, AgentEvents } from './handle.js';

/** What the reporter reads of a session snapshot. */
type SessionSnapshot = Parameters<typeof publicState>[0] & { value: unknown; context: { hunting: readonly string[] } };

/** The lifecycle part of the session's state value: `online.live`, `reconnecting` (regions left out). */
export function lifecycleOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0];
  return `${k}.${typeof v === 'string' ? v : Object.keys(v as object)[0]}`;
}

export interface StateReporter {
  /** Every snapshot of the session passes here. */
  next(snap: SessionSnapshot): void;
  /** The session is `online.live` (as of the last snapshot). */
  readonly live: boolean;
}

export function createStateReporter(
  fire: <K extends AgentEventName>(name: K, payload: AgentEvents[K]) => void,
  summariser: () => string,
  wentLive: () => void,
): StateReporter {
  let live = false;
  let lastKey = '';
  // Several snapshots per server event: the common case (nothing the event reports changed; the
  // hunting list is immutable, so the same array means the same ids) is decided without a key.
  let lastSession = '';
  let lastSummariser = '';
  let lastPublic: AgentState | '' = '';
  let lastHunting: readonly string[] | null = null;
  return {
    get live() {
      return live;
    },
    next(snap) {
      const session = lifecycleOf(snap.value);
      const nowLive = session === 'online.live';
      if (nowLive && !live) {
        live = true;
        wentLive();
      } else if (!nowLive) live = false;
      const state = publicState(snap);
      const summariserNow = summariser();
      if (session === lastSession && summariserNow === lastSummariser && snap.context.hunting === lastHunting && state === lastPublic) return;
      lastSession = session;
      lastSummariser = summariserNow;
      lastHunting = snap.context.hunting;
      lastPublic = state;
      const pendingTranscripts = snap.context.hunting.slice();
      const key = `${state}|${session}|${summariserNow}|${pendingTranscripts.join(',')}`;
      if (key !== lastKey) {
        lastKey = key;
        fire('state', { state, session, summariser: summariserNow, pendingTranscripts });
      }
    },
  };
}
