// The real realtime-proxy binary (dist/, built by `npm run build`): usage errors, the embedded
// emulator with the agent's banner, --json connection lines with the cost, SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv } from './helpers/cli-run.js';
import { REPO } from './helpers/audio-env.js';
import { RawClient } from './helpers/emulator-client.js';

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
