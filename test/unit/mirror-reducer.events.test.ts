// The mirror reducer event by event: the whole result (mirror AND effects) of each event compared
// with a hand-written expectation of what the event means (realtime-protocol.md): where an item goes,
// what a transcription event does before and after its item, which responses are ours (out of band),
// and what the session is told to do (emit a turn, start/feed/stop a transcript hunt, note a response).
import { describe, expect, it } from 'vitest';
import { applyTranscript, emptyMirror, huntFinished, reduceMirror, settlePending, truncateHeard, type MirrorState } from '../../src/conversation/mirror-reducer.js';
import type { WireEvent } from '../../src/protocol/events.js';
import { routeOf } from '../../src/protocol/event-registry.js';
import type { Turn } from '../../src/types.js';

const NOW = 1234;
const turn = (over: Partial<Turn> & { id: string }): Turn => ({ kind: 'message', role: 'user', text: 'x', textState: 'final', audio: false, at: 7, ...over });
const mirror = (over: Partial<MirrorState>): MirrorState => ({ ...emptyMirror, ...over });
const reduce = (m: MirrorState, ev: WireEvent) => reduceMirror(m, ev, NOW);
const userTextItem = (id: string, text: string) => ({ id, type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const userAudioItem = (id: string, transcript: string | null = null) => ({ id, type: 'message', role: 'user', content: [{ type: 'input_audio', transcript }] });
const assistantAudioItem = (id: string, transcript: string | null = null) => ({ id, type: 'message', role: 'assistant', content: [{ type: 'output_audio', transcript }] });
const added = (item: object, prev?: unknown): WireEvent => ({ type: 'conversation.item.added', ...(prev !== undefined ? { previous_item_id: prev } : {}), item });
const a = turn({ id: 'a', text: 'first' });
const b = turn({ id: 'b', role: 'assistant', text: 'second' });
const ab = mirror({ turns: [a, b] });

describe('item added / created / done', () => {
  it('previous_item_id null puts the item first; a known id right after it; unknown, absent or malformed at the end', () => {
    const c = turn({ id: 'c', text: 'third', at: NOW });
    expect(reduce(ab, added(userTextItem('c', 'third'), null)).mirror.turns).toEqual([c, a, b]);
    expect(reduce(ab, added(userTextItem('c', 'third'), 'a')).mirror.turns).toEqual([a, c, b]);
    expect(reduce(ab, added(userTextItem('c', 'third'), 'zz')).mirror.turns).toEqual([a, b, c]);
    expect(reduce(ab, added(userTextItem('c', 'third'))).mirror.turns).toEqual([a, b, c]);
    expect(reduce(ab, added(userTextItem('c', 'third'), 42)).mirror.turns).toEqual([a, b, c]);
    expect(reduce(ab, added(userTextItem('c', 'third'), null))).toEqual({ mirror: mirror({ turns: [c, a, b] }), effects: [{ type: 'turn', turn: c }] });
  });

  it('a text item is reported as a turn and starts no hunt (only pending user audio is hunted)', () => {
    const u = turn({ id: 'u', text: 'hi', at: NOW });
    expect(reduce(emptyMirror, added(userTextItem('u', 'hi'), null))).toEqual({ mirror: mirror({ turns: [u] }), effects: [{ type: 'turn', turn: u }] });
    const asst = turn({ id: 'r', role: 'assistant', text: null, textState: 'pending', audio: true, at: NOW });
    expect(reduce(emptyMirror, added(assistantAudioItem('r'), null))).toEqual({ mirror: mirror({ turns: [asst] }), effects: [{ type: 'turn', turn: asst }] });
    const heard = turn({ id: 'h', text: 'said', audio: true, at: NOW });
    expect(reduce(emptyMirror, added(userAudioItem('h', 'said'), null))).toEqual({ mirror: mirror({ turns: [heard] }), effects: [{ type: 'turn', turn: heard }] });
  });

  it('pending user audio starts one hunt; the same item seen again (done) starts no second one and reports nothing', () => {
    const u = turn({ id: 'u', text: null, textState: 'pending', audio: true, at: NOW });
    const first = reduce(emptyMirror, added(userAudioItem('u'), null));
    expect(first).toEqual({ mirror: mirror({ turns: [u], hunting: ['u'] }), effects: [{ type: 'hunt.start', itemId: 'u', replay: [] }, { type: 'turn', turn: u }] });
    const again = reduce(first.mirror, { type: 'conversation.item.done', previous_item_id: null, item: userAudioItem('u') });
    expect(again).toEqual({ mirror: first.mirror, effects: [] });
  });

  it('a transcript completed before the item lands on it at once: transcript + turn, early entry cleared', () => {
    const m = mirror({ early: { u: { completed: 'hello' }, other: { failed: true } } });
    const u = turn({ id: 'u', text: 'hello', textState: 'final', audio: true, at: NOW });
    expect(reduce(m, added(userAudioItem('u'), null))).toEqual({
      mirror: mirror({ turns: [u], early: { other: { failed: true } } }),
      effects: [{ type: 'transcript', transcript: { itemId: 'u', text: 'hello', final: true, source: 'event' } }, { type: 'turn', turn: u }],
    });
  });

  it('a transcription failure before the item is replayed to its hunt, and the early entry is cleared', () => {
    const m = mirror({ early: { u: { failed: true } } });
    const u = turn({ id: 'u', text: null, textState: 'pending', audio: true, at: NOW });
    expect(reduce(m, added(userAudioItem('u'), null))).toEqual({
      mirror: mirror({ turns: [u], hunting: ['u'] }),
      effects: [{ type: 'hunt.start', itemId: 'u', replay: [{ type: 'TRANSCRIPT.FAILED' }] }, { type: 'turn', turn: u }],
    });
  });

  it('a newer view with a text is reported; one with nothing new is not', () => {
    const pending = turn({ id: 'r', role: 'assistant', text: null, textState: 'pending', audio: true, at: 7 });
    const m = mirror({ turns: [pending] });
    const done = reduce(m, { type: 'conversation.item.done', item: assistantAudioItem('r', 'Hi there.') });
    const final = turn({ id: 'r', role: 'assistant', text: 'Hi there.', textState: 'final', audio: true, at: 7 });
    expect(done).toEqual({ mirror: mirror({ turns: [final] }), effects: [{ type: 'turn', turn: final }] });
    expect(reduce(done.mirror, { type: 'conversation.item.done', item: assistantAudioItem('r', 'Hi there.') })).toEqual({ mirror: done.mirror, effects: [] });
    // New text, same state: reported.
    const corrected = reduce(done.mirror, { type: 'conversation.item.done', item: assistantAudioItem('r', 'Hi, there.') });
    expect(corrected.effects).toEqual([{ type: 'turn', turn: { ...final, text: 'Hi, there.' } }]);
    // Same text, new state: still reported.
    const inaudible = mirror({ turns: [turn({ id: 'u', text: 'said', textState: 'inaudible', audio: true })] });
    const seen = reduce(inaudible, { type: 'conversation.item.done', item: userAudioItem('u', 'said') });
    expect(seen.effects).toEqual([{ type: 'turn', turn: turn({ id: 'u', text: 'said', textState: 'final', audio: true }) }]);
  });
});

describe('item retrieved / deleted / truncated', () => {
  it('retrieve updates a known item and reports a changed text; an unchanged one is silent; an unknown one is ignored', () => {
    const u = turn({ id: 'u', text: null, textState: 'pending', audio: true });
    const m = mirror({ turns: [a, u] });
    const got = turn({ id: 'u', text: 'found it', textState: 'final', audio: true });
    expect(reduce(m, { type: 'conversation.item.retrieved', item: userAudioItem('u', 'found it') })).toEqual({ mirror: mirror({ turns: [a, got] }), effects: [{ type: 'turn', turn: got }] });
    expect(reduce(ab, { type: 'conversation.item.retrieved', item: userTextItem('a', 'first') })).toEqual({ mirror: ab, effects: [] });
    expect(reduce(ab, { type: 'conversation.item.retrieved', item: userTextItem('zz', 'new') })).toEqual({ mirror: ab, effects: [] });
    expect(reduce(ab, { type: 'conversation.item.retrieved', item: { id: '' } })).toEqual({ mirror: ab, effects: [] });
  });

  it('delete removes the item; a hunted one has its hunt stopped first; unknown or missing ids change nothing', () => {
    const m = mirror({ turns: [a, b], hunting: ['a', 'q'] });
    expect(reduce(m, { type: 'conversation.item.deleted', item_id: 'a' })).toEqual({
      mirror: mirror({ turns: [b], hunting: ['q'] }),
      effects: [{ type: 'hunt.stop', itemId: 'a' }, { type: 'deleted', id: 'a' }],
    });
    expect(reduce(m, { type: 'conversation.item.deleted', item_id: 'b' })).toEqual({ mirror: mirror({ turns: [a], hunting: ['a', 'q'] }), effects: [{ type: 'deleted', id: 'b' }] });
    expect(reduce(m, { type: 'conversation.item.deleted', item_id: 'zz' })).toEqual({ mirror: m, effects: [] });
    expect(reduce(m, { type: 'conversation.item.deleted' })).toEqual({ mirror: m, effects: [] });
  });

  it('a truncate acknowledgement changes nothing (the text was trimmed when it was sent)', () => {
    expect(reduce(ab, { type: 'conversation.item.truncated', item_id: 'b', content_index: 0, audio_end_ms: 500 })).toEqual({ mirror: ab, effects: [] });
  });
});

describe('input audio transcription', () => {
  const delta = (item_id: unknown, d: unknown): WireEvent => ({ type: 'conversation.item.input_audio_transcription.delta', item_id, delta: d });
  const completed = (item_id: unknown, t: unknown): WireEvent => ({ type: 'conversation.item.input_audio_transcription.completed', item_id, transcript: t });
  const failed = (item_id: unknown): WireEvent => ({ type: 'conversation.item.input_audio_transcription.failed', item_id });
  const u = turn({ id: 'u', text: null, textState: 'pending', audio: true });

  it('delta: display only: the mirror and its effects stay as they were (the registry sends it to the audio plane)', () => {
    expect(routeOf('conversation.item.input_audio_transcription.delta')).toBe('audio');
    for (const m of [mirror({ turns: [u], hunting: ['u'] }), mirror({ turns: [u] }), emptyMirror]) {
      expect(reduce(m, delta('u', 'hel'))).toEqual({ mirror: m, effects: [] });
    }
  });

  it('completed: to the hunt; on a known unhunted item final at once; before its item kept', () => {
    const hunted = mirror({ turns: [u], hunting: ['u'] });
    expect(reduce(hunted, completed('u', 'hello'))).toEqual({ mirror: hunted, effects: [{ type: 'hunt.send', itemId: 'u', event: { type: 'TRANSCRIPT.COMPLETED', transcript: 'hello' } }] });
    const final = turn({ id: 'u', text: 'hello', textState: 'final', audio: true });
    expect(reduce(mirror({ turns: [u] }), completed('u', 'hello'))).toEqual({
      mirror: mirror({ turns: [final] }),
      effects: [{ type: 'transcript', transcript: { itemId: 'u', text: 'hello', final: true, source: 'event' } }, { type: 'turn', turn: final }],
    });
    expect(reduce(mirror({ early: { u: { failed: true } } }), completed('u', 'hello'))).toEqual({ mirror: mirror({ early: { u: { failed: true, completed: 'hello' } } }), effects: [] });
    expect(reduce(emptyMirror, completed('', 'hello'))).toEqual({ mirror: emptyMirror, effects: [] });
  });

  it('failed: to the hunt; ignored for a known unhunted item; before its item kept', () => {
    const hunted = mirror({ turns: [u], hunting: ['u'] });
    expect(reduce(hunted, failed('u'))).toEqual({ mirror: hunted, effects: [{ type: 'hunt.send', itemId: 'u', event: { type: 'TRANSCRIPT.FAILED' } }] });
    const known = mirror({ turns: [u] });
    expect(reduce(known, failed('u'))).toEqual({ mirror: known, effects: [] });
    expect(reduce(emptyMirror, failed('u'))).toEqual({ mirror: mirror({ early: { u: { failed: true } } }), effects: [] });
    expect(reduce(emptyMirror, failed(null))).toEqual({ mirror: emptyMirror, effects: [] });
  });
});

describe('responses', () => {
  it('created: ours (metadata purpose rtc-summary, or conversation_id null) remembered, not reported; others reported', () => {
    expect(reduce(emptyMirror, { type: 'response.created', response: { id: 's1', metadata: { purpose: 'rtc-summary' } } })).toEqual({ mirror: mirror({ oob: ['s1'] }), effects: [] });
    expect(reduce(emptyMirror, { type: 'response.created', response: { id: 's2', conversation_id: null } })).toEqual({ mirror: mirror({ oob: ['s2'] }), effects: [] });
    for (const response of [{ id: 'r1' }, { id: 'r1', metadata: { purpose: 'other' } }, { id: 'r1', conversation_id: 'conv_1' }, { id: 'r1', metadata: 'rtc-summary' }]) {
      expect(reduce(emptyMirror, { type: 'response.created', response })).toEqual({ mirror: emptyMirror, effects: [{ type: 'response.created', responseId: 'r1' }] });
    }
    expect(reduce(emptyMirror, { type: 'response.created' })).toEqual({ mirror: emptyMirror, effects: [{ type: 'response.created', responseId: '' }] });
  });

  it('created: only the last 21 out-of-band ids are remembered', () => {
    const old = Array.from({ length: 25 }, (_, i) => `s${i}`);
    const r = reduce(mirror({ oob: old }), { type: 'response.created', response: { id: 'new', conversation_id: null } });
    expect(r.mirror.oob).toEqual([...old.slice(5), 'new']);
  });

  it('done: ours (by its own markers or a remembered id) is silent; others report status, usage and failure', () => {
    expect(reduce(emptyMirror, { type: 'response.done', response: { id: 's', metadata: { purpose: 'rtc-summary' } } })).toEqual({ mirror: emptyMirror, effects: [] });
    const remembered = mirror({ oob: ['s'] });
    expect(reduce(remembered, { type: 'response.done', response: { id: 's', status: 'completed' } })).toEqual({ mirror: remembered, effects: [] });
    const done = (response: object) => reduce(emptyMirror, { type: 'response.done', response }).effects;
    expect(done({ id: 'r1', status: 'cancelled', usage: { total_tokens: 9 } })).toEqual([{ type: 'response.done', responseId: 'r1', status: 'cancelled', usage: { total_tokens: 9 }, failure: undefined, audioItems: [] }]);
    expect(done({ id: 'r1' })).toEqual([{ type: 'response.done', responseId: 'r1', status: 'completed', usage: undefined, failure: undefined, audioItems: [] }]);
    expect(done({ id: 'r1', status: 'failed', status_details: { error: { type: 'server_error', message: 'boom' } } })).toEqual([
      { type: 'response.done', responseId: 'r1', status: 'failed', failure: { code: 'server_error', message: 'boom' }, audioItems: [] },
    ]);
    expect(done({ id: 'r1', status: 'failed', status_details: { error: { code: 'c', type: 't' } } })[0]).toMatchObject({ failure: { code: 'c', message: '' } });
    expect(done({ id: 'r1', status: 'failed' })[0]).toMatchObject({ failure: { code: 'unknown', message: '' } });
    expect(done({ id: 'r1', status: 'failed', status_details: { error: 'nope' } })[0]).toMatchObject({ failure: { code: 'unknown', message: '' } });
  });

  it('done: its output items get the response id; assistant output still pending is settled; user and unknown items untouched', () => {
    const r1 = turn({ id: 'r1', role: 'assistant', text: null, textState: 'pending', audio: true });
    const r2 = turn({ id: 'r2', role: 'assistant', text: 'kept', textState: 'final', audio: true });
    const u = turn({ id: 'u', text: null, textState: 'pending', audio: true });
    const m = mirror({ turns: [u, r1, r2] });
    const out = reduce(m, { type: 'response.done', response: { id: 'resp', status: 'completed', output: [assistantAudioItem('r1'), assistantAudioItem('r2', 'kept'), userAudioItem('u'), assistantAudioItem('gone', 'x'), 'junk'] } });
    const r1done = { ...r1, textState: 'none' as const, responseId: 'resp' };
    expect(out).toEqual({
      mirror: mirror({ turns: [{ ...u, responseId: 'resp' }, r1done, { ...r2, responseId: 'resp' }] }),
      // Its assistant audio items still in the mirror are named (their audio is billed in the usage).
      effects: [{ type: 'turn', turn: r1done }, { type: 'response.done', responseId: 'resp', status: 'completed', audioItems: ['r1', 'r2'] }],
    });
    // Output with its transcript now known: final, reported once.
    const withText = reduce(mirror({ turns: [r1] }), { type: 'response.done', response: { id: 'resp', output: [assistantAudioItem('r1', 'Hello.')] } });
    const r1final = { ...r1, text: 'Hello.', textState: 'final' as const, responseId: 'resp' };
    expect(withText.mirror.turns).toEqual([r1final]);
    expect(withText.effects[0]).toEqual({ type: 'turn', turn: r1final });
    // A final text replaced by the response's own (same state): reported.
    const replaced = reduce(mirror({ turns: [r2] }), { type: 'response.done', response: { id: 'resp', output: [assistantAudioItem('r2', 'Kept, revised.')] } });
    expect(replaced.effects[0]).toEqual({ type: 'turn', turn: { ...r2, text: 'Kept, revised.', responseId: 'resp' } });
  });

  it('output text/transcript done sets the final text and response id of a known item, else nothing', () => {
    const r = turn({ id: 'r', role: 'assistant', text: null, textState: 'pending', audio: true });
    const m = mirror({ turns: [a, r] });
    const fin = (text: string, responseId?: string) => ({ ...r, text, textState: 'final' as const, responseId });
    expect(reduce(m, { type: 'response.output_audio_transcript.done', item_id: 'r', response_id: 'p', transcript: 'Said.' })).toEqual({ mirror: mirror({ turns: [a, fin('Said.', 'p')] }), effects: [{ type: 'turn', turn: fin('Said.', 'p') }] });
    expect(reduce(m, { type: 'response.output_text.done', item_id: 'r', text: 'Typed.' })).toEqual({ mirror: mirror({ turns: [a, fin('Typed.')] }), effects: [{ type: 'turn', turn: fin('Typed.') }] });
    expect(reduce(m, { type: 'response.output_text.done', item_id: 'r', transcript: 3, text: 'Typed.' }).effects).toEqual([{ type: 'turn', turn: fin('Typed.') }]);
    expect(reduce(m, { type: 'response.output_text.done', item_id: 'r', text: '' }).effects).toEqual([{ type: 'turn', turn: fin('') }]);
    for (const ev of [
      { type: 'response.output_text.done', item_id: 'r' },
      { type: 'response.output_text.done', item_id: 'r', text: 5 },
      { type: 'response.output_text.done', item_id: 'zz', text: 'x' },
      { type: 'response.output_text.done', text: 'x' },
    ]) expect(reduce(m, ev)).toEqual({ mirror: m, effects: [] });
  });
});

describe('operations the session applies', () => {
  it('applyTranscript: final text from an event, [inaudible] state from the inaudible source; unknown ids ignored', () => {
    const u = turn({ id: 'u', text: null, textState: 'pending', audio: true });
    const m = mirror({ turns: [u] });
    const heard = { ...u, text: 'yes', textState: 'final' as const };
    expect(applyTranscript(m, 'u', 'yes', 'retrieve')).toEqual({
      mirror: mirror({ turns: [heard] }),
      effects: [{ type: 'transcript', transcript: { itemId: 'u', text: 'yes', final: true, source: 'retrieve' } }, { type: 'turn', turn: heard }],
    });
    const lost = { ...u, text: '[inaudible]', textState: 'inaudible' as const };
    expect(applyTranscript(m, 'u', '[inaudible]', 'inaudible').mirror.turns).toEqual([lost]);
    expect(applyTranscript(m, 'zz', 'x', 'event')).toEqual({ mirror: m, effects: [] });
  });

  it('huntFinished stops only that hunt', () => {
    const m = mirror({ turns: [turn({ id: 'u', text: null, textState: 'pending', audio: true })], hunting: ['u', 'v'] });
    const r = huntFinished(m, 'u', 'ok', 'event');
    expect(r.mirror.hunting).toEqual(['v']);
    expect(r.effects[0]).toEqual({ type: 'hunt.stop', itemId: 'u' });
  });

  it('truncateHeard: the heard share of the words and the heard ms; no text stays as it is; unknown ids report nothing', () => {
    const r = turn({ id: 'r', role: 'assistant', text: 'one two three four', audio: true });
    const cut = { ...r, text: 'one two…', heardMs: 500 };
    expect(truncateHeard(mirror({ turns: [r] }), 'r', 500, 1000)).toEqual({ mirror: mirror({ turns: [cut] }), effects: [{ type: 'turn', turn: cut }], text: 'one two…' });
    const empty = turn({ id: 'e', role: 'assistant', text: '', audio: true });
    expect(truncateHeard(mirror({ turns: [empty] }), 'e', 100, 1000)).toEqual({ mirror: mirror({ turns: [{ ...empty, heardMs: 100 }] }), effects: [{ type: 'turn', turn: { ...empty, heardMs: 100 } }], text: null });
    expect(truncateHeard(ab, 'zz', 100, 1000)).toEqual({ mirror: ab, effects: [], text: null });
  });

  it('settlePending settles only pending turns: user -> [inaudible], assistant -> final with text or none', () => {
    const u = turn({ id: 'u', text: null, textState: 'pending', audio: true });
    const r1 = turn({ id: 'r1', role: 'assistant', text: 'partial', textState: 'pending', audio: true });
    const r2 = turn({ id: 'r2', role: 'assistant', text: null, textState: 'pending', audio: true });
    const out = settlePending(mirror({ turns: [a, u, r1, r2], hunting: ['u'] }));
    const settled = [a, { ...u, text: '[inaudible]', textState: 'inaudible' as const }, { ...r1, textState: 'final' as const }, { ...r2, textState: 'none' as const }];
    expect(out).toEqual({
      mirror: mirror({ turns: settled }),
      effects: [{ type: 'hunt.stop', itemId: 'u' }, { type: 'turn', turn: settled[1] }, { type: 'turn', turn: settled[2] }, { type: 'turn', turn: settled[3] }],
    });
  });
});
