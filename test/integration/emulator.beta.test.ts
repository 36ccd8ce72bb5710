// Beta dialect (OpenAI-Beta: realtime=v1) with a raw ws client: accepted only with allowBeta
// (--dialect beta); refused by default like the real service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RawClient, b64, tone } from '../helpers/emulator-client.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 3, transcription: { delayMs: 5 }, allowBeta: true });
});
afterAll(async () => {
  await emu.close();
});

async function betaClient(): Promise<RawClient> {
  const c = await RawClient.connect(emu.url, { beta: true });
  await c.waitFor('conversation.created');
  return c;
}

describe('beta dialect', () => {
  it('session.created has the flat beta shape and is followed by conversation.created', async () => {
    const c = await betaClient();
    expect(c.events.map((e) => e.type)).toEqual(['session.created', 'conversation.created']);
    const s = c.events[0].session;
    expect(s.modalities).toEqual(['text', 'audio']);
    expect(s.input_audio_format).toBe('pcm16');
    expect(s.turn_detection.type).toBe('server_vad');
    expect(s.audio).toBeUndefined();
    expect(s.type).toBeUndefined();
    expect(c.events[1].conversation.id).toMatch(/^conv_/);
    c.close();
  });

  it("rejects GA's session.type with unknown_parameter and accepts beta fields", async () => {
    const c = await betaClient();
    let m = c.mark();
    c.send({ type: 'session.update', event_id: 'b1', session: { type: 'realtime', instructions: 'x' } });
    const e = await c.waitFor('error', m);
    expect(e.error.code).toBe('unknown_parameter');
    expect(e.error.message).toBe("Unknown parameter: 'session.type'.");
    expect(e.error.event_id).toBe('b1');
    m = c.mark();
    c.send({
      type: 'session.update',
      session: { modalities: ['text'], voice: 'alloy', instructions: 'Be brief.', input_audio_transcription: { model: 'whisper-1' }, turn_detection: null, temperature: 0.8 },
    });
    const u = await c.waitFor('session.updated', m);
    expect(u.session).toMatchObject({ modalities: ['text'], voice: 'alloy', instructions: 'Be brief.', turn_detection: null, input_audio_transcription: { model: 'whisper-1' } });
    m = c.mark();
    c.send({ type: 'session.update', session: { temperature: 3 } });
    expect((await c.waitFor('error', m)).error.param).toBe('session.temperature');
    c.close();
  });

  it('items: conversation.item.created (no added/done), beta content names, retrieve/delete', async () => {
    const c = await betaClient();
    let m = c.mark();
    c.send({ type: 'session.update', session: { turn_detection: null, input_audio_transcription: { model: 'gpt-4o-mini-transcribe' } } });
    await c.waitFor('session.updated', m);
    m = c.mark();
    c.send({ type: 'conversation.item.create', item: { id: 'asst1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Earlier answer' }] } });
    const created = await c.waitFor('conversation.item.created', m);
    expect(created.item.content[0]).toEqual({ type: 'text', text: 'Earlier answer' });
    m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'input_text', text: 'x' }] } });
    expect((await c.waitFor('error', m)).error.message).toBe("Invalid value: 'input_text'. Value must be 'text'.");
    m = c.mark();
    c.send({ type: 'input_audio_buffer.append', audio: b64(tone(300)), x_transcript_hint: 'bonjour' });
    c.send({ type: 'input_audio_buffer.commit' });
    const committed = await c.waitFor('input_audio_buffer.committed', m);
    const userItem = await c.waitFor((e) => e.type === 'conversation.item.created' && e.item.id === committed.item_id, m);
    expect(userItem.previous_item_id).toBe('asst1');
    const tr = await c.waitFor('conversation.item.input_audio_transcription.completed', m);
    expect(tr.transcript).toBe('bonjour');
    expect(tr.usage).toMatchObject({ type: 'tokens', input_tokens: 3, input_token_details: { audio_tokens: 3 } });
    const types = c.typesSince(0);
    expect(types).not.toContain('conversation.item.added');
    expect(types).not.toContain('conversation.item.done');
    m = c.mark();
    c.send({ type: 'conversation.item.retrieve', item_id: 'asst1' });
    expect((await c.waitFor('conversation.item.retrieved', m)).item.content[0].type).toBe('text');
    m = c.mark();
    c.send({ type: 'conversation.item.delete', item_id: 'asst1' });
    expect((await c.waitFor('conversation.item.deleted', m)).item_id).toBe('asst1');
    c.close();
  });

  it('responses use beta event names and shapes (audio and text)', async () => {
    const c = await betaClient();
    let m = c.mark();
    c.send({ type: 'session.update', session: { turn_detection: null } });
    await c.waitFor('session.updated', m);
    m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] } });
    c.send({ type: 'response.create', response: { modalities: ['text', 'audio'] } });
    const done = await c.waitFor('response.done', m);
    const types = new Set(c.typesSince(m));
    for (const t of ['response.audio.delta', 'response.audio_transcript.delta', 'response.audio.done', 'response.audio_transcript.done', 'conversation.item.created'])
      expect(types.has(t)).toBe(true);
    for (const t of ['response.output_audio.delta', 'response.output_audio_transcript.delta', 'conversation.item.added']) expect(types.has(t)).toBe(false);
    expect(done.response.modalities).toEqual(['text', 'audio']);
    expect(done.response.output[0].content[0].type).toBe('audio');
    expect(done.response.usage.total_tokens).toBe(done.response.usage.input_tokens + done.response.usage.output_tokens);
    m = c.mark();
    c.send({ type: 'response.create', response: { modalities: ['text'], output_modalities: ['text'] } });
    expect((await c.waitFor('error', m)).error.message).toBe("Unknown parameter: 'response.output_modalities'.");
    m = c.mark();
    c.send({ type: 'response.create', response: { modalities: ['text'] } });
    const d2 = await c.waitFor('response.done', m);
    expect(c.typesSince(m)).toContain('response.text.delta');
    expect(c.typesSince(m)).toContain('response.text.done');
    expect(d2.response.output[0].content[0].type).toBe('text');
    c.close();
  });

  it('default (no allowBeta): error event, then close 4000 beta_api_shape_disabled, as the service does', async () => {
    const strict = await startEmulator();
    try {
      const c = await RawClient.connect(strict.url, { beta: true });
      const e = await c.waitFor('error');
      expect(e.error.code).toBe('beta_api_shape_disabled');
      expect(e.error.message).toBe('The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.');
      const closed = await c.closed;
      expect(closed).toEqual({ code: 4000, reason: 'invalid_request_error.beta_api_shape_disabled' });
      // GA still works on the same server
      const ga = await RawClient.connect(strict.url);
      expect((await ga.waitFor('session.created')).session.type).toBe('realtime');
      ga.close();
    } finally {
      await strict.close();
    }
  });
});
