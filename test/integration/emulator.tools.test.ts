// Model-initiated function calls in the emulator, over a real ws socket (README "Function calling").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, synthesiseArguments, type Emulator } from '../../src/emulator/index.js';
import { RawClient, b64, tone, type Ev } from '../helpers/emulator-client.js';

const GET_TIME = {
  type: 'function',
  name: 'get_time',
  description: 'The current time in a time zone',
  parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] },
};
const UNITS = ['km', 'miles', 'kg', 'pounds'];
const CONVERT = {
  type: 'function',
  name: 'convert_units',
  description: 'Convert a value between units',
  parameters: {
    type: 'object',
    properties: { value: { type: 'number' }, from: { type: 'string', enum: UNITS }, to: { type: 'string', enum: UNITS } },
    required: ['value', 'from', 'to'],
  },
};

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 7 });
});
afterAll(async () => {
  await emu.close();
});

async function session(tools: unknown[], extra: Record<string, unknown> = {}): Promise<RawClient> {
  const c = await RawClient.connect(emu.url);
  await c.waitFor('session.created');
  await c.request(
    { type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], tools, audio: { input: { turn_detection: null } }, ...extra } },
    'session.updated',
  );
  return c;
}

async function say(c: RawClient, text: string, extra: Record<string, unknown> = {}): Promise<{ from: number; done: Ev }> {
  const from = c.mark();
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] }, ...extra });
  await c.waitFor('conversation.item.done', from);
  c.send({ type: 'response.create' });
  const done = await c.waitFor('response.done', from);
  return { from, done };
}

function replyText(done: Ev): string {
  return done.response.output.map((o: any) => o.content?.[0]?.text ?? '').join('');
}

describe('keyword rule', () => {
  it('"What time is it in Tokyo?" calls get_time({timezone: "Tokyo"}), streamed like the service', async () => {
    const c = await session([GET_TIME]);
    const { from, done } = await say(c, 'What time is it in Tokyo?');
    const types = c.typesSince(from).filter((t) => t !== 'rate_limits.updated');
    const deltas = types.filter((t) => t === 'response.function_call_arguments.delta').length;
    expect(deltas).toBeGreaterThan(0);
    expect(types).toEqual([
      'conversation.item.added', 'conversation.item.done', // the user item
      'response.created',
      'response.output_item.added', 'conversation.item.added',
      ...Array(deltas).fill('response.function_call_arguments.delta'),
      'response.function_call_arguments.done',
      'conversation.item.done', 'response.output_item.done',
      'response.done',
    ]);
    const events = c.events.slice(from);
    const added = events.find((e) => e.type === 'response.output_item.added')!;
    expect(added.item).toMatchObject({ type: 'function_call', name: 'get_time', status: 'in_progress' });
    const callId: string = added.item.call_id;
    expect(callId).toMatch(/^call_[A-Za-z0-9]{16}$/);
    expect(callId.length).toBeLessThanOrEqual(32);
    const streamed = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    expect(JSON.parse(streamed)).toEqual({ timezone: 'Tokyo' });
    const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done')!;
    expect(argsDone).toMatchObject({ call_id: callId, item_id: added.item.id, name: 'get_time', output_index: 0, arguments: streamed });
    expect(done.response.status).toBe('completed');
    expect(done.response.output).toHaveLength(1);
    expect(done.response.output[0]).toMatchObject({ type: 'function_call', name: 'get_time', call_id: callId, status: 'completed', arguments: streamed });
    expect(done.response.output.some((o: any) => o.type === 'message')).toBe(false);
    c.close();
  });

  it('the reply after function_call_output + response.create uses the output, and the tool is not called again', async () => {
    const c = await session([GET_TIME]);
    const first = await say(c, 'What time is it in Tokyo?');
    const call = first.done.response.output[0];
    const m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: '{"time":"21:07","zone":"Asia/Tokyo"}' } });
    await c.waitFor('conversation.item.done', m);
    c.send({ type: 'response.create' });
    const done = await c.waitFor('response.done', m);
    expect(done.response.output).toHaveLength(1);
    expect(done.response.output[0].type).toBe('message');
    expect(replyText(done)).toContain('{"time":"21:07","zone":"Asia/Tokyo"}');
    expect(c.typesSince(m)).not.toContain('response.function_call_arguments.delta');
    c.close();
  });

  it('two tools named in one turn: two parallel calls in one response, then one reply with both outputs', async () => {
    const c = await session([GET_TIME, CONVERT]);
    const { done } = await say(c, 'What time is it in Lisbon, and convert 5 miles to km please');
    expect(done.response.output.map((o: any) => o.name)).toEqual(['get_time', 'convert_units']);
    const [a, b] = done.response.output;
    expect(a.call_id).not.toBe(b.call_id);
    expect(JSON.parse(a.arguments)).toEqual({ timezone: 'Lisbon' });
    expect(JSON.parse(b.arguments)).toEqual({ value: 5, from: 'miles', to: 'km' });
    const m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: a.call_id, output: 'TIME-RESULT-11:00' } });
    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: b.call_id, output: 'UNITS-RESULT-8.05' } });
    await c.waitFor((e) => e.type === 'conversation.item.done' && e.item.call_id === b.call_id, m);
    c.send({ type: 'response.create' });
    const reply = await c.waitFor('response.done', m);
    expect(replyText(reply)).toContain('TIME-RESULT-11:00');
    expect(replyText(reply)).toContain('UNITS-RESULT-8.05');
    c.close();
  });

  it('no call when no tool is named, when tools are empty, or with tool_choice "none"', async () => {
    const named = await session([GET_TIME]);
    expect((await say(named, 'Tell me a story')).done.response.output[0].type).toBe('message');
    named.close();
    const none = await session([GET_TIME], { tool_choice: 'none' });
    expect((await say(none, 'What time is it?')).done.response.output[0].type).toBe('message');
    none.close();
    const empty = await session([]);
    expect((await say(empty, 'What time is it?')).done.response.output[0].type).toBe('message');
    empty.close();
  });

  it('a heard audio turn (transcript hint) calls the tool too', async () => {
    const c = await session([GET_TIME]);
    const m = c.mark();
    c.send({ type: 'input_audio_buffer.append', audio: b64(tone(500)), x_transcript_hint: 'what time is it in Paris' });
    c.send({ type: 'input_audio_buffer.commit' });
    await c.waitFor('input_audio_buffer.committed', m);
    c.send({ type: 'response.create' });
    const done = await c.waitFor('response.done', m);
    expect(done.response.output[0]).toMatchObject({ type: 'function_call', name: 'get_time' });
    expect(JSON.parse(done.response.output[0].arguments)).toEqual({ timezone: 'Paris' });
    c.close();
  });
});

describe('explicit calls', () => {
  it('x_tool_call on the user item decides the call and its arguments', async () => {
    const c = await session([GET_TIME, CONVERT]);
    const { done } = await say(c, 'Hello there', { x_tool_call: [{ name: 'convert_units', arguments: { value: 3, from: 'kg', to: 'pounds' } }] });
    expect(done.response.output).toHaveLength(1);
    expect(done.response.output[0].name).toBe('convert_units');
    expect(JSON.parse(done.response.output[0].arguments)).toEqual({ value: 3, from: 'kg', to: 'pounds' });
    c.close();
  });

  it('an x_tool_call that is not a call is rejected with an error naming the field', async () => {
    const c = await session([GET_TIME]);
    const m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }, x_tool_call: 42 });
    const e = await c.waitFor('error', m);
    expect(e.error.param).toBe('x_tool_call');
    c.close();
  });

  it('POST /emulator/tool-calls scripts the next response (session-scoped), arguments synthesised when omitted', async () => {
    const c = await session([GET_TIME]);
    const sid = (c.events.find((e) => e.type === 'session.created') as Ev).session.id;
    const res = await fetch(`${emu.httpUrl.replace(/\/v1$/, '')}/emulator/tool-calls`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-emulator', 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: sid, calls: [{ name: 'get_time' }, { name: 'lookup_weather', arguments: '{"city":"Oslo"}' }] }),
    });
    expect(res.status).toBe(200);
    const { done } = await say(c, 'Nothing relevant in Rome');
    expect(done.response.output.map((o: any) => [o.name, JSON.parse(o.arguments)])).toEqual([
      ['get_time', { timezone: 'Rome' }],
      ['lookup_weather', { city: 'Oslo' }],
    ]);
    // consumed: the next turn follows the keyword rule again
    expect((await say(c, 'Tell me a story')).done.response.output[0].type).toBe('message');
    const bad = await fetch(`${emu.httpUrl.replace(/\/v1$/, '')}/emulator/tool-calls`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-emulator', 'content-type': 'application/json' },
      body: JSON.stringify({ calls: [] }),
    });
    expect(bad.status).toBe(400);
    c.close();
  });

  it('response.create cancelled before the calls stream: cancelled, no function call in the conversation', async () => {
    const slow = await startEmulator({ latencyMs: 200 });
    try {
      const c = await RawClient.connect(slow.url);
      await c.waitFor('session.created');
      await c.request({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], tools: [GET_TIME] } }, 'session.updated');
      const m = c.mark();
      c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What time is it?' }] } });
      c.send({ type: 'response.create' });
      await c.waitFor('response.created', m);
      c.send({ type: 'response.cancel' });
      const done = await c.waitFor('response.done', m);
      expect(done.response.status).toBe('cancelled');
      expect(done.response.output).toEqual([]);
      expect(slow.sessions()[0].items().some((i: any) => i.type === 'function_call')).toBe(false);
      c.close();
    } finally {
      await slow.close();
    }
  });
});

describe('argument synthesis (schema + text)', () => {
  it('enum mentions in order, numbers in order, last capitalised word, required + mentioned only', () => {
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer' },
        verbose: { type: 'boolean' },
        note: { type: 'string' },
        precision: { type: 'string', enum: ['low', 'high'] },
      },
      required: ['city', 'verbose', 'precision'],
    };
    expect(synthesiseArguments(schema, 'Weather in New York for 3 days in fahrenheit')).toEqual({
      city: 'York',
      unit: 'fahrenheit',
      days: 3,
      verbose: false,
      precision: 'low',
    });
    expect(synthesiseArguments(schema, 'weather please')).toEqual({ city: '', verbose: false, precision: 'low' });
    expect(synthesiseArguments({ type: 'object', properties: { city: { type: 'string', default: 'London' } }, required: ['city'] }, 'weather')).toEqual({ city: 'London' });
    expect(synthesiseArguments(undefined, 'anything')).toEqual({});
  });
});
