// Testing YOUR summariser against the real summariser machine, model-based.
//
// The summariser machine decides when to summarise, waits for quiet, inserts the summary at the root
// and deletes what it replaces; you provide the `summarise` actor (here: a bullet-list summariser that
// needs no model). xstate/graph walks every path of the real machine; each path is replayed with your
// summariser's real output, and your invariants are checked after every step.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { summariserMachine } from 'realtime-context';
import {
  createTestClock,
  deleteItemsDouble,
  insertSummaryDouble,
  machineTestModel,
  pathCoverage,
  reportCollector,
  runPath,
  summariseDouble,
} from 'realtime-context/testing';

// ---- your summariser ------------------------------------------------------------------------------
type Turn = { id: string; role: 'user' | 'assistant' | 'system' | null; text: string | null };
/** One bullet per turn, clipped; empty input gives an empty summary (the machine must not insert it). */
export function bulletSummary(turns: Turn[]): string {
  return turns
    .filter((t) => t.text)
    .map((t) => `- ${t.role}: ${t.text!.slice(0, 60)}`)
    .join('\n');
}

// ---- the conversation the walk works on ------------------------------------------------------------
const turn = (id: string, role: 'user' | 'assistant', text: string) => ({ id, kind: 'message' as const, role, text, textState: 'final' as const, audio: false, at: 0 });
const TURNS = [
  turn('u1', 'user', 'What is the capital of France? '.repeat(20)),
  turn('a1', 'assistant', 'Paris, a city on the Seine with a long history. '.repeat(20)),
  turn('u2', 'user', 'And of Italy?'),
  turn('a2', 'assistant', 'Rome.'),
];
const policy = { targetTokens: 0, keepLastTurns: 2, summaryRole: 'system' as const, transcriptWaitMs: 3000, cooldownMs: 15_000 };

const model = machineTestModel(summariserMachine, {
  input: { parentRef: reportCollector().ref, policy },
  payloads: {
    SUMMARISE: [{ type: 'SUMMARISE', turns: TURNS, window: 6000, audioMs: {}, responseActive: false }],
    'RESPONSE.ACTIVE': [{ type: 'RESPONSE.ACTIVE', active: true }, { type: 'RESPONSE.ACTIVE', active: false }],
    // The walk needs one case per branch; the replay below answers with your summariser's real output.
    'xstate.done.actor.summarise': [{ type: 'xstate.done.actor.summarise', output: { text: 'some summary' } }],
    'xstate.done.actor.deleteItems': [{ type: 'xstate.done.actor.deleteItems', output: { deleted: ['u1', 'a1'], missing: [], failed: [] } }],
  },
  exclude: ['ABORT', 'TURNS'],
  key: (s) => [s.value, s.context.responseActive, s.context.count],
  stopWhen: (s) => s.context.count > 1,
});
const paths = model.getShortestPaths();

describe('bulletSummary inside the real summariser machine', () => {
  it('the walk reaches insert, prune, failure and cooldown', () => {
    const cov = pathCoverage(paths);
    for (const s of ['summarising', 'awaitingQuiet', 'inserting', 'pruning', 'cooldown']) expect(cov.stateValues).toContain(JSON.stringify(s));
  });

  for (const path of paths) {
    it(path.description.slice(0, 200), async () => {
      const time = createTestClock();
      const summarise = summariseDouble();
      const insert = insertSummaryDouble();
      const del = deleteItemsDouble();
      const parent = reportCollector();
      let responseActive = false;
      let insertsWhenActive = 0;
      const actor = createActor(summariserMachine.provide({ actors: { summarise: summarise.logic, insertSummary: insert.logic, deleteItems: del.logic } }), {
        input: { parentRef: parent.ref, policy },
        clock: time.clock,
      }).start();
      await runPath(path, {
        async execute(event) {
          if (event.type === 'xstate.done.actor.summarise') {
            const call = summarise.pending().at(-1)!;
            call.resolve({ text: bulletSummary(call.input.turns) }); // YOUR summariser, on the turns the machine chose
          } else if (event.type.startsWith('xstate.error.actor.')) {
            const which = { summarise, insertSummary: insert, deleteItems: del }[event.type.slice('xstate.error.actor.'.length)]!;
            which.reject(new Error('service unavailable'));
          } else if (event.type === 'xstate.done.actor.insertSummary') insert.resolve();
          else if (event.type === 'xstate.done.actor.deleteItems') del.resolve(event.output as never);
          else if (event.type.startsWith('xstate.after.')) await time.advance(60_000);
          else {
            if (event.type === 'RESPONSE.ACTIVE') {
              responseActive = event.active as boolean;
              insertsWhenActive = insert.calls.length;
            }
            actor.send(event as never);
          }
        },
        invariants: {
          // What YOU require of the combination:
          'the summary names every turn it replaces': () =>
            insert.calls.every((c) => summarise.calls.at(-1)!.input.turns.every((t) => c.input.text.includes(`- ${t.role}:`))),
          'the two most recent turns are never summarised or deleted': () =>
            summarise.calls.every((c) => c.input.turns.every((t) => t.id === 'u1' || t.id === 'a1')) && del.calls.every((c) => !c.input.ids.includes('a2')),
          'no insert starts while a response is being written': () => !responseActive || insert.calls.length === insertsWhenActive,
          'deletes only after the insert was acknowledged': () => del.calls.length <= insert.calls.filter((c) => c.settled).length,
        },
      });
      actor.stop();
    });
  }
});
