// The summariser with a ContextStrategy (issue 10): the strategy decides the fold and the window
// estimate; a fold whose summary would not make the window smaller is skipped with a reason; an early
// /summarise never folds a user turn without the reply to it. Real summariser machine, promise doubles
// for the three I/O actors.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { createActor, fromPromise, type AnyActorRef } from 'xstate';
import {
  summariserMachine,
  type DeleteInput,
  type DeleteOutput,
  type InsertInput,
  type SummariseInput,
  type SummariserInput,
  type SummariserReport,
} from '../../machines/summariser.machine.js';
import { cacheAwareStrategy } from '../../src/conversation/cache-aware-strategy.js';
import { hysteresisStrategy, type ContextStrategy, type StrategyView } from '../../src/conversation/strategy.js';
import { reportCollector } from '../../src/testing/index.js';
import type { Turn } from '../../src/types.js';

const msg = (id: string, role: 'user' | 'assistant', text: string): Turn => ({ id, kind: 'message', role, text, textState: 'final', audio: false, at: 0 });
/** Text tokens of an item as the server counts them: o200k plus 4 per item (the spec's overhead). */
const tok = (t: Turn) => countTokens(t.text ?? '') + 4;

const POLICY: SummariserInput['policy'] = {
  triggerTokens: 20_000,
  targetTokens: 10_000,
  keepLastTurns: 2,
  summaryRole: 'system',
  summaryLanguage: undefined,
  transcriptWaitMs: 20,
  cooldownMs: 3_600_000,
};

const started: AnyActorRef[] = [];
afterEach(() => {
  for (const a of started.splice(0)) a.stop();
});

function start(summaryText: string, over: Partial<SummariserInput> = {}) {
  const calls: string[] = [];
  const deletes: DeleteInput[] = [];
  const parent = reportCollector<SummariserReport>();
  const reports = parent.events;
  const machine = summariserMachine.provide({
    actors: {
      summarise: fromPromise<{ text: string }, SummariseInput>(async () => {
        calls.push('summarise');
        return { text: summaryText };
      }),
      insertSummary: fromPromise<void, InsertInput>(async () => void calls.push('insert')),
      deleteItems: fromPromise<DeleteOutput, DeleteInput>(async ({ input }) => {
        calls.push('delete');
        deletes.push(input);
        return { deleted: input.ids, missing: [], failed: [] };
      }),
    },
  });
  const actor = createActor(machine, { input: { parentRef: parent.ref, policy: POLICY, ...over } }).start();
  started.push(actor, parent.ref);
  const last = async (type: SummariserReport['type']) => {
    await vi.waitFor(() => expect(reports.map((r) => r.type)).toContain(type));
    return reports.find((r) => r.type === type)!;
  };
  return { actor, reports, calls, deletes, last };
}

const exchange = (i: number, words = 3): Turn[] => [
  msg(`u${i}`, 'user', `Question ${i}: ${'tell me more about the trains '.repeat(words)}`),
  msg(`a${i}`, 'assistant', `Answer ${i}: ${'the trains run every hour from the north station '.repeat(words)}`),
];

describe('summariser with a strategy (issue 10)', () => {
  it('an early /summarise ([u1, a1, u2]) skips with a reason instead of folding u1 without its reply', async () => {
    const { actor, calls, last } = start('The user asked about trains.');
    actor.send({ type: 'SUMMARISE', turns: [...exchange(1), msg('u2', 'user', 'And buses?')], window: 142, audioMs: {}, responseActive: false });
    const r = await last('SUMMARISER.SKIPPED');
    expect(r).toMatchObject({ reason: expect.stringMatching(/^nothing to fold/) });
    expect(calls).toEqual([]);
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('skips, with the figures, a fold whose summary would not make the window smaller: nothing inserted or deleted', async () => {
    const turns = [msg('u1', 'user', 'Hi'), msg('a1', 'assistant', 'Hello!'), ...exchange(2)];
    const long = 'The user greeted the assistant and the assistant greeted the user back, warmly and at some length.';
    const { actor, calls, last } = start(long);
    actor.send({ type: 'SUMMARISE', turns, window: 142, audioMs: {}, responseActive: false });
    const r = await last('SUMMARISER.SKIPPED');
    const after = 142 - tok(turns[0]) - tok(turns[1]) + countTokens(long) + 4;
    expect(after).toBeGreaterThanOrEqual(142);
    expect(r).toEqual({ type: 'SUMMARISER.SKIPPED', reason: `the summary would not make the window smaller (142 tokens now, about ${after} after): the turns stay verbatim` });
    expect(calls).toEqual(['summarise']);
    expect(actor.getSnapshot().value).toBe('idle');
  });

  it('with no usage reported yet (window 0) a summary shorter than what it folds still goes in', async () => {
    const turns = [...exchange(1, 8), ...exchange(2)];
    const { actor, last } = start('Trains.');
    actor.send({ type: 'SUMMARISE', turns, window: 0, audioMs: {}, responseActive: false });
    expect(await last('SUMMARISER.DONE')).toMatchObject({ replaces: ['u1', 'a1'] });
  });

  it('reports the window estimate from the strategy: window - folded + o200k tokens of the summary + 4', async () => {
    const turns = [...exchange(1, 8), ...exchange(2, 8), ...exchange(3)];
    const text = 'Trains.';
    const { actor, last } = start(text, { policy: { ...POLICY, targetTokens: 0 } });
    actor.send({ type: 'SUMMARISE', turns, window: 1_000, audioMs: {}, responseActive: false });
    const done = await last('SUMMARISER.DONE');
    const folded = turns.slice(0, 4).reduce((n, t) => n + tok(t), 0);
    expect(done).toMatchObject({ replaces: ['u1', 'a1', 'u2', 'a2'], windowBefore: 1_000, windowAfterEstimate: 1_000 - folded + countTokens(text) + 4 });
  });

  it('takes the strategy from its input, or by name from policy.strategy', async () => {
    const turns = [...exchange(1, 8), ...exchange(2, 8), ...exchange(3, 8), ...exchange(4)];
    const window = turns.reduce((n, t) => n + tok(t), 0) + 300;
    // Hysteresis stops as soon as the window is at the target; cache-aware folds to the keep floor.
    const target = window - tok(turns[0]) - tok(turns[1]) + 300;
    const policy = { ...POLICY, triggerTokens: window, targetTokens: target };
    const h = start('Trains.', { policy });
    h.actor.send({ type: 'SUMMARISE', turns, window, audioMs: {}, responseActive: false });
    expect(await h.last('SUMMARISER.DONE')).toMatchObject({ replaces: ['u1', 'a1'] });
    const byName = start('Trains.', { policy: { ...policy, strategy: 'cache-aware' } });
    byName.actor.send({ type: 'SUMMARISE', turns, window, audioMs: {}, responseActive: false });
    expect(await byName.last('SUMMARISER.DONE')).toMatchObject({ replaces: ['u1', 'a1', 'u2', 'a2', 'u3', 'a3'] });
    const seen: number[] = [];
    const own: ContextStrategy = { ...cacheAwareStrategy, name: 'own', planFold: (v) => (seen.push(v.window), { skip: 'not today' }) };
    const custom = start('Trains.', { policy, strategy: own });
    custom.actor.send({ type: 'SUMMARISE', turns, window, audioMs: {}, responseActive: false });
    expect(await custom.last('SUMMARISER.SKIPPED')).toEqual({ type: 'SUMMARISER.SKIPPED', reason: 'not today' });
    expect(seen).toEqual([window]);
  });
  it('hands the strategy the request: turns, window, each item\'s audio length, and the trigger (the asking window when the policy has none)', async () => {
    const turns = [...exchange(1, 8), ...exchange(2)];
    const views: StrategyView[] = [];
    const recording: ContextStrategy = { ...hysteresisStrategy, name: 'recording', planFold: (v) => (views.push(v), hysteresisStrategy.planFold(v)) };
    const withTrigger = start('Trains.', { strategy: recording });
    withTrigger.actor.send({ type: 'SUMMARISE', turns, window: 900, audioMs: { u1: 2400 }, responseActive: false });
    await withTrigger.last('SUMMARISER.DONE');
    const { triggerTokens: _, ...noTrigger } = POLICY;
    const bare = start('Trains.', { strategy: recording, policy: noTrigger });
    bare.actor.send({ type: 'SUMMARISE', turns, window: 700, audioMs: {}, responseActive: false });
    await bare.last('SUMMARISER.DONE');
    expect(views.map((v) => ({ turns: v.turns, window: v.window, trigger: v.policy.triggerTokens, u1: v.audioMs?.('u1') }))).toEqual([
      { turns, window: 900, trigger: POLICY.triggerTokens, u1: 2400 },
      { turns, window: 700, trigger: 700, u1: undefined },
    ]);
  });

  it('a strategy that returns an empty fold is a skip ("nothing to summarise"): nothing is summarised', async () => {
    const empty: ContextStrategy = { ...hysteresisStrategy, name: 'empty', planFold: () => ({ fold: [], keep: [], foldedTokens: 0 }) };
    const { actor, calls, last } = start('Trains.', { strategy: empty });
    actor.send({ type: 'SUMMARISE', turns: [...exchange(1, 8), ...exchange(2)], window: 900, audioMs: {}, responseActive: false });
    expect(await last('SUMMARISER.SKIPPED')).toEqual({ type: 'SUMMARISER.SKIPPED', reason: 'nothing to summarise' });
    expect(calls).toEqual([]);
  });

  // The fold is judged on the summary as it would be inserted (trimmed); an estimate equal to the
  // window does not make it smaller. The strategy's estimate here: `offset` + the summary's length.
  const judging = (offset: number, seen: string[]): ContextStrategy => ({
    ...hysteresisStrategy,
    name: 'judging',
    estimateWindowAfter: (_plan, text, window) => (seen.push(text), window + offset + text.length - SHORT.length),
  });
  const SHORT = 'Trains.';
  const PADDED = `\n  ${SHORT}  \n\n`;

  it('an estimate equal to the window is not smaller: skipped, with the figures of the trimmed summary', async () => {
    const seen: string[] = [];
    const { actor, calls, last } = start(PADDED, { strategy: judging(0, seen) });
    actor.send({ type: 'SUMMARISE', turns: [...exchange(1, 8), ...exchange(2)], window: 900, audioMs: {}, responseActive: false });
    expect(await last('SUMMARISER.SKIPPED')).toEqual({
      type: 'SUMMARISER.SKIPPED',
      reason: 'the summary would not make the window smaller (900 tokens now, about 900 after): the turns stay verbatim',
    });
    expect(calls).toEqual(['summarise']);
    expect(new Set(seen)).toEqual(new Set([SHORT]));
  });

  it('one token smaller is smaller: the trimmed summary goes in (its padding would not count against it)', async () => {
    const seen: string[] = [];
    const { actor, calls, last } = start(PADDED, { strategy: judging(-1, seen) });
    actor.send({ type: 'SUMMARISE', turns: [...exchange(1, 8), ...exchange(2)], window: 900, audioMs: {}, responseActive: false });
    expect(await last('SUMMARISER.DONE')).toMatchObject({ text: SHORT, windowBefore: 900, windowAfterEstimate: 899 });
    expect(calls).toEqual(['summarise', 'insert', 'delete']);
    expect(new Set(seen)).toEqual(new Set([SHORT]));
  });
});
