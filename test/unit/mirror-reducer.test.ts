// The conversation mirror reducer, without XState: each handler's result checked against what the
// protocol says the event means (realtime-protocol.md), not against the reducer's own helpers.
import { describe, expect, it } from 'vitest';
import { applyTranscript, emptyMirror, huntFinished, markSummary, reduceMirror, settlePending, truncateHeard, type MirrorState } from '../../src/conversation/mirror-reducer.js';
import type { WireEvent } from '../../src/protocol/events.js';

const userText = (id: string, text: string, prev: string | null | undefined = undefined): WireEvent => ({
  type: 'conversation.item.added',
  event_id: `ev_${id}`,
  ...(prev !== undefined ? { previous_item_id: prev } : {}),
  item: { id, type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
});
const userAudio = (id: string, prev: string | null = null, transcript: string | null = null): WireEvent => ({
  type: 'conversation.item.added',
  event_id: `ev_${id}`,
  previous_item_id: prev,
  item: { id, type: 'message', role: 'user', content: [{ type: 'input_audio', transcript }] },
});
const run = (events: WireEvent[], from: MirrorState = emptyMirror) => {
  let m = from;
  const effects = [];
  for (const e of events) {
    const r = reduceMirror(m, e, 1234);
    m = r.mirror;
    effects.push(...r.effects);
  }
  return { m, effects };
};
const ids = (m: MirrorState) => m.turns.map((t) => t.id);

describe('mirror reducer: items', () => {
  it('places items by previous_item_id, not by arrival order, and reports each new turn once', () => {
    const { m, effects } = run([userText('a', 'one', null), userText('c', 'three', 'a'), userText('b', 'two', 'a')]);
    expect(ids(m)).toEqual(['a', 'b', 'c']);
    expect(effects.filter((e) => e.type === 'turn').map((e) => (e as { turn: { id: string } }).turn.id)).toEqual(['a', 'c', 'b']);
    expect(m.turns[0].at).toBe(1234); // the time comes from the caller's clock
  });

  it('GA added + done and beta created for the same id keep one entry', () => {
    const { m, effects } = run([userText('s', 'summary', null), { ...userText('s', 'summary', null), type: 'conversation.item.done' }, { ...userText('s', 'summary', null), type: 'conversation.item.created' }]);
    expect(ids(m)).toEqual(['s']);
    expect(effects.filter((e) => e.type === 'turn')).toHaveLength(1); // nothing changed after the first
  });

  it('a deleted item is removed, reported, and a later retrieve does not bring it back', () => {
    const { m, effects } = run([userText('a', 'x', null), { type: 'conversation.item.deleted', item_id: 'a' }, { type: 'conversation.item.retrieved', item: { id: 'a', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] } }]);
    expect(ids(m)).toEqual([]);
    expect(effects.map((e) => e.type)).toEqual(['turn', 'deleted']);
  });

  it('malformed and unknown events change nothing', () => {
    const { m, effects } = run([{ type: 'conversation.item.added' }, { type: 'conversation.item.added', item: { id: '' } }, { type: 'rate_limits.updated' }, { type: 'response.done' }]);
    expect(ids(m)).toEqual([]);
    // response.done without a response object is still an in-band end (id unknown)
    expect(effects.map((e) => e.type)).toEqual(['response.done']);
  });
});

describe('mirror reducer: transcripts', () => {
  it('a user audio item without transcript starts a hunt; deltas leave it alone (the audio plane shows them), the completion goes to the hunt', () => {
    const { m, effects } = run([
      userAudio('u1'),
      { type: 'conversation.item.input_audio_transcription.delta', item_id: 'u1', delta: 'hel' },
      { type: 'conversation.item.input_audio_transcription.completed', item_id: 'u1', transcript: 'hello' },
    ]);
    expect(m.hunting).toEqual(['u1']);
    expect(effects.map((e) => e.type)).toEqual(['hunt.start', 'turn', 'hunt.send']);
    expect(effects.filter((e) => e.type === 'hunt.send')).toEqual([{ type: 'hunt.send', itemId: 'u1', event: { type: 'TRANSCRIPT.COMPLETED', transcript: 'hello' } }]);
    const r = huntFinished(m, 'u1', 'hello', 'event');
    expect(r.mirror.hunting).toEqual([]);
    expect(r.mirror.turns[0]).toMatchObject({ text: 'hello', textState: 'final' });
    expect(r.effects.map((e) => e.type)).toEqual(['hunt.stop', 'transcript', 'turn']);
  });

  it('a transcript completed before its item is applied when the item arrives (no hunt)', () => {
    const { m, effects } = run([{ type: 'conversation.item.input_audio_transcription.completed', item_id: 'u1', transcript: 'early words' }, userAudio('u1')]);
    expect(m.turns[0]).toMatchObject({ id: 'u1', text: 'early words', textState: 'final' });
    expect(m.hunting).toEqual([]);
    expect(m.early).toEqual({});
    expect(effects.map((e) => e.type)).toEqual(['transcript', 'turn']);
  });

  it('an early failure is replayed to the hunt; early deltas are not kept (nor shown from the mirror)', () => {
    const { m, effects } = run([
      { type: 'conversation.item.input_audio_transcription.delta', item_id: 'u1', delta: 'a ' },
      { type: 'conversation.item.input_audio_transcription.delta', item_id: 'u1', delta: 'b' },
      { type: 'conversation.item.input_audio_transcription.failed', item_id: 'u1' },
      userAudio('u1'),
    ]);
    const start = effects.find((e) => e.type === 'hunt.start') as { replay: unknown[] };
    expect(start.replay).toEqual([{ type: 'TRANSCRIPT.FAILED' }]);
    expect(effects.filter((e) => e.type === 'transcript')).toEqual([]);
    expect(m.early).toEqual({});
  });

  it('a reconnect settles pending turns: user audio becomes [inaudible], hunts stop', () => {
    const { m } = run([userAudio('u1'), { type: 'conversation.item.added', previous_item_id: 'u1', item: { id: 'a1', type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: null }] } }]);
    const r = settlePending(m);
    expect(r.mirror.turns.map((t) => [t.id, t.text, t.textState])).toEqual([['u1', '[inaudible]', 'inaudible'], ['a1', null, 'none']]);
    expect(r.mirror.hunting).toEqual([]);
    expect(r.effects.filter((e) => e.type === 'hunt.stop')).toEqual([{ type: 'hunt.stop', itemId: 'u1' }]);
  });

  it('applyTranscript ignores unknown items', () => {
    expect(applyTranscript(emptyMirror, 'nope', 'x', 'event').effects).toEqual([]);
  });
});

describe('mirror reducer: responses', () => {
  it('out-of-band responses (our summaries) are remembered and never reported', () => {
    const oob = { id: 'resp_oob', conversation_id: null, metadata: { purpose: 'rtc-summary' }, output: [] };
    const { m, effects } = run([{ type: 'response.created', response: oob }, { type: 'response.done', response: { ...oob, usage: { total_tokens: 99 } } }]);
    expect(effects).toEqual([]);
    expect(m.oob).toEqual(['resp_oob']);
  });

  it('an in-band response reports created and done with usage; a failed one carries its error', () => {
    const { effects } = run([
      { type: 'response.created', response: { id: 'r1' } },
      { type: 'response.done', response: { id: 'r1', status: 'failed', usage: { total_tokens: 500 }, status_details: { error: { code: 'rate_limit_exceeded', message: 'slow down' } } } },
    ]);
    expect(effects).toEqual([
      { type: 'response.created', responseId: 'r1' },
      { type: 'response.done', responseId: 'r1', status: 'failed', usage: { total_tokens: 500 }, failure: { code: 'rate_limit_exceeded', message: 'slow down' }, audioItems: [] },
    ]);
  });

  it('response.done names its assistant audio items still in the mirror (their audio is billed in its usage)', () => {
    const spoken = { id: 'a1', type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: 'Hi.' }] };
    const written = { id: 'a2', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.' }] };
    const gone = { id: 'a3', type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: 'Bye.' }] };
    const { effects } = run([
      { type: 'conversation.item.added', previous_item_id: null, item: spoken },
      { type: 'conversation.item.added', previous_item_id: 'a1', item: written },
      { type: 'response.done', response: { id: 'r1', status: 'completed', output: [spoken, written, gone] } },
    ]);
    expect(effects.find((e) => e.type === 'response.done')).toMatchObject({ audioItems: ['a1'] });
  });

  it('response.done finalises assistant output that never got a transcript', () => {
    const { m } = run([
      { type: 'conversation.item.added', previous_item_id: null, item: { id: 'a1', type: 'message', role: 'assistant', content: [] } },
      { type: 'response.done', response: { id: 'r1', output: [{ id: 'a1', type: 'message', role: 'assistant', content: [] }] } },
    ]);
    expect(m.turns[0]).toMatchObject({ id: 'a1', textState: 'none', responseId: 'r1' });
  });

  it('output transcript done sets the assistant text', () => {
    const { m } = run([
      { type: 'conversation.item.added', previous_item_id: null, item: { id: 'a1', type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: null }] } },
      { type: 'response.output_audio_transcript.done', item_id: 'a1', response_id: 'r1', transcript: 'Hello there, friend.' },
    ]);
    expect(m.turns[0]).toMatchObject({ text: 'Hello there, friend.', textState: 'final', responseId: 'r1' });
  });
});

describe('mirror reducer: barge-in and summaries', () => {
  it('truncation keeps the share of words that was heard', () => {
    const { m } = run([{ type: 'conversation.item.added', previous_item_id: null, item: { id: 'a1', type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript: 'one two three four' }] } }]);
    const r = truncateHeard(m, 'a1', 500, 1000);
    expect(r.text).toBe('one two…');
    expect(r.mirror.turns[0]).toMatchObject({ heardMs: 500, text: 'one two…' });
  });

  it('markSummary records what a summary stands for', () => {
    const { m } = run([userText('sum_001', 'earlier', null)]);
    expect(markSummary(m, 'sum_001', ['a', 'b']).turns[0].summaryOf).toEqual(['a', 'b']);
  });
});
