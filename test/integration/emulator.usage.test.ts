// Usage accounting in response.done (tokenizer, audio rates, cache rule, truncation) and the
// chat-completions summariser, checked against an independent computation of the documented rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { cachedTokens, contextWindow, planTruncation, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RawClient, b64, replyText, tone } from '../helpers/emulator-client.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 11 });
});
afterAll(async () => {
  await emu.close();
});

const item = (id: string, text: string, role = 'user') => ({ type: 'conversation.item.create', item: { id, type: 'message', role, content: [{ type: 'input_text', text }] } });

async function session(instructions: string, extra: Record<string, unknown> = {}, model?: string): Promise<RawClient> {
  const c = await RawClient.connect(emu.url, { model });
  await c.waitFor('session.created');
  const m = c.mark();
  c.send({ type: 'session.update', session: { type: 'realtime', instructions, audio: { input: { turn_detection: null } }, ...extra } });
  await c.waitFor('session.updated', m);
  return c;
}

async function add(c: RawClient, id: string, text: string, role = 'user'): Promise<void> {
  const m = c.mark();
  c.send(item(id, text, role));
  await c.waitFor((e) => e.type === 'conversation.item.added' || e.type === 'error', m);
}

async function respond(c: RawClient, response?: object) {
  const m = c.mark();
  c.send({ type: 'response.create', ...(response ? { response } : {}) });
  return (await c.waitFor('response.done', m)).response;
}

describe('usage in response.done', () => {
  it('text: instructions + 4 per item + tokenizer counts; total = input + output', async () => {
    const instr = 'You are terse.';
    const c = await session(instr, { output_modalities: ['text'] });
    await add(c, 'u1', 'Hello world, how are you today?');
    const r = await respond(c);
    const expectedInput = countTokens(instr) + 4 + countTokens('Hello world, how are you today?');
    expect(r.usage.input_tokens).toBe(expectedInput);
    expect(r.usage.input_token_details).toMatchObject({ text_tokens: expectedInput, audio_tokens: 0, cached_tokens: 0 });
    const text = replyText({ type: 'x', response: r });
    expect(r.usage.output_tokens).toBe(countTokens(text));
    expect(r.usage.output_token_details).toEqual({ text_tokens: countTokens(text), audio_tokens: 0 });
    expect(r.usage.total_tokens).toBe(r.usage.input_tokens + r.usage.output_tokens);
    // the assistant reply is now part of the next request
    const r2 = await respond(c);
    expect(r2.usage.input_tokens).toBe(expectedInput + 4 + countTokens(text));
    c.close();
  });

  it('audio: 10 tokens/s of user audio, 20 tokens/s of assistant audio (also when it re-enters the prompt)', async () => {
    const instr = 'Speak.';
    const c = await session(instr);
    const m = c.mark();
    c.send({ type: 'input_audio_buffer.append', audio: b64(tone(1500)), x_transcript_hint: 'one two three' });
    c.send({ type: 'input_audio_buffer.commit' });
    await c.waitFor('input_audio_buffer.committed', m);
    const r = await respond(c);
    expect(r.usage.input_token_details.audio_tokens).toBe(15);
    expect(r.usage.input_token_details.text_tokens).toBe(countTokens(instr) + 4);
    const transcript = replyText({ type: 'x', response: r });
    const words = transcript.split(' ').length;
    expect(r.usage.output_token_details).toEqual({ text_tokens: countTokens(transcript), audio_tokens: words * 8 });
    const r2 = await respond(c);
    expect(r2.usage.input_token_details.audio_tokens).toBe(15 + words * 8);
    expect(r2.usage.input_token_details.text_tokens).toBe(countTokens(instr) + 8);
    c.close();
  });

  it('cache (captured: from the first response, 64-token steps, no 1,024 floor): previous request + its output; a root insert busts it', async () => {
    const instr = 'You are a careful assistant who answers questions about the history of maritime navigation. '.repeat(80);
    const itokens = countTokens(instr);
    const c = await session(instr, { output_modalities: ['text'] });
    await add(c, 'u1', 'First question about sextants and how they were used at sea. '.repeat(10));
    const r1 = await respond(c);
    // first response: the instructions are warm (the service cached 64 of 120 on a first response)
    expect(r1.usage.input_token_details.cached_tokens).toBe(Math.floor(itokens / 64) * 64);
    await add(c, 'u2', 'Second question about chronometers.');
    const r2 = await respond(c);
    // the prefix is the previous request plus the reply it produced (4 tokens overhead + its text)
    const reply1 = 4 + countTokens(replyText({ type: 'x', response: r1 }));
    const cached2 = Math.floor((r1.usage.input_tokens + reply1) / 64) * 64;
    expect(r2.usage.input_token_details.cached_tokens).toBe(cached2);
    expect(r2.usage.input_token_details.cached_tokens_details).toEqual({ text_tokens: cached2, audio_tokens: 0, image_tokens: 0 });
    const m = c.mark();
    c.send({ type: 'conversation.item.create', previous_item_id: 'root', item: { id: 'sum_001', type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Summary.' }] } });
    await c.waitFor('conversation.item.added', m);
    const r3 = await respond(c);
    expect(r3.usage.input_token_details.cached_tokens).toBe(Math.floor(itokens / 64) * 64);
    expect(r3.usage.input_token_details.cached_tokens).toBeLessThan(cached2);
    // out-of-band responses do not move the cache baseline
    await respond(c, { conversation: 'none', input: [] });
    const r4 = await respond(c);
    const reply3 = 4 + countTokens(replyText({ type: 'x', response: r3 }));
    expect(r4.usage.input_token_details.cached_tokens).toBe(Math.floor((r3.usage.input_tokens + reply3) / 64) * 64);
    c.close();
  });

  it('truncation retention_ratio: drops oldest items from the model context (they stay in the conversation)', async () => {
    const instr = 'Short.';
    const c = await session(instr, {
      output_modalities: ['text'],
      truncation: { type: 'retention_ratio', retention_ratio: 0.5, token_limits: { post_instructions: 300 } },
    });
    const text = 'alpha beta gamma delta '.repeat(25).trim();
    const per = 4 + countTokens(text);
    for (let i = 0; i < 6; i++) await add(c, `t${i}`, text);
    const handle = emu.sessions().find((s) => s.id === c.events[0].session.id)!;
    handle.setContextEcho(true);
    const r = await respond(c);
    const kept = Math.floor(150 / per);
    expect(r.usage.input_tokens).toBe(countTokens(instr) + kept * per);
    const echo = replyText({ type: 'x', response: r });
    expect(echo).toContain('t5');
    expect(echo).not.toContain('t0');
    expect(handle.items().map((i: any) => i.id).slice(0, 6)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    c.close();
  });

  it("truncation auto on a 16k model keeps input <= context - 4096; 'disabled' fails the response instead", async () => {
    const big = ' hello'.repeat(4000);
    const per = 4 + countTokens(big);
    const c = await session('S.', { output_modalities: ['text'] }, 'gpt-4o-mini-realtime-preview');
    for (let i = 0; i < 4; i++) await add(c, `b${i}`, big);
    const r = await respond(c);
    expect(r.status).toBe('completed');
    expect(r.usage.input_tokens).toBeLessThanOrEqual(16_000 - 4096);
    expect(r.usage.input_tokens).toBe(countTokens('S.') + 2 * per);
    c.close();
    const d = await session('S.', { output_modalities: ['text'], truncation: 'disabled' }, 'gpt-4o-mini-realtime-preview');
    for (let i = 0; i < 4; i++) await add(d, `b${i}`, big);
    const f = await respond(d);
    expect(f.status).toBe('failed');
    expect(f.status_details.error.code).toBe('context_length_exceeded');
    d.close();
  });

  it('rules as functions: context sizes, cache threshold/rounding, truncation plans', () => {
    expect(contextWindow('gpt-realtime')).toBe(32_000);
    expect(contextWindow('gpt-realtime-mini-2025-12-15')).toBe(32_000);
    expect(contextWindow('gpt-4o-realtime-preview')).toBe(32_000);
    expect(contextWindow('gpt-4o-mini-realtime-preview')).toBe(16_000);
    expect(contextWindow('gpt-realtime-2')).toBe(128_000);
    const b = (key: string, text: number, audio = 0) => ({ key, text, audio });
    // no 1,024 floor; 64-token steps; the first request counts its instructions block as cached
    expect(cachedTokens([b('i', 1000)], [b('i', 1000), b('x', 50)]).cached).toBe(960);
    expect(cachedTokens([b('i', 100)], [b('i', 100), b('x', 50)]).cached).toBe(64);
    expect(cachedTokens(undefined, [b('i', 110), b('u', 10)]).cached).toBe(64);
    expect(cachedTokens(undefined, [b('i', 60), b('u', 60)]).cached).toBe(0);
    expect(cachedTokens([b('j', 100)], [b('i', 100), b('x', 50)]).cached).toBe(0);
    expect(cachedTokens([b('i', 1000), b('a', 100, 30)], [b('i', 1000), b('a', 100, 30), b('z', 9)])).toEqual({ cached: 1088, cachedText: 1088, cachedAudio: 0 });
    expect(cachedTokens([b('i', 500), b('a', 100, 600)], [b('i', 500), b('a', 100, 600)])).toEqual({ cached: 1152, cachedText: 600, cachedAudio: 552 });
    expect(planTruncation([b('i', 100), b('a', 20_000), b('b', 10_000)], 'gpt-realtime', 'auto').drop).toBe(1);
    expect(planTruncation([b('i', 100), b('a', 20_000)], 'gpt-realtime', 'auto').drop).toBe(0);
    expect(planTruncation([b('i', 100), b('a', 30_000)], 'gpt-realtime', 'disabled').overflow).toEqual({ inputTokens: 30_100, limit: 27_904 });
  });
});

describe('chat completions summariser', () => {
  it('states the requested language with a fixed marker, or [Summary]; usage by the tokenizer', async () => {
    const c = new OpenAI({ apiKey: 'sk-test', baseURL: emu.httpUrl });
    const messages = [
      { role: 'system' as const, content: 'Summarise the following conversation in one concise paragraph.' },
      { role: 'user' as const, content: 'user: Hi.\nassistant: Hello! How can I help?' },
    ];
    const r = await c.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(r.choices[0].message.content).toBe('[Summary] user: Hi. assistant: Hello!');
    const prompt = 3 + messages.reduce((n, m) => n + 4 + countTokens(m.content), 0);
    expect(r.usage).toEqual({ prompt_tokens: prompt, completion_tokens: countTokens(r.choices[0].message.content!), total_tokens: prompt + countTokens(r.choices[0].message.content!) });
    const g = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Write it in German.' }, messages[1]] });
    expect(g.choices[0].message.content!.startsWith('[Summary in German] Zusammenfassung: ')).toBe(true);
    const stream = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('[Summary] user: Hi. assistant: Hello!');
    await expect(c.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })).rejects.toThrow(/messages/);
  });
});
