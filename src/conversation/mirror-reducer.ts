// The conversation mirror as a pure reducer: (mirror, server event) -> { mirror, effects }.
// One small handler per event type. The session machine applies the effects (emit a turn, start or
// feed a transcript hunt, note a response's start or end); nothing here knows XState or I/O.
import type { RealtimeResponseUsage, WireEvent } from '../protocol/events.js';
import { isObject } from '../protocol/parse.js';
import { routeOf, type MirrorEventType } from '../protocol/event-registry.js';
import { INAUDIBLE } from '../protocol/constants.js';
import type { TranscriptEvent, Turn } from './turn.js';
import { turnFromItem } from './items.js';
import { findTurn, removeTurn, trimToHeard, updateTurn, upsertTurn } from './mirror.js';

/**
 * Transcription events that arrived before their item (the parent replays them to the hunt). Deltas
 * never reach the mirror: the registry routes them to the agent's audio plane, which only shows them;
 * the turn's text is the completed or retrieved transcript.
 */
export interface EarlyTranscript {
  completed?: string;
  failed?: boolean;
}

export interface MirrorState {
  /** The server conversation, in `previous_item_id` order, one entry per id. */
  readonly turns: readonly Turn[];
  readonly early: Readonly<Record<string, EarlyTranscript>>;
  /** Items whose transcript is being hunted (the session's `transcript.<id>` children). */
  readonly hunting: readonly string[];
  /** Out-of-band responses (our own summaries): never count towards the window or in-flight state. */
  readonly oob: readonly string[];
}

/** What a transcript hunt is told (the transcript machine's own events). */
export type HuntEvent = { type: 'TRANSCRIPT.COMPLETED'; transcript: string } | { type: 'TRANSCRIPT.FAILED' };

export type MirrorEffect =
  | { type: 'turn'; turn: Turn }
  | { type: 'transcript'; transcript: TranscriptEvent }
  | { type: 'deleted'; id: string }
  | { type: 'hunt.start'; itemId: string; replay: HuntEvent[] }
  | { type: 'hunt.send'; itemId: string; event: HuntEvent }
  | { type: 'hunt.stop'; itemId: string }
  | { type: 'response.created'; responseId: string }
  | {
      type: 'response.done';
      responseId: string;
      status: string;
      usage?: RealtimeResponseUsage;
      failure?: { code: string; message: string };
      /** The response's assistant audio items still in the mirror (their output audio is billed in usage). */
      audioItems: string[];
    };

export interface Reduced {
  mirror: MirrorState;
  effects: MirrorEffect[];
}

export const emptyMirror: MirrorState = { turns: [], early: {}, hunting: [], oob: [] };

export type { MirrorEventType };

type Handler = (m: MirrorState, ev: WireEvent, now: number) => Reduced;

const same = (m: MirrorState): Reduced => ({ mirror: m, effects: [] });
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const without = <T>(o: Readonly<Record<string, T>>, key: string): Record<string, T> => {
  const { [key]: _drop, ...rest } = o;
  return rest;
};
const isHunting = (m: MirrorState, id: string) => m.hunting.includes(id);
const previousOf = (ev: WireEvent): string | null | undefined =>
  !('previous_item_id' in ev) ? undefined : typeof ev.previous_item_id === 'string' ? ev.previous_item_id : ev.previous_item_id === null ? null : undefined;

function itemAdded(m: MirrorState, ev: WireEvent, now: number): Reduced {
  const turn = turnFromItem(ev.item, now);
  if (!turn) return same(m);
  const existing = findTurn(m.turns, turn.id);
  let turns = upsertTurn(m.turns, turn, previousOf(ev));
  let mirror: MirrorState = { ...m, turns };
  const effects: MirrorEffect[] = [];
  const current = findTurn(turns, turn.id)!;
  if (current.role === 'user' && current.audio && current.textState === 'pending') {
    const early = m.early[turn.id];
    if (early?.completed !== undefined) {
      turns = updateTurn(turns, turn.id, { text: early.completed, textState: 'final' });
      mirror = { ...mirror, turns, early: without(m.early, turn.id) };
      effects.push({ type: 'transcript', transcript: { itemId: turn.id, text: early.completed, final: true, source: 'event' } });
    } else if (!isHunting(m, turn.id)) {
      const replay: HuntEvent[] = early?.failed ? [{ type: 'TRANSCRIPT.FAILED' }] : [];
      mirror = { ...mirror, hunting: [...m.hunting, turn.id], early: early ? without(m.early, turn.id) : m.early };
      effects.push({ type: 'hunt.start', itemId: turn.id, replay });
    }
  }
  const after = findTurn(mirror.turns, turn.id)!;
  if (!existing || existing.text !== after.text || existing.textState !== after.textState) effects.push({ type: 'turn', turn: after });
  return { mirror, effects };
}

function itemRetrieved(m: MirrorState, ev: WireEvent, now: number): Reduced {
  const turn = turnFromItem(ev.item, now);
  const before = turn && findTurn(m.turns, turn.id);
  if (!turn || !before) return same(m); // a deleted item must not come back
  const turns = upsertTurn(m.turns, turn);
  const after = findTurn(turns, turn.id)!;
  return { mirror: { ...m, turns }, effects: before.text !== after.text ? [{ type: 'turn', turn: after }] : [] };
}

function itemDeleted(m: MirrorState, ev: WireEvent): Reduced {
  const id = str(ev.item_id);
  if (!id || !findTurn(m.turns, id)) return same(m);
  const effects: MirrorEffect[] = [];
  let hunting = m.hunting;
  if (isHunting(m, id)) {
    hunting = hunting.filter((h) => h !== id);
    effects.push({ type: 'hunt.stop', itemId: id });
  }
  effects.push({ type: 'deleted', id });
  return { mirror: { ...m, turns: removeTurn(m.turns, id), hunting }, effects };
}

/** The server acknowledges a truncate: the local text was already trimmed when it was sent. */
const itemTruncated = (m: MirrorState): Reduced => same(m);

function early(m: MirrorState, id: string, patch: (e: EarlyTranscript) => EarlyTranscript): MirrorState {
  return { ...m, early: { ...m.early, [id]: patch(m.early[id] ?? {}) } };
}

function transcriptionCompleted(m: MirrorState, ev: WireEvent): Reduced {
  const id = str(ev.item_id);
  const text = str(ev.transcript);
  if (!id) return same(m);
  if (isHunting(m, id)) return { mirror: m, effects: [{ type: 'hunt.send', itemId: id, event: { type: 'TRANSCRIPT.COMPLETED', transcript: text } }] };
  if (findTurn(m.turns, id)) return applyTranscript(m, id, text, 'event');
  return same(early(m, id, (e) => ({ ...e, completed: text })));
}

function transcriptionFailed(m: MirrorState, ev: WireEvent): Reduced {
  const id = str(ev.item_id);
  if (!id) return same(m);
  if (isHunting(m, id)) return { mirror: m, effects: [{ type: 'hunt.send', itemId: id, event: { type: 'TRANSCRIPT.FAILED' } }] };
  if (findTurn(m.turns, id)) return same(m);
  return same(early(m, id, (e) => ({ ...e, failed: true })));
}

function isOutOfBand(r: Record<string, unknown>): boolean {
  const md = isObject(r.metadata) ? r.metadata : {};
  return md.purpose === 'rtc-summary' || r.conversation_id === null;
}

function responseCreated(m: MirrorState, ev: WireEvent): Reduced {
  const r = isObject(ev.response) ? ev.response : {};
  const id = str(r.id);
  if (isOutOfBand(r)) return same({ ...m, oob: [...m.oob.slice(-20), id] });
  return { mirror: m, effects: [{ type: 'response.created', responseId: id }] };
}

function outputTextDone(m: MirrorState, ev: WireEvent): Reduced {
  const id = str(ev.item_id);
  const text = typeof ev.transcript === 'string' ? ev.transcript : typeof ev.text === 'string' ? ev.text : null;
  if (!id || text === null || !findTurn(m.turns, id)) return same(m);
  const turns = updateTurn(m.turns, id, { text, textState: 'final', responseId: str(ev.response_id) || undefined });
  return { mirror: { ...m, turns }, effects: [{ type: 'turn', turn: findTurn(turns, id)! }] };
}

function responseDone(m: MirrorState, ev: WireEvent, now: number): Reduced {
  const r = isObject(ev.response) ? ev.response : {};
  const id = str(r.id);
  if (isOutOfBand(r) || m.oob.includes(id)) return same(m);
  let turns = m.turns;
  const effects: MirrorEffect[] = [];
  const audioItems: string[] = [];
  for (const item of Array.isArray(r.output) ? r.output : []) {
    const t = turnFromItem(item, now);
    const before = t && findTurn(turns, t.id);
    if (!t || !before) continue; // cancelled before being added, or already deleted
    if (t.role === 'assistant' && t.audio) audioItems.push(t.id);
    turns = upsertTurn(turns, { ...t, responseId: id });
    const after = findTurn(turns, t.id)!;
    // Assistant output without a transcript (e.g. cancelled at once): nothing to wait for.
    if (after.textState === 'pending' && after.role === 'assistant') turns = updateTurn(turns, t.id, { textState: after.text === null ? 'none' : 'final' });
    const final = findTurn(turns, t.id)!;
    if (before.text !== final.text || before.textState !== final.textState) effects.push({ type: 'turn', turn: final });
  }
  const status = str(r.status) || 'completed';
  const usage = (isObject(r.usage) ? r.usage : undefined) as RealtimeResponseUsage | undefined;
  const details = isObject(r.status_details) && isObject(r.status_details.error) ? r.status_details.error : {};
  const failure = status === 'failed' ? { code: str(details.code) || str(details.type) || 'unknown', message: str(details.message) } : undefined;
  effects.push({ type: 'response.done', responseId: id, status, usage, failure, audioItems });
  return { mirror: { ...m, turns }, effects };
}

// Exhaustive over the registry's mirror route: an event routed to the mirror without a handler here
// does not compile.
const HANDLERS: { readonly [K in MirrorEventType]: Handler } = {
  'conversation.item.added': itemAdded,
  'conversation.item.created': itemAdded,
  'conversation.item.done': itemAdded,
  'conversation.item.retrieved': itemRetrieved,
  'conversation.item.deleted': itemDeleted,
  'conversation.item.truncated': itemTruncated,
  'conversation.item.input_audio_transcription.completed': transcriptionCompleted,
  'conversation.item.input_audio_transcription.failed': transcriptionFailed,
  'response.created': responseCreated,
  'response.done': responseDone,
  'response.output_audio_transcript.done': outputTextDone,
  'response.output_text.done': outputTextDone,
};

export function isMirrorEvent(type: string): type is MirrorEventType {
  return routeOf(type) === 'mirror';
}

/** Applies one server event. Unknown or malformed events leave the mirror as it was. */
export function reduceMirror(m: MirrorState, ev: WireEvent, now = 0): Reduced {
  return isMirrorEvent(ev.type) ? HANDLERS[ev.type](m, ev, now) : same(m);
}

// ---- operations the session applies besides server events --------------------------------------

/** A transcript became known (hunt finished, or a late event): the turn gets its final text. */
export function applyTranscript(m: MirrorState, itemId: string, text: string, source: TranscriptEvent['source']): Reduced {
  if (!findTurn(m.turns, itemId)) return same(m);
  const turns = updateTurn(m.turns, itemId, { text, textState: source === 'inaudible' ? 'inaudible' : 'final' });
  return {
    mirror: { ...m, turns },
    effects: [
      { type: 'transcript', transcript: { itemId, text, final: true, source } },
      { type: 'turn', turn: findTurn(turns, itemId)! },
    ],
  };
}

/** A hunt ended with `output`: it is no longer running, and its text lands on the turn. */
export function huntFinished(m: MirrorState, itemId: string, text: string, source: TranscriptEvent['source']): Reduced {
  const r = applyTranscript({ ...m, hunting: m.hunting.filter((h) => h !== itemId) }, itemId, text, source);
  return { mirror: r.mirror, effects: [{ type: 'hunt.stop', itemId }, ...r.effects] };
}

/** Barge-in: the assistant turn keeps only what was heard. */
export function truncateHeard(m: MirrorState, itemId: string, playedMs: number, totalMs: number): Reduced & { text: string | null } {
  const turn = findTurn(m.turns, itemId);
  const text = turn?.text ? trimToHeard(turn.text, playedMs, totalMs) : null;
  const turns = updateTurn(m.turns, itemId, { heardMs: playedMs, ...(text !== null ? { text } : {}) });
  const updated = findTurn(turns, itemId);
  return { mirror: { ...m, turns }, effects: updated ? [{ type: 'turn', turn: updated }] : [], text };
}

/** A summary (or seed) item stands for these ids. */
export function markSummary(m: MirrorState, id: string, covers: string[]): MirrorState {
  return { ...m, turns: updateTurn(m.turns, id, { summaryOf: covers }) };
}

/**
 * The connection is gone: transcript hunts cannot go on, so what is still pending is settled (a user
 * turn becomes `[inaudible]`, an assistant turn keeps what was streamed) and reported, never dropped.
 */
export function settlePending(m: MirrorState): Reduced {
  let turns = m.turns;
  const effects: MirrorEffect[] = m.hunting.map((itemId) => ({ type: 'hunt.stop' as const, itemId }));
  for (const t of m.turns) {
    if (t.textState !== 'pending') continue;
    const patch = t.role === 'user' ? { text: INAUDIBLE, textState: 'inaudible' as const } : { textState: t.text ? ('final' as const) : ('none' as const) };
    turns = updateTurn(turns, t.id, patch);
    effects.push({ type: 'turn', turn: findTurn(turns, t.id)! });
  }
  return { mirror: { ...m, turns, hunting: [] }, effects };
}
