// The agent against the service's handshake failures (101 + one error event + close 3000/4000, as
// captured; the emulator reproduces them): each one is a one-line fatal AgentError that names the fix,
// the key never appears in it, and the agent never reconnects.
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createRealtimeAgent } from '../../src/agent.js';
import { AgentError } from '../../src/errors.js';
import type { AgentOptions, RealtimeAgent } from '../../src/types.js';

const RIGHT = 'sk-right-key-0123456789abcdef';
const WRONG = 'sk-wrong-key-9876543210fedcba';

let emu: Emulator | undefined;
let agent: RealtimeAgent | undefined;
afterEach(async () => {
  await agent?.stop();
  await emu?.close();
  agent = undefined;
  emu = undefined;
});

/** Starts an emulator that counts refused connections, and an agent that would reconnect quickly. */
async function attempt(emuOptions: Parameters<typeof startEmulator>[0], connection: NonNullable<AgentOptions['connection']>) {
  const refused: string[] = [];
  const opened: string[] = [];
  emu = await startEmulator({
    ...emuOptions,
    log: (line) => {
      if (line.startsWith('connection refused')) refused.push(line);
      if (/^session \S+ opened/.test(line)) opened.push(line);
    },
  });
  agent = createRealtimeAgent({
    connection: { ...connection, url: connection.url === 'PLACEHOLDER' ? `${emu.url}?model=` : emu.url },
    session: { turnDetection: null },
    reconnect: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
    journal: false,
  } as AgentOptions);
  const reconnects: unknown[] = [];
  agent.on('reconnect', (r) => reconnects.push(r));
  const error = await agent.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  // Give a reconnect loop the time to show itself (the delays above are 5-10 ms).
  await new Promise((r) => setTimeout(r, 150));
  return { error: error as AgentError, refused, opened, reconnects };
}

function expectOneLineFatal(e: AgentError, code: string, fix: RegExp) {
  expect(e).toBeInstanceOf(AgentError);
  expect(e.fatal).toBe(true);
  expect(e.code).toBe(code);
  expect(e.message).not.toMatch(/\n/);
  expect(e.message).toMatch(fix);
}

describe('handshake failures are fatal, one line, with the fix, and never retried', () => {
  it('wrong key: bad_api_key, says to check OPENAI_API_KEY / --api-key, no key text at all', async () => {
    const r = await attempt({ apiKey: RIGHT }, { apiKey: WRONG });
    expectOneLineFatal(r.error, 'bad_api_key', /OPENAI_API_KEY|--api-key/);
    expect(r.error.message).not.toContain(WRONG.slice(0, 8));
    expect(r.error.message).not.toContain(WRONG.slice(-4));
    expect(r.refused).toHaveLength(1);
    expect(r.reconnects).toEqual([]);
  });

  it('no key: missing_api_key, says what to pass', async () => {
    const r = await attempt({}, {});
    expectOneLineFatal(r.error, 'missing_api_key', /set OPENAI_API_KEY or pass --api-key/);
    expect(r.refused).toHaveLength(1);
    expect(r.reconnects).toEqual([]);
  });

  it('unknown model: invalid_model, names the model and the --model fix', async () => {
    const r = await attempt({}, { apiKey: RIGHT, model: 'gpt-nope' });
    expectOneLineFatal(r.error, 'invalid_model', /--model/);
    expect(r.error.message).toContain('gpt-nope');
    expect(r.refused).toHaveLength(1);
    expect(r.reconnects).toEqual([]);
  });

  it('no model in the URL (an explicit empty ?model=): invalid_model (missing_model) with the --model fix', async () => {
    const r = await attempt({}, { apiKey: RIGHT, url: 'PLACEHOLDER' });
    expectOneLineFatal(r.error, 'invalid_model', /no model name \(missing_model\).*--model/);
    expect(r.refused).toHaveLength(1);
    expect(r.reconnects).toEqual([]);
  });

  it('beta header against a GA-only server: wrong_dialect with --dialect ga', async () => {
    const r = await attempt({}, { apiKey: RIGHT, dialect: 'beta' });
    expectOneLineFatal(r.error, 'wrong_dialect', /--dialect ga/);
    expect(r.refused).toHaveLength(1);
    expect(r.reconnects).toEqual([]);
  });

  it('a live session closed with 3000 (no error event) fails with the key fix instead of reconnecting', async () => {
    const r = await attempt({}, { apiKey: RIGHT });
    expect(r.error).toBeUndefined();
    const errors: AgentError[] = [];
    agent!.on('error', (e) => errors.push(e as AgentError));
    const closed = new Promise((resolve) => agent!.on('closed', resolve));
    emu!.sessions()[0].drop(3000, 'invalid_request_error');
    await closed;
    await new Promise((res) => setTimeout(res, 150));
    expect(errors.filter((e) => e.fatal).map((e) => e.code)).toEqual(['missing_api_key']);
    expect(r.reconnects).toEqual([]);
    expect(r.opened).toHaveLength(1);
  });
});
