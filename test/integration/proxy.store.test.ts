// The proxy's directory store under the faults of issue 27: a connect reads no journal but its own (an
// unrelated corrupt journal is neither read nor logged), a lost lease ends the client's connection with
// a clear reason and nothing said after the loss is missing from store + spill file, and an item the
// client deleted (the summary) does not come back on resume. Real ws clients, the real proxy and
// engine, the emulator upstream, real files; the file system (atimes, the journal and spill files) and
// the emulator's record of the server conversation are the oracles.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProxy } from '../../src/proxy/index.js';
import { RawClient, textTurn, type Ev } from '../helpers/emulator-client.js';
import { proxyOnEmulator, type ProxyRig } from '../helpers/proxy-rig.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rtc-proxy-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

const lines = (path: string): Ev[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev) : []);
const textOf = (item: Ev) => (item?.content ?? []).map((p: Ev) => p.text ?? p.transcript ?? '').join(' ');
const OLD = new Date('2001-01-01T00:00:00Z');
/** The store id of a local client's conversation, as docs/proxy.md states it: p + 16 hex of sha256("rtc-principal:local") + "." + id. */
const LOCAL = createHash('sha256').update('rtc-principal:local').digest('hex').slice(0, 16);
const stored = (id: string) => `p${LOCAL}.${id}`;

describe('directory store behind the proxy', () => {
  it('a connect reads no other journal: unrelated (and corrupt) journals are not read, nothing is logged about them', async () => {
    const dir = freshDir();
    const other = join(dir, 'other.jsonl');
    const corrupt = join(dir, 'corrupt.jsonl');
    writeFileSync(other, Array.from({ length: 2000 }, (_, i) => JSON.stringify({ v: 1, t: '2026-01-01T00:00:00.000Z', type: 'turn', id: `o${i}`, text: 'x'.repeat(200) })).join('\n') + '\n');
    writeFileSync(corrupt, '\u0000\u0001 not a journal {{{\n'.repeat(1000));
    const logs: string[] = [];
    const rig = await proxyOnEmulator({ seed: 31, replyWords: 6 }, { store: dir, log: (l) => logs.push(l) });
    try {
      const url = (id: string) => `${rig.proxy.url}?conversation=${id}`;
      // The first connect builds the index (file heads only).
      const first = await RawClient.connect(url('n1'), { key: 'x' });
      await first.waitFor('session.created');
      await textTurn(first, 'hello there');
      first.close();
      await first.closed;
      await until(() => rig.proxy.connections().length === 0, 'the first connection to end');
      // From now on a read of either unrelated file would move its access time (relatime: atime < mtime).
      for (const f of [other, corrupt]) utimesSync(f, OLD, statSync(f).mtime);
      // The oracle sees reads on this file system (a control file read once moves its atime).
      const control = join(dir, 'control.txt');
      writeFileSync(control, 'x');
      utimesSync(control, OLD, statSync(control).mtime);
      readFileSync(control);
      expect(statSync(control).atime.getTime(), 'this file system does not record access times: the test cannot see reads').not.toBe(OLD.getTime());
      for (const id of ['n2', 'n1', 'n3']) {
        const c = await RawClient.connect(url(id), { key: 'x' });
        await c.waitFor('session.created');
        c.close();
        await c.closed;
        await until(() => rig.proxy.connections().length === 0, `connection ${id} to end`);
      }
      for (const f of [other, corrupt]) expect(statSync(f).atime.getTime(), f).toBe(OLD.getTime());
      expect(logs.filter((l) => /corrupt|other\.jsonl|damaged/.test(l))).toEqual([]);
      // The resumed conversation was read: its seed holds what was said.
      expect(lines(join(dir, `${stored('n1')}.jsonl`)).filter((l) => l.type === 'conversation')).toHaveLength(2);
    } finally {
      await rig.close();
    }
  }, 60_000);

  it('at connect: a torn last line is cut and the conversation resumes; a damaged journal is HTTP 400 journal_damaged, not 503', async () => {
    const dir = freshDir();
    const l = (o: Record<string, unknown>) => JSON.stringify({ v: 1, t: '2026-01-01T00:00:00.000Z', ...o }) + '\n';
    writeFileSync(join(dir, `${stored('torn')}.jsonl`), l({ k: 'a.1', type: 'conversation', id: stored('torn') }) + l({ k: 'a.2', type: 'turn', id: 'i1', role: 'user', kind: 'message', text: 'Grace Hopper here', textState: 'final' }) + '{"v":1,"k":"a.3","type":"tu');
    writeFileSync(join(dir, `${stored('bad')}.jsonl`), l({ k: 'b.1', type: 'conversation', id: stored('bad') }) + 'garbage\n' + l({ k: 'b.3', type: 'end', reason: 'x' }));
    const logs: string[] = [];
    const rig = await proxyOnEmulator({ seed: 34, replyWords: 6 }, { store: dir, log: (x) => logs.push(x) });
    try {
      for (const round of [1, 2]) {
        const c = await RawClient.connect(`${rig.proxy.url}?conversation=torn`, { key: 'x' });
        const seed = await c.waitFor((e) => e.type === 'conversation.item.added' && e.previous_item_id === null && e.item?.role === 'system');
        expect(textOf(seed.item), `resume ${round}`).toContain('Grace Hopper here');
        c.close();
        await c.closed;
        await until(() => rig.proxy.connections().length === 0, 'the connection to end');
      }
      expect(logs.filter((x) => /cut a torn last line/.test(x))).toHaveLength(1);
      const err = await RawClient.connect(`${rig.proxy.url}?conversation=bad`, { key: 'x' }).catch((e: Error) => e);
      expect(String(err)).toContain('HTTP 400');
    } finally {
      await rig.close();
    }
  }, 60_000);

  it('a lost lease closes the client with the reason; nothing said after the loss is missing from store + spill', async () => {
    const dir = freshDir();
    // A lease that outlives the test: the loss is found by the fenced append, deterministically.
    const a = await proxyOnEmulator({ seed: 32, replyWords: 6 }, { store: dir, leaseTtlMs: 60_000 });
    const b = await startProxy({
      port: 0,
      connection: { url: a.emu.url, model: 'gpt-realtime', apiKey: 'sk-proxy-rig-upstream' },
      summariser: { baseURL: a.emu.httpUrl, apiKey: 'sk-proxy-rig-upstream' },
      auth: { mode: 'proxy-key' },
      journal: false,
      store: dir,
      leaseTtlMs: 60_000,
    });
    const id = 'c-lease-1';
    const journal = join(dir, `${stored(id)}.jsonl`);
    try {
      const ca = await RawClient.connect(`${a.proxy.url}?conversation=${id}`, { key: 'x' });
      await ca.waitFor('session.created');
      await textTurn(ca, 'before the takeover');
      // Instance A stalls past its lease (a GC pause, a suspended VM): its lease is expired on disk...
      const lease = JSON.parse(readFileSync(`${journal}.lease`, 'utf8')) as { expiresAt: number };
      writeFileSync(`${journal}.lease`, JSON.stringify({ ...lease, expiresAt: Date.now() - 1 }));
      // ...and instance B takes the conversation over.
      const cb = await RawClient.connect(`${b.url}?conversation=${id}`, { key: 'x' });
      await cb.waitFor('session.created');
      // A's client goes on talking: the first write after the loss is fenced, the connection ends.
      const m = ca.mark();
      ca.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'after the takeover' }] } });
      ca.send({ type: 'response.create' });
      const closed = await Promise.race([ca.closed, new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000))]);
      expect(closed).toEqual({ code: 4409, reason: "conversation taken over by another instance" });
      await until(() => a.proxy.connections().length === 0, "A's connection to end");
      // Every item A's client was shown after the loss is in the store or in the spill file.
      const seen = ca.events.slice(m).filter((e) => e.type === 'conversation.item.done' && e.item?.type === 'message').map((e) => e.item.id as string);
      expect(seen.length).toBeGreaterThan(0);
      const stored = new Set(lines(journal).filter((l) => l.type === 'turn').map((l) => l.id as string));
      const spilled = lines(`${journal}.unwritten`);
      const kept = new Set([...stored, ...spilled.filter((l) => l.type === 'turn').map((l) => l.id as string)]);
      for (const item of seen) expect(kept.has(item), item).toBe(true);
      // Not silently dropped: A's end of the conversation is in the spill file, not in B's store.
      expect(spilled.map((l) => l.type)).toContain('end');
      expect(spilled.some((l) => l.type === 'turn' && l.text === 'after the takeover')).toBe(true);
      expect(lines(journal).some((l) => l.type === 'turn' && l.text === 'after the takeover')).toBe(false);
      cb.close();
      await cb.closed;
    } finally {
      await b.close();
      await a.close();
    }
  }, 60_000);

  it('a summary the client deleted stays deleted: the resumed session is not seeded with it', async () => {
    const dir = freshDir();
    const rig: ProxyRig = await proxyOnEmulator(
      { seed: 33, replyWords: 30 },
      { store: dir, engine: { policy: { triggerTokens: 400, targetTokens: 150, keepLastTurns: 1, transcriptWaitMs: 300 }, reconnect: false } },
    );
    const url = `${rig.proxy.url}?conversation=c-delete-1`;
    const isSummaryAtRoot = (e: Ev) => e.type === 'conversation.item.added' && e.previous_item_id === null && e.item?.role === 'system';
    try {
      const c = await RawClient.connect(url, { key: 'x' });
      await c.waitFor('session.created');
      const conn = rig.proxy.connections()[0];
      let summariser = 'idle';
      const sub = conn.agent.actor.on('summariser', (e) => (summariser = e.state));
      for (let t = 1; t <= 30 && !c.events.some(isSummaryAtRoot); t++) {
        await textTurn(c, `filler turn ${t} with a few words to grow the window`);
      }
      // The fold is complete (inserted and pruned): the latest summary at the root is the live one.
      await until(() => summariser === 'idle', 'the summariser to finish');
      sub.unsubscribe();
      const summary = c.events.filter(isSummaryAtRoot).at(-1)!;
      const summaryText = textOf(summary.item);
      expect(summaryText.length).toBeGreaterThan(0);
      // The client removes the summary from the conversation.
      await c.request({ type: 'conversation.item.delete', item_id: summary.item.id }, (e) => e.type === 'conversation.item.deleted' && e.item_id === summary.item.id);
      const last = await textTurn(c, 'one more turn after the delete');
      expect(last.done.response.status).toBe('completed');
      c.close();
      await c.closed;
      await until(() => rig.proxy.connections().length === 0, 'the connection to end');

      const again = await RawClient.connect(url, { key: 'x' });
      await again.waitFor('session.created');
      const seed = await again.waitFor(isSummaryAtRoot, 0, 10_000);
      // What the client kept comes back; the summary it deleted does not.
      expect(textOf(seed.item)).toContain('one more turn after the delete');
      expect(textOf(seed.item)).not.toContain(summaryText);
      const server = rig.emu.sessions().at(-1)!.items() as Ev[];
      expect(server.map((i) => i.id)).not.toContain(summary.item.id);
      expect(server.some((i) => textOf(i).includes(summaryText))).toBe(false);
      again.close();
      await again.closed;
    } finally {
      await rig.close();
    }
  }, 90_000);
});
