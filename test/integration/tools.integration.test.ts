// Tools end to end: the real agent (machines + socket adapter) against the real emulator over ws.
// The emulator calls a tool by its documented rule (src/emulator/README.md "Function calling") and,
// after the outputs and response.create, replies "<name> returned <output>." — so a test sees the
// result reach the model.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJournal, type JournalLine } from '../../src/conversation/journal.js';
import type { AgentEvents } from '../../src/types.js';
import type { Tool } from '../../src/tools/types.js';
import { next, rig, say, waitUntil, type Rig } from '../helpers/engine.js';
import { FrameHub, type ActorFrame, type Frame, type SnapFrame } from '../../src/inspector/frames.js';
// The example tool module the CLI loads (plain JavaScript, real Intl).
import exampleTools from '../../examples/tools.mjs';

let current: Rig | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await current?.close();
  current = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function journalPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'rtc-tools-'));
  dirs.push(d);
  return join(d, 'journal.jsonl');
}

type Result = AgentEvents['tool.result'];

function collect(r: Rig) {
  const calls: AgentEvents['tool.call'][] = [];
  const results: Result[] = [];
  const order: string[] = [];
  r.agent.on('tool.call', (c) => {
    calls.push(c);
    order.push(`call:${c.name}`);
  });
  r.agent.on('tool.result', (c) => {
    results.push(c);
    order.push(`result:${c.name}`);
  });
  r.agent.on('response.created', () => order.push('response.created'));
  return { calls, results, order };
}

function lastReply(r: Rig): string {
  return r.agent.history().filter((t) => t.role === 'assistant').at(-1)?.text ?? '';
}

interface Item {
  id: string;
  type: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: string;
}
const serverItems = (r: Rig, i = -1) => r.emu.sessions().at(i)!.items() as Item[];

/** Every function_call on the server has exactly one output with its call_id, and vice versa. */
function expectPairsIntact(items: Item[]): void {
  const calls = items.filter((i) => i.type === 'function_call').map((i) => i.call_id);
  const outs = items.filter((i) => i.type === 'function_call_output').map((i) => i.call_id);
  expect([...outs].sort()).toEqual([...calls].sort());
  expect(new Set(calls).size).toBe(calls.length);
}

const textOpts = { outputModalities: ['text'] as ['text'] };

describe('a tool called and its result in the reply', () => {
  it('"What time is it in Tokyo?" runs get_time from examples/tools.mjs; the reply carries its output', async () => {
    const journal = journalPath();
    const r = (current = await rig({}, { session: textOpts, tools: exampleTools as Tool[], journal }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'What time is it in Tokyo?');
    await waitUntil(() => seen.results.length === 1 && r.agent.history().filter((t) => t.role === 'assistant').length === 1, 10_000, 'the reply');
    await r.agent.idle();
    const res = seen.results[0];
    expect(res.name).toBe('get_time');
    expect(JSON.parse(res.arguments)).toEqual({ city: 'Tokyo' }); // the emulator's rule: last capitalised word
    expect(res.status).toBe('done');
    // Oracle: Intl itself, for this minute or the one before (the call ran a moment ago).
    const now = new Date();
    const fmt = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
    const out = JSON.parse(res.output) as { timeZone: string; time: string };
    expect(out.timeZone).toBe('Asia/Tokyo');
    expect([fmt(now), fmt(new Date(now.getTime() - 60_000))]).toContain(out.time);
    expect(res.durationMs).toBeGreaterThanOrEqual(0);
    // The model saw the output (the emulator echoes function_call_output items verbatim).
    expect(lastReply(r)).toBe(`get_time returned ${res.output}.`);
    // On the server: user, call, output, reply; call_ids within 32 characters.
    const items = serverItems(r);
    expect(items.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output', 'message']);
    expect(items[2].call_id).toBe(items[1].call_id);
    expect(items[2].output).toBe(res.output);
    expect(res.callId.length).toBeLessThanOrEqual(32);
    for (const i of items) expect(i.id.length).toBeLessThanOrEqual(32);
    // The journal: the call, its output (as turns, paired by callId) and the tool entry.
    await r.agent.stop();
    const lines = parseJournal(readFileSync(journal, 'utf8'));
    const tool = lines.find((l) => l.type === 'tool') as Extract<JournalLine, { type: 'tool' }>;
    expect(tool).toMatchObject({ name: 'get_time', callId: res.callId, arguments: res.arguments, output: res.output, status: 'done', error: null });
    expect(typeof tool.durationMs).toBe('number');
    const turns = lines.filter((l) => l.type === 'turn') as Extract<JournalLine, { type: 'turn' }>[];
    expect(turns.filter((t) => t.callId === res.callId).map((t) => t.kind).sort()).toEqual(['function_call', 'function_call_output']);
  });

  it('declares the tools in session.update with tool_choice "auto" (zod schemas converted to JSON Schema)', async () => {
    const zodTool: Tool<{ city: string }> = {
      name: 'get_weather',
      description: 'Weather in a city',
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => ({ city, celsius: 21 }),
    };
    const r = (current = await rig({}, { session: textOpts, tools: [zodTool] }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'What is the weather in Paris?');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    // The emulator only calls declared function tools by the keyword rule: the declaration arrived.
    expect(seen.results[0]).toMatchObject({ name: 'get_weather', status: 'done', output: '{"city":"Paris","celsius":21}' });
    expect(lastReply(r)).toBe('get_weather returned {"city":"Paris","celsius":21}.');
  });
});

describe('the inspector', () => {
  it('shows the tools coordinator and one toolCall actor per call, running then done, then stopped', async () => {
    const r = (current = await rig({}, { session: textOpts, tools: exampleTools as Tool[] }));
    const hub = new FrameHub({ secrets: [] });
    hub.attach(r.agent);
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'What time is it in Tokyo?');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    await new Promise((res) => setTimeout(res, 300)); // frames are produced on a timer
    const frames: readonly Frame[] = hub.frames();
    hub.close();
    const actors = frames.filter((f): f is ActorFrame => f.k === 'actor');
    const session = actors.find((a) => a.id === 'session')!;
    const tools = actors.find((a) => a.id === 'tools')!;
    expect(tools.parent).toBe(session.sid);
    const call = actors.find((a) => a.id === `toolCall.${seen.results[0].callId}`)!;
    expect(call, actors.map((a) => a.id).join()).toBeDefined();
    expect(call.kind).toBe('machine');
    expect(call.parent).toBe(tools.sid);
    const own = frames.filter((f) => 'sid' in f && f.sid === call.sid);
    const states = own.filter((f): f is SnapFrame => f.k === 'snap').flatMap((f) => [...(f.via ?? []).map((v) => v.join()), (f.active ?? []).join()]);
    expect(states.some((s) => s.includes('toolCall.done'))).toBe(true);
    expect(own.at(-1)).toMatchObject({ k: 'stop' });
  });
});

describe('parallel calls', () => {
  it('two calls from one response run in parallel; exactly one response.create after both', async () => {
    let running = 0;
    let maxRunning = 0;
    const slow = (name: string, ms: number, value: unknown): Tool => ({
      name,
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
      execute: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((res) => setTimeout(res, ms));
        running--;
        return value;
      },
    });
    const r = (current = await rig({}, { session: textOpts, tools: [slow('get_time', 150, { t: '10:00' }), slow('get_weather', 60, { c: 21 })] }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'What time is it and what is the weather in Oslo?');
    await waitUntil(() => seen.results.length === 2 && lastReply(r) !== '', 10_000, 'the reply');
    await r.agent.idle();
    expect(maxRunning).toBe(2);
    // Both results before the follow-up response; exactly two responses in all (the call, the answer).
    expect(seen.order).toEqual(['response.created', 'call:get_time', 'call:get_weather', 'result:get_weather', 'result:get_time', 'response.created']);
    const items = serverItems(r);
    expect(items.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call', 'function_call_output', 'function_call_output', 'message']);
    expectPairsIntact(items);
    expect(lastReply(r)).toContain('get_time returned {"t":"10:00"}');
    expect(lastReply(r)).toContain('get_weather returned {"c":21}');
  });
});

describe('failures the model can read; the session continues', () => {
  it('a throwing tool answers with its error', async () => {
    const r = (current = await rig({}, { session: textOpts, tools: [{ name: 'get_stock', execute: () => { throw new Error('market closed'); } }] }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'What is the stock price?');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    expect(seen.results[0]).toMatchObject({ status: 'failed', error: 'get_stock failed: market closed' });
    expect(JSON.parse(seen.results[0].output)).toEqual({ error: 'get_stock failed: market closed' });
    expect(lastReply(r)).toBe(`get_stock returned ${seen.results[0].output}.`);
    await r.agent.idle();
    await say(r, 'Thanks anyway');
    expect(r.agent.actor.getSnapshot().matches({ online: 'live' })).toBe(true);
  });

  it('a tool returning something not JSON-serialisable answers with an error', async () => {
    const r = (current = await rig({}, { session: textOpts, tools: [{ name: 'get_big', execute: () => ({ n: 10n }) }] }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'How big is it?');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    expect(seen.results[0].status).toBe('failed');
    expect(seen.results[0].error).toMatch(/^get_big returned a value that is not JSON-serialisable/);
  });

  it('a tool past its timeout: its signal aborts, the model reads the timeout', async () => {
    let aborted = false;
    const hang: Tool = {
      name: 'get_report',
      timeoutMs: 150,
      execute: (_args, { signal }) =>
        new Promise((res) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            res('too late');
          });
        }),
    };
    const r = (current = await rig({}, { session: textOpts, tools: [hang] }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'Send me the report');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    expect(aborted).toBe(true);
    expect(seen.results[0]).toMatchObject({ status: 'timedOut', error: 'get_report timed out after 150 ms' });
    expect(seen.results[0].durationMs).toBeGreaterThanOrEqual(140);
    expect(lastReply(r)).toBe('get_report returned {"error":"get_report timed out after 150 ms"}.');
  });

  it('invalid arguments are answered with the validation error and never reach execute', async () => {
    let executed = false;
    const r = (current = await rig({}, {
      session: textOpts,
      tools: [{ name: 'get_time', parameters: z.object({ city: z.string() }), execute: () => { executed = true; return 'x'; } }],
    }));
    const seen = collect(r);
    await r.agent.start();
    r.emu.toolCalls({ name: 'get_time', arguments: { city: 42 } });
    await say(r, 'hello');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    expect(executed).toBe(false);
    expect(seen.results[0].status).toBe('failed');
    expect(seen.results[0].error).toBe('invalid arguments for get_time: city Invalid input: expected string, received number');
    expect(lastReply(r)).toContain('invalid arguments for get_time');
  });

  it('a call to an unknown tool and arguments that are not JSON are answered too', async () => {
    const r = (current = await rig({}, { session: textOpts, tools: [{ name: 'get_time', execute: () => 'noon' }] }));
    const seen = collect(r);
    await r.agent.start();
    r.emu.toolCalls([{ name: 'launch_rocket' }, { name: 'get_time', arguments: '{not json' }]);
    await say(r, 'hello');
    await waitUntil(() => seen.results.length === 2 && lastReply(r) !== '', 10_000, 'the reply');
    const byName = Object.fromEntries(seen.results.map((x) => [x.name, x]));
    expect(byName.launch_rocket.error).toBe('there is no tool named launch_rocket; available: get_time');
    expect(byName.get_time.error).toBe('invalid arguments for get_time: not valid JSON');
    expectPairsIntact(serverItems(r));
  });
});

describe('barge-in', () => {
  it('interrupt() aborts a running call: signal fired, output "cancelled", no response.create for it', async () => {
    let aborted = false;
    const slow: Tool = {
      name: 'get_report',
      execute: (_a, { signal }) => new Promise((res) => signal.addEventListener('abort', () => { aborted = true; res('late'); })),
    };
    const r = (current = await rig({}, { session: textOpts, tools: [slow] }));
    const seen = collect(r);
    await r.agent.start();
    r.agent.sendText('Send me the report');
    await waitUntil(() => seen.calls.length === 1);
    r.agent.interrupt();
    await waitUntil(() => seen.results.length === 1, 5_000, 'the cancelled result');
    await r.agent.idle();
    expect(aborted).toBe(true);
    expect(seen.results[0]).toMatchObject({ status: 'cancelled', output: 'cancelled' });
    await waitUntil(() => serverItems(r).some((i) => i.type === 'function_call_output'), 5_000, 'the output on the server');
    const out = serverItems(r).find((i) => i.type === 'function_call_output')!;
    expect(out.output).toBe('cancelled');
    // The user's new turn gets its own response: none was created for the cancelled call.
    await new Promise((res) => setTimeout(res, 100));
    expect(seen.order.filter((o) => o === 'response.created')).toHaveLength(1);
    await say(r, 'Never mind, thanks');
    expect(seen.order.filter((o) => o === 'response.created')).toHaveLength(2);
  });

  it('stop() aborts a running call', async () => {
    let aborted = false;
    const slow: Tool = { name: 'get_report', execute: (_a, { signal }) => new Promise((res) => signal.addEventListener('abort', () => { aborted = true; res('late'); })) };
    const r = (current = await rig({}, { session: textOpts, tools: [slow] }));
    const seen = collect(r);
    await r.agent.start();
    r.agent.sendText('Send me the report');
    await waitUntil(() => seen.calls.length === 1);
    await r.agent.stop();
    expect(aborted).toBe(true);
  });
});

describe('other wires and connections', () => {
  it('works on the beta dialect too (tools and outputs translated at the edge)', async () => {
    const r = (current = await rig({ allowBeta: true }, { connection: { dialect: 'beta' }, session: textOpts, tools: exampleTools as Tool[] }));
    const seen = collect(r);
    await r.agent.start();
    await say(r, 'Please convert 5 km to miles');
    await waitUntil(() => seen.results.length === 1 && lastReply(r) !== '', 10_000, 'the reply');
    expect(seen.results[0]).toMatchObject({ name: 'convert_units', arguments: '{"value":5,"from":"km","to":"miles"}', status: 'done' });
    expect(JSON.parse(seen.results[0].output).result).toBe(3.107); // 5000 m / 1609.344 m
    expect(lastReply(r)).toBe(`convert_units returned ${seen.results[0].output}.`);
  });

  it('a dropped connection aborts a running call; after the reconnect tools are declared again and work', async () => {
    let aborted = 0;
    const slow: Tool = { name: 'get_report', execute: (_a, { signal }) => new Promise((res) => signal.addEventListener('abort', () => { aborted++; res('late'); })) };
    const fast: Tool = { name: 'get_time', execute: () => 'noon' };
    const r = (current = await rig({}, { session: textOpts, tools: [slow, fast], reconnect: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 } }));
    const seen = collect(r);
    await r.agent.start();
    r.agent.sendText('Send me the report');
    await waitUntil(() => seen.calls.length === 1);
    const first = r.emu.sessions().at(-1)!;
    first.drop();
    await next(r, 'seeded', () => true, 10_000);
    expect(aborted).toBe(1);
    expect(seen.results[0]).toMatchObject({ name: 'get_report', status: 'cancelled', output: 'cancelled' });
    await r.agent.idle();
    await say(r, 'What time is it?');
    await waitUntil(() => seen.results.length === 2 && lastReply(r) === 'get_time returned noon.', 10_000, 'the reply after the reconnect');
    expect(r.emu.sessions().at(-1)!.id).not.toBe(first.id);
  });
});

describe('summaries wait for running tools', () => {
  it('a summary due at the calls\' response.done waits for their follow-up response: the call is never folded alone', async () => {
    // keepLastTurns 0 and target 0: a summary at the call's response.done would fold the lone call.
    const slow: Tool = { name: 'get_time', execute: () => new Promise((res) => setTimeout(() => res('noon'), 100)) };
    const r = (current = await rig({}, { session: textOpts, tools: [slow], policy: { triggerTokens: 60, targetTokens: 0, keepLastTurns: 0 } }));
    const seen = collect(r);
    const errors: string[] = [];
    r.agent.on('error', (e) => errors.push(e.message));
    const summaries: AgentEvents['summary'][] = [];
    r.agent.on('summary', (x) => summaries.push(x));
    await r.agent.start();
    // A long question: folding it makes the window smaller, so the summary is not skipped as useless.
    await say(r, `What time is it? ${'I need to know it precisely because my train leaves soon. '.repeat(12).trim()}`);
    // Keep 0: the summary folds the reply too, so the reply is read from the turn events.
    const replies = () => r.events.filter((e) => e.name === 'turn').map((e) => e.payload as { role: string; text: string | null }).filter((t) => t.role === 'assistant' && t.text).map((t) => t.text);
    await waitUntil(() => seen.results.length === 1 && replies().length > 0 && summaries.length > 0, 10_000, 'the reply and a summary');
    await r.agent.idle();
    expect(replies()).toEqual(['get_time returned noon.']);
    // The summary came after the tools' follow-up response and folded the call with its output.
    const server = serverItems(r);
    expectPairsIntact(server);
    const folded = summaries.flatMap((x) => x.replacedIds);
    const turns = r.events.filter((e) => e.name === 'turn').map((e) => e.payload as { id: string; kind: string });
    const callItem = turns.find((t) => t.kind === 'function_call')!;
    const outItem = turns.find((t) => t.kind === 'function_call_output')!;
    expect(outItem, 'the output item was added').toBeDefined();
    // Folded together (the pair as one unit) — never the call without its output.
    expect(folded.includes(callItem.id)).toBe(folded.includes(outItem.id));
    expect(errors).toEqual([]);
  });
});

describe('many tool calls, summarised and rolled over', () => {
  it('every call/output pair stays intact on the server and in the journal; the seed carries tool results', async () => {
    const journal = journalPath();
    const r = (current = await rig({}, {
      session: textOpts,
      tools: exampleTools as Tool[],
      journal,
      policy: { triggerTokens: 450, targetTokens: 200, keepLastTurns: 2 },
    }));
    const seen = collect(r);
    await r.agent.start();
    const cities = ['Tokyo', 'Paris', 'London', 'Sydney', 'Berlin', 'Dubai', 'Toronto', 'Seoul'];
    let summaries = 0;
    r.agent.on('summary', () => summaries++);
    for (const [i, city] of cities.entries()) {
      await say(r, `What time is it in ${city}?`);
      await waitUntil(() => seen.results.length === i + 1 && r.agent.history().filter((t) => t.role === 'assistant').length > 0, 10_000, `reply ${i}`);
      await r.agent.idle();
      expectPairsIntact(serverItems(r));
    }
    expect(summaries).toBeGreaterThan(0);
    // Roll over: the server expires the session; the agent seeds a new one from the mirror.
    const old = r.emu.sessions().at(-1)!;
    expectPairsIntact(old.items() as Item[]);
    old.expire();
    const seeded = await next(r, 'seeded', () => true, 10_000);
    expect(r.emu.sessions().at(-1)!.id).not.toBe(old.id);
    const seedItem = serverItems(r).find((i) => i.id === seeded.id) as unknown as { content: { text: string }[] };
    // The recent calls (kept verbatim) reach the new session as text, with their results.
    expect(seedItem.content[0].text).toMatch(/the tool get_time returned: \{"place":"(Toronto|Seoul)"/);
    await say(r, 'What time is it in Madrid?');
    await waitUntil(() => seen.results.length === cities.length + 1 && /get_time returned .*Europe\/Madrid/.test(lastReply(r)), 10_000, 'the reply after rollover');
    expectPairsIntact(serverItems(r));
    await r.agent.stop();
    // The journal: one tool entry per call, and each call's two items as turns with the same callId.
    const lines = parseJournal(readFileSync(journal, 'utf8'));
    const tools = lines.filter((l) => l.type === 'tool') as Extract<JournalLine, { type: 'tool' }>[];
    expect(tools.map((t) => JSON.parse(t.arguments).city)).toEqual([...cities, 'Madrid']);
    const turns = lines.filter((l) => l.type === 'turn') as Extract<JournalLine, { type: 'turn' }>[];
    for (const t of tools) {
      expect(t.status).toBe('done');
      expect(turns.filter((x) => x.callId === t.callId).map((x) => x.kind).sort(), t.callId).toEqual(['function_call', 'function_call_output']);
    }
  });
});
