// The real realtime-proxy binary (dist/, built by `npm run build`): usage errors, the embedded
// emulator with the agent's banner, --json connection lines with the cost, SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli-run.js';
import { REPO } from '../helpers/audio-env.js';
import { RawClient } from '../helpers/emulator-client.js';

const BIN = join(REPO, 'dist', 'src', 'proxy', 'cli.js');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(!existsSync(BIN))('realtime-proxy binary', () => {
  it('usage errors are one line and exit 2', () => {
    for (const [args, expected] of [
      [['--host', '0.0.0.0'], /--host 0\.0\.0\.0 is not loopback: add --client-token/],
      [['--input', 'text'], /--input is a realtime-agent flag/],
      [['--port', 'x'], /--port must be 0-65535/],
      [['--client-token', 'short'], /at least 16 characters/],
      [['--bogus'], /unknown flag --bogus/],
    ] as const) {
      const r = run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(expected);
    }
  }, 120_000);

  it('serves the emulator with the agent banner; --json prints opened and closed (with cost); SIGTERM exits 0', async () => {
    const child = spawn(process.execPath, [BIN, '--port', '0', '--json', '--no-journal', '--emulator-pacing', 'fast'], { env: cleanEnv() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
    const waitLine = async (type: string) => {
      for (let i = 0; i < 1500; i++) {
        const l = lines().find((x) => x.type === type);
        if (l) return l;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${type} line; stderr: ${err}`);
    };
    const listening = await waitLine('listening');
    expect(err).toContain('no API key: using the built-in emulator; replies are synthetic');
    const c = await RawClient.connect(listening.url, { key: 'anything' });
    await c.waitFor('session.created');
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    await c.waitFor('response.done', 0, 15_000);
    c.ws.close();
    const closed = await waitLine('closed');
    const opened = lines().find((x) => x.type === 'opened')!;
    expect(closed.conn).toBe(opened.conn);
    expect(closed.costUsd).toBeGreaterThan(0);
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 90_000);
});

// Issue 24: --tls made a certificate nobody could trust (never printed, never saved).
describe.skipIf(!existsSync(BIN))('realtime-proxy --tls', () => {
  /** Starts the proxy in `cwd`, returns its stderr once it is listening, then stops it. */
  async function startAndStop(cwd: string, args: string[]): Promise<{ err: string; url: string; served: string; pem: string | null }> {
    const child = spawn(process.execPath, [BIN, '--port', '0', '--no-journal', ...args], { cwd, env: cleanEnv() });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 1500 && !/^journal: /m.test(err); i++) await new Promise((r) => setTimeout(r, 20));
    const url = /listening on (wss:\/\/\S+)\?/.exec(err)?.[1] ?? '';
    // What the server really presents (the oracle for the printed fingerprint).
    const port = Number(new URL(url).port);
    const served = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerX509Certificate()!.fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    const certPath = /^tls certificate: (\S+) /m.exec(err)?.[1];
    const pem = certPath && existsSync(certPath) ? readFileSync(certPath, 'utf8') : null;
    // A client that trusts the printed file (and checks the name) gets a session.
    if (pem) {
      const c = await RawClient.connect(url, { key: 'anything', ca: pem });
      await c.waitFor('session.created');
      c.ws.close();
    }
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    return { err, url, served, pem };
  }

  it('prints where the certificate is and its SHA-256 fingerprint, keeps it in .rtc/proxy-tls/, reuses it next run; --tls-cert/--tls-key serve a given pair', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rtc-proxy-tls-'));
    try {
      const first = await startAndStop(cwd, ['--tls']);
      expect(first.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/realtime$/);
      const certPath = join(cwd, '.rtc', 'proxy-tls', 'cert.pem');
      expect(first.err).toContain(`tls certificate: ${certPath} (made now, kept for the next runs; valid until `);
      expect(first.pem).not.toBeNull();
      const fileFingerprint = new X509Certificate(first.pem!).fingerprint256;
      expect(first.served).toBe(fileFingerprint);
      expect(first.err).toContain(`tls SHA-256 fingerprint: ${fileFingerprint}`);
      expect(statSync(join(cwd, '.rtc', 'proxy-tls', 'key.pem')).mode & 0o777).toBe(0o600);

      const second = await startAndStop(cwd, ['--tls']);
      expect(second.err).toContain(`tls certificate: ${certPath} (kept from an earlier run; `);
      expect(second.served).toBe(fileFingerprint);

      copyFileSync(certPath, join(cwd, 'mine.pem'));
      copyFileSync(join(cwd, '.rtc', 'proxy-tls', 'key.pem'), join(cwd, 'mine.key'));
      rmSync(join(cwd, '.rtc'), { recursive: true });
      const given = await startAndStop(cwd, ['--tls-cert', 'mine.pem', '--tls-key', 'mine.key']);
      expect(given.err).toContain(`tls certificate: ${join(cwd, 'mine.pem')} (given with --tls-cert; `);
      expect(given.served).toBe(fileFingerprint);
      expect(existsSync(join(cwd, '.rtc', 'proxy-tls'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 180_000);

  it('a missing or unmatched --tls-cert/--tls-key is one line naming the file, exit 2', () => {
    const r1 = run(['--tls-cert', 'nope.pem']);
    expect(r1.status).toBe(2);
    expect(r1.stderr.trim()).toBe('realtime-proxy: --tls-cert and --tls-key go together: give both files');
    const r2 = run(['--port', '0', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem']);
    expect(r2.status).toBe(2);
    expect(r2.stderr.trim().split('\n').at(-1)).toBe('realtime-proxy: cannot read --tls-cert /nonexistent/c.pem: no such file or directory: check the path');
  }, 60_000);
});

// Issue 24: --store means the same on the proxy as on the agent: the connections' journals go there.
describe.skipIf(!existsSync(BIN))('realtime-proxy --store DIR', () => {
  it("writes each connection's journal in DIR (nothing in .rtc/), and `realtime-agent conversations --store DIR` lists it", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rtc-proxy-store-'));
    try {
      const child = spawn(process.execPath, [BIN, '--port', '0', '--json', '--store', 'st', '--emulator-pacing', 'fast'], { cwd, env: cleanEnv() });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const line = async (type: string) => {
        for (let i = 0; i < 1500; i++) {
          const l = out.split('\n').filter(Boolean).map((x) => JSON.parse(x) as Record<string, any>).find((x) => x.type === type);
          if (l) return l;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`no ${type} line`);
      };
      const listening = await line('listening');
      const c = await RawClient.connect(listening.url, { key: 'anything' });
      await c.waitFor('session.created');
      c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello store' }] } });
      c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
      await c.waitFor('response.done', 0, 15_000);
      c.ws.close();
      await line('closed');
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(existsSync(join(cwd, '.rtc'))).toBe(false);
      const journals = readdirSync(join(cwd, 'st')).filter((f) => f.endsWith('.jsonl'));
      expect(journals).toHaveLength(1);
      const listed = await runCli(['conversations', '--store', 'st', '--json'], { cwd, env: cleanEnv() });
      const rows = listed.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ turns: 2, location: join(cwd, 'st', journals[0]) });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
