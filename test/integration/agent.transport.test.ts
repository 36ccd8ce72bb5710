// The advanced `transport` option: a caller-supplied transport carries the session. Here it is the
// real `ws` socket (RealtimeSocket) against the emulator, wrapped to record what crosses it, so the
// test proves the agent uses the injected transport for everything (config, turns, responses).
import { afterEach, describe, expect, it } from 'vitest';
import { RealtimeSocket } from '../../adapters/realtime-socket.js';
import type { WireEvent } from '../../src/protocol/events.js';
import type { TransportOptions } from '../../src/protocol/transport.js';
import { rig, say, type Rig } from '../helpers/engine.js';

let current: Rig | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

describe('transport injection', () => {
  it('every client event goes through the injected transport, and its events drive the session', async () => {
    const sent: string[] = [];
    const received: string[] = [];
    const opened: TransportOptions[] = [];
    const transport = (o: TransportOptions) => {
      opened.push(o);
      const s = new RealtimeSocket(o);
      const send = s.send.bind(s);
      s.send = (e: WireEvent) => {
        sent.push(e.type);
        return send(e);
      };
      s.on('event', (e) => received.push(e.type));
      return s;
    };
    const r = (current = await rig({ replyWords: 8 }, { transport }));
    await r.agent.start();
    await say(r, 'hello through my own transport');
    expect(opened).toHaveLength(1);
    expect(opened[0].apiKey).toBeDefined();
    expect(sent).toEqual(expect.arrayContaining(['session.update', 'conversation.item.create', 'response.create']));
    expect(received).toEqual(expect.arrayContaining(['session.created', 'session.updated', 'response.created', 'response.done']));
    const assistant = r.agent.history().find((t) => t.role === 'assistant');
    expect(assistant?.textState).toBe('final');
  });
});
