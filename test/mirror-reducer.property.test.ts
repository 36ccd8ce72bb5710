// Property test of the mirror reducer against an independent oracle: a tiny simulated server keeps
// the real conversation as a plain list and emits the events the protocol defines for each operation
// (added with the actual predecessor, done, beta created, deleted, retrieved, transcription events,
// responses). Whatever the sequence, the mirror must equal the server's list.
//
// Replay a failure: MIRROR_SEED=<seed printed below> npx vitest run test/mirror-reducer.property.test.ts
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emptyMirror, reduceMirror, type MirrorState } from '../src/conversation/mirror-reducer.js';
import type { WireEvent } from '../src/protocol/events.js';

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

/** The oracle: the server's conversation and the events it sends for each operation. */
function serverEvents(ops: Op[]): { events: WireEvent[]; after: string[][]; stated: (readonly [string, string | null] | null)[] } {
  const list: ServerItem[] = [];
  const events: WireEvent[] = [];
  const after: string[][] = []; // the server's ids after each event
  const stated: (readonly [string, string | null] | null)[] = []; // for add events: [id, previous_item_id]
  let n = 0;
  let summaries = 0;
  const push = (e: WireEvent, st: readonly [string, string | null] | null = null) => {
    events.push(e);
    after.push(list.map((i) => i.id));
    stated.push(st);
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
        push({ type: o.beta ? 'conversation.item.created' : 'conversation.item.added', previous_item_id: prevOf(at), item }, [id, prevOf(at)] as const);
        break;
      }
      case 'summary': {
        // A summary at the root: acknowledged as added, then done, then (a beta proxy) created again.
        const id = `sum_${String(++summaries).padStart(3, '0')}`;
        const item = { id, type: 'message', role: 'system', content: [{ type: 'input_text', text: `summary ${summaries}` }] };
        list.unshift({ id, item });
        push({ type: 'conversation.item.added', previous_item_id: null, item }, [id, null] as const);
        push({ type: 'conversation.item.done', previous_item_id: null, item });
        push({ type: 'conversation.item.created', previous_item_id: null, item });
        break;
      }
      case 'done': {
        if (!list.length) break;
        const i = o.at % list.length;
        push({ type: 'conversation.item.done', previous_item_id: prevOf(i), item: list[i].item });
        break;
      }
      case 'delete': {
        if (!list.length) break;
        const [gone] = list.splice(o.at % list.length, 1);
        push({ type: 'conversation.item.deleted', item_id: gone.id });
        break;
      }
      case 'retrieve': {
        if (!list.length) break;
        push({ type: 'conversation.item.retrieved', item: list[o.at % list.length].item });
        break;
      }
      case 'transcript': {
        // For an existing item, or for one that does not exist (yet): transcription may come first.
        const id = o.future || !list.length ? `item_${n + 1 + (o.at % 3)}` : list[o.at % list.length].id;
        const type = `conversation.item.input_audio_transcription.${o.phase}`;
        push(o.phase === 'delta' ? { type, item_id: id, delta: 'w ' } : o.phase === 'completed' ? { type, item_id: id, transcript: 'words' } : { type, item_id: id });
        break;
      }
      case 'response': {
        const rid = `resp_${events.length}`;
        const output = list.length ? [list[o.at % list.length].item] : [];
        const meta = o.oob ? { conversation_id: null, metadata: { purpose: 'rtc-summary' } } : {};
        push({ type: 'response.created', response: { id: rid, ...meta, output: [] } });
        push({ type: 'response.done', response: { id: rid, ...meta, status: 'completed', output } });
        break;
      }
    }
  }
  return { events, after, stated };
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
          m = reduceMirror(m, e, k).mirror;
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
        });
        // Hunts only for user audio items still on the server.
        for (const h of m.hunting) check(m.turns.some((t) => t.id === h && t.role === 'user' && t.audio), `hunt for ${h} without its item`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(events).toBeGreaterThan(RUNS);
  }, 120_000);
});
