// Pure exports of the socket adapter only: no socket is opened here.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionTarget, fastAudioDelta, OPENAI_REALTIME_URL, safeUrl, type SocketOptions } from '../../adapters/realtime-socket.js';

const GA = 'response.output_audio.delta';
const BETA = 'response.audio.delta';
const pcm = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff));
const frame = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields), 'utf8');

describe('fastAudioDelta', () => {
  it('extracts item, response and pcm from a GA output_audio delta', () => {
    const audio = pcm(600);
    const r = fastAudioDelta(frame({ type: GA, event_id: 'ev_1', response_id: 'resp_1', item_id: 'item_1', output_index: 0, content_index: 0, delta: audio.toString('base64') }));
    expect(r).not.toBeNull();
    expect(r!.itemId).toBe('item_1');
    expect(r!.responseId).toBe('resp_1');
    expect(r!.pcm.equals(audio)).toBe(true);
  });

  it('extracts a beta response.audio.delta the same way', () => {
    const audio = pcm(480, 3);
    const r = fastAudioDelta(frame({ type: BETA, event_id: 'ev_2', response_id: 'resp_b', item_id: 'item_b', output_index: 0, content_index: 0, delta: audio.toString('base64') }));
    expect(r).toEqual({ itemId: 'item_b', responseId: 'resp_b', pcm: audio });
  });

  it('does not depend on the key order around the delta', () => {
    const audio = pcm(400, 5);
    const b64 = audio.toString('base64');
    const orders: Record<string, unknown>[] = [
      { type: GA, item_id: 'i', response_id: 'r', delta: b64 },
      { type: GA, delta: b64, item_id: 'i', response_id: 'r' },
      { item_id: 'i', type: GA, delta: b64, response_id: 'r' },
      { response_id: 'r', type: GA, delta: b64, item_id: 'i' },
      { event_id: 'e', content_index: 0, type: BETA, output_index: 0, delta: b64, response_id: 'r', item_id: 'i' },
    ];
    for (const o of orders) expect(fastAudioDelta(frame(o))).toEqual({ itemId: 'i', responseId: 'r', pcm: audio });
  });

  it('gives an empty response id when the frame has none', () => {
    expect(fastAudioDelta(frame({ type: GA, item_id: 'i', delta: pcm(10).toString('base64') }))?.responseId).toBe('');
  });

  it('decodes an empty delta to an empty buffer', () => {
    expect(fastAudioDelta(frame({ type: GA, item_id: 'i', response_id: 'r', delta: '' }))).toEqual({ itemId: 'i', responseId: 'r', pcm: Buffer.alloc(0) });
  });

  it('returns null when item_id is missing', () => {
    expect(fastAudioDelta(frame({ type: GA, response_id: 'r', delta: pcm(300).toString('base64') }))).toBeNull();
    expect(fastAudioDelta(frame({ type: BETA, response_id: 'r', delta: pcm(300).toString('base64') }))).toBeNull();
  });

  it('returns null when there is no delta', () => {
    expect(fastAudioDelta(frame({ type: GA, item_id: 'i', response_id: 'r' }))).toBeNull();
  });

  it('returns null for frames that are not audio deltas', () => {
    const b64 = pcm(300).toString('base64');
    const others = [
      { type: 'response.output_text.delta', item_id: 'i', response_id: 'r', delta: 'Hello' },
      { type: 'response.output_audio_transcript.delta', item_id: 'i', response_id: 'r', delta: 'Hello' },
      { type: 'response.audio_transcript.delta', item_id: 'i', response_id: 'r', delta: 'Hello' },
      { type: 'response.output_audio.done', item_id: 'i', response_id: 'r' },
      { type: 'input_audio_buffer.append', audio: b64 },
      { type: 'conversation.item.input_audio_transcription.delta', item_id: 'i', delta: 'x' },
      { type: 'error', error: { message: 'response.output_audio.delta is bad', param: 'delta' }, item_id: 'i', delta: 'x' },
    ];
    for (const o of others) expect(fastAudioDelta(frame(o))).toBeNull();
    expect(fastAudioDelta(Buffer.from('not json at all'))).toBeNull();
    expect(fastAudioDelta(Buffer.alloc(0))).toBeNull();
  });

  it('agrees with JSON.parse on 200 generated frames', () => {
    const keys = ['type', 'event_id', 'response_id', 'item_id', 'output_index', 'content_index', 'delta'] as const;
    let fastHits = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(GA, BETA),
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.stringMatching(/^[A-Za-z0-9_]{1,32}$/),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_]{1,32}$/), { nil: undefined }),
        fc.shuffledSubarray([...keys], { minLength: keys.length, maxLength: keys.length }),
        (type, bytes, itemId, responseId, order) => {
          const values: Record<string, unknown> = {
            type,
            event_id: 'event_x',
            response_id: responseId,
            item_id: itemId,
            output_index: 0,
            content_index: 0,
            delta: Buffer.from(bytes).toString('base64'),
          };
          const obj: Record<string, unknown> = {};
          for (const k of order) if (values[k] !== undefined) obj[k] = values[k];
          const data = frame(obj);
          const parsed = JSON.parse(data.toString('utf8')) as { item_id: string; response_id?: string; delta: string };
          const fast = fastAudioDelta(data);
          const typeInHead = data.toString('latin1', 0, 200).includes(`"${type}"`);
          if (typeInHead) expect(fast).not.toBeNull();
          if (fast === null) return; // the caller falls back to a full parse
          fastHits++;
          expect(fast.itemId).toBe(parsed.item_id);
          expect(fast.responseId).toBe(parsed.response_id ?? '');
          expect(fast.pcm.equals(Buffer.from(parsed.delta, 'base64'))).toBe(true);
          expect(fast.pcm.equals(Buffer.from(bytes))).toBe(true);
        },
      ),
      { numRuns: 200, seed: 20250101 },
    );
    expect(fastHits).toBeGreaterThan(100);
  });
});

describe('connectionTarget', () => {
  const base: SocketOptions = { url: OPENAI_REALTIME_URL, apiKey: 'sk-test-key-123456', model: 'gpt-realtime', dialect: 'ga' };

  it('GA: bearer auth, the model in the query, and no OpenAI-Beta header', () => {
    const { url, headers } = connectionTarget(base);
    expect(new URL(url).searchParams.get('model')).toBe('gpt-realtime');
    expect(url.startsWith('wss://api.openai.com/v1/realtime?')).toBe(true);
    expect(headers).toEqual({ Authorization: 'Bearer sk-test-key-123456' });
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('openai-beta');
  });

  it('beta: adds OpenAI-Beta: realtime=v1', () => {
    const { headers } = connectionTarget({ ...base, dialect: 'beta' });
    expect(headers).toEqual({ Authorization: 'Bearer sk-test-key-123456', 'OpenAI-Beta': 'realtime=v1' });
  });

  it('Azure: the key goes in api-key, never in Authorization', () => {
    const ga = connectionTarget({ ...base, url: 'wss://res.openai.azure.com/openai/v1/realtime?model=my-deploy', azure: true, apiKey: 'azurekey0123' });
    expect(ga.headers).toEqual({ 'api-key': 'azurekey0123' });
    expect(new URL(ga.url).searchParams.get('model')).toBe('my-deploy');
    const beta = connectionTarget({
      ...base,
      url: 'wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=my-deploy',
      azure: true,
      apiKey: 'azurekey0123',
      dialect: 'beta',
    });
    expect(beta.headers).toEqual({ 'api-key': 'azurekey0123', 'OpenAI-Beta': 'realtime=v1' });
    const q = new URL(beta.url).searchParams;
    expect(q.get('deployment')).toBe('my-deploy');
    expect(q.has('model')).toBe(false);
  });

  it('keeps a model already in the URL', () => {
    const { url } = connectionTarget({ ...base, url: 'ws://localhost:8080/v1/realtime?model=other' });
    expect(new URL(url).searchParams.getAll('model')).toEqual(['other']);
  });

  it('sends no auth header without a key', () => {
    const { url, headers } = connectionTarget({ ...base, url: 'ws://127.0.0.1:9000/v1/realtime', apiKey: undefined });
    expect(headers).toEqual({});
    expect(url).toBe('ws://127.0.0.1:9000/v1/realtime?model=gpt-realtime');
  });
});

describe('safeUrl', () => {
  it('strips credentials, query and fragment', () => {
    expect(safeUrl('wss://user:secret@api.example.com/v1/realtime?model=x&api-key=abc#frag')).toBe('wss://api.example.com/v1/realtime');
  });

  it('keeps the port and path', () => {
    expect(safeUrl('ws://localhost:8080/v1/realtime?model=gpt-realtime')).toBe('ws://localhost:8080/v1/realtime');
  });

  it('never echoes an unparsable URL', () => {
    expect(safeUrl('not a url sk-secret')).toBe('the given URL');
  });
});
