// docs/cli.md is merged into the README: it must document every option the parser accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/cli/args.js';
import { REPO } from './helpers/audio-env.js';

describe('docs/cli.md', () => {
  const doc = readFileSync(join(REPO, 'docs', 'cli.md'), 'utf8');
  it.each(OPTIONS.map((o) => [o.flag, o] as const))('documents --%s with its default and env var', (flag, o) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`--${flag}`));
    expect(row, flag).toBeDefined();
    if (o.env) expect(row).toContain(o.env);
    if (o.def) expect(row).toContain(o.def.replace(/\|/g, '\\|'));
  });
  it('starts with the two quick-start commands', () => {
    expect(doc).toContain('npm ci && npm start');
    expect(doc).toContain('npm test');
  });
});
