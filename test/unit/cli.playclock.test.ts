import { describe, expect, it } from 'vitest';
import { PlayClock } from '../../adapters/speaker.js';

describe('speaker played-samples clock', () => {
  it('counts what the device has played, not what was handed to it', () => {
    let t = 1000;
    const c = new PlayClock(() => t);
    c.hand(40);
    c.hand(40);
    expect(c.played()).toBe(0);
    t += 30;
    expect(c.played()).toBe(30);
    expect(c.ahead()).toBe(50);
    t += 100; // ran dry at 80 ms
    expect(c.played()).toBe(80);
    expect(c.ahead()).toBe(0);
  });

  it('restarts the timeline after an underrun', () => {
    let t = 0;
    const c = new PlayClock(() => t);
    c.hand(40);
    t = 500; // long gap with nothing to play
    c.hand(40);
    t = 520;
    expect(c.played()).toBe(60);
  });

  it('drop() discards what was not played', () => {
    let t = 0;
    const c = new PlayClock(() => t);
    for (let i = 0; i < 5; i++) c.hand(40);
    t = 70;
    expect(c.drop()).toBe(70);
    expect(c.ahead()).toBe(0);
    c.hand(40);
    t = 80;
    expect(c.played()).toBe(80);
  });
});
