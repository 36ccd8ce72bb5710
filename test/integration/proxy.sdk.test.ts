// The OpenAI Agents SDK (RealtimeSession over WebSocket) and the openai SDK (OpenAIRealtimeWS over
// wss:), unchanged except for their URL, through realtime-proxy to the emulator. The emulator's own
// record of the server conversation (sessions().items()) is the oracle: the SDK's history must equal
// it after every summary and after every rollover, and no protocol error may reach the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startProxy, type RealtimeProxy } from '../../src/proxy/index.js';

const MAX_SESSION_MS = 6_000; // the emulator's 60-minute cap, compressed 600x
const TRIGGER = 1_500;
const TARGET = 700;

let emu: Emulator;
let proxy: RealtimeProxy;
const events: Record<string, unknown>[] = [];

beforeAll(async () => {
  emu = await startEmulator({ seed: 3, maxSessionMs: MAX_SESSION_MS, audioPacing: 'fast', replyWords: 30 });
  proxy = await startProxy({
    port: 0,
    connection: { url: emu.url, model: 'gpt-realtime' },
    summariser: { baseURL: emu.httpUrl, apiKey: 'sk-proxy-test-summary' },
    auth: { mode: 'passthrough' },
    tls: true,
    engine: {
      policy: { triggerTokens: TRIGGER, targetTokens: TARGET, keepLastTurns: 2, transcriptWaitMs: 500, ackTimeoutMs: 3_000 },
      rolloverMarginMs: 2_500,
      reconnect: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    },
    journal: false,
    onEvent: (e) => { events.push(e); if (process.env.PROXY_DEBUG) console.error(JSON.stringify(e)); },
    log: (l) => { if (process.env.PROXY_DEBUG) console.error(l); },
  });
});

afterAll(async () => {
  await proxy?.close();
  await emu?.close();
});

/** The emulator's current conversation for the newest session: the ids in server order. */
function serverIds(): string[] {
  const s = emu.sessions();
  if (s.length !== 1) return ['(no single live session)'];
  return (s[0].items() as { id: string }[]).map((i) => i.id);
}

async function until(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Agents SDK RealtimeSession through the proxy', () => {
  it('a long conversation: summaries and rollovers, history equal to the server, no protocol error', async () => {
    const agent = new RealtimeAgent({ name: 'proxy-test', instructions: 'Answer briefly.' });
    const session = new RealtimeSession(agent, { transport: 'websocket', model: 'gpt-realtime' });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e));
    let turnsDone = 0;
    session.on('agent_end', () => turnsDone++);
    // OpenAIRealtimeWebSocket in Node opens ws: only through `url`: the proxy's TLS endpoint is trusted here.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    await session.connect({ apiKey: 'sk-client-key-1234', url: `${proxy.url}?model=gpt-realtime` });
    const conn = proxy.connections()[0];
    const windows: number[] = [];
    const historyIds = () => session.history.map((h) => h.itemId);
    // The server's usage as the client receives it: input tokens (the window each response saw).
    session.on('transport_event', (e: any) => {
      if (e.type === 'response.done' && e.response?.usage) windows.push(e.response.usage.input_tokens);
    });
    try {
      const started = Date.now();
      let checkedSummaries = 0;
      let checkedRollovers = 0;
      let turn = 0;
      // At least 60 simulated minutes (one emulator session length) and two rollovers.
      while (Date.now() - started < MAX_SESSION_MS * 1.6 || checkedRollovers < 2) {
        if (turn > 400) throw new Error('too many turns');
        const before = turnsDone;
        session.sendMessage(`Turn ${++turn}: tell me something about the number ${turn}.`);
        await until(() => turnsDone > before, `reply to turn ${turn}`);
        const summaries = events.filter((e) => e.type === 'summary' && e.conn === conn.id).length;
        const rollovers = events.filter((e) => e.type === 'rollover' && e.conn === conn.id).length;
        if (summaries > checkedSummaries || rollovers > checkedRollovers) {
          await conn.agent.idle();
          // The client has been told about every insert and delete: its history is the server's.
          await until(() => JSON.stringify(historyIds()) === JSON.stringify(serverIds()), 'history to match the server').catch(() => {});
          expect(historyIds()).toEqual(serverIds());
          checkedSummaries = summaries;
          checkedRollovers = rollovers;
        }
        await new Promise((r) => setTimeout(r, 40));
      }
      const simulatedMinutes = ((Date.now() - started) / MAX_SESSION_MS) * 60;
      expect(simulatedMinutes).toBeGreaterThanOrEqual(60);
      expect(checkedSummaries).toBeGreaterThanOrEqual(1);
      expect(checkedRollovers).toBeGreaterThanOrEqual(2);
      expect(emu.sessions().length).toBeGreaterThanOrEqual(1);
      // The window stays within one turn of the trigger, rollovers included: a turn's weight is what
      // it added to the next response's input, the largest one seen is the tolerance.
      const turnTokens = windows.slice(1).map((w, i) => w - windows[i]).filter((d) => d > 0);
      const tolerance = TRIGGER + Math.max(...turnTokens);
      if (process.env.PROXY_DEBUG) console.error(`max window ${Math.max(...windows)} / trigger ${TRIGGER}, tolerance ${tolerance}`);
      expect(Math.max(...windows)).toBeLessThanOrEqual(tolerance);
      expect(errors).toEqual([]);
    } finally {
      session.close();
    }
  }, 180_000);
});

describe('openai SDK OpenAIRealtimeWS through the proxy (wss)', () => {
  it('a long conversation with its base URL changed only: one session.created, its item view equal to the server, no error', async () => {
    const client = new OpenAI({ apiKey: 'sk-openai-sdk-client', baseURL: proxy.httpUrl });
    const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { ca: proxy.certificatePem } }, client);
    const seen: { type: string; [k: string]: any }[] = [];
    const errors: unknown[] = [];
    // The client's own view of the conversation, from the events it receives (the protocol's rules).
    let view: string[] = [];
    rt.on('event', (e: any) => {
      seen.push(e);
      if (e.type === 'conversation.item.added') {
        view = view.filter((id) => id !== e.item.id);
        const prev = e.previous_item_id === undefined || e.previous_item_id === null ? -1 : view.indexOf(e.previous_item_id);
        // null: at the root; a known id: right after it; absent or unknown: at the end.
        const at = e.previous_item_id === null ? 0 : prev < 0 ? view.length : prev + 1;
        view.splice(at, 0, e.item.id);
      } else if (e.type === 'conversation.item.deleted') view = view.filter((id) => id !== e.item_id);
    });
    rt.on('error', (e) => errors.push(e));
    await until(() => seen.some((e) => e.type === 'session.created'), 'session.created');
    const conn = proxy.connections().at(-1)!;
    rt.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
    await until(() => seen.some((e) => e.type === 'session.updated'), 'session.updated');
    const updated = seen.find((e) => e.type === 'session.updated')!;
    // The client did not ask for transcription: the proxy's addition is not shown.
    expect(updated.session.audio.input.transcription).toBeNull();
    const rolloversBefore = () => events.filter((e) => e.type === 'rollover' && e.conn === conn.id).length;
    const started = Date.now();
    let turn = 0;
    while (Date.now() - started < MAX_SESSION_MS * 1.1 || rolloversBefore() < 1) {
      if (turn > 300) throw new Error('too many turns');
      const before = seen.filter((e) => e.type === 'response.done').length;
      rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `Question ${++turn} about the number ${turn}` }] } });
      rt.send({ type: 'response.create' });
      await until(() => seen.filter((e) => e.type === 'response.done').length > before, `response ${turn}`);
      await new Promise((r) => setTimeout(r, 40));
    }
    await conn.agent.idle();
    await until(() => JSON.stringify(view) === JSON.stringify(serverIds()), 'the client view to match the server').catch(() => {});
    expect(view).toEqual(serverIds());
    expect(rolloversBefore()).toBeGreaterThanOrEqual(1);
    expect(seen.filter((e) => e.type === 'session.created')).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'session.updated')).toHaveLength(1);
    expect(seen.every((e) => e.type !== 'response.done' || e.response.status === 'completed')).toBe(true);
    // Observer mode: every response the client saw is one it asked for (the engine originates none).
    expect(seen.filter((e) => e.type === 'response.done')).toHaveLength(turn);
    expect(seen.some((e) => e.type.startsWith('conversation.item.input_audio_transcription'))).toBe(false);
    expect(errors).toEqual([]);
    rt.close();
  }, 180_000);
});
