// Which upstream events realtime-proxy relays unparsed: one column of the event registry (issue 22),
// checked against the list docs/proxy.md gives ("Upstream to client"), written out here as the oracle.
import { describe, expect, it } from 'vitest';
import { PROXY_STREAM_EVENTS, SERVER_EVENTS } from '../../src/protocol/event-registry.js';

const DOCUMENTED = [
  'response.output_audio.delta', 'response.audio.delta',
  'response.output_audio_transcript.delta', 'response.audio_transcript.delta',
  'response.output_text.delta', 'response.text.delta',
  'response.function_call_arguments.delta',
  'response.output_item.added', 'response.output_item.done',
  'response.content_part.added', 'response.content_part.done',
  'output_audio_buffer.started', 'output_audio_buffer.stopped', 'output_audio_buffer.cleared',
  'rate_limits.updated',
];

describe('the proxy column of the event registry', () => {
  it('relays exactly the documented streaming events unparsed', () => {
    expect([...PROXY_STREAM_EVENTS].sort()).toEqual([...DOCUMENTED].sort());
  });

  it('never relays unparsed an event the engine acts on (session, mirror) or a completed transcript', () => {
    for (const t of PROXY_STREAM_EVENTS) {
      const entry = (SERVER_EVENTS as Record<string, { route: string }>)[t];
      if (entry) expect(['audio', 'ignore'], t).toContain(entry.route);
    }
    for (const t of ['response.done', 'response.created', 'conversation.item.added', 'conversation.item.deleted', 'session.updated', 'error', 'conversation.item.input_audio_transcription.completed', 'response.output_audio_transcript.done']) {
      expect(PROXY_STREAM_EVENTS.has(t), t).toBe(false);
    }
  });
});
