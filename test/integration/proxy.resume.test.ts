// ?conversation=<id> on the proxy URL: the conversation lives in the store (a JSONL directory here),
// a later connection with the same id continues it (its first upstream session is seeded with what
// was said), and two live connections never share one conversation. Real ws client, the real proxy
// and engine, the emulator upstream; the emulator's record of the new session is the oracle.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import type { RealtimeProxy } from '../../src/proxy/index.js';
import { RawClient, textTurn, type Ev } from '../helpers/emulator-client.js';
import { proxyOnEmulator, type ProxyRig } from '../helpers/proxy-rig.js';

let rig: ProxyRig;
let emu: Emulator;
let proxy: RealtimeProxy;
const dir = mkdtempSync(join(tmpdir(), 'rtc-proxy-resume-'));

beforeAll(async () => {
  rig = await proxyOnEmulator({ seed: 21, replyWords: 12 }, { store: dir });
  ({ emu, proxy } = rig);
});

afterAll(async () => {
  await rig?.close();
  rmSync(dir, { recursive: true, force: true });
});

const textOf = (item: Ev) => (item.content ?? []).map((p: Ev) => p.text ?? p.transcript ?? '').join(' ');

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

describe('?conversation=<id>', () => {
  it('a later connection with the same id continues the conversation; a second live one is refused', async () => {
    const url = `${proxy.url}?conversation=conv-resume-1`;
    const first = await RawClient.connect(url, { key: 'x' });
    await first.waitFor('session.created');
    await textTurn(first, 'My name is Ada Lovelace.');
    await textTurn(first, 'My favourite colour is teal.');
    // The lease is held while the first client is connected.
    await expect(RawClient.connect(url, { key: 'x' })).rejects.toThrow('HTTP 409');
    first.close();
    await first.closed;
    await until(() => proxy.connections().length === 0, 'the first connection to end');

    const again = await RawClient.connect(url, { key: 'x' });
    await again.waitFor('session.created');
    // The new upstream session starts with the stored conversation, at the root, shown to the client.
    const seed = await again.waitFor((e) => e.type === 'conversation.item.added' && e.previous_item_id === null && e.item?.role === 'system');
    expect(textOf(seed.item)).toContain('Ada Lovelace');
    expect(textOf(seed.item)).toContain('teal');
    const server = emu.sessions().at(-1)!.items() as Ev[];
    expect(server[0].id).toBe(seed.item.id);
    const { done } = await textTurn(again, 'What is my name?');
    expect(done.response.status).toBe('completed');
    expect(again.events.filter((e) => e.type === 'error')).toEqual([]);
    again.close();
    await again.closed;
  }, 30_000);

  it('an id that is not a plain name is refused with HTTP 400', async () => {
    await expect(RawClient.connect(`${proxy.url}?conversation=${encodeURIComponent('../etc/passwd')}`, { key: 'x' })).rejects.toThrow('HTTP 400');
  });
});
