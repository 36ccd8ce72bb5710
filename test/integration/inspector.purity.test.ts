// Issue 10: the inspector's I/O lives in adapters/ (HTTP server, --trace file, Stately relay); what is
// left in src/inspector/ (and src/conversation/) is pure: no file, network or process module.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/audio-env.js';

const IO_MODULES = /from '(node:)?(fs|fs\/promises|http|https|net|tls|dgram|child_process|worker_threads)'|from 'ws'|from '@statelyai\/inspect'|import\('@statelyai\/inspect'\)/;

describe.each(['src/inspector', 'src/conversation'])('%s', (dir) => {
  const files = readdirSync(join(REPO, dir)).filter((f) => f.endsWith('.ts'));
  it.each(files)('%s imports no I/O module', (f) => {
    const text = readFileSync(join(REPO, dir, f), 'utf8');
    expect(text.split('\n').filter((l) => IO_MODULES.test(l))).toEqual([]);
  });
  it('has files to check', () => expect(files.length).toBeGreaterThan(2));
});
