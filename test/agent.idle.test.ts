// idle() keeps its promise: "no response in flight". Our own response.create counts from the moment
// it is sent (the session's `requested` state), not only from the server's response.created.
// Real emulator, real socket; the emulator is slow to stream (latencyMs), so a response is in
// flight for a while after response.created.
import { afterEach, describe, expect, it } from 'vitest';
import { rig, type Rig } from './helpers/engine.js';

let current: Rig | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

const count = (r: Rig, name: string) => r.events.filter((e) => e.name === name).length;

describe('agent.idle()', () => {
  it('after sendText, resolves only once the response it asked for is done', async () => {
    const r = (current = await rig({ latencyMs: 300 }));
    await r.agent.start();
    r.agent.sendText('hello there');
    await r.agent.idle();
    // The protocol's order: response.created, then response.done; idle() comes after both.
    expect(count(r, 'response.created')).toBe(1);
    expect(count(r, 'response.done')).toBe(1);
    expect(r.agent.history().map((t) => t.role)).toEqual(['user', 'assistant']);
  });

  it('a turn held while the session is not yet live counts as work: idle() waits for its response', async () => {
    const r = (current = await rig({ latencyMs: 200 }));
    const started = r.agent.start();
    r.agent.sendText('held until live');
    await r.agent.idle();
    await started;
    expect(count(r, 'response.done')).toBe(1);
    expect(r.agent.history().map((t) => t.role)).toEqual(['user', 'assistant']);
  });

  it('with nothing asked, resolves at once and no response is started', async () => {
    const r = (current = await rig({ latencyMs: 200 }));
    await r.agent.start();
    await r.agent.idle();
    expect(count(r, 'response.created')).toBe(0);
  });
});
