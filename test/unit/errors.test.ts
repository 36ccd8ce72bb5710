import { describe, expect, it } from 'vitest';
import { AgentError, redact } from '../../src/errors.js';

describe('redact', () => {
  it('removes every occurrence of each secret', () => {
    expect(redact('key=abcd1234 again abcd1234', ['abcd1234'])).toBe('key=[redacted] again [redacted]');
    expect(redact('a=first1 b=second2', ['first1', 'second2'])).toBe('a=[redacted] b=[redacted]');
  });

  it('ignores empty, missing and very short secrets', () => {
    expect(redact('abc def', ['abc', '', undefined, null])).toBe('abc def');
  });

  it('removes anything that looks like an OpenAI key, even unannounced', () => {
    expect(redact('Bearer sk-proj-AbC123_xyz-98765', [])).toBe('Bearer sk-[redacted]');
    expect(redact('sk-12345678', [])).toBe('sk-[redacted]');
  });

  it('leaves short sk- fragments and ordinary text alone', () => {
    expect(redact('task-1 and sk-short', [])).toBe('task-1 and sk-short');
  });

  it('the secret is gone from the output whatever surrounds it', () => {
    const key = 'sk-live-0123456789abcdef';
    const out = redact(`{"Authorization":"Bearer ${key}","url":"wss://x?api-key=${key}"}`, [key]);
    expect(out).not.toContain(key);
    expect(out).not.toContain('0123456789abcdef');
  });

  it('accepts any iterable of secrets', () => {
    expect(redact('tok-xyz1', new Set(['tok-xyz1']))).toBe('[redacted]');
  });
});

describe('AgentError', () => {
  it('carries a code, a message, fatality and the server code', () => {
    const e = new AgentError('bad_api_key', 'the server refused the API key', true, 'invalid_api_key');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AgentError');
    expect(e.code).toBe('bad_api_key');
    expect(e.message).toBe('the server refused the API key');
    expect(e.fatal).toBe(true);
    expect(e.serverCode).toBe('invalid_api_key');
  });

  it('is not fatal by default', () => {
    expect(new AgentError('server_error', 'x').fatal).toBe(false);
  });
});
