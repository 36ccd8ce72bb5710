// SimulatedClock helpers: the machines' only timers are XState delays, so a SimulatedClock passed to
// createActor drives every timeout, back-off and rollover deterministically, without fake globals.
import { SimulatedClock } from 'xstate';
import { flushMacrotask } from './model.js';

export interface TestClock {
  /** Pass as `createActor(machine, { clock })`. */
  clock: SimulatedClock;
  /** Milliseconds advanced so far. */
  readonly now: number;
  /** Advances the clock, then lets promises and queued events settle. */
  advance(ms: number): Promise<void>;
  /**
   * Checks that a delay is exactly `ms`: advancing `ms - 1` must not fire it (`fired()` false) and
   * one more millisecond must. Throws a message naming the expected delay otherwise.
   */
  expectDelay(ms: number, fired: () => boolean, what?: string): Promise<void>;
}

export function createTestClock(): TestClock {
  const clock = new SimulatedClock();
  let now = 0;
  const advance = async (ms: number) => {
    now += ms;
    clock.increment(ms);
    await flushMacrotask();
  };
  return {
    clock,
    get now() {
      return now;
    },
    advance,
    async expectDelay(ms, fired, what = 'the delay') {
      if (ms > 1) {
        await advance(ms - 1);
        if (fired()) throw new Error(`${what} fired before ${ms} ms (expected exactly ${ms} ms)`);
        await advance(1);
      } else await advance(Math.max(ms, 0));
      if (!fired()) throw new Error(`${what} did not fire after ${ms} ms`);
    },
  };
}

export { SimulatedClock };
