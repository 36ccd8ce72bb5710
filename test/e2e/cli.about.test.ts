// The three binaries answer --help and --version the same way (issue 24): "<bin> <version>" from
// package.json on stdout, exit 0, nothing on stderr; help on stdout, exit 0, first line "<bin> <version>: ...".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/cli-run.js';
import { REPO } from '../helpers/audio-env.js';

const BINS = {
  'realtime-agent': join(REPO, 'dist', 'src', 'cli.js'),
  'realtime-emulator': join(REPO, 'dist', 'src', 'emulator', 'cli.js'),
  'realtime-proxy': join(REPO, 'dist', 'src', 'proxy', 'cli.js'),
} as const;
const built = Object.values(BINS).every((p) => existsSync(p));
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const run = (bin: string, args: string[]) => spawnSync(process.execPath, [bin, ...args], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000, cwd: REPO });

describe.skipIf(!built)('--help and --version, the same on all three binaries', () => {
  for (const [name, bin] of Object.entries(BINS)) {
    it(`${name} --version / -V prints "${name} <version>" and exits 0`, () => {
      for (const flag of ['--version', '-V']) {
        const r = run(bin, [flag]);
        expect(r.status, `${name} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toBe(`${name} ${VERSION}\n`);
        expect(r.stderr).toBe('');
      }
    });

    it(`${name} --help / -h prints help on stdout, first line "${name} <version>: …", and exits 0`, () => {
      for (const flag of ['--help', '-h']) {
        const r = run(bin, [flag]);
        expect(r.status, `${name} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^${name} ${VERSION.replace(/\./g, '\\.')}: \\S`));
        expect(r.stdout).toMatch(/--version/);
        expect(r.stderr).toBe('');
      }
    });
  }

  it('an unknown flag is one line on stderr, "unknown flag" on all three, exit 2', () => {
    for (const [name, bin] of Object.entries(BINS)) {
      const r = run(bin, ['--bogus']);
      expect(r.status, name).toBe(2);
      expect(r.stderr.trim()).toBe(`${name}: unknown flag --bogus (see --help)`);
    }
  });
});
