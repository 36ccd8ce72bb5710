// The agent's coarse public state (after LiveKit Agents' AgentState), derived in this one function
// from the session's state tags, so the statechart stays the single source: a state says what it
// means (its tags) and nobody outside matches state names.
//
//   tag           on                                                     means
//   connecting    online.connecting, awaitingSession, configuring, seeding  a connection is being set up
//   reconnecting  reconnecting, online.rollingOver                       between two connections
//   closing       online.closing                                         stop() was called
//   thinking      response.requested, queue.queued | busy | clientPending,  a response is asked for and not
//                 tools.running | answering                              started, or the model's tools run
//   speaking      response.active                                        a response is being produced
//   summarising   summary.collecting | summarising | writing            a summary is under way
//   editing       summary.writing                                        the summary is inserted or old items pruned
//   busy          every state above in `live` (thinking, speaking, summarising)  idle() waits while it holds
//   closed, failed  the final states

/** What the agent is doing, coarsely: for status lines, inspectors and UIs. */
export type AgentState = 'connecting' | 'listening' | 'thinking' | 'speaking' | 'summarising' | 'reconnecting' | 'closed' | 'failed';

export const AGENT_STATES: readonly AgentState[] = ['connecting', 'listening', 'thinking', 'speaking', 'summarising', 'reconnecting', 'closed', 'failed'];

export type SessionTag = 'connecting' | 'reconnecting' | 'closing' | 'thinking' | 'speaking' | 'summarising' | 'editing' | 'busy' | 'closed' | 'failed';

/** What the derivation reads of a session snapshot (structural: any session snapshot fits). */
export interface TaggedSnapshot {
  status: 'active' | 'done' | 'error' | 'stopped';
  hasTag(tag: SessionTag): boolean;
  context: { link: { generation: number }; input: { firstGeneration?: number } };
}

/**
 * The public state of a session snapshot. A connection set up after a drop, a rollover or an expiry
 * (a later generation than the first) is `reconnecting` until it is live, handshake and seed included.
 * In `live`: speaking, then thinking, then summarising, else listening.
 */
export function publicState(s: TaggedSnapshot): AgentState {
  if (s.status === 'error' || s.hasTag('failed')) return 'failed';
  if (s.status !== 'active' || s.hasTag('closed') || s.hasTag('closing')) return 'closed';
  if (s.hasTag('reconnecting')) return 'reconnecting';
  if (s.hasTag('connecting')) return s.context.link.generation > (s.context.input.firstGeneration ?? 0) ? 'reconnecting' : 'connecting';
  if (s.hasTag('speaking')) return 'speaking';
  if (s.hasTag('thinking')) return 'thinking';
  if (s.hasTag('summarising')) return 'summarising';
  return 'listening';
}
