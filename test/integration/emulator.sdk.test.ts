// GA conformance through the official openai SDK client (OpenAIRealtimeWS over wss: to the
// emulator's self-signed TLS endpoint). Every bullet of the GA protocol the emulator claims.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { b64, silence, tone } from '../helpers/emulator-client.js';

type Ev = RealtimeServerEvent & { [k: string]: any };

class SdkSession {
  readonly events: Ev[] = [];
  readonly errors: Array<{ code?: string | null; message?: string; param?: string | null; event_id?: string | null }> = [];
  private waiters: Array<{ pred: (e: Ev) => boolean; from: number; resolve: (e: Ev) => void }> = [];
  constructor(readonly rt: OpenAIRealtimeWS) {
    rt.on('event', (e) => {
      this.events.push(e as Ev);
      const i = this.events.length - 1;
      for (const w of [...this.waiters])
        if (i >= w.from && w.pred(e as Ev)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e as Ev);
        }
    });
    rt.on('error', (err) => this.errors.push({ ...(err.error ?? { message: err.message }) }));
  }
  mark(): number {
    return this.events.length;
  }
  waitFor(pred: string | ((e: Ev) => boolean), from = 0): Promise<Ev> {
    const p = typeof pred === 'string' ? (e: Ev) => e.type === pred : pred;
    for (let i = from; i < this.events.length; i++) if (p(this.events[i])) return Promise.resolve(this.events[i]);
    return new Promise((resolve) => this.waiters.push({ pred: p, from, resolve }));
  }
  async errorAfter(from: number): Promise<Ev & { error: any }> {
    return (await this.waitFor('error', from)) as Ev & { error: any };
  }
  send(ev: Parameters<OpenAIRealtimeWS['send']>[0] | Record<string, unknown>): number {
    const m = this.mark();
    this.rt.send(ev as Parameters<OpenAIRealtimeWS['send']>[0]);
    return m;
  }
  typesSince(from: number): string[] {
    return this.events.slice(from).map((e) => e.type);
  }
}

let emu: Emulator;
let client: OpenAI;
const open: OpenAIRealtimeWS[] = [];

async function connect(model = 'gpt-realtime'): Promise<SdkSession> {
  const rt = new OpenAIRealtimeWS({ model, options: { ca: emu.certificatePem } }, client);
  open.push(rt);
  const s = new SdkSession(rt);
  await s.waitFor('session.created');
  return s;
}

async function manualSession(model?: string): Promise<SdkSession> {
  const s = await connect(model);
  const m = s.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
  await s.waitFor('session.updated', m);
  return s;
}

beforeAll(async () => {
  emu = await startEmulator({ tls: true, seed: 7 });
  client = new OpenAI({ apiKey: 'sk-test-sdk', baseURL: emu.httpUrl });
});
afterAll(async () => {
  for (const rt of open) rt.close();
  await emu.close();
});

describe('GA dialect via the official SDK (wss)', () => {
  it('serves wss and the SDK derives the URL from baseURL', () => {
    expect(emu.url.startsWith('wss://127.0.0.1:')).toBe(true);
    expect(emu.httpUrl.startsWith('https://127.0.0.1:')).toBe(true);
    expect(emu.certificatePem).toContain('BEGIN CERTIFICATE');
  });

  it('first event is session.created with id, model from ?model= and expires_at', async () => {
    const s = await connect('gpt-realtime-mini');
    const created = s.events[0] as Ev;
    expect(created.type).toBe('session.created');
    expect(created.session.id).toMatch(/^sess_/);
    expect(created.session.model).toBe('gpt-realtime-mini');
    expect(created.session.type).toBe('realtime');
    const now = Date.now() / 1000;
    expect(created.session.expires_at).toBeGreaterThan(now + 59 * 60);
    expect(created.session.expires_at).toBeLessThan(now + 61 * 60);
    expect(created.event_id).toMatch(/^event_/);
  });

  it('session.update answers session.updated with the full effective config', async () => {
    const s = await connect();
    const m = s.send({
      type: 'session.update',
      session: { type: 'realtime', instructions: 'Be brief.', output_modalities: ['text'], audio: { input: { transcription: { model: 'gpt-4o-mini-transcribe' } } } },
    });
    const u = await s.waitFor('session.updated', m);
    expect(u.session.instructions).toBe('Be brief.');
    expect(u.session.output_modalities).toEqual(['text']);
    expect(u.session.audio.input.transcription.model).toBe('gpt-4o-mini-transcribe');
    // untouched fields keep their values: turn detection default and output voice
    expect(u.session.audio.input.turn_detection.type).toBe('server_vad');
    expect(u.session.audio.output.voice).toBeTruthy();
    expect(u.session.truncation).toBe('auto');
  });

  it('rejects a GA session.update without session.type (missing_required_parameter)', async () => {
    const s = await connect();
    const m = s.send({ type: 'session.update', event_id: 'ev_no_type', session: { instructions: 'x' } } as never);
    const e = await s.errorAfter(m);
    expect(e.error.code).toBe('missing_required_parameter');
    expect(e.error.message).toBe("Missing required parameter: 'session.type'.");
    expect(e.error.param).toBe('session.type');
    expect(e.error.event_id).toBe('ev_no_type');
    expect(s.errors.length).toBeGreaterThan(0);
  });

  it("rejects beta's modalities whole with unknown_parameter and changes nothing", async () => {
    const s = await connect();
    const m = s.send({ type: 'session.update', event_id: 'ev_beta', session: { type: 'realtime', instructions: 'CHANGED', modalities: ['text'] } } as never);
    const e = await s.errorAfter(m);
    expect(e.error.code).toBe('unknown_parameter');
    expect(e.error.message).toBe("Unknown parameter: 'session.modalities'.");
    const m2 = s.send({ type: 'session.update', session: { type: 'realtime' } });
    const u = await s.waitFor('session.updated', m2);
    expect(u.session.instructions).not.toBe('CHANGED');
    expect(s.typesSince(m).filter((t) => t === 'session.updated')).toHaveLength(1);
  });

  it('commit with under 100 ms of audio -> input_audio_buffer_commit_empty, no committed', async () => {
    const s = await manualSession();
    const m = s.send({ type: 'input_audio_buffer.append', audio: b64(silence(40)) });
    s.send({ type: 'input_audio_buffer.commit', event_id: 'ev_commit' });
    const e = await s.errorAfter(m);
    expect(e.error.code).toBe('input_audio_buffer_commit_empty');
    expect(e.error.message).toBe(
      'Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 40.00ms of audio.',
    );
    expect(e.error.event_id).toBe('ev_commit');
    expect(s.typesSince(m)).not.toContain('input_audio_buffer.committed');
    const m2 = s.send({ type: 'input_audio_buffer.clear' });
    await s.waitFor('input_audio_buffer.cleared', m2);
  });

  it('audio turn: committed, item added+done, async transcript from the hint, full response sequence', async () => {
    const s = await manualSession();
    const u = s.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'gpt-4o-transcribe' } } } } });
    await s.waitFor('session.updated', u);
    const m = s.send({ type: 'input_audio_buffer.append', audio: b64(tone(500)), x_transcript_hint: 'Can you tell me a quick story?' } as never);
    s.send({ type: 'input_audio_buffer.commit' });
    const committed = await s.waitFor('input_audio_buffer.committed', m);
    const added = await s.waitFor((e) => e.type === 'conversation.item.added' && e.item.id === committed.item_id, m);
    expect(added.item).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_audio' }] });
    expect(added.item.id).toHaveLength(26);
    await s.waitFor((e) => e.type === 'conversation.item.done' && e.item.id === committed.item_id, m);
    const r = s.send({ type: 'response.create' });
    const done = await s.waitFor('response.done', r);
    const completed = await s.waitFor('conversation.item.input_audio_transcription.completed', m);
    expect(completed.item_id).toBe(committed.item_id);
    expect(completed.transcript).toBe('Can you tell me a quick story?');
    expect(s.typesSince(m)).toContain('conversation.item.input_audio_transcription.delta');
    const seq = s
      .typesSince(r)
      .filter((t) => t.startsWith('response.') || t.startsWith('conversation.item.added') || t.startsWith('conversation.item.done') || t === 'rate_limits.updated');
    const dedup = seq.filter((t, i) => t !== seq[i - 1]);
    const expected = [
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_audio_transcript.delta',
      'response.output_audio.delta',
    ];
    expect(dedup.slice(0, expected.length)).toEqual(expected);
    // rate_limits.updated may already have arrived (it follows response.done): checked on its own below.
    const tail = dedup.filter((t) => !t.endsWith('.delta') && t !== 'rate_limits.updated').slice(-6);
    expect(tail).toEqual([
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'conversation.item.done',
      'response.output_item.done',
      'response.done',
    ]);
    // captured: rate_limits.updated follows response.done (about 40 ms later)
    await s.waitFor('rate_limits.updated', r);
    expect(s.typesSince(r).indexOf('rate_limits.updated')).toBeGreaterThan(s.typesSince(r).indexOf('response.done'));
    expect(done.response.status).toBe('completed');
    const transcript = done.response.output[0].content[0].transcript as string;
    expect(transcript.startsWith('You said: Can you tell me a quick story. ')).toBe(true);
    const deltas = s.events.slice(r).filter((e) => e.type === 'response.output_audio_transcript.delta').map((e) => e.delta).join('');
    expect(deltas).toBe(transcript);
    const audio = s.events.slice(r).filter((e) => e.type === 'response.output_audio.delta').map((e) => Buffer.from(e.delta, 'base64'));
    const bytes = audio.reduce((n, b) => n + b.length, 0);
    expect(bytes).toBe((transcript.split(' ').length * 400 * 48));
    // non-silent synthetic voice
    expect(audio[3].some((x) => x !== 0)).toBe(true);
    // retrieve shows the transcript now (and the audio bytes)
    const q = s.send({ type: 'conversation.item.retrieve', item_id: committed.item_id });
    const got = await s.waitFor('conversation.item.retrieved', q);
    expect(got.item.content[0].transcript).toBe('Can you tell me a quick story?');
    expect(Buffer.from(got.item.content[0].audio, 'base64').length).toBe(500 * 48);
  });

  it('user text items need no transcription; answer is derived from the text', async () => {
    const s = await manualSession();
    const m = s.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] } });
    await s.waitFor('conversation.item.done', m);
    s.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    const done = await s.waitFor('response.done', m);
    expect(done.response.output[0].content[0]).toMatchObject({ type: 'output_text' });
    expect(done.response.output[0].content[0].text.startsWith('You said: Hello there.')).toBe(true);
    expect(done.response.output[0].content[0].text.split(' ').length).toBe(24);
    expect(s.typesSince(m)).toContain('response.output_text.delta');
    expect(s.typesSince(m)).not.toContain('conversation.item.input_audio_transcription.completed');
  });

  it('inserts at the end, after previous_item_id, and at root', async () => {
    const s = await manualSession();
    const mk = (id: string, previous_item_id?: string) =>
      s.send({ type: 'conversation.item.create', ...(previous_item_id ? { previous_item_id } : {}), item: { id, type: 'message', role: 'user', content: [{ type: 'input_text', text: id }] } });
    let m = mk('a1');
    expect((await s.waitFor('conversation.item.added', m)).previous_item_id).toBeNull();
    m = mk('a3');
    expect((await s.waitFor('conversation.item.added', m)).previous_item_id).toBe('a1');
    m = mk('a2', 'a1');
    expect((await s.waitFor('conversation.item.added', m)).previous_item_id).toBe('a1');
    m = mk('sum_001', 'root');
    expect((await s.waitFor('conversation.item.added', m)).previous_item_id).toBeNull();
    const handle = emu.sessions().find((h) => h.id === (s.events[0] as Ev).session.id)!;
    expect(handle.items().map((i: any) => i.id)).toEqual(['sum_001', 'a1', 'a2', 'a3']);
  });

  it('rejects unknown previous_item_id, ids over 32 chars and duplicates; nothing is added', async () => {
    const s = await manualSession();
    const handle = emu.sessions().find((h) => h.id === (s.events[0] as Ev).session.id)!;
    let m = s.send({ type: 'conversation.item.create', event_id: 'e1', previous_item_id: 'nope', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] } });
    let e = await s.errorAfter(m);
    expect(e.error.code).toBe('previous_item_not_found');
    expect(e.error.message).toBe("Error adding item: the previous item with id 'nope' does not exist.");
    expect(e.error.event_id).toBe('e1');
    const longId = 'vision_0123456789abcdef0123456789abcdef';
    m = s.send({ type: 'conversation.item.create', item: { id: longId, type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] } });
    e = await s.errorAfter(m);
    expect(e.error.code).toBe('string_above_max_length');
    expect(e.error.message).toBe(
      `Invalid 'item.id': string too long. Expected a string with maximum length 32, but got a string with length ${longId.length} instead.`,
    );
    m = s.send({ type: 'conversation.item.create', item: { id: 'dup', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] } });
    await s.waitFor('conversation.item.added', m);
    m = s.send({ type: 'conversation.item.create', item: { id: 'dup', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'y' }] } });
    e = await s.errorAfter(m);
    expect(e.error.code).toBe('duplicate_item_id');
    expect(handle.items()).toHaveLength(1);
    // role/content mismatch and assistant audio replay
    m = s.send({ type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'input_text', text: 'x' }] } } as never);
    e = await s.errorAfter(m);
    expect(e.error.message).toBe("Invalid value: 'input_text'. Value must be 'output_text'.");
    m = s.send({ type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: 'x' }] } });
    e = await s.errorAfter(m);
    expect(e.error.code).toBe('missing_required_parameter');
    expect(e.error.param).toBe('item.content[0].text');
    expect(handle.items()).toHaveLength(1);
  });

  it('delete / retrieve errors for unknown ids; delete acknowledges with conversation.item.deleted', async () => {
    const s = await manualSession();
    let m = s.send({ type: 'conversation.item.delete', event_id: 'del1', item_id: 'ghost' });
    let e = await s.errorAfter(m);
    expect(e.error.message).toBe("Error deleting item: the item with id 'ghost' does not exist.");
    expect(e.error.event_id).toBe('del1');
    m = s.send({ type: 'conversation.item.retrieve', item_id: 'ghost' });
    e = await s.errorAfter(m);
    expect(e.error.message).toBe("Error retrieving item: the item with id 'ghost' does not exist.");
    m = s.send({ type: 'conversation.item.create', item: { id: 'k1', type: 'message', role: 'system', content: [{ type: 'input_text', text: 'keep' }] } });
    await s.waitFor('conversation.item.added', m);
    m = s.send({ type: 'conversation.item.delete', item_id: 'k1' });
    expect((await s.waitFor('conversation.item.deleted', m)).item_id).toBe('k1');
    m = s.send({ type: 'conversation.item.retrieve', item_id: 'k1' });
    expect((await s.errorAfter(m)).error.code).toBe('item_retrieve_invalid_item_id');
  });

  it('truncate: assistant audio only; overshoot errors with the real text, then clamps', async () => {
    const s = await manualSession();
    let m = s.send({ type: 'conversation.item.create', item: { id: 'u1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    await s.waitFor('conversation.item.added', m);
    m = s.send({ type: 'conversation.item.truncate', item_id: 'u1', content_index: 0, audio_end_ms: 100 });
    let e = await s.errorAfter(m);
    expect(e.error.code).toBe('unsupported_content_type');
    expect(e.error.message).toBe('Only model output audio messages can be truncated');
    m = s.send({ type: 'response.create' });
    const done = await s.waitFor('response.done', m);
    const id = done.response.output[0].id as string;
    const words = (done.response.output[0].content[0].transcript as string).split(' ').length;
    const full = words * 400;
    m = s.send({ type: 'conversation.item.truncate', item_id: id, content_index: 0, audio_end_ms: full + 1579 });
    e = await s.errorAfter(m);
    expect(e.error.message).toBe(`Audio content of ${full}ms is already shorter than ${full + 1579}ms`);
    expect(e.error.event_id).toBeNull();
    const t = await s.waitFor('conversation.item.truncated', m);
    expect(t.audio_end_ms).toBe(full);
    m = s.send({ type: 'conversation.item.truncate', item_id: id, content_index: 0, audio_end_ms: 1200 });
    expect((await s.waitFor('conversation.item.truncated', m)).audio_end_ms).toBe(1200);
    m = s.send({ type: 'conversation.item.retrieve', item_id: id });
    const got = await s.waitFor('conversation.item.retrieved', m);
    expect(got.item.content[0].transcript).toBe('');
    expect(Buffer.from(got.item.content[0].audio, 'base64').length).toBe(1200 * 48);
  });

  it('one in-band response at a time; cancel; cancel when idle', async () => {
    const slow = await startEmulator({ tls: true, audioPacing: 'realtime', replyWords: 6 });
    try {
      const c2 = new OpenAI({ apiKey: 'sk-test-sdk', baseURL: slow.httpUrl });
      const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { ca: slow.certificatePem } }, c2);
      open.push(rt);
      const s = new SdkSession(rt);
      await s.waitFor('session.created');
      let m = s.send({ type: 'response.cancel', event_id: 'c0' });
      let e = await s.errorAfter(m);
      expect(e.error.code).toBe('response_cancel_not_active');
      expect(e.error.message).toBe('Cancellation failed: no active response found');
      m = s.send({ type: 'response.create' });
      const created = await s.waitFor('response.created', m);
      s.send({ type: 'response.create', event_id: 'second' });
      e = await s.errorAfter(m);
      expect(e.error.code).toBe('conversation_already_has_active_response');
      expect(e.error.message).toBe(
        `Conversation already has an active response in progress: ${created.response.id}. Wait until the response is finished before creating a new one.`,
      );
      s.send({ type: 'response.cancel' });
      const done = await s.waitFor('response.done', m);
      expect(done.response.status).toBe('cancelled');
      expect(done.response.status_details).toMatchObject({ type: 'cancelled', reason: 'client_cancelled' });
      expect(done.response.output[0].status).toBe('incomplete');
    } finally {
      await slow.close();
    }
  });

  it('out-of-band response: conversation none, explicit input, metadata; output not added to the conversation', async () => {
    const s = await manualSession();
    let m = s.send({ type: 'conversation.item.create', item: { id: 'turn1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Cats are great' }] } });
    await s.waitFor('conversation.item.added', m);
    m = s.send({
      type: 'response.create',
      response: {
        conversation: 'none',
        output_modalities: ['text'],
        metadata: { purpose: 'summary' },
        input: [
          { type: 'item_reference', id: 'turn1' } as never,
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Summarise the above.' }] },
        ],
      },
    });
    const done = await s.waitFor('response.done', m);
    expect(done.response.metadata).toEqual({ purpose: 'summary' });
    expect(done.response.conversation_id ?? null).toBeNull();
    expect(done.response.output[0].content[0].text.startsWith('You said: Summarise the above.')).toBe(true);
    expect(s.typesSince(m)).not.toContain('conversation.item.added');
    const handle = emu.sessions().find((h) => h.id === (s.events[0] as Ev).session.id)!;
    expect(handle.items().map((i: any) => i.id)).toEqual(['turn1']);
    // an OOB response may run while an in-band one is active
    m = s.send({ type: 'response.create' });
    s.send({ type: 'response.create', response: { conversation: 'none', input: [], metadata: { n: '2' } } });
    await s.waitFor((e) => e.type === 'response.done' && e.response.metadata?.n === '2', m);
    await s.waitFor((e) => e.type === 'response.done' && !!e.response.conversation_id, m);
    expect(s.errors.filter((x) => x.code === 'conversation_already_has_active_response')).toHaveLength(0);
  });

  it('server VAD: speech_started / speech_stopped / committed and an automatic response', async () => {
    const s = await connect();
    const m = s.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 300, create_response: true } } } },
    });
    await s.waitFor('session.updated', m);
    emu.sessions().find((h) => h.id === (s.events[0] as Ev).session.id)!.hint('What time is it?');
    const pcm = Buffer.concat([silence(500), tone(800), silence(600)]);
    for (let off = 0; off < pcm.length; off += 48 * 40) s.send({ type: 'input_audio_buffer.append', audio: b64(pcm.subarray(off, off + 48 * 40)) });
    const started = await s.waitFor('input_audio_buffer.speech_started', m);
    expect(started.audio_start_ms).toBe(500);
    const stopped = await s.waitFor('input_audio_buffer.speech_stopped', m);
    expect(stopped.audio_end_ms).toBe(1300);
    expect(stopped.item_id).toBe(started.item_id);
    const committed = await s.waitFor('input_audio_buffer.committed', m);
    expect(committed.item_id).toBe(started.item_id);
    const done = await s.waitFor('response.done', m);
    expect(done.response.output[0].content[0].transcript).toMatch(/^You said: What time is it\. /);
  });

  it('emits rate_limits.updated after each response.done, with one tokens entry (captured)', async () => {
    const s = await manualSession();
    for (let i = 0; i < 2; i++) {
      const m = s.send({ type: 'response.create' });
      await s.waitFor('response.done', m);
      const rl = await s.waitFor('rate_limits.updated', m);
      expect(rl.rate_limits.map((r: any) => r.name)).toEqual(['tokens']);
      expect(s.typesSince(m).slice(-2)).toEqual(['response.done', 'rate_limits.updated']);
    }
  });

  it('unknown event type -> invalid_value listing supported types; malformed JSON -> invalid_json; session stays open', async () => {
    const s = await manualSession();
    let m = s.send({ type: 'session.close.now', event_id: 'bad1' } as never);
    let e = await s.errorAfter(m);
    expect(e.error.code).toBe('invalid_value');
    expect(e.error.message).toContain("Invalid value: 'session.close.now'. Supported values are: 'session.update'");
    expect(e.error.event_id).toBe('bad1');
    m = s.mark();
    s.rt.socket.send('{not json');
    e = await s.errorAfter(m);
    expect(e.error.code).toBe('invalid_json');
    m = s.send({ type: 'response.create' });
    expect((await s.waitFor('response.done', m)).response.status).toBe('completed');
  });

  it('chat completions through the SDK (same port, same auth) give a summary with usage', async () => {
    const plain = await startEmulator();
    try {
      const c = new OpenAI({ apiKey: 'sk-test', baseURL: plain.httpUrl });
      const r = await c.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Summarise in French the following conversation in one concise paragraph.' },
          { role: 'user', content: 'user: Can you tell me a quick story?\nassistant: Once upon a time there was a cat. It found a stone.' },
        ],
      });
      expect(r.object).toBe('chat.completion');
      expect(r.choices[0].message.content).toBe('[Summary in French] Résumé : user: Can you tell me a quick story? assistant: Once upon a time there was a cat.');
      expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
      expect(r.usage!.completion_tokens).toBeGreaterThan(10);
      // Without a key the HTTP API answers 401 with invalid_api_key; the SDK surfaces it as an AuthenticationError.
      const res = await fetch(`${plain.httpUrl}/chat/completions`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(401);
      const other = await startEmulator({ apiKey: 'sk-only-this-one' });
      try {
        const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: other.httpUrl, maxRetries: 0 });
        const failure = await bad.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(failure).toBeInstanceOf(OpenAI.AuthenticationError);
        expect((failure as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
        expect((failure as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
      } finally {
        await other.close();
      }
    } finally {
      await plain.close();
    }
  });
});
