import { describe, expect, it } from 'vitest';
import { contentText, mergeTurn, turnFromItem } from '../../src/conversation/items.js';
import type { Turn } from '../../src/types.js';

const NOW = 1_700_000_000_000;

const turn = (over: Partial<Turn> & { id: string }): Turn => ({
  kind: 'message',
  role: 'user',
  text: null,
  textState: 'pending',
  audio: true,
  at: NOW,
  ...over,
});

describe('contentText', () => {
  it('returns null text and no audio for a non-array content', () => {
    expect(contentText(undefined)).toEqual({ text: null, audio: false });
    expect(contentText('hello')).toEqual({ text: null, audio: false });
    expect(contentText({ type: 'input_text', text: 'x' })).toEqual({ text: null, audio: false });
  });

  it('reads input_text, output_text and beta text parts', () => {
    expect(contentText([{ type: 'input_text', text: 'hi' }])).toEqual({ text: 'hi', audio: false });
    expect(contentText([{ type: 'output_text', text: 'hello' }])).toEqual({ text: 'hello', audio: false });
    expect(contentText([{ type: 'text', text: 'beta' }])).toEqual({ text: 'beta', audio: false });
  });

  it('reads transcripts of input_audio, output_audio and beta audio parts', () => {
    expect(contentText([{ type: 'input_audio', transcript: 'spoken' }])).toEqual({ text: 'spoken', audio: true });
    expect(contentText([{ type: 'output_audio', transcript: 'said' }])).toEqual({ text: 'said', audio: true });
    expect(contentText([{ type: 'audio', transcript: 'beta said' }])).toEqual({ text: 'beta said', audio: true });
  });

  it('marks audio without a transcript as audio with null text', () => {
    expect(contentText([{ type: 'input_audio', transcript: null }])).toEqual({ text: null, audio: true });
    expect(contentText([{ type: 'input_audio' }])).toEqual({ text: null, audio: true });
  });

  it('joins several parts with a space, in order', () => {
    expect(contentText([{ type: 'input_text', text: 'one' }, { type: 'input_text', text: 'two' }])).toEqual({ text: 'one two', audio: false });
  });

  it('skips garbage parts and unknown part types', () => {
    expect(contentText([null, 3, 'x', [], { type: 'image', url: 'u' }, { type: 'input_text', text: 'ok' }, { type: 'input_text', text: 7 }])).toEqual({
      text: 'ok',
      audio: false,
    });
  });

  // The source's own comment (items.ts line 31) says: "Audio whose transcript is still missing keeps the
  // item pending even if another part had text." The guard on line 32 is unreachable, so it does not.
  it('keeps an item pending when an audio part still lacks its transcript even if a text part exists (items.ts:31-32)', () => {
    const info = contentText([{ type: 'input_text', text: 'typed' }, { type: 'input_audio', transcript: null }]);
    expect(info.audio).toBe(true);
    expect(info.text).toBeNull();
  });
});

describe('turnFromItem', () => {
  it('returns null for garbage without throwing', () => {
    for (const g of [null, undefined, 0, 42, 'item_1', true, [], [{ id: 'x' }], {}, { id: 5 }, { id: '' }, { type: 'message' }]) {
      expect(() => turnFromItem(g, NOW)).not.toThrow();
      expect(turnFromItem(g, NOW)).toBeNull();
    }
  });

  it('builds a user audio turn with a pending transcript', () => {
    const t = turnFromItem({ id: 'item_u', type: 'message', role: 'user', content: [{ type: 'input_audio', transcript: null }] }, NOW);
    expect(t).toEqual({ id: 'item_u', kind: 'message', role: 'user', text: null, textState: 'pending', audio: true, at: NOW });
  });

  it('builds a user audio turn with its transcript as final', () => {
    const t = turnFromItem({ id: 'item_u', type: 'message', role: 'user', content: [{ type: 'input_audio', transcript: 'hello there' }] }, NOW);
    expect(t?.text).toBe('hello there');
    expect(t?.textState).toBe('final');
    expect(t?.audio).toBe(true);
  });

  it('builds a user text turn as final without audio', () => {
    const t = turnFromItem({ id: 'item_t', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'typed' }] }, NOW);
    expect(t).toMatchObject({ role: 'user', text: 'typed', textState: 'final', audio: false });
  });

  it('handles a text-only assistant item (GA output_text)', () => {
    const t = turnFromItem({ id: 'item_a', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A text answer.' }] }, NOW);
    expect(t).toMatchObject({ id: 'item_a', kind: 'message', role: 'assistant', text: 'A text answer.', textState: 'final', audio: false });
  });

  it('handles a text-only assistant item (beta text part)', () => {
    const t = turnFromItem({ id: 'item_b', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Beta answer.' }] }, NOW);
    expect(t).toMatchObject({ role: 'assistant', text: 'Beta answer.', textState: 'final', audio: false });
  });

  it('marks an assistant item still in progress (no content yet) as pending', () => {
    const t = turnFromItem({ id: 'item_p', type: 'message', role: 'assistant', content: [] }, NOW);
    expect(t).toMatchObject({ role: 'assistant', text: null, textState: 'pending' });
  });

  it('builds a system message turn', () => {
    const t = turnFromItem({ id: 'sum_001', type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Earlier: x.' }] }, NOW);
    expect(t).toMatchObject({ role: 'system', text: 'Earlier: x.', textState: 'final' });
  });

  it('defaults an unknown or missing message role to user', () => {
    expect(turnFromItem({ id: 'm1', type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'x' }] }, NOW)?.role).toBe('user');
    expect(turnFromItem({ id: 'm2', type: 'message', content: [{ type: 'input_text', text: 'x' }] }, NOW)?.role).toBe('user');
  });

  it('marks a message without text or audio as textState none', () => {
    const t = turnFromItem({ id: 'm3', type: 'message', role: 'user', content: [] }, NOW);
    expect(t).toMatchObject({ text: null, textState: 'none', audio: false });
  });

  it('handles a function_call item (no role)', () => {
    const t = turnFromItem({ id: 'fc_1', type: 'function_call', name: 'get_weather', call_id: 'call_1', arguments: '{"city":"Oslo"}' }, NOW);
    expect(t).toEqual({
      id: 'fc_1',
      kind: 'function_call',
      role: null,
      text: 'get_weather({"city":"Oslo"})',
      textState: 'final',
      audio: false,
      callId: 'call_1',
      name: 'get_weather',
      at: NOW,
    });
  });

  it('handles a function_call without arguments, name or call id', () => {
    const t = turnFromItem({ id: 'fc_2', type: 'function_call' }, NOW);
    expect(t).toMatchObject({ kind: 'function_call', role: null, text: null, callId: undefined, name: undefined });
  });

  it('handles a function_call_output item (no role)', () => {
    const t = turnFromItem({ id: 'fo_1', type: 'function_call_output', call_id: 'call_1', output: '{"temp":3}' }, NOW);
    expect(t).toEqual({
      id: 'fo_1',
      kind: 'function_call_output',
      role: null,
      text: '{"temp":3}',
      textState: 'final',
      audio: false,
      callId: 'call_1',
      at: NOW,
    });
  });

  it('handles mcp and other item types as kind other', () => {
    for (const type of ['mcp_call', 'mcp_list_tools', 'mcp_approval_request', 'something_new', undefined]) {
      const t = turnFromItem({ id: `x_${String(type)}`, type, server_label: 's' }, NOW);
      expect(t).toEqual({ id: `x_${String(type)}`, kind: 'other', role: null, text: null, textState: 'none', audio: false, at: NOW });
    }
  });

  it('tolerates malformed content inside a message', () => {
    expect(() => turnFromItem({ id: 'm', type: 'message', role: 'assistant', content: 'oops' }, NOW)).not.toThrow();
    expect(turnFromItem({ id: 'm', type: 'message', role: 'assistant', content: [null, { type: 'output_audio' }] }, NOW)).toMatchObject({
      text: null,
      textState: 'pending',
      audio: true,
    });
  });

  it('uses Date.now() when no time is given', () => {
    const before = Date.now();
    const t = turnFromItem({ id: 'm', type: 'message', role: 'user', content: [] });
    expect(t!.at).toBeGreaterThanOrEqual(before);
  });
});

describe('mergeTurn', () => {
  it('never loses a known text when the newer view has none', () => {
    const old = turn({ id: 'a', text: 'known', textState: 'final' });
    const next = turn({ id: 'a', text: null, textState: 'pending' });
    expect(mergeTurn(old, next)).toMatchObject({ text: 'known', textState: 'final' });
  });

  it('takes the newer text and state when it has one', () => {
    const old = turn({ id: 'a', text: '[inaudible]', textState: 'inaudible' });
    const next = turn({ id: 'a', text: 'late transcript', textState: 'final' });
    expect(mergeTurn(old, next)).toMatchObject({ text: 'late transcript', textState: 'final' });
  });

  it('keeps audio once seen, and the first-seen time', () => {
    const old = turn({ id: 'a', audio: true, at: 1 });
    const next = turn({ id: 'a', audio: false, at: 2 });
    const m = mergeTurn(old, next);
    expect(m.audio).toBe(true);
    expect(m.at).toBe(1);
  });

  it('keeps summaryOf, heardMs and responseId from the old turn, or takes them from the new one', () => {
    const old = turn({ id: 'a', summaryOf: ['x'], heardMs: 100, responseId: 'r1' });
    const next = turn({ id: 'a', summaryOf: ['y'], heardMs: 200, responseId: 'r2' });
    expect(mergeTurn(old, next)).toMatchObject({ summaryOf: ['x'], heardMs: 100, responseId: 'r1' });
    const bare = turn({ id: 'a' });
    expect(mergeTurn(bare, next)).toMatchObject({ summaryOf: ['y'], heardMs: 200, responseId: 'r2' });
  });

  it('does not mutate its inputs', () => {
    const old = turn({ id: 'a', text: 'x', textState: 'final' });
    const next = turn({ id: 'a', text: 'y', textState: 'final' });
    const oldCopy = { ...old };
    mergeTurn(old, next);
    expect(old).toEqual(oldCopy);
  });
});

describe('turnFromItem: roles, function fields and text states (protocol item shapes)', () => {
  it('system messages keep their role; an unknown role reads as user', () => {
    expect(turnFromItem({ id: 's', type: 'message', role: 'system', content: [{ type: 'input_text', text: 'x' }] }, 0)?.role).toBe('system');
    expect(turnFromItem({ id: 'd', type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'x' }] }, 0)?.role).toBe('user');
  });

  it('a message with no text and no pending audio has no text (none), whatever its role', () => {
    expect(turnFromItem({ id: 'u', type: 'message', role: 'user', content: [] }, 0)).toMatchObject({ text: null, textState: 'none', audio: false });
    expect(turnFromItem({ id: 's', type: 'message', role: 'system', content: [{ type: 'input_audio', transcript: null }] }, 0)).toMatchObject({ text: null, textState: 'none', audio: true });
  });

  it('function items: call_id and name only when they are strings; a call without a name reads as function(...)', () => {
    expect(turnFromItem({ id: 'c', type: 'function_call', call_id: 7, name: 9, arguments: '{}' }, 0)).toEqual({
      id: 'c', kind: 'function_call', role: null, text: '9({})', textState: 'final', audio: false, callId: undefined, name: undefined, at: 0,
    });
    expect(turnFromItem({ id: 'c', type: 'function_call', arguments: '{"q":1}' }, 0)?.text).toBe('function({"q":1})');
    expect(turnFromItem({ id: 'o', type: 'function_call_output', call_id: 7, output: 'ok' }, 0)).toEqual({
      id: 'o', kind: 'function_call_output', role: null, text: 'ok', textState: 'final', audio: false, callId: undefined, at: 0,
    });
    expect(turnFromItem({ id: 'o', type: 'function_call_output', call_id: 'k', output: 5 }, 0)).toMatchObject({ text: null, callId: 'k' });
  });

  it('mergeTurn: a text item stays without audio', () => {
    const t: Turn = { id: 'a', kind: 'message', role: 'user', text: 'x', textState: 'final', audio: false, at: 0 };
    expect(mergeTurn(t, { ...t, text: 'y' }).audio).toBe(false);
  });
});
