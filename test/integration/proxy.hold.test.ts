// A client response.create that arrives while the engine inserts a summary or prunes is held for
// those milliseconds and released after the prune: answered, never an error. Real client over ws,
// the real proxy and engine, the emulator upstream. The request is timed into the edit window on
// the engine's own emitted `summariser` event (inserting) or on the frame the client sees (the
// summary added at the root, i.e. pruning under way); the emulator's record of the conversation and
// the client's event order are the oracle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import type { RealtimeProxy } from '../../src/proxy/index.js';
import type { ProxyConnection } from '../../src/proxy/connection.js';
import { RawClient, type Ev } from '../helpers/emulator-client.js';
import { proxyOnEmulator, type ProxyRig } from '../helpers/proxy-rig.js';

let rig: ProxyRig;
let emu: Emulator;
let proxy: RealtimeProxy;

beforeAll(async () => {
  rig = await proxyOnEmulator(
    { seed: 11, replyWords: 30 },
    { engine: { policy: { triggerTokens: 400, targetTokens: 150, keepLastTurns: 1, transcriptWaitMs: 300 }, reconnect: false } },
  );
  ({ emu, proxy } = rig);
});

afterAll(async () => {
  await rig?.close();
});

const userItem = (text: string) => ({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });

/** The summary item as the client sees it: a system message added at the root (the default summary role). */
const isSummaryAtRoot = (e: Ev) => e.type === 'conversation.item.added' && e.previous_item_id === null && e.item?.role === 'system';

/** The emulator's conversation (the connection's only session), ids in order. */
const serverIds = () => (emu.sessions().at(-1)!.items() as { id: string }[]).map((i) => i.id);

/**
 * Text turns until a response.done makes the engine start a summary; `during` fires the client's
 * held request inside the edit window and resolves with the client's event mark at that moment.
 */
async function untilSummaryEdit(c: RawClient, conn: ProxyConnection, during: (fire: (m: number) => void) => void): Promise<number> {
  let started = false;
  const sub = conn.agent.actor.on('summariser', (e) => {
    if (e.state === 'collecting') started = true;
  });
  const fired = new Promise<number>((resolve) => during(resolve));
  try {
    for (let t = 1; t <= 30; t++) {
      const m = c.mark();
      c.send(userItem(`filler turn ${t} with a few words to grow the window`));
      c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
      const done = await c.waitFor('response.done', m, 10_000);
      expect(done.response.status).toBe('completed');
      // The proxy hands response.done to the engine before the client reads it: a summary that this
      // response triggered has started by now.
      if (started) return await fired;
    }
    throw new Error('no summary started within 30 turns');
  } finally {
    sub.unsubscribe();
  }
}

/** The held request was answered after every delete of the summarised items, and nothing erred. */
function expectAnsweredAfterPrune(c: RawClient, mark: number, knownBefore: string[]): void {
  const after = c.events.slice(mark);
  const types = after.map((e) => e.type);
  const summarised = knownBefore.filter((id) => !serverIds().includes(id));
  expect(summarised.length).toBeGreaterThan(0);
  const created = types.indexOf('response.created');
  const done = types.indexOf('response.done');
  expect(created).toBeGreaterThanOrEqual(0);
  expect(done).toBeGreaterThan(created);
  expect((after[done] as Ev).response.status).toBe('completed');
  const summaryAdded = after.findIndex(isSummaryAtRoot);
  expect(summaryAdded).toBeGreaterThanOrEqual(0);
  expect(summaryAdded).toBeLessThan(created);
  for (const id of summarised) {
    const deleted = after.findIndex((e) => e.type === 'conversation.item.deleted' && e.item_id === id);
    expect(deleted, `conversation.item.deleted ${id}`).toBeGreaterThanOrEqual(0);
    expect(deleted, `${id} deleted before the held response starts`).toBeLessThan(created);
  }
  expect(c.events.filter((e) => e.type === 'error')).toEqual([]);
}

async function connect(): Promise<{ c: RawClient; conn: ProxyConnection }> {
  const c = await RawClient.connect(proxy.url, { key: 'anything' });
  await c.waitFor('session.created');
  return { c, conn: proxy.connections().at(-1)! };
}

describe('a client response.create during a summary edit is held, then answered', () => {
  // The client sends a turn the moment the engine enters the state (an emitted event of the session
  // actor); its frames reach the proxy before the server's acknowledgement of the engine's request does.
  for (const state of ['inserting', 'pruning'] as const) {
    it(`sent while the engine is ${state}: it goes upstream only after the prune, and is answered`, async () => {
      const { c, conn } = await connect();
      let knownBefore: string[] = [];
      const mark = await untilSummaryEdit(c, conn, (fire) => {
        const sub = conn.agent.actor.on('summariser', (e) => {
          if (e.state === 'inserting') knownBefore = serverIds();
          if (e.state !== state) return;
          sub.unsubscribe();
          const m = c.mark();
          c.send(userItem(`a question asked while the engine is ${state}`));
          c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
          fire(m);
        });
      });
      await c.waitFor('response.done', mark, 10_000);
      await conn.agent.idle();
      expectAnsweredAfterPrune(c, mark, knownBefore);
      c.close();
    }, 60_000);
  }
});
