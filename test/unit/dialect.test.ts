// GA <-> beta translation (src/protocol/dialect.ts), used by the emulator and the client adapter.
import { describe, expect, it } from 'vitest';
import {
  audioFormatFromBeta,
  audioFormatToBeta,
  clientEventFromBeta,
  clientEventToBeta,
  itemFromBeta,
  itemToBeta,
  responseFromBeta,
  responseToBeta,
  serverEventFromBeta,
  serverEventToBeta,
  sessionFromBeta,
  sessionToBeta,
} from '../../src/protocol/dialect.js';

const gaSession = {
  type: 'realtime',
  instructions: 'Be brief.',
  output_modalities: ['audio'],
  max_output_tokens: 'inf',
  truncation: 'auto',
  tools: [],
  audio: {
    input: {
      format: { type: 'audio/pcm', rate: 24000 },
      transcription: { model: 'gpt-4o-mini-transcribe' },
      turn_detection: { type: 'server_vad', threshold: 0.5, idle_timeout_ms: 5000 },
      noise_reduction: { type: 'near_field' },
    },
    output: { format: { type: 'audio/pcmu' }, voice: 'marin', speed: 1.1 },
  },
};

describe('session config', () => {
  it('GA -> beta flattens audio.*, renames fields and drops GA-only ones', () => {
    expect(sessionToBeta(gaSession)).toEqual({
      instructions: 'Be brief.',
      modalities: ['text', 'audio'],
      max_response_output_tokens: 'inf',
      tools: [],
      input_audio_format: 'pcm16',
      input_audio_transcription: { model: 'gpt-4o-mini-transcribe' },
      turn_detection: { type: 'server_vad', threshold: 0.5 },
      input_audio_noise_reduction: { type: 'near_field' },
      output_audio_format: 'g711_ulaw',
      voice: 'marin',
      speed: 1.1,
    });
  });

  it('beta -> GA nests audio.*, adds type realtime, drops temperature', () => {
    expect(
      sessionFromBeta({ modalities: ['text'], voice: 'alloy', input_audio_format: 'g711_alaw', turn_detection: null, temperature: 0.8, input_audio_transcription: null }),
    ).toEqual({
      type: 'realtime',
      output_modalities: ['text'],
      audio: { input: { format: { type: 'audio/pcma' }, turn_detection: null, transcription: null }, output: { voice: 'alloy' } },
    });
    expect(sessionFromBeta(undefined)).toEqual({ type: 'realtime' });
  });

  it('round trip beta -> GA -> beta keeps the beta fields', () => {
    const beta = { modalities: ['text', 'audio'], voice: 'alloy', input_audio_format: 'pcm16', output_audio_format: 'pcm16', instructions: 'x', max_response_output_tokens: 100 };
    expect(sessionToBeta(sessionFromBeta(beta))).toEqual(beta);
  });

  it('audio formats both ways; unknown values give undefined', () => {
    expect(audioFormatToBeta({ type: 'audio/pcma' })).toBe('g711_alaw');
    expect(audioFormatFromBeta('pcm16')).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(audioFormatFromBeta('opus')).toBeUndefined();
    expect(audioFormatToBeta('pcm16')).toBeUndefined();
  });
});

describe('items and responses', () => {
  it('assistant parts: output_text/output_audio <-> text/audio; user/system parts unchanged', () => {
    const ga = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a' }, { type: 'output_audio', transcript: 'b' }] };
    const beta = itemToBeta(ga) as any;
    expect(beta.content.map((p: any) => p.type)).toEqual(['text', 'audio']);
    expect(itemFromBeta(beta)).toEqual(ga);
    const user = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_audio', transcript: null }] };
    expect(itemFromBeta(user)).toEqual(user);
    expect(itemToBeta(user)).toEqual(user);
    const call = { type: 'function_call', name: 'f', arguments: '{}', call_id: 'c' };
    expect(itemFromBeta(call)).toBe(call);
  });

  it('response params and response objects', () => {
    expect(responseFromBeta({ modalities: ['text', 'audio'], voice: 'alloy', output_audio_format: 'pcm16', max_response_output_tokens: 50, temperature: 1, conversation: 'none' })).toEqual({
      output_modalities: ['audio'],
      max_output_tokens: 50,
      conversation: 'none',
      audio: { output: { voice: 'alloy', format: { type: 'audio/pcm', rate: 24000 } } },
    });
    const resp = { id: 'resp_1', output_modalities: ['text'], audio: { output: { voice: 'marin', format: { type: 'audio/pcm', rate: 24000 } } }, output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'x' }] }] };
    expect(responseToBeta(resp)).toEqual({ id: 'resp_1', modalities: ['text'], voice: 'marin', output_audio_format: 'pcm16', output: [{ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'x' }] }] });
  });
});

describe('events', () => {
  it('server GA -> beta: renames, drops conversation.item.done, translates nested payloads', () => {
    expect(serverEventToBeta({ type: 'conversation.item.done', event_id: 'e', item: {} })).toEqual([]);
    const [added] = serverEventToBeta({ type: 'conversation.item.added', event_id: 'e', previous_item_id: null, item: { type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: 't' }] } });
    expect(added).toEqual({ type: 'conversation.item.created', event_id: 'e', previous_item_id: null, item: { type: 'message', role: 'assistant', content: [{ type: 'audio', transcript: 't' }] } });
    for (const [ga, beta] of [
      ['response.output_audio.delta', 'response.audio.delta'],
      ['response.output_audio_transcript.done', 'response.audio_transcript.done'],
      ['response.output_text.delta', 'response.text.delta'],
      ['response.done', 'response.done'],
    ])
      expect(serverEventToBeta({ type: ga })[0].type).toBe(beta);
    const [created] = serverEventToBeta({ type: 'session.created', event_id: 'e', session: { ...gaSession, id: 'sess_1', expires_at: 5 } });
    expect((created.session as any).id).toBe('sess_1');
    expect((created.session as any).expires_at).toBe(5);
    expect((created.session as any).type).toBeUndefined();
  });

  it('server beta -> GA and client events both ways', () => {
    const ev = serverEventFromBeta({ type: 'response.audio_transcript.delta', delta: 'x' });
    expect(ev.type).toBe('response.output_audio_transcript.delta');
    const s = serverEventFromBeta({ type: 'session.updated', session: { id: 'sess_9', modalities: ['text'] } });
    expect(s.session).toEqual({ type: 'realtime', id: 'sess_9', output_modalities: ['text'] });
    const part = serverEventFromBeta({ type: 'response.content_part.added', part: { type: 'text', text: '' } });
    expect(part.part).toEqual({ type: 'text', text: '' }); // GA SDK types label content parts text/audio
    const up = clientEventToBeta({ type: 'session.update', session: gaSession });
    expect((up.session as any).type).toBeUndefined();
    expect(clientEventFromBeta(up).session).toMatchObject({ type: 'realtime', output_modalities: ['audio'] });
    const create = clientEventFromBeta({ type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }] } });
    expect((create.item as any).content[0].type).toBe('output_text');
    const rc = { type: 'response.create' };
    expect(clientEventFromBeta(rc)).toBe(rc);
    expect(clientEventToBeta({ type: 'input_audio_buffer.commit', event_id: 'x' })).toEqual({ type: 'input_audio_buffer.commit', event_id: 'x' });
  });
});
