// The emulator against the captured real service (shared docs realtime-captures.md), one test per
// difference listed in issue 12. Expected values are the captured frames, written out here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RawClient, b64, tone, type Ev } from '../helpers/emulator-client.js';

const TWELVE =
  "'session.update', 'session.close', 'input_audio_buffer.append', 'session.input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', 'response.create', and 'response.cancel'";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 12, transcription: { delayMs: 5 } });
});
afterAll(async () => {
  await emu.close();
});

/** Opens a raw socket and records the upgrade status, every frame and the close. */
function probe(url: string, headers: Record<string, string>): Promise<{ status: number; frames: Ev[]; close: { code: number; reason: string } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let status = 0;
    const frames: Ev[] = [];
    ws.on('upgrade', (res) => (status = res.statusCode ?? 0));
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Ev));
    ws.on('close', (code, reason) => resolve({ status, frames, close: { code, reason: reason.toString() } }));
    ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

async function manual(url = emu.url, extra: Record<string, unknown> = {}): Promise<RawClient> {
  const c = await RawClient.connect(url);
  await c.waitFor('session.created');
  await c.request({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], audio: { input: { turn_detection: null } }, ...extra } }, 'session.updated');
  return c;
}

describe('handshake failures: 101, one error event, close <type>.<code>', () => {
  it('wrong key (when --api-key asks for one): invalid_api_key with the key masked, close 3000', async () => {
    const locked = await startEmulator({ apiKey: 'sk-right-0123456789abcdef' });
    try {
      const key = 'sk-abcdefgh-wrong-key-WXYZ';
      const r = await probe(`${locked.url}?model=gpt-realtime`, { Authorization: `Bearer ${key}` });
      expect(r.status).toBe(101);
      expect(r.frames).toHaveLength(1);
      expect(r.frames[0].type).toBe('error');
      expect(r.frames[0].error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', event_id: null });
      expect(r.frames[0].error.message).toBe(
        'Incorrect API key provided: sk-abcde***…WXYZ. You can find your API key at https://platform.openai.com/account/api-keys.',
      );
      expect(r.frames[0].error.message).not.toContain(key);
      expect(r.close).toEqual({ code: 3000, reason: 'invalid_request_error.invalid_api_key' });
      // the right key still opens a session
      const ok = await RawClient.connect(locked.url, { key: 'sk-right-0123456789abcdef' });
      expect((await ok.waitFor('session.created')).session.type).toBe('realtime');
      ok.close();
    } finally {
      await locked.close();
    }
  });

  it('no Authorization header: code null, "Missing bearer or basic authentication in header", close 3000', async () => {
    const r = await probe(`${emu.url}?model=gpt-realtime`, {});
    expect(r.status).toBe(101);
    expect(r.frames.map((f) => f.type)).toEqual(['error']);
    expect(r.frames[0].error).toMatchObject({ type: 'invalid_request_error', code: null, message: 'Missing bearer or basic authentication in header' });
    expect(r.close).toEqual({ code: 3000, reason: 'invalid_request_error' });
  });

  it('unknown model: invalid_model, close 4000; no model: missing_model, close 4000', async () => {
    const bad = await probe(`${emu.url}?model=gpt-nope`, { Authorization: 'Bearer sk-any' });
    expect(bad.status).toBe(101);
    expect(bad.frames[0].error.code).toBe('invalid_model');
    expect(bad.frames[0].error.message).toMatch(/^Model "gpt-nope" is not supported in realtime mode/);
    expect(bad.close).toEqual({ code: 4000, reason: 'invalid_request_error.invalid_model' });
    const none = await probe(emu.url, { Authorization: 'Bearer sk-any' });
    expect(none.frames[0].error.code).toBe('missing_model');
    expect(none.frames[0].error.message).toMatch(/^You must provide a model parameter, for example wss:\/\/api\.openai\.com\/v1\/realtime\?model=/);
    expect(none.close).toEqual({ code: 4000, reason: 'invalid_request_error.missing_model' });
  });

  it('beta header: beta_api_shape_disabled, close 4000 by default; accepted with allowBeta', async () => {
    const r = await probe(`${emu.url}?model=gpt-realtime`, { Authorization: 'Bearer sk-any', 'OpenAI-Beta': 'realtime=v1' });
    expect(r.status).toBe(101);
    expect(r.frames.map((f) => [f.type, f.error?.code])).toEqual([['error', 'beta_api_shape_disabled']]);
    expect(r.close).toEqual({ code: 4000, reason: 'invalid_request_error.beta_api_shape_disabled' });
    const beta = await startEmulator({ allowBeta: true });
    try {
      const c = await RawClient.connect(beta.url, { beta: true });
      await c.waitFor('conversation.created');
      c.close();
    } finally {
      await beta.close();
    }
  });

  it('any non-empty key is accepted without --api-key; Azure paths take any deployment name; ?intent=transcription needs no model', async () => {
    const c = await RawClient.connect(emu.url, { key: 'x' });
    expect((await c.waitFor('session.created')).session.type).toBe('realtime');
    c.close();
    const az = await RawClient.connect(emu.url.replace('/v1/realtime', '/openai/v1/realtime'), { key: null, model: 'my-deployment', headers: { 'api-key': 'k' } });
    expect((await az.waitFor('session.created')).session.model).toBe('my-deployment');
    az.close();
    const ws = new WebSocket(`${emu.url}?intent=transcription`, { headers: { Authorization: 'Bearer sk-any' } });
    const first = await new Promise<Ev>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Ev)));
    expect(first.type).toBe('session.created');
    ws.close();
  });
});

describe('non-fatal errors keep the session open', () => {
  it('missing items: item_retrieve/delete/truncate_invalid_item_id with the captured delete message', async () => {
    const c = await manual();
    const m = c.mark();
    c.send({ type: 'conversation.item.retrieve', item_id: 'ghost' });
    c.send({ type: 'conversation.item.delete', item_id: 'ghost' });
    c.send({ type: 'conversation.item.truncate', item_id: 'ghost', content_index: 0, audio_end_ms: 10 });
    await c.waitFor((e) => e.type === 'error' && e.error.code === 'item_truncate_invalid_item_id', m);
    const errors = c.events.slice(m).filter((e) => e.type === 'error').map((e) => e.error);
    expect(errors.map((e) => e.code)).toEqual(['item_retrieve_invalid_item_id', 'item_delete_invalid_item_id', 'item_truncate_invalid_item_id']);
    expect(errors[1].message).toBe("Error deleting item: the item with id 'ghost' does not exist.");
    expect(errors.every((e) => e.event_id === null)).toBe(true);
    c.close();
  });

  it('call_id longer than 32 characters: rejected, the item is not created', async () => {
    const c = await manual();
    const long = 'call_' + 'x'.repeat(28); // 33 characters
    const m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'function_call', call_id: long, name: 'f', arguments: '{}' } });
    const e = await c.waitFor('error', m);
    expect(e.error.message).toBe("Invalid 'item.call_id': string too long. Expected a string with maximum length 32, but got a string with length 33 instead.");
    expect(emu.sessions().find((s) => s.id === c.events[0].session.id)!.items()).toEqual([]);
    expect(c.typesSince(m)).not.toContain('conversation.item.added');
    c.close();
  });

  it('binary frame -> invalid_event; text that is not JSON -> invalid_json; unknown type lists the twelve client events', async () => {
    const c = await manual();
    let m = c.mark();
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    let e = await c.waitFor('error', m);
    expect(e.error).toMatchObject({ code: 'invalid_event', message: 'Expected a text WebSocket message; binary frames are not supported.' });
    m = c.mark();
    c.sendRaw('{nope');
    e = await c.waitFor('error', m);
    expect(e.error.code).toBe('invalid_json');
    expect(e.error.message).toMatch(/^Invalid event: failed to parse JSON value\./);
    m = c.mark();
    c.send({ type: 'nope' });
    e = await c.waitFor('error', m);
    expect(e.error).toMatchObject({ code: 'invalid_value', param: 'type', message: `Invalid value: 'nope'. Supported values are: ${TWELVE}.` });
    m = c.mark();
    c.send({ type: 'output_audio_buffer.clear' }); // WebRTC-only: not in the WebSocket list
    expect((await c.waitFor('error', m)).error.code).toBe('invalid_value');
    // four errors in a row did not end the session
    expect((await c.request({ type: 'response.create' }, 'response.done')).response.status).toBe('completed');
    c.close();
  });

  it("unknown parameters: \"Unknown parameter: 'session.bogus_field'.\" and top-level ones", async () => {
    const c = await manual();
    let m = c.mark();
    c.send({ type: 'session.update', session: { type: 'realtime', bogus_field: 1 } });
    let e = await c.waitFor('error', m);
    expect(e.error).toMatchObject({ code: 'unknown_parameter', message: "Unknown parameter: 'session.bogus_field'.", param: 'session.bogus_field' });
    m = c.mark();
    c.send({ type: 'response.create', bogus: true });
    e = await c.waitFor('error', m);
    expect(e.error).toMatchObject({ code: 'unknown_parameter', message: "Unknown parameter: 'bogus'.", param: 'bogus' });
    expect(c.typesSince(m)).not.toContain('response.created');
    c.close();
  });

  it('input rate 16000 -> integer_below_min_value on session.audio.input.format.rate; the whole update is discarded', async () => {
    const c = await manual();
    const m = c.mark();
    c.send({ type: 'session.update', session: { type: 'realtime', instructions: 'CHANGED', audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } } });
    const e = await c.waitFor('error', m);
    expect(e.error).toMatchObject({ code: 'integer_below_min_value', param: 'session.audio.input.format.rate' });
    expect(e.error.message).toContain('Expected a value >= 24000');
    const after = await c.request({ type: 'session.update', session: { type: 'realtime' } }, 'session.updated');
    expect(after.session.instructions).not.toBe('CHANGED');
    expect(after.session.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    c.close();
  });
});

describe('a response cycle, event by event', () => {
  it('captured text order: conversation.item.done before response.output_item.done; rate_limits.updated after response.done with one tokens entry', async () => {
    const c = await manual();
    const m = c.mark();
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] } });
    c.send({ type: 'response.create' });
    const rl = await c.waitFor('rate_limits.updated', m);
    const types = c.typesSince(m);
    const collapsed = types.filter((t, i) => !(t === 'response.output_text.delta' && types[i - 1] === t));
    expect(collapsed).toEqual([
      'conversation.item.added', 'conversation.item.done',
      'response.created',
      'response.output_item.added', 'conversation.item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.done', 'response.content_part.done',
      'conversation.item.done', 'response.output_item.done',
      'response.done', 'rate_limits.updated',
    ]);
    expect(rl.rate_limits).toHaveLength(1);
    expect(Object.keys(rl.rate_limits[0]).sort()).toEqual(['limit', 'name', 'remaining', 'reset_seconds']);
    expect(rl.rate_limits[0].name).toBe('tokens');
    const created = c.events.slice(m).find((e) => e.type === 'response.created')!;
    expect(created.response).toMatchObject({ status: 'in_progress', max_output_tokens: 'inf', usage: null });
    expect(created.response.conversation_id).toMatch(/^conv_/);
    // every text delta carries an obfuscation string
    const deltas = c.events.slice(m).filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.length).toBeGreaterThan(0);
    for (const d of deltas) expect(typeof d.obfuscation).toBe('string');
    c.close();
  });

  it('prompt caching from the first response in 64-token steps (no 1,024 floor)', async () => {
    const instructions = 'You answer questions about lighthouses, briefly and kindly. '.repeat(8);
    const n = countTokens(instructions);
    expect(n).toBeGreaterThan(64);
    expect(n).toBeLessThan(1024);
    const c = await manual(emu.url, { instructions });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] } });
    const first = (await c.request({ type: 'response.create' }, 'response.done')).response;
    expect(first.usage.input_token_details.cached_tokens).toBe(Math.floor(n / 64) * 64);
    const second = (await c.request({ type: 'response.create' }, 'response.done')).response;
    expect(second.usage.input_token_details.cached_tokens % 64).toBe(0);
    expect(second.usage.input_token_details.cached_tokens).toBeGreaterThan(first.usage.input_token_details.cached_tokens);
    c.close();
  });

  it('out-of-band response: conversation_id is null (not absent) in response.created and response.done', async () => {
    const c = await manual();
    const m = c.mark();
    c.send({ type: 'response.create', response: { conversation: 'none', input: [] } });
    const done = await c.waitFor('response.done', m);
    const created = c.events.slice(m).find((e) => e.type === 'response.created')!;
    expect('conversation_id' in created.response && created.response.conversation_id === null).toBe(true);
    expect('conversation_id' in done.response && done.response.conversation_id === null).toBe(true);
    c.close();
  });
});

describe('liveness and transcription-only sessions', () => {
  it('the server pings an idle session (interval configurable; ~20 s by default)', async () => {
    const e = await startEmulator({ pingIntervalMs: 30 });
    try {
      const c = await RawClient.connect(e.url);
      await c.waitFor('session.created');
      const payloads: Buffer[] = [];
      await new Promise<void>((resolve) => {
        c.ws.on('ping', (data: Buffer) => {
          payloads.push(data);
          if (payloads.length === 2) resolve();
        });
      });
      expect(payloads.every((p) => p.length === 4)).toBe(true);
      c.close();
    } finally {
      await e.close();
    }
  });

  it('?intent=transcription: session type transcription; commit -> committed, item added/done (transcript null), deltas, completed with usage; no response, no rate_limits', async () => {
    const c = await RawClient.connect(`${emu.url}?intent=transcription`);
    const created = await c.waitFor('session.created');
    expect(created.session.type).toBe('transcription');
    await c.request({ type: 'session.update', session: { type: 'transcription', audio: { input: { turn_detection: null, transcription: { model: 'gpt-4o-transcribe' } } } } }, 'session.updated');
    const m = c.mark();
    c.send({ type: 'input_audio_buffer.append', audio: b64(tone(400)), x_transcript_hint: 'testing one two three four' });
    c.send({ type: 'input_audio_buffer.commit' });
    const completed = await c.waitFor('conversation.item.input_audio_transcription.completed', m);
    const types = c.typesSince(m);
    const collapsed = types.filter((t, i) => !(t.endsWith('.delta') && types[i - 1] === t));
    expect(collapsed).toEqual([
      'input_audio_buffer.committed', 'conversation.item.added', 'conversation.item.done',
      'conversation.item.input_audio_transcription.delta', 'conversation.item.input_audio_transcription.completed',
    ]);
    const added = c.events.slice(m).find((e) => e.type === 'conversation.item.added')!;
    expect(added.item.content[0]).toEqual({ type: 'input_audio', transcript: null });
    expect(completed.transcript).toBe('testing one two three four');
    expect(completed.usage.type).toBe('tokens');
    const r = c.mark();
    c.send({ type: 'response.create' });
    expect((await c.waitFor('error', r)).error.code).toBeTruthy();
    expect(c.typesSince(m)).not.toContain('rate_limits.updated');
    c.close();
  });

  it('session.close ends the session', async () => {
    const c = await manual();
    c.send({ type: 'session.close' });
    expect((await c.closed).code).toBe(1000);
  });
});
