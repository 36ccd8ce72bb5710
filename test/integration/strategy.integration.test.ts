// policy.strategy through the whole library: createRealtimeAgent against the real emulator over a real
// socket. The same conversation, summarised once with each strategy: hysteresis folds only down to
// the target, cache-aware folds down to the keep floor (its cost model: the fewest tokens re-billed).
import { afterEach, describe, expect, it } from 'vitest';
import { mirrorIds, next, rig, say, serverIds, type Rig } from '../helpers/engine.js';

let current: Rig | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

async function converse(strategy: 'hysteresis' | 'cache-aware' | undefined) {
  // The target is far above the window: hysteresis folds the least it may (one exchange); cache-aware
  // ignores the target and folds down to the keep floor.
  const r = (current = await rig({ replyWords: 30 }, { policy: { triggerTokens: 100_000, targetTokens: 99_999, keepLastTurns: 2, ...(strategy ? { strategy } : {}) } }));
  await r.agent.start();
  for (const t of ['one', 'two', 'three', 'four']) await say(r, `question ${t}`);
  await r.agent.idle();
  const before = mirrorIds(r);
  return { r, before };
}

describe('policy.strategy (issue 10)', () => {
  it('cache-aware folds every exchange but the kept last two items, whatever the target', async () => {
    const { r, before } = await converse('cache-aware');
    r.agent.summariseNow();
    const summary = await next(r, 'summary');
    await r.agent.idle();
    expect(summary.replacedIds).toEqual(before.slice(0, 6));
    expect(mirrorIds(r)).toEqual([summary.id, ...before.slice(6)]);
    expect(serverIds(r)).toEqual(mirrorIds(r));
  });

  it('hysteresis (the default) stops at the target: here after the first exchange', async () => {
    const { r, before } = await converse(undefined);
    r.agent.summariseNow();
    const summary = await next(r, 'summary');
    await r.agent.idle();
    expect(summary.replacedIds).toEqual(before.slice(0, 2));
    expect(mirrorIds(r)).toEqual([summary.id, ...before.slice(2)]);
    expect(serverIds(r)).toEqual(mirrorIds(r));
  });

  it('summariseNow() early (one exchange, keep 2) is skipped with a reason the user sees; nothing is deleted', async () => {
    const r = (current = await rig({ replyWords: 5 }, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2 } }));
    await r.agent.start();
    await say(r, 'hello there');
    await r.agent.idle();
    const before = serverIds(r);
    const skippedP = next(r, 'summary.skipped'); // the skip can be decided synchronously: listen first
    r.agent.summariseNow();
    const skipped = await skippedP;
    await r.agent.idle();
    expect(skipped.reason).toMatch(/\S/);
    expect(serverIds(r)).toEqual(before);
  });

  it('an unknown strategy name is a clear one-line error at creation', async () => {
    await expect(rig({}, { policy: { strategy: 'greedy' as never } })).rejects.toThrow('policy strategy must be hysteresis or cache-aware (got greedy)');
  });
});
