// The local mirror of the server conversation: an ordered list of turns, placed by
// `previous_item_id` (never by arrival order) and deduplicated by id. Pure, immutable updates.
import type { Turn } from './turn.js';
import { mergeTurn } from './items.js';

/** Treated as immutable: every update returns a new array (an upsert that changes nothing returns the input). */
export type Mirror = Turn[];

export function indexOfTurn(mirror: readonly Turn[], id: string): number {
  for (let i = mirror.length - 1; i >= 0; i--) if (mirror[i].id === id) return i;
  return -1;
}

/**
 * Inserts or updates a turn. `previousItemId`: null = first in the conversation, a known id = right
 * after it, undefined or an unknown id = at the end (the predecessor may be an item we never saw).
 * An existing turn is merged in place; it moves only when the server states a different known predecessor.
 */
export function upsertTurn(mirror: readonly Turn[], turn: Turn, previousItemId?: string | null): Mirror {
  const at = indexOfTurn(mirror, turn.id);
  if (at >= 0) {
    const merged = mergeTurn(mirror[at], turn);
    const placedRight =
      previousItemId === undefined ||
      (previousItemId === null ? at === 0 : at > 0 && mirror[at - 1].id === previousItemId) ||
      (previousItemId !== null && indexOfTurn(mirror, previousItemId) < 0);
    if (placedRight) {
      // A repeated view of an item (conversation.item.done after .added, response.done's output)
      // usually changes nothing: no copy, so the session has nothing to assign.
      if (sameTurn(mirror[at], merged)) return mirror as Mirror;
      const copy = mirror.slice();
      copy[at] = merged;
      return copy;
    }
    const without = mirror.filter((t) => t.id !== turn.id);
    return insertAfter(without, merged, previousItemId);
  }
  return insertAfter(mirror, turn, previousItemId);
}

/** Same fields, same values (a field absent on one side equals undefined on the other). */
function sameTurn(a: Turn, b: Turn): boolean {
  for (const k in a) if (a[k as keyof Turn] !== b[k as keyof Turn]) return false;
  for (const k in b) if (!(k in a) && b[k as keyof Turn] !== undefined) return false;
  return true;
}

function insertAfter(mirror: readonly Turn[], turn: Turn, previousItemId: string | null | undefined): Mirror {
  if (previousItemId === null) return [turn, ...mirror];
  if (previousItemId === undefined) return [...mirror, turn];
  const prev = indexOfTurn(mirror, previousItemId);
  if (prev < 0) return [...mirror, turn];
  return [...mirror.slice(0, prev + 1), turn, ...mirror.slice(prev + 1)];
}

export function removeTurn(mirror: readonly Turn[], id: string): Mirror {
  const at = indexOfTurn(mirror, id);
  return at < 0 ? mirror.slice() : [...mirror.slice(0, at), ...mirror.slice(at + 1)];
}

export function updateTurn(mirror: readonly Turn[], id: string, patch: Partial<Turn>): Mirror {
  const at = indexOfTurn(mirror, id);
  if (at < 0) return mirror.slice();
  const copy = mirror.slice();
  copy[at] = { ...copy[at], ...patch };
  return copy;
}

export function findTurn(mirror: readonly Turn[], id: string): Turn | undefined {
  const at = indexOfTurn(mirror, id);
  return at < 0 ? undefined : mirror[at];
}

/** Ids of user audio turns whose transcript is still unknown. */
export function pendingTranscriptIds(mirror: Mirror): string[] {
  return mirror.filter((t) => t.role === 'user' && t.textState === 'pending').map((t) => t.id);
}

/** Cuts a transcript to the share of the audio that was actually heard (barge-in). */
export function trimToHeard(text: string, heardMs: number, totalMs: number): string {
  if (totalMs <= 0 || heardMs >= totalMs) return text;
  const words = text.split(/\s+/).filter(Boolean);
  const keep = Math.max(0, Math.floor((words.length * heardMs) / totalMs));
  return keep >= words.length ? text : `${words.slice(0, keep).join(' ')}…`;
}
