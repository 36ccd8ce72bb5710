// The realtime-emulator bin: startup line, TLS certificate line, signals, bad flags, HTTP control.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/emulator-client.js';

const procs: ChildProcessWithoutNullStreams[] = [];

function run(args: string[]): ChildProcessWithoutNullStreams {
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/cli.ts', ...args], { cwd: process.cwd(), stdio: 'pipe' });
  procs.push(p);
  return p;
}

function lines(p: ChildProcessWithoutNullStreams, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const rl = createInterface({ input: p.stdout });
    rl.on('line', (l) => {
      out.push(l);
      if (out.length === n) {
        rl.close();
        resolve(out);
      }
    });
    p.on('exit', (code) => reject(new Error(`exited ${code} after ${JSON.stringify(out)}`)));
  });
}

function exit(p: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d.toString()));
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stderr })));
}

afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

describe('realtime-emulator CLI', () => {
  it('prints one listening line, serves, and exits 0 on SIGTERM', async () => {
    const p = run(['--port', '0', '--host', '127.0.0.1', '--pacing', 'fast']);
    const ended = exit(p);
    const [line] = await lines(p, 1);
    // Without --api-key any key works here: the start line says so, and how to check a real one.
    expect(line).toMatch(/^listening ws:\/\/127\.0\.0\.1:\d+\/v1\/realtime \(API key: any non-empty key, so a mistyped key works here and not on OpenAI: start with --api-key KEY to check yours; GA dialect only, beta refused like OpenAI\)$/);
    const url = line.split(' ')[1];
    const c = await RawClient.connect(url);
    expect((await c.waitFor('session.created')).session.type).toBe('realtime');
    // HTTP control endpoint on the same port (cross-process hints)
    const base = url.replace('ws:', 'http:').replace('/v1/realtime', '');
    const r = await fetch(`${base}/emulator/sessions`, { headers: { authorization: 'Bearer sk-x' } });
    expect(((await r.json()) as any).sessions).toHaveLength(1);
    c.close();
    p.kill('SIGTERM');
    expect((await ended).code).toBe(0);
  }, 120_000); // a tsx child process: slow on a loaded machine

  it('--tls prints a wss URL and the certificate path; SIGINT exits 0', async () => {
    const p = run(['--port', '0', '--tls', '--api-key', 'sk-cli']);
    const ended = exit(p);
    const [l1, l2] = await lines(p, 2);
    expect(l1).toMatch(/^listening wss:\/\/127\.0\.0\.1:\d+\/v1\/realtime \(API key: only the one given with --api-key;/);
    const wssUrl = l1.split(' ')[1];
    expect(l2).toMatch(/^certificate \/.+\.pem$/);
    const pem = readFileSync(l2.slice('certificate '.length), 'utf8');
    expect(pem).toContain('BEGIN CERTIFICATE');
    const c = await RawClient.connect(wssUrl, { ca: pem, key: 'sk-cli' });
    expect((await c.waitFor('session.created')).type).toBe('session.created');
    c.close();
    const refused = await RawClient.connect(wssUrl, { ca: pem, key: 'sk-other' });
    expect(await refused.closed).toEqual({ code: 3000, reason: 'invalid_request_error.invalid_api_key' });
    p.kill('SIGINT');
    expect((await ended).code).toBe(0);
  }, 120_000);

  it('with --api-key a wrong key is refused as the live service refuses it: WebSocket (101, error event, close 3000) and HTTP (401, same error body)', async () => {
    const good = 'sk-proj-emulator-right-key-1234';
    const wrong = 'sk-proj-typo-in-the-key-WXYZ';
    const p = run(['--port', '0', '--api-key', good]);
    const ended = exit(p);
    const [line] = await lines(p, 1);
    expect(line).toContain('API key: only the one given with --api-key; a wrong key is refused like OpenAI does');
    const url = line.split(' ')[1];
    // realtime-captures.md, "wrong key": the upgrade succeeds, then one error event and close 3000
    // `invalid_request_error.invalid_api_key`; the key masked as its first 8 characters, ***…, its last 4.
    const captured = {
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      message: `Incorrect API key provided: ${wrong.slice(0, 8)}***…${wrong.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    };
    const ws = await RawClient.connect(url, { key: wrong });
    const ev = await ws.waitFor('error');
    expect(ev.error).toMatchObject(captured);
    expect(await ws.closed).toEqual({ code: 3000, reason: 'invalid_request_error.invalid_api_key' });
    // The HTTP endpoints the emulator serves answer a wrong key with 401 and the same error.
    const base = url.replace('ws:', 'http:').replace('/v1/realtime', '');
    for (const [method, path, body] of [
      ['POST', '/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })],
      ['GET', '/emulator/sessions', undefined],
    ] as const) {
      const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${wrong}`, 'content-type': 'application/json' }, body });
      expect(r.status, path).toBe(401);
      expect(await r.json(), path).toEqual({ error: { ...captured, param: null } });
    }
    // The right key works on both.
    const ok = await fetch(`${base}/emulator/sessions`, { headers: { authorization: `Bearer ${good}` } });
    expect(ok.status).toBe(200);
    p.kill('SIGTERM');
    expect((await ended).code).toBe(0);
  }, 120_000);

  it('a bad flag prints one line naming it and exits 2', async () => {
    for (const [args, needle] of [
      [['--bogus'], '--bogus'],
      [['--pacing', 'slow'], '--pacing'],
      [['--port', 'abc'], '--port'],
      [['--cert', 'x.pem'], '--key'],
      [['--cert', 'nope.pem', '--key', 'nope.key'], 'cannot read --cert nope.pem: no such file or directory: check the path'],
      [['--store', 'st'], '--store: the emulator keeps no conversations'],
    ] as const) {
      const p = run([...args]);
      const r = await exit(p);
      expect(r.code).toBe(2);
      const errLines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toContain(needle);
    }
  }, 120_000); // four tsx child processes: slow on a loaded machine

  it('--help lists every option', async () => {
    const p = run(['--help']);
    let out = '';
    p.stdout.on('data', (d) => (out += d.toString()));
    const r = await exit(p);
    expect(r.code).toBe(0);
    for (const f of ['--port', '--host', '--tls', '--cert', '--key', '--api-key', '--dialect', '--ping-seconds', '--replay', '--max-session-minutes', '--pacing', '--reply-words', '--context-echo', '--script', '--transcript-delay-ms', '--transcript-fail-rate', '--transcript-never-rate', '--seed'])
      expect(out).toContain(f);
  }, 120_000);
});
