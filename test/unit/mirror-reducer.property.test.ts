// Property test of the mirror reducer against an independent oracle: a tiny simulated server keeps
// the real conversation as a plain list and emits the events the protocol defines for each operation
// (added with the actual predecessor, done, beta created, deleted, retrieved, transcription events,
// responses). Whatever the sequence, the mirror must equal the server's list, and each turn's text,
// text state and response id, the running transcript hunts and the effects of every event must be
// what the oracle's own model of the protocol says (see `Model` below).
//
// Replay a failure: MIRROR_SEED=<seed printed below> npx vitest run test/unit/mirror-reducer.property.test.ts
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emptyMirror, reduceMirror, type MirrorState } from '../../src/conversation/mirror-reducer.js';
import type { WireEvent } from '../../src/protocol/events.js';

type Op =
  | { kind: 'add'; after: number; role: 'user' | 'assistant'; audio: boolean; beta: boolean }
  | { kind: 'summary' }
  | { kind: 'done'; at: number }
  | { kind: 'delete'; at: number }
  | { kind: 'retrieve'; at: number }
  | { kind: 'transcript'; at: number; phase: 'delta' | 'completed' | 'failed'; future: boolean }
  | { kind: 'response'; at: number; oob: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), after: fc.integer({ min: -1, max: 40 }), role: fc.constantFrom('user' as const, 'assistant' as const), audio: fc.boolean(), beta: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'summary' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('done' as const), at: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retrieve' as const), at: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('transcript' as const), at: fc.nat(40), phase: fc.constantFrom('delta' as const, 'completed' as const, 'failed' as const), future: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('response' as const), at: fc.nat(40), oob: fc.boolean() }) },
);

interface ServerItem {
  id: string;
  item: Record<string, unknown>;
}

/** What the oracle expects a turn to show (the fields the reducer is responsible for). */
interface Shown {
  id: string;
  text: string | null;
  textState: string;
  responseId?: string;
}
type Effect = Record<string, unknown>;

/**
 * The oracle's model of what the client knows, from the protocol's rules:
 * - an event carrying an item (added, done, created, retrieved, an in-band response's output) gives
 *   the item's text when it has one; a text once known is never lost;
 * - user audio without a transcript is pending and hunted (one hunt per item), unless its transcript
 *   completed before the item arrived; a completed or failed transcription of a hunted item goes to the hunt, deltas are only shown;
 * - a completed transcript for a known item that is not hunted is its text at once;
 * - an item keeps the id of the first in-band response that listed it; our own (out-of-band)
 *   responses are never reported;
 * - a turn is reported when it is new or its text or text state changed.
 */
class Model {
  shown = new Map<string, Shown>();
  hunting: string[] = [];
  early = new Map<string, { completed: boolean; failed: boolean }>();
  oob = new Set<string>();

  /** An event carrying `item`; returns the turn effect when there is one. */
  carry(item: Record<string, unknown>, responseId?: string): Effect[] {
    const id = item.id as string;
    const content = (item.content as Record<string, unknown>[])[0];
    const text = (content.text ?? content.transcript ?? null) as string | null;
    const old = this.shown.get(id);
    const next: Shown = old ? { ...old } : { id, text: null, textState: 'pending' };
    if (text !== null) Object.assign(next, { text, textState: 'final' });
    if (responseId && next.responseId === undefined) next.responseId = responseId;
    this.shown.set(id, next);
    return !old || old.text !== next.text || old.textState !== next.textState ? [{ type: 'turn', turn: next }] : [];
  }

  add(item: Record<string, unknown>): Effect[] {
    const id = item.id as string;
    const isNew = !this.shown.has(id);
    const turnEffect = this.carry(item);
    const userAudio = item.role === 'user' && (item.content as Record<string, unknown>[])[0].type === 'input_audio';
    if (!isNew || !userAudio) return turnEffect;
    const early = this.early.get(id);
    this.early.delete(id);
    if (early?.completed) {
      const t = { id, text: 'words', textState: 'final' };
      this.shown.set(id, t);
      return [{ type: 'transcript', transcript: { itemId: id, text: 'words', final: true, source: 'event' } }, { type: 'turn', turn: t }];
    }
    this.hunting.push(id);
    const replay = early?.failed ? [{ type: 'TRANSCRIPT.FAILED' }] : [];
    return [{ type: 'hunt.start', itemId: id, replay }, ...turnEffect];
  }

  remove(id: string): Effect[] {
    const hunted = this.hunting.includes(id);
    this.hunting = this.hunting.filter((h) => h !== id);
    this.shown.delete(id);
    return [...(hunted ? [{ type: 'hunt.stop', itemId: id }] : []), { type: 'deleted', id }];
  }

  transcription(id: string, phase: 'delta' | 'completed' | 'failed'): Effect[] {
    // Deltas are the audio plane's (display only): the mirror neither keeps nor shows them.
    if (phase === 'delta') return [];
    const event = phase === 'completed' ? { type: 'TRANSCRIPT.COMPLETED', transcript: 'words' } : { type: 'TRANSCRIPT.FAILED' };
    if (this.hunting.includes(id)) return [{ type: 'hunt.send', itemId: id, event }];
    const known = this.shown.get(id);
    if (known) {
      if (phase === 'failed') return [];
      const t = { ...known, text: 'words', textState: 'final' };
      this.shown.set(id, t);
      return [{ type: 'transcript', transcript: { itemId: id, text: 'words', final: true, source: 'event' } }, { type: 'turn', turn: t }];
    }
    const e = this.early.get(id) ?? { completed: false, failed: false };
    this.early.set(id, { completed: e.completed || phase === 'completed', failed: e.failed || phase === 'failed' });
    return [];
  }
}

/** The oracle: the server's conversation and the events it sends for each operation. */
function serverEvents(ops: Op[]): { events: WireEvent[]; after: string[][]; stated: (readonly [string, string | null] | null)[]; shown: Shown[][]; hunting: string[][]; effects: Effect[][] } {
  const list: ServerItem[] = [];
  const events: WireEvent[] = [];
  const after: string[][] = []; // the server's ids after each event
  const stated: (readonly [string, string | null] | null)[] = []; // for add events: [id, previous_item_id]
  const shown: Shown[][] = [];
  const hunting: string[][] = [];
  const effects: Effect[][] = [];
  const model = new Model();
  let n = 0;
  let summaries = 0;
  const push = (e: WireEvent, st: readonly [string, string | null] | null = null, fx: Effect[] = []) => {
    events.push(e);
    after.push(list.map((i) => i.id));
    stated.push(st);
    shown.push(list.map((i) => ({ ...model.shown.get(i.id)! })));
    hunting.push([...model.hunting]);
    effects.push(fx);
  };
  const prevOf = (i: number) => (i > 0 ? list[i - 1].id : null);
  for (const o of ops) {
    switch (o.kind) {
      case 'add': {
        const id = `item_${++n}`;
        const content = o.role === 'user'
          ? [o.audio ? { type: 'input_audio', transcript: null } : { type: 'input_text', text: `text ${n}` }]
          : [o.audio ? { type: 'output_audio', transcript: `said ${n}` } : { type: 'output_text', text: `wrote ${n}` }];
        const item = { id, type: 'message', role: o.role, content };
        const at = o.after < 0 || list.length === 0 ? 0 : Math.min(o.after, list.length - 1) + 1;
        list.splice(at, 0, { id, item });
        const fx = model.add(item);
        push({ type: o.beta ? 'conversation.item.created' : 'conversation.item.added', previous_item_id: prevOf(at), item }, [id, prevOf(at)] as const, fx);
        break;
      }
      case 'summary': {
        // A summary at the root: acknowledged as added, then done, then (a beta proxy) created again.
        const id = `sum_${String(++summaries).padStart(3, '0')}`;
        const item = { id, type: 'message', role: 'system', content: [{ type: 'input_text', text: `summary ${summaries}` }] };
        list.unshift({ id, item });
        push({ type: 'conversation.item.added', previous_item_id: null, item }, [id, null] as const, model.add(item));
        push({ type: 'conversation.item.done', previous_item_id: null, item }, null, model.add(item));
        push({ type: 'conversation.item.created', previous_item_id: null, item }, null, model.add(item));
        break;
      }
      case 'done': {
        if (!list.length) break;
        const i = o.at % list.length;
        push({ type: 'conversation.item.done', previous_item_id: prevOf(i), item: list[i].item }, null, model.add(list[i].item));
        break;
      }
      case 'delete': {
        if (!list.length) break;
        const [gone] = list.splice(o.at % list.length, 1);
        push({ type: 'conversation.item.deleted', item_id: gone.id }, null, model.remove(gone.id));
        break;
      }
      case 'retrieve': {
        if (!list.length) break;
        const item = list[o.at % list.length].item;
        push({ type: 'conversation.item.retrieved', item }, null, model.carry(item));
        break;
      }
      case 'transcript': {
        // For an existing item, or for one that does not exist (yet): transcription may come first.
        const id = o.future || !list.length ? `item_${n + 1 + (o.at % 3)}` : list[o.at % list.length].id;
        const type = `conversation.item.input_audio_transcription.${o.phase}`;
        const fx = model.transcription(id, o.phase);
        push(o.phase === 'delta' ? { type, item_id: id, delta: 'w ' } : o.phase === 'completed' ? { type, item_id: id, transcript: 'words' } : { type, item_id: id }, null, fx);
        break;
      }
      case 'response': {
        const rid = `resp_${events.length}`;
        const output = list.length ? [list[o.at % list.length].item] : [];
        const meta = o.oob ? { conversation_id: null, metadata: { purpose: 'rtc-summary' } } : {};
        push({ type: 'response.created', response: { id: rid, ...meta, output: [] } }, null, o.oob ? [] : [{ type: 'response.created', responseId: rid }]);
        // The response names its assistant audio items that are in the conversation (all of them here).
        const audioItems = output.filter((item) => item.role === 'assistant' && (item.content as { type: string }[])[0].type === 'output_audio').map((item) => item.id);
        const fx = o.oob ? [] : [...output.flatMap((item) => model.carry(item, rid)), { type: 'response.done', responseId: rid, status: 'completed', audioItems }];
        push({ type: 'response.done', response: { id: rid, ...meta, status: 'completed', output } }, null, fx);
        break;
      }
    }
  }
  return { events, after, stated, shown, hunting, effects };
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const SEED = process.env.MIRROR_SEED ? Number(process.env.MIRROR_SEED) : Date.now() % 2 ** 31;
const RUNS = 10_000;

describe('mirror reducer (property)', () => {
  it(`any server event sequence keeps the mirror equal to the server (seed ${SEED}, ${RUNS} sequences)`, () => {
    // Printed so a failure can be replayed with MIRROR_SEED.
    console.log(`mirror-reducer property: MIRROR_SEED=${SEED}`);
    let events = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const server = serverEvents(ops);
        let m: MirrorState = emptyMirror;
        server.events.forEach((e, k) => {
          const r = reduceMirror(m, e, k);
          m = r.mirror;
          events++;
          const ids = m.turns.map((t) => t.id);
          // 1. ordered by previous_item_id: an added item sits right after the predecessor the server named.
          const st = server.stated[k];
          if (st) {
            const at = ids.indexOf(st[0]);
            check(at >= 0, `${st[0]} missing after its add`);
            check(st[1] === null ? at === 0 : ids[at - 1] === st[1], `${st[0]} not right after ${st[1]}: ${ids.join(',')}`);
          }
          // 2. ids unique.
          check(new Set(ids).size === ids.length, `duplicate ids: ${ids.join(',')}`);
          // 3. no summary duplicated: each summary id once.
          const sums = ids.filter((id) => id.startsWith('sum_'));
          check(new Set(sums).size === sums.length, `duplicate summary: ${sums.join(',')}`);
          // And the whole order equals the server's (what the three properties add up to).
          check(ids.join(',') === server.after[k].join(','), `mirror ${ids.join(',')} != server ${server.after[k].join(',')} after ${e.type}`);
          // 4. each turn's text, text state and response id; the running hunts; the effects.
          const shown = m.turns.map((t) => ({ id: t.id, text: t.text, textState: t.textState, ...(t.responseId !== undefined ? { responseId: t.responseId } : {}) }));
          expect(shown, `turns after event ${k} (${e.type})`).toEqual(server.shown[k]);
          expect(m.hunting, `hunts after event ${k} (${e.type})`).toEqual(server.hunting[k]);
          const effects = r.effects.map((x) => (x.type === 'turn' ? { type: 'turn', turn: { id: x.turn.id, text: x.turn.text, textState: x.turn.textState, ...(x.turn.responseId !== undefined ? { responseId: x.turn.responseId } : {}) } } : x));
          expect(effects, `effects of event ${k} (${e.type})`).toEqual(server.effects[k]);
        });
        // Hunts only for user audio items still on the server.
        for (const h of m.hunting) check(m.turns.some((t) => t.id === h && t.role === 'user' && t.audio), `hunt for ${h} without its item`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(events).toBeGreaterThan(RUNS);
  }, 120_000);
});
