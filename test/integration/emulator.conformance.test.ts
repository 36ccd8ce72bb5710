// Handshake, auth, HTTP control endpoints, id formats, and the type contract with the SDK:
// every event the emulator emits goes through a function typed with the SDK's RealtimeServerEvent,
// every client event type it accepts is a member of the SDK's RealtimeClientEvent union.
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { RealtimeClientEvent, RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { SUPPORTED_CLIENT_EVENTS, startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { RealtimeSession } from '../../src/emulator/realtime-session.js';
import { RawClient, audioTurn, b64, tone } from '../helpers/emulator-client.js';

// Every GA server event type (the SDK union's discriminants, spelled out so a runtime check can use them).
const GA_SERVER_TYPES: ReadonlyArray<RealtimeServerEvent['type']> = [
  'conversation.created', 'conversation.item.created', 'conversation.item.deleted',
  'conversation.item.input_audio_transcription.completed', 'conversation.item.input_audio_transcription.delta',
  'conversation.item.input_audio_transcription.failed', 'conversation.item.retrieved', 'conversation.item.truncated', 'error',
  'input_audio_buffer.cleared', 'input_audio_buffer.committed', 'input_audio_buffer.dtmf_event_received',
  'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'rate_limits.updated',
  'response.output_audio.delta', 'response.output_audio.done', 'response.output_audio_transcript.delta',
  'response.output_audio_transcript.done', 'response.content_part.added', 'response.content_part.done', 'response.created',
  'response.done', 'response.function_call_arguments.delta', 'response.function_call_arguments.done',
  'response.output_item.added', 'response.output_item.done', 'response.output_text.delta', 'response.output_text.done',
  'session.created', 'session.updated', 'output_audio_buffer.started', 'output_audio_buffer.stopped', 'output_audio_buffer.cleared',
  'conversation.item.added', 'conversation.item.done', 'input_audio_buffer.timeout_triggered',
  'conversation.item.input_audio_transcription.segment', 'mcp_list_tools.in_progress', 'mcp_list_tools.completed',
  'mcp_list_tools.failed', 'response.mcp_call_arguments.delta', 'response.mcp_call_arguments.done',
  'response.mcp_call.in_progress', 'response.mcp_call.completed', 'response.mcp_call.failed',
];

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 99, transcription: { delayMs: 1 } });
});
afterAll(async () => {
  await emu.close();
});

describe('type contract with the openai SDK', () => {
  it('emit() accepts exactly the SDK server event union; accepted client types are SDK client types', () => {
    expectTypeOf<Parameters<RealtimeSession['emit']>[0]>().toEqualTypeOf<RealtimeServerEvent>();
    const accepted: ReadonlyArray<RealtimeClientEvent['type']> = SUPPORTED_CLIENT_EVENTS;
    expect(accepted).toContain('conversation.item.retrieve');
    // the list above really is the union (compile-time exhaustiveness both ways)
    type Missing = Exclude<RealtimeServerEvent['type'], (typeof GA_SERVER_TYPES)[number]>;
    expectTypeOf<Missing>().toEqualTypeOf<never>();
  });

  it('every event of a full session is a GA server event with an event_id', async () => {
    const c = await RawClient.connect(emu.url);
    await c.waitFor('session.created');
    let m = c.mark();
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null, transcription: { model: 'whisper-1' } } } } });
    await c.waitFor('session.updated', m);
    await audioTurn(c, 'hello');
    m = c.mark();
    c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    const done = await c.waitFor('response.done', m);
    c.send({ type: 'conversation.item.truncate', item_id: done.response.output[0].id, content_index: 0, audio_end_ms: 10 });
    c.send({ type: 'conversation.item.delete', item_id: done.response.output[0].id });
    await c.waitFor('conversation.item.deleted', m);
    await c.waitFor('conversation.item.input_audio_transcription.completed');
    for (const e of c.events) {
      expect(GA_SERVER_TYPES).toContain(e.type);
      expect(e.event_id).toMatch(/^event_[A-Za-z0-9]{21}$/);
    }
    expect(done.response.id).toMatch(/^resp_[A-Za-z0-9]{21}$/);
    expect(done.response.output[0].id).toMatch(/^item_[A-Za-z0-9]{21}$/);
    c.close();
  });
});

describe('handshake', () => {
  it('no key or a wrong key (apiKey set): upgrade, then close 3000 (see emulator.captured); Azure api-key header accepted; HTTP API 401', async () => {
    expect((await (await RawClient.connect(emu.url, { key: null })).closed).code).toBe(3000);
    const locked = await startEmulator({ apiKey: 'sk-right' });
    try {
      expect(await (await RawClient.connect(locked.url, { key: 'sk-wrong' })).closed).toEqual({ code: 3000, reason: 'invalid_request_error.invalid_api_key' });
      const ok = await RawClient.connect(locked.url, { key: 'sk-right' });
      expect((await ok.waitFor('session.created')).session.type).toBe('realtime');
      ok.close();
      const azure = await RawClient.connect(locked.url.replace('/v1/realtime', '/openai/v1/realtime'), { key: null, headers: { 'api-key': 'sk-right' } });
      expect((await azure.waitFor('session.created')).session.model).toBe('gpt-realtime');
      azure.close();
      const res = await fetch(`${locked.httpUrl}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-wrong' }, body: '{}' });
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.code).toBe('invalid_api_key');
    } finally {
      await locked.close();
    }
  });

  it('unknown path -> 404; seeded ids are reproducible across runs', async () => {
    await expect(RawClient.connect(emu.url.replace('/v1/realtime', '/v2/nothing'))).rejects.toThrow('HTTP 404');
    const ids = async () => {
      const e = await startEmulator({ seed: 1234 });
      try {
        const c = await RawClient.connect(e.url);
        const s = await c.waitFor('session.created');
        c.close();
        return [s.session.id, s.event_id];
      } finally {
        await e.close();
      }
    };
    expect(await ids()).toEqual(await ids());
  });
});

describe('HTTP control endpoints', () => {
  it('POST /emulator/hints queues a transcript hint; GET /emulator/sessions lists sessions with items', async () => {
    const auth = { authorization: 'Bearer sk-ctl', 'content-type': 'application/json' };
    const base = emu.httpUrl.replace(/\/v1$/, '');
    const c = await RawClient.connect(emu.url);
    const created = await c.waitFor('session.created');
    let m = c.mark();
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null, transcription: { model: 'gpt-4o-transcribe' } } } } });
    await c.waitFor('session.updated', m);
    const h = await fetch(`${base}/emulator/hints`, { method: 'POST', headers: auth, body: JSON.stringify({ text: 'hint over http' }) });
    expect(h.status).toBe(200);
    m = c.mark();
    c.send({ type: 'input_audio_buffer.append', audio: b64(tone(200)) });
    c.send({ type: 'input_audio_buffer.commit' });
    const tr = await c.waitFor('conversation.item.input_audio_transcription.completed', m);
    expect(tr.transcript).toBe('hint over http');
    const list = (await (await fetch(`${base}/emulator/sessions`, { headers: auth })).json()) as any;
    const mine = list.sessions.find((s: any) => s.id === created.session.id);
    expect(mine.dialect).toBe('ga');
    expect(mine.items.map((i: any) => i.id)).toEqual([tr.item_id]);
    expect((await fetch(`${base}/emulator/sessions`)).status).toBe(401);
    const echo = await fetch(`${base}/emulator/sessions/${created.session.id}/context-echo`, { method: 'POST', headers: auth, body: '{"enabled":true}' });
    expect(echo.status).toBe(200);
    m = c.mark();
    c.send({ type: 'response.create' });
    const done = await c.waitFor('response.done', m);
    expect(done.response.output[0].content[0].transcript).toBe(`Context: 1. user ${tr.item_id} "hint over http"`);
    c.close();
  });
});

describe('deterministic model', () => {
  it('scripted replies from a file are used in order for in-band responses, then the default reply', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'emu-script-')), 'script.json');
    writeFileSync(file, JSON.stringify(['First scripted line.', 'Second scripted line.']));
    const e = await startEmulator({ script: file, replyWords: 5 });
    try {
      const c = await RawClient.connect(e.url);
      await c.waitFor('session.created');
      const texts: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = c.mark();
        c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
        texts.push((await c.waitFor('response.done', m)).response.output[0].content[0].text);
      }
      expect(texts).toEqual(['First scripted line.', 'Second scripted line.', 'Hello from the realtime emulator.']);
      c.close();
    } finally {
      await e.close();
    }
  });

  it('server VAD barge-in: speech during a response cancels it with reason turn_detected', async () => {
    const e = await startEmulator({ audioPacing: 'realtime', replyWords: 30 });
    try {
      const c = await RawClient.connect(e.url);
      await c.waitFor('session.created');
      let m = c.mark();
      c.send({ type: 'response.create' });
      await c.waitFor('response.output_audio.delta', m);
      m = c.mark();
      c.send({ type: 'input_audio_buffer.append', audio: b64(tone(200)) });
      await c.waitFor('input_audio_buffer.speech_started', m);
      const done = await c.waitFor('response.done', m);
      expect(done.response.status).toBe('cancelled');
      expect(done.response.status_details.reason).toBe('turn_detected');
      const heard = done.response.output[0].content[0].transcript as string;
      expect(heard.split(' ').length).toBeLessThan(30);
      c.close();
    } finally {
      await e.close();
    }
  });
});
