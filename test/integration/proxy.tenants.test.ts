// Tenants (issue 27, items 9-10): a stored conversation belongs to the principal that created it (a
// client token, or the client's own key in pass-through); another principal's id is answered as an
// unknown one. Account headers go upstream only with the client's own key, and refusals tell the
// client what it needs, never the holder's host and pid or the server's paths.
// Real ws clients, the real proxy and engine, a JSONL store directory, the emulator upstream (behind
// a TCP relay that records the upgrade request the proxy sends).
import { hostname } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startProxy, type ProxyOptions, type RealtimeProxy } from '../../src/proxy/index.js';
import { RawClient, textTurn, type Ev } from '../helpers/emulator-client.js';
import { rawUpgrade, readUntilClosed, slowRelay, type Relay } from '../helpers/raw-sockets.js';

const TOKEN_A = 'tenant-token-aaaaaaaaaaaa';
const TOKEN_B = 'tenant-token-bbbbbbbbbbbb';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  emu: Emulator;
  relay: Relay;
  proxy: RealtimeProxy;
  dir: string;
  logs: string[];
  events: Record<string, any>[];
}

async function rig(auth: ProxyOptions['auth'], extra: Partial<ProxyOptions> = {}): Promise<Rig> {
  const emu = await startEmulator({ seed: 9, audioPacing: 'fast', replyWords: 8 });
  const relay = await slowRelay(emu.url, 0);
  const dir = mkdtempSync(join(tmpdir(), 'rtc-proxy-tenants-'));
  const logs: string[] = [];
  const events: Record<string, any>[] = [];
  const proxy = await startProxy({
    port: 0,
    connection: { url: relay.url, model: 'gpt-realtime', ...(auth.mode === 'proxy-key' ? { apiKey: 'sk-proxy-held' } : {}) },
    summariser: { baseURL: emu.httpUrl, apiKey: 'sk-proxy-held' },
    auth,
    journal: false,
    store: dir,
    log: (l) => logs.push(l),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  cleanups.push(async () => {
    await proxy.close();
    await relay.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { emu, relay, proxy, dir, logs, events };
}

const allText = (events: Ev[]) => JSON.stringify(events);
const storeText = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

async function session(r: Rig, key: string, conversation: string): Promise<RawClient> {
  const c = await RawClient.connect(`${r.proxy.url}?conversation=${conversation}`, { key });
  await c.waitFor('session.created');
  return c;
}

async function bye(r: Rig, c: RawClient): Promise<void> {
  c.close();
  await c.closed;
  await until(() => r.proxy.connections().length === 0, 'the connection to end');
}

/** A says a secret in "c1"; B opens "c1" and must get a fresh conversation; A gets its own back. */
async function isolation(r: Rig, keyA: string, keyB: string): Promise<void> {
  const a = await session(r, keyA, 'c1');
  await textTurn(a, 'The secret word is pineapple.');
  await bye(r, a);
  expect(storeText(r.dir).join('\n')).toContain('pineapple');

  const b = await session(r, keyB, 'c1');
  await textTurn(b, 'What is the secret word?');
  // B's upstream session was not seeded with A's words, and B saw none of them.
  const bSession = r.emu.sessions().at(-1)!.items() as Ev[];
  expect(JSON.stringify(bSession)).not.toContain('pineapple');
  expect(allText(b.events)).not.toContain('pineapple');
  expect(b.events.some((e) => e.type === 'conversation.item.added' && e.item?.role === 'system')).toBe(false);
  await bye(r, b);
  // Two separate conversations in the store: one holds A's words, the other B's, and never both.
  const files = storeText(r.dir);
  expect(files).toHaveLength(2);
  expect(files.filter((t) => t.includes('pineapple') && !t.includes('What is the secret word'))).toHaveLength(1);
  expect(files.filter((t) => t.includes('What is the secret word') && !t.includes('pineapple'))).toHaveLength(1);

  // A, reconnecting with the same id, continues its own conversation.
  const again = await session(r, keyA, 'c1');
  const seed = await again.waitFor((e) => e.type === 'conversation.item.added' && e.previous_item_id === null && e.item?.role === 'system');
  expect(JSON.stringify(seed.item)).toContain('pineapple');
  expect(JSON.stringify(seed.item)).not.toContain('What is the secret word');
  await bye(r, again);
}

describe('conversations belong to their principal', () => {
  it('proxy tokens: B opening A\'s id gets a fresh conversation; A gets its own back', async () => {
    const r = await rig({ mode: 'proxy-key', clientTokens: [TOKEN_A, TOKEN_B] });
    await isolation(r, TOKEN_A, TOKEN_B);
  }, 60_000);

  it('pass-through: the same with two different client keys', async () => {
    const r = await rig({ mode: 'passthrough' });
    await isolation(r, 'sk-client-key-alice-000000', 'sk-client-key-bob-11111111');
    // The principal is derived from the key, never the key itself, in the store.
    expect(storeText(r.dir).join('\n')).not.toContain('sk-client-key');
    expect(readdirSync(r.dir).join(' ')).not.toContain('sk-client-key');
  }, 60_000);

  it('?conversation=new: the proxy mints an unguessable id, returns it in x-rtc-conversation, and it resumes', async () => {
    const r = await rig({ mode: 'proxy-key', clientTokens: [TOKEN_A] });
    const ws = new WebSocket(`${r.proxy.url}?model=gpt-realtime&conversation=new`, { headers: { Authorization: `Bearer ${TOKEN_A}` } });
    const header = await new Promise<string | undefined>((resolve, reject) => {
      ws.once('upgrade', (res) => resolve(res.headers['x-rtc-conversation'] as string | undefined));
      ws.once('error', reject);
    });
    expect(header).toMatch(/^conv_[0-9a-f]{32}$/);
    await new Promise((resolve) => (ws.readyState === WebSocket.OPEN ? resolve(null) : ws.once('open', resolve)));
    const done = new Promise<void>((resolve) => ws.on('message', (d) => JSON.parse(d.toString()).type === 'response.done' && resolve()));
    ws.send(JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Remember the number 4711.' }] } }));
    ws.send(JSON.stringify({ type: 'response.create' }));
    await done;
    // The header names the conversation this connection holds: the same id is busy while it lives...
    await expect(RawClient.connect(`${r.proxy.url}?conversation=${header}`, { key: TOKEN_A })).rejects.toThrow('HTTP 409');
    ws.close();
    await until(() => r.proxy.connections().length === 0, 'the connection to end');
    // ...and resumes once it has closed.
    const again = await session(r, TOKEN_A, header!);
    const seed = await again.waitFor((e) => e.type === 'conversation.item.added' && e.previous_item_id === null && e.item?.role === 'system');
    expect(JSON.stringify(seed.item)).toContain('4711');
    await bye(r, again);
  }, 30_000);
});

describe('what a client is told', () => {
  it('account headers go upstream only with the client\'s own key', async () => {
    const headers = { 'OpenAI-Organization': 'org-chosen-by-client', 'OpenAI-Project': 'proj_chosen', 'OpenAI-Beta': 'client-beta' };
    const held = await rig({ mode: 'proxy-key', clientTokens: [TOKEN_A] });
    const c1 = await RawClient.connect(held.proxy.url, { key: TOKEN_A, headers });
    await c1.waitFor('session.created');
    c1.close();
    expect(held.relay.requests).toHaveLength(1);
    expect(held.relay.requests[0].toLowerCase()).toContain('authorization: bearer sk-proxy-held');
    expect(held.relay.requests[0].toLowerCase()).not.toMatch(/openai-organization|openai-project|openai-beta|chosen/);

    const own = await rig({ mode: 'passthrough' });
    const c2 = await RawClient.connect(own.proxy.url, { key: 'sk-client-own-key-0000000', headers });
    await c2.waitFor('session.created');
    c2.close();
    expect(own.relay.requests[0].toLowerCase()).toContain('openai-organization: org-chosen-by-client');
    expect(own.relay.requests[0].toLowerCase()).toContain('openai-project: proj_chosen');
  }, 30_000);

  it('a busy conversation: 409 says retry after the lease, not who holds it', async () => {
    const r = await rig({ mode: 'proxy-key' }, { leaseTtlMs: 20_000 });
    const first = await session(r, 'x', 'busy-1');
    const answer = await readUntilClosed(rawUpgrade(`${r.proxy.url}?model=gpt-realtime&conversation=busy-1`, { Authorization: 'Bearer x' }));
    expect(answer).toMatch(/^HTTP\/1\.1 409 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body.error.code).toBe('conversation_busy');
    expect(body.error.message).toBe('conversation is in use by another connection; retry after its lease expires (up to 20 s)');
    expect(answer).not.toContain(hostname());
    expect(answer).not.toContain(String(process.pid));
    // The operator keeps the detail: in the log and in the refused event.
    expect(r.logs.join('\n')).toContain(`${hostname()}:${process.pid}`);
    expect(r.events.find((e) => e.type === 'refused')).toMatchObject({ status: 409, code: 'conversation_busy', detail: expect.stringContaining(`${hostname()}:${process.pid}`) });
    await bye(r, first);
  }, 30_000);

  it('a damaged journal: the client is not told the server\'s store path; the log is', async () => {
    const r = await rig({ mode: 'proxy-key' });
    const c = await session(r, 'x', 'dmg-1');
    await textTurn(c, 'hello');
    await bye(r, c);
    const [file] = readdirSync(r.dir).filter((f) => f.endsWith('.jsonl'));
    const lines = readFileSync(join(r.dir, file), 'utf8').split('\n');
    lines[1] = '{"this is": not json';
    writeFileSync(join(r.dir, file), lines.join('\n'));
    const answer = await readUntilClosed(rawUpgrade(`${r.proxy.url}?model=gpt-realtime&conversation=dmg-1`, { Authorization: 'Bearer x' }));
    expect(answer).toMatch(/^HTTP\/1\.1 [45]\d\d /);
    expect(answer).not.toContain(r.dir);
    expect(answer).not.toContain(file);
    expect(r.logs.join('\n')).toContain(r.dir);
  }, 30_000);
});
