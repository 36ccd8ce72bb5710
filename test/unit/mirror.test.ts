import { describe, expect, it } from 'vitest';
import { findTurn, indexOfTurn, pendingTranscriptIds, removeTurn, trimToHeard, updateTurn, upsertTurn } from '../../src/conversation/mirror.js';
import type { Turn } from '../../src/types.js';

const t = (id: string, over: Partial<Turn> = {}): Turn => ({
  id,
  kind: 'message',
  role: 'user',
  text: id,
  textState: 'final',
  audio: false,
  at: 0,
  ...over,
});
const ids = (m: readonly Turn[]) => m.map((x) => x.id);

describe('upsertTurn placement', () => {
  it('appends when previousItemId is undefined', () => {
    expect(ids(upsertTurn(upsertTurn([], t('a')), t('b')))).toEqual(['a', 'b']);
  });

  it('puts the turn first when previousItemId is null', () => {
    expect(ids(upsertTurn([t('a'), t('b')], t('s'), null))).toEqual(['s', 'a', 'b']);
  });

  it('places by previous_item_id, not arrival order', () => {
    let m = upsertTurn([], t('a'), null);
    m = upsertTurn(m, t('c'), 'a');
    m = upsertTurn(m, t('b'), 'a'); // b arrives last but follows a
    expect(ids(m)).toEqual(['a', 'b', 'c']);
  });

  it('appends when the predecessor is unknown', () => {
    expect(ids(upsertTurn([t('a')], t('b'), 'never_seen'))).toEqual(['a', 'b']);
  });

  it('does not mutate the input mirror', () => {
    const m = [t('a')];
    const out = upsertTurn(m, t('b'));
    expect(ids(m)).toEqual(['a']);
    expect(out).not.toBe(m);
  });
});

describe('upsertTurn deduplication and merge', () => {
  it('merges an existing id in place and never duplicates it', () => {
    const m = [t('a'), t('b', { text: null, textState: 'pending', audio: true }), t('c')];
    const out = upsertTurn(m, t('b', { text: 'heard', textState: 'final', audio: true }));
    expect(ids(out)).toEqual(['a', 'b', 'c']);
    expect(out[1]).toMatchObject({ text: 'heard', textState: 'final' });
  });

  it('keeps known text when a later view of the item has none', () => {
    const m = [t('a', { text: 'known' })];
    const out = upsertTurn(m, t('a', { text: null, textState: 'pending' }), null);
    expect(out).toHaveLength(1);
    expect(out[0].text).toBe('known');
  });

  it('stays in place when the stated predecessor is the current one, or unknown', () => {
    const m = [t('a'), t('b'), t('c')];
    expect(ids(upsertTurn(m, t('b'), 'a'))).toEqual(['a', 'b', 'c']);
    expect(ids(upsertTurn(m, t('b'), 'zzz'))).toEqual(['a', 'b', 'c']);
    expect(ids(upsertTurn(m, t('a'), null))).toEqual(['a', 'b', 'c']);
  });

  it('moves when the server states a different known predecessor', () => {
    const m = [t('a'), t('b'), t('c')];
    expect(ids(upsertTurn(m, t('a'), 'c'))).toEqual(['b', 'c', 'a']);
    expect(ids(upsertTurn(m, t('c'), null))).toEqual(['c', 'a', 'b']);
    expect(ids(upsertTurn(m, t('c'), 'a'))).toEqual(['a', 'c', 'b']);
  });
});

describe('upsertTurn without a change', () => {
  it('returns the input when a repeated view changes nothing, so the session has nothing to assign', () => {
    const m = [t('a', { text: 'hello', textState: 'final' }), t('b')];
    expect(upsertTurn(m, t('a', { text: 'hello', textState: 'final' }))).toBe(m);
    expect(upsertTurn(m, t('b'), 'a')).toBe(m);
  });

  it('still copies when a field changes or the turn moves', () => {
    const m = [t('a', { text: 'hello', textState: 'final' }), t('b')];
    const changed = upsertTurn(m, t('a', { text: 'hello there', textState: 'final' }));
    expect(changed).not.toBe(m);
    expect(changed[0].text).toBe('hello there');
    expect(ids(upsertTurn(m, t('b'), null))).toEqual(['b', 'a']);
  });
});

describe('removeTurn, updateTurn, findTurn, indexOfTurn', () => {
  it('removes by id and leaves the input untouched', () => {
    const m = [t('a'), t('b'), t('c')];
    expect(ids(removeTurn(m, 'b'))).toEqual(['a', 'c']);
    expect(ids(m)).toEqual(['a', 'b', 'c']);
  });

  it('returns a copy when removing an unknown id', () => {
    const m = [t('a')];
    const out = removeTurn(m, 'x');
    expect(ids(out)).toEqual(['a']);
    expect(out).not.toBe(m);
  });

  it('patches a turn immutably', () => {
    const m = [t('a'), t('b')];
    const out = updateTurn(m, 'b', { text: 'new', heardMs: 120 });
    expect(out[1]).toMatchObject({ id: 'b', text: 'new', heardMs: 120 });
    expect(m[1].text).toBe('b');
    expect(ids(updateTurn(m, 'x', { text: 'y' }))).toEqual(['a', 'b']);
  });

  it('finds turns and their index', () => {
    const m = [t('a'), t('b')];
    expect(findTurn(m, 'b')?.id).toBe('b');
    expect(findTurn(m, 'x')).toBeUndefined();
    expect(indexOfTurn(m, 'a')).toBe(0);
    expect(indexOfTurn(m, 'b')).toBe(1);
    expect(indexOfTurn(m, 'x')).toBe(-1);
  });
});

describe('pendingTranscriptIds', () => {
  it('lists user turns whose transcript is pending, in order', () => {
    const m = [
      t('u1', { textState: 'pending', text: null, audio: true }),
      t('a1', { role: 'assistant', textState: 'pending', text: null }),
      t('u2', { textState: 'final' }),
      t('u3', { textState: 'pending', text: null, audio: true }),
      t('u4', { textState: 'inaudible', text: '[inaudible]' }),
    ];
    expect(pendingTranscriptIds(m)).toEqual(['u1', 'u3']);
  });
});

describe('trimToHeard', () => {
  it('keeps the whole text when everything was heard or the length is unknown', () => {
    expect(trimToHeard('one two three', 1000, 1000)).toBe('one two three');
    expect(trimToHeard('one two three', 2000, 1000)).toBe('one two three');
    expect(trimToHeard('one two three', 10, 0)).toBe('one two three');
  });

  it('keeps the heard share of the words and marks the cut', () => {
    expect(trimToHeard('one two three four', 500, 1000)).toBe('one two…');
    expect(trimToHeard('one two three four', 0, 1000)).toBe('…');
    expect(trimToHeard('a b c d e f g h i j', 990, 1000)).toBe('a b c d e f g h i…');
  });
});

describe('immutability and edge cases', () => {
  it('merging in place, removing or patching an unknown id never touches the input array', () => {
    const m = [t('a'), t('b', { text: null, textState: 'pending' })];
    const merged = upsertTurn(m, t('b', { text: 'heard' }));
    expect(merged[1].text).toBe('heard');
    expect(m[1].text).toBeNull();
    const removed = removeTurn(m, 'x');
    expect(removed).toEqual(m);
    expect(removed).not.toBe(m);
    const patched = updateTurn(m, 'x', { text: 'y' });
    expect(patched).not.toBe(m);
    expect(Object.keys(patched)).toEqual(['0', '1']);
    expect(patched).toEqual(m);
  });

  it('trimToHeard: an unknown length (total <= 0) keeps the text whatever was heard; no words keeps it as is', () => {
    expect(trimToHeard('one two three', -1, 0)).toBe('one two three');
    expect(trimToHeard('one two three', -5, -1)).toBe('one two three');
    expect(trimToHeard('   ', 500, 1000)).toBe('   ');
  });

  it('trimToHeard counts words, not whitespace runs', () => {
    expect(trimToHeard('  one   two three four', 500, 1000)).toBe('one two…');
  });
});
