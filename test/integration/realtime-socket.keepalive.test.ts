// The socket helpers RealtimeSocket and realtime-proxy's UpstreamLink share, over real loopback
// sockets: a peer that stops answering pings is declared dead and the socket ends; one that answers
// keeps it open. Pending requests settle by match, by an error naming them, or all at close.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { keepAlive, PendingRequests } from '../../adapters/realtime-socket.js';

let server: WebSocketServer | null = null;
afterEach(async () => {
  for (const c of server?.clients ?? []) c.terminate();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = null;
});

async function pair(): Promise<{ client: WebSocket; peer: WebSocket }> {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const peerP = once(server, 'connection');
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await once(client, 'open');
  const [peer] = (await peerP) as [WebSocket];
  return { client, peer };
}

describe('keepAlive', () => {
  it('terminates the socket when the peer stops answering pings', async () => {
    const { client, peer } = await pair();
    (peer as unknown as { _socket: { pause(): void } })._socket.pause(); // a hung peer: reads nothing, answers nothing
    let dead = -1;
    const k = keepAlive(client, 20, (s) => (dead = s));
    const [code] = (await once(client, 'close')) as [number];
    k.stop();
    expect(dead).toBeGreaterThanOrEqual(0);
    expect(code).toBe(1006); // terminated, no close handshake
  });

  it('keeps a socket whose peer answers pings open', async () => {
    const { client, peer } = await pair();
    let dead = false;
    // 250 ms: the grace (3 intervals) must outlast an event loop stalled by a loaded machine, or an
    // unread pong counts as silence.
    const k = keepAlive(client, 250, () => (dead = true));
    let pings = 0;
    // Five pings answered: more than the three silent intervals that would have ended it.
    await new Promise<void>((resolve) => peer.on('ping', () => ++pings === 5 && resolve()));
    k.stop();
    expect(dead).toBe(false);
    expect(client.readyState).toBe(WebSocket.OPEN);
    client.close();
  });
});

describe('PendingRequests', () => {
  it('resolves by match, rejects on an error naming the request, and rejects the rest at close', async () => {
    const p = new PendingRequests();
    const sent: string[] = [];
    const a = p.request({ type: 'conversation.item.delete', event_id: 'e1', item_id: 'i1' }, (e) => e.type === 'conversation.item.deleted' && e.item_id === 'i1', 5_000, (e) => sent.push(e.event_id!));
    const b = p.request({ type: 'conversation.item.delete', event_id: 'e2', item_id: 'i2' }, () => false, 5_000, (e) => sent.push(e.event_id!));
    const c = p.request({ type: 'conversation.item.retrieve', event_id: 'e3', item_id: 'i3' }, () => false, 5_000, (e) => sent.push(e.event_id!));
    expect(sent).toEqual(['e1', 'e2', 'e3']);
    p.settle({ type: 'conversation.item.deleted', item_id: 'i1' });
    p.settle({ type: 'error', error: { code: 'item_delete_invalid_item_id', message: 'no such item', event_id: 'e2' } });
    p.rejectAll('closed');
    await expect(a).resolves.toMatchObject({ item_id: 'i1' });
    await expect(b).rejects.toMatchObject({ message: 'no such item', code: 'item_delete_invalid_item_id' });
    await expect(c).rejects.toThrow('closed');
  });
});
