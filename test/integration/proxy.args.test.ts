// realtime-proxy's own flags: the limits (each sets one ProxyLimits field), keys from a file or the
// environment instead of the command line (where `ps` shows them), and a warning when a secret is
// given as an argument anyway.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProxyArgs } from '../../src/proxy/args.js';
import { DEFAULT_LIMITS, memoryBoundPerConnection, resolveLimits } from '../../src/proxy/limits.js';
import { UsageError } from '../../src/cli/args.js';
import { REPO } from '../helpers/audio-env.js';
import { cleanEnv } from '../helpers/cli-run.js';

const BIN = join(REPO, 'dist', 'src', 'proxy', 'cli.js');

const dir = mkdtempSync(join(tmpdir(), 'rtc-proxy-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = {} as NodeJS.ProcessEnv;

describe('limit flags', () => {
  it('each flag sets its limit in the unit the help names', () => {
    const o = parseProxyArgs(
      ['--max-connections', '50', '--handshake-timeout', '2.5', '--idle-timeout=0', '--client-rate', '200', '--client-burst', '400', '--client-send-soft', '2', '--client-send-hard', '8'],
      env,
    );
    expect(o.limits).toEqual({
      maxConnections: 50,
      handshakeTimeoutMs: 2500,
      idleTimeoutMs: 0,
      clientEventsPerSecond: 200,
      clientEventBurst: 400,
      clientSoftLimitBytes: 2 * 1024 * 1024,
      clientLowWaterBytes: 512 * 1024, // a quarter of a lowered soft limit
      clientHardLimitBytes: 8 * 1024 * 1024,
    });
    expect(parseProxyArgs([], env).limits).toEqual({});
  });

  it('refuses a value that is not a number, and a soft limit above the hard one', () => {
    expect(() => parseProxyArgs(['--max-connections', 'many'], env)).toThrow(/--max-connections needs a number >= 0/);
    expect(() => parseProxyArgs(['--idle-timeout', '-5'], env)).toThrow(UsageError);
    expect(() => parseProxyArgs(['--client-send-soft', '32'], env)).toThrow(/--client-send-soft \(32 MiB\) must not exceed --client-send-hard \(16 MiB\)/);
  });
});

describe('the context policy belongs to the proxy', () => {
  // The proxy runs the engine, so the policy flags are its own (docs/proxy.md options table), the
  // strategy included; a session flag (the voice) stays the client's.
  it('--policy-strategy is taken (cache-aware or hysteresis), a bad value is a usage error', () => {
    expect(parseProxyArgs(['--policy-strategy', 'cache-aware'], {}).base.policyStrategy).toBe('cache-aware');
    expect(parseProxyArgs(['--policy-strategy=hysteresis'], {}).base.policyStrategy).toBe('hysteresis');
    expect(() => parseProxyArgs(['--policy-strategy', 'forget'], {})).toThrow(UsageError);
    expect(() => parseProxyArgs(['--voice', 'marin'], {})).toThrow(/is a realtime-agent flag/);
  });
});

describe('limits as a library option', () => {
  it('the memory bound stated in docs/proxy.md is what the defaults give', () => {
    const MiB = 1024 * 1024;
    // docs/proxy.md "Limits": 16 + 16 + 8 + 16 + 32 + 16 MiB.
    expect(memoryBoundPerConnection(DEFAULT_LIMITS) / MiB).toBe(104);
    expect(readFileSync(join(REPO, 'docs', 'proxy.md'), 'utf8')).toContain('**104 MiB** worst case');
  });

  it('an unknown or inconsistent limit is refused in one line naming it', () => {
    expect(() => resolveLimits({ nope: 1 } as never)).toThrow(/unknown proxy limit "nope"/);
    expect(() => resolveLimits({ clientSoftLimitBytes: 10, clientHardLimitBytes: 5 })).toThrow(/clientSoftLimitBytes <= clientHardLimitBytes/);
    expect(() => resolveLimits({ idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs must be a number >= 0/);
    expect(resolveLimits({ idleTimeoutMs: 0 }).idleTimeoutMs).toBe(0);
  });
});

describe('secrets stay out of ps', () => {
  it('--api-key-file reads the key; no warning', () => {
    const f = join(dir, 'key');
    writeFileSync(f, 'sk-from-a-file-0123456789\n');
    const o = parseProxyArgs(['--api-key-file', f], env);
    expect(o.base.apiKey).toBe('sk-from-a-file-0123456789');
    expect(o.warnings).toEqual([]);
  });

  it('OPENAI_API_KEY from the environment: no warning', () => {
    const o = parseProxyArgs([], { OPENAI_API_KEY: 'sk-from-env-0123456789' });
    expect(o.base.apiKey).toBe('sk-from-env-0123456789');
    expect(o.warnings).toEqual([]);
  });

  it('a key or token given as an argument works but warns, naming the safer way and never the value', () => {
    const o = parseProxyArgs(['--api-key', 'sk-on-the-command-line-0123', '--client-token', 'token-on-the-command-line'], env);
    expect(o.base.apiKey).toBe('sk-on-the-command-line-0123');
    expect(o.warnings).toHaveLength(2);
    expect(o.warnings[0]).toMatch(/^warning: --api-key on the command line is visible to every local user .*--api-key-file or OPENAI_API_KEY/);
    expect(o.warnings[1]).toMatch(/--client-token .*--client-tokens-file/);
    expect(o.warnings.join('\n')).not.toContain('sk-on-the-command-line');
    expect(o.warnings.join('\n')).not.toContain('token-on-the-command-line');
  });

  it('a key file that is missing, empty or holds more than a key is refused in one line', () => {
    expect(() => parseProxyArgs(['--api-key-file', join(dir, 'nope')], env)).toThrow(/cannot read --api-key-file .*nope: no such file or directory: check the path/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => parseProxyArgs(['--api-key-file', empty], env)).toThrow(/must hold exactly one key/);
    const f = join(dir, 'key2');
    writeFileSync(f, 'sk-a\n');
    expect(() => parseProxyArgs(['--api-key-file', f, '--api-key', 'sk-b'], env)).toThrow(/exclude each other/);
    expect(() => parseProxyArgs(['--api-key-file', f, '--pass-through'], env)).toThrow(/exclude each other/);
  });
});

describe.skipIf(!existsSync(BIN))('realtime-proxy binary', () => {
  it('prints the warning for a token given as an argument (never the token), and lists the limit flags in --help', async () => {
    const token = 'cmdline-token-0123456789abcdef';
    const child = spawn(process.execPath, [BIN, '--port', '0', '--no-journal', '--client-token', token], { env: cleanEnv() });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    for (let i = 0; i < 1500 && !/listening on/.test(err); i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(err).toMatch(/realtime-proxy: warning: --client-token on the command line is visible to every local user .*--client-tokens-file/);
    expect(err).not.toContain(token);
    const help = spawnSync(process.execPath, [BIN, '--help'], { env: cleanEnv(), encoding: 'utf8' }).stdout;
    for (const flag of ['--api-key-file', '--max-connections', '--handshake-timeout', '--idle-timeout', '--client-rate', '--client-burst', '--client-send-soft', '--client-send-hard']) {
      expect(help).toContain(flag);
    }
  }, 60_000);
});
