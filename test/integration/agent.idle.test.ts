// idle() keeps its promise: "no response in flight". Our own response.create counts from the moment
// it is sent (the session's `requested` state), not only from the server's response.created.
// Real emulator, real socket; the emulator is slow to stream (latencyMs), so a response is in
// flight for a while after response.created.
import { afterEach, describe, expect, it } from 'vitest';
import { rig, type Rig } from '../helpers/engine.js';

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

describe('agent.state (the public state) over a real session', () => {
  const changes = (r: Rig) => {
    const seen: string[] = [];
    for (const e of r.events) {
      if (e.name !== 'state') continue;
      const s = (e.payload as { state: string }).state;
      if (seen.at(-1) !== s) seen.push(s);
    }
    return seen;
  };

  it('connecting, listening; a turn goes thinking -> speaking -> listening; stop() ends closed', async () => {
    const r = (current = await rig({ latencyMs: 100 }));
    expect(r.agent.state).toBe('connecting');
    await r.agent.start();
    expect(r.agent.state).toBe('listening');
    r.agent.sendText('hello there');
    expect(r.agent.state).toBe('thinking'); // asked for, response.created not yet in
    await r.agent.idle();
    expect(r.agent.state).toBe('listening');
    // The protocol's order for one turn, each change reported once by the `state` event.
    expect(changes(r)).toEqual(['connecting', 'listening', 'thinking', 'speaking', 'listening']);
    await r.agent.stop();
    expect(r.agent.state).toBe('closed');
  });

  it('a summary under way is summarising (idle() waits for it), then listening', async () => {
    const r = (current = await rig({}, { policy: { triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 0 } }));
    await r.agent.start();
    r.agent.sendText('one');
    await r.agent.idle();
    r.agent.summariseNow();
    expect(r.agent.state).toBe('summarising');
    await r.agent.idle();
    expect(r.events.some((e) => e.name === 'summary')).toBe(true);
    expect(r.agent.state).toBe('listening');
    expect(changes(r).slice(-2)).toEqual(['summarising', 'listening']);
  });

  it('a refused connection ends failed', async () => {
    const r = (current = await rig({ apiKey: 'sk-the-right-key-0000000000' }, { reconnect: false }));
    await expect(r.agent.start()).rejects.toThrow();
    expect(r.agent.state).toBe('failed');
  });
});
