// Every test file gets its own temporary directory as TMPDIR (os.tmpdir() and child processes follow
// it), removed after the file: no run leaves temp dirs behind, whatever the test forgot to clean.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const g = globalThis as { __rtcOuterTmp?: string };
g.__rtcOuterTmp ??= tmpdir();
const outer = g.__rtcOuterTmp;
const base = mkdtempSync(join(outer, 'rtc-test-'));
process.env.TMPDIR = base;

afterAll(() => {
  process.env.TMPDIR = outer;
  rmSync(base, { recursive: true, force: true });
});
