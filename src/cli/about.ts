// What the three binaries (realtime-agent, realtime-emulator, realtime-proxy) say about themselves:
// the version from package.json, one format for --version ("<bin> <version>"), and one reading of
// the help/version flags, so the three answer them the same way.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'realtime-context';

/** The package's version: package.json found by walking up from this module (src/ or dist/src/). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && pkg.version) return pkg.version;
    } catch {
      // not here: one level up
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** The --version line of every binary. */
export function versionLine(bin: string): string {
  return `${bin} ${packageVersion()}\n`;
}

/** The flags every binary reads the same way: --help/-h and --version/-V/-v. */
export const HELP_FLAGS: readonly string[] = ['--help', '-h'];
export const VERSION_FLAGS: readonly string[] = ['--version', '-V', '-v'];
