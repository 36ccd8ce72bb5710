import { describe, expect, it } from 'vitest';
import { isObject, parseFrame } from '../../src/protocol/parse.js';

describe('parseFrame', () => {
  it('parses a string frame with a type', () => {
    const r = parseFrame('{"type":"session.created","session":{"id":"s1"}}');
    expect(r).toEqual({ ok: true, event: { type: 'session.created', session: { id: 's1' } } });
  });

  it('parses a Buffer, an ArrayBuffer and a fragmented Buffer[]', () => {
    const json = '{"type":"response.done","response":{"id":"r_é"}}';
    const buf = Buffer.from(json, 'utf8');
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const frags = [buf.subarray(0, 10), buf.subarray(10, 40), buf.subarray(40)];
    for (const data of [buf, ab, frags]) {
      const r = parseFrame(data);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.event).toEqual({ type: 'response.done', response: { id: 'r_é' } });
    }
  });

  it('rejects text that is not JSON with a one-line reason and a preview', () => {
    const r = parseFrame('hello {');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBe('malformed server event: not JSON ("hello {")');
      expect(r.error).not.toContain('\n');
    }
  });

  it('cuts the preview at 80 characters', () => {
    const raw = `x${'a'.repeat(200)}`;
    const r = parseFrame(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe(`malformed server event: not JSON (${JSON.stringify(`${raw.slice(0, 80)}...`)})`);
  });

  it('keeps the error on one line even when the frame has newlines', () => {
    const r = parseFrame('{\n"type": \n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).not.toContain('\n');
  });

  it('rejects JSON that is not an object', () => {
    for (const raw of ['null', '[]', '[{"type":"x"}]', '42', '"text"', 'true']) {
      const r = parseFrame(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^malformed server event: not an object/);
    }
  });

  it('rejects an object without a non-empty string type', () => {
    for (const raw of ['{}', '{"type":""}', '{"type":5}', '{"type":null}', '{"kind":"x"}']) {
      const r = parseFrame(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^malformed server event: missing "type"/);
    }
  });

  it('never throws on arbitrary input', () => {
    for (const raw of ['', ' ', '\u0000', '{"type":"a"', '}{', Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0x00])]) {
      expect(() => parseFrame(raw)).not.toThrow();
      expect(parseFrame(raw).ok).toBe(false);
    }
  });
});

describe('isObject', () => {
  it('is true only for non-null, non-array objects', () => {
    expect(isObject({})).toBe(true);
    expect(isObject({ a: 1 })).toBe(true);
    expect(isObject(null)).toBe(false);
    expect(isObject([])).toBe(false);
    expect(isObject('x')).toBe(false);
    expect(isObject(1)).toBe(false);
    expect(isObject(undefined)).toBe(false);
  });
});
