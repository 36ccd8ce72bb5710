// The tool registry: declarations for session.update, argument validation (JSON Schema via ajv, zod
// via itself), result serialisation, and one-line errors for bad tool definitions.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createToolRegistry, serialise } from '../../src/tools/registry.js';
import { buildSessionConfig } from '../../src/protocol/session-config.js';
import { AgentError } from '../../src/errors.js';
import exampleTools, { convert, timeIn, zoneOf } from '../../examples/tools.mjs';

const ctx = { signal: new AbortController().signal, callId: 'call_1', agent: null as never };

describe('declarations', () => {
  it('JSON Schema tools are declared as given; zod schemas are converted (no $schema key)', () => {
    const reg = createToolRegistry([
      { name: 'a', description: 'A', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }, execute: () => 1 },
      { name: 'b', parameters: z.object({ city: z.string(), n: z.number().int().optional() }), execute: () => 2 },
      { name: 'c', execute: () => 3 },
    ]);
    expect(reg.declarations).toEqual([
      { type: 'function', name: 'a', description: 'A', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
      {
        type: 'function',
        name: 'b',
        description: '',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, n: { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } },
          required: ['city'],
          additionalProperties: false,
        },
      },
      { type: 'function', name: 'c', description: '', parameters: { type: 'object', properties: {} } },
    ]);
  });

  it('session.update carries tools and tool_choice (default auto); none without tools', () => {
    const reg = createToolRegistry(exampleTools);
    const s = buildSessionConfig({}, { declarations: reg.declarations });
    expect((s.tools as { name: string }[]).map((t) => t.name)).toEqual(['get_time', 'convert_units']);
    expect(s.tool_choice).toBe('auto');
    expect(buildSessionConfig({}, { declarations: reg.declarations, toolChoice: 'required' }).tool_choice).toBe('required');
    expect(buildSessionConfig({})).not.toHaveProperty('tools');
    expect(buildSessionConfig({})).not.toHaveProperty('tool_choice');
  });

  const noop = (): number => 1;
  it.each<[unknown, string | RegExp]>([
    [{}, 'tool 1 has an invalid name undefined: use 1-64 letters, digits, _ or -'],
    [{ name: 'has space', execute: noop }, 'tool 1 has an invalid name "has space": use 1-64 letters, digits, _ or -'],
    [{ name: 'x' }, 'tool x has no execute function: add execute(args, { signal })'],
    [{ name: 'x', execute: noop, timeoutMs: 0 }, 'tool x: timeoutMs must be a positive number of milliseconds'],
    [{ name: 'x', execute: noop, parameters: { type: 'nonsense' } }, /^tool x: parameters is not a valid JSON Schema \(/],
  ])('a bad definition is a one-line bad_input error: %j', (def, message) => {
    let err: unknown;
    try {
      createToolRegistry([def]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('bad_input');
    expect((err as AgentError).message).not.toContain('\n');
    if (typeof message === 'string') expect((err as AgentError).message).toBe(message);
    else expect((err as AgentError).message).toMatch(message);
  });

  it('duplicate names and a non-array are rejected', () => {
    expect(() => createToolRegistry([{ name: 'a', execute: () => 1 }, { name: 'a', execute: () => 2 }])).toThrow('two tools are named a: tool names must be unique');
    expect(() => createToolRegistry({ name: 'a' })).toThrow('tools must be an array');
  });
});

describe('validation', () => {
  const reg = createToolRegistry([
    { name: 'js', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, execute: () => 1 },
    { name: 'zd', parameters: z.object({ value: z.number(), unit: z.enum(['km', 'miles']) }), execute: () => 1 },
  ]);
  it('accepts valid arguments (zod returns its parsed data)', () => {
    expect(reg.validate('js', '{"city":"Oslo"}')).toEqual({ ok: true, args: { city: 'Oslo' } });
    expect(reg.validate('zd', '{"value":5,"unit":"km"}')).toEqual({ ok: true, args: { value: 5, unit: 'km' } });
  });
  it('names the problem for JSON Schema, zod, bad JSON and unknown tools', () => {
    expect(reg.validate('js', '{"city":5}')).toEqual({ ok: false, error: 'invalid arguments for js: city must be string' });
    expect(reg.validate('js', '{}')).toEqual({ ok: false, error: "invalid arguments for js: arguments must have required property 'city'" });
    expect(reg.validate('js', '{"city":"a","x":1}')).toEqual({ ok: false, error: 'invalid arguments for js: arguments must NOT have additional properties (x)' });
    expect(reg.validate('zd', '{"value":"5","unit":"km"}')).toEqual({ ok: false, error: 'invalid arguments for zd: value Invalid input: expected number, received string' });
    expect(reg.validate('js', '{oops')).toEqual({ ok: false, error: 'invalid arguments for js: not valid JSON' });
    expect(reg.validate('nope', '{}')).toEqual({ ok: false, error: 'there is no tool named nope; available: js, zd' });
  });
});

describe('execution and serialisation', () => {
  it('strings pass as is, values as JSON, undefined as {"ok":true}; BigInt, cycles and functions are errors', () => {
    expect(serialise('t', 'plain')).toBe('plain');
    expect(serialise('t', { a: [1, 'b'] })).toBe('{"a":[1,"b"]}');
    expect(serialise('t', undefined)).toBe('{"ok":true}');
    expect(() => serialise('t', 1n)).toThrow(/^t returned a value that is not JSON-serialisable/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => serialise('t', cyc)).toThrow(/^t returned a value that is not JSON-serialisable/);
    expect(() => serialise('t', () => 1)).toThrow('t returned a function, which is not JSON-serialisable');
  });
  it('a throwing tool rejects with "<name> failed: <message>" on one line', async () => {
    const reg = createToolRegistry([{ name: 'boom', execute: () => { throw new Error('no\nnetwork'); } }]);
    await expect(reg.execute('boom', {}, ctx)).rejects.toThrow('boom failed: no network');
  });
  it('passes callId and signal to execute', async () => {
    let seen: unknown;
    const reg = createToolRegistry([{ name: 'ctx', execute: (_a: unknown, c: { callId: string; signal: AbortSignal }) => { seen = [c.callId, c.signal.aborted]; return 'ok'; } }]);
    await reg.execute('ctx', {}, ctx);
    expect(seen).toEqual(['call_1', false]);
  });
});

describe('examples/tools.mjs', () => {
  it('get_time: cities and IANA zones, with the time Intl gives for that zone', () => {
    const at = new Date('2026-01-15T12:34:00Z');
    expect(timeIn('Tokyo', at)).toEqual({ place: 'Tokyo', timeZone: 'Asia/Tokyo', time: '21:34', date: '2026-01-15' });
    expect(timeIn('America/New_York', at)).toMatchObject({ timeZone: 'America/New_York', time: '07:34' });
    expect(zoneOf('paris')).toBe('Europe/Paris');
    expect(() => zoneOf('Atlantis')).toThrow('unknown city or time zone "Atlantis": give a city such as Tokyo or an IANA zone such as Asia/Tokyo');
  });
  it('convert_units: linear units, temperatures, and mismatched dimensions', () => {
    expect(convert(5, 'km', 'miles').result).toBe(3.107); // 5000 / 1609.344
    expect(convert(100, 'celsius', 'fahrenheit').result).toBe(212);
    expect(convert(2, 'pounds', 'kg').result).toBe(0.907);
    expect(() => convert(1, 'km', 'kg')).toThrow('cannot convert length (km) to mass (kg)');
  });
  it('its arguments validate against its own schemas', () => {
    const reg = createToolRegistry(exampleTools);
    expect(reg.validate('convert_units', '{"value":5,"from":"km","to":"miles"}').ok).toBe(true);
    expect(reg.validate('convert_units', '{"value":5,"from":"parsecs","to":"miles"}').ok).toBe(false);
  });
});
