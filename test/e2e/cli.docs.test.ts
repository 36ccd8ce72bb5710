// The docs' option tables and figures follow their sources. Every option each binary's --help lists
// (the help is rendered from the binaries' option definitions) must have its row in that binary's
// docs page, every environment variable must be named there, and every generated block
// (scripts/docs/blocks.ts: option tables, bench/results.json, bench/mutation.json) must be what the
// generator writes today. A failure names the file, the binary and the option, and the command that
// fixes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BLOCKS, REGENERATE, begin, end, extractBlock } from '../../scripts/docs/blocks.js';
import { allFlags, parseHelp, readHelp, type Binary, type ParsedHelp } from '../../scripts/docs/help-options.js';
import { OPTIONS } from '../../src/cli/args.js';
import { REPO } from '../helpers/audio-env.js';

const PAGES: Record<Binary, string> = {
  'realtime-agent': 'docs/cli.md',
  'realtime-proxy': 'docs/proxy.md',
  'realtime-emulator': 'docs/emulator.md',
};
const read = (file: string): string => readFileSync(join(REPO, file), 'utf8');

/** The option cells (first column) of the table in a page's generated block. */
function optionCells(file: string, bin: Binary): string[] {
  const block = extractBlock(read(file), `options ${bin}`);
  if (block === undefined) throw new Error(`${file} has no generated option table for ${bin}: add the lines\n${begin(`options ${bin}`)}\n${end(`options ${bin}`)}\nthen run ${REGENERATE}`);
  return block.split('\n').filter((l) => l.startsWith('| `--')).map((l) => l.slice(2, l.indexOf(' | ', 2)));
}

const helps = {} as Record<Binary, ParsedHelp>;
beforeAll(async () => {
  const bins = Object.keys(PAGES) as Binary[];
  const texts = await Promise.all(bins.map((b) => readHelp(REPO, b)));
  bins.forEach((b, i) => (helps[b] = parseHelp(texts[i])));
}, 120_000);

describe('option tables', () => {
  it.each(Object.entries(PAGES) as [Binary, string][])('%s: every option of --help has a row in %s', (bin, file) => {
    const flags = allFlags(helps[bin]);
    // The help parser itself must see the options (a change of the help layout fails here, not silently).
    expect(flags.length, `${bin} --help: no options parsed (scripts/docs/help-options.ts)`).toBeGreaterThan(10);
    const cells = optionCells(file, bin);
    const missing = flags.filter((f) => !cells.some((c) => new RegExp(`\`(?:[^\`]* )?--${f}(?![\\w-])`).test(c)));
    expect(missing.map((f) => `${file}: the ${bin} option table has no row for --${f}; run ${REGENERATE}`)).toEqual([]);
  });

  it('the flags the issue named are documented: --record, --policy-strategy and RTC_STORE', () => {
    const cli = optionCells('docs/cli.md', 'realtime-agent');
    expect(cli.some((c) => c.startsWith('`--record')), 'docs/cli.md: --record').toBe(true);
    expect(cli.some((c) => c.startsWith('`--policy-strategy')), 'docs/cli.md: --policy-strategy').toBe(true);
    const storeRow = read('docs/cli.md').split('\n').find((l) => l.startsWith('| `--store'));
    expect(storeRow, 'docs/cli.md: --store row').toContain('RTC_STORE');
  });

  it.each(Object.entries(PAGES) as [Binary, string][])('%s: every environment variable of --help is named in %s', (bin, file) => {
    const envs = helps[bin].groups.flatMap((g) => g.options.flatMap((o) => (o.env ? [o.env] : [])));
    const doc = read(file);
    expect(envs.filter((e) => !doc.includes(`\`${e}\``)).map((e) => `${file}: environment variable ${e} (${bin}) is not named; run ${REGENERATE}`)).toEqual([]);
  });

  // The agent's option definitions, read directly (not through --help): default and env var in each row.
  it.each(OPTIONS.map((o) => [o.flag, o] as const))('docs/cli.md documents --%s with its default and env var', (flag, o) => {
    const row = read('docs/cli.md').split('\n').find((l) => l.startsWith(`| \`--${flag}`));
    expect(row, `docs/cli.md: no row for --${flag}; run ${REGENERATE}`).toBeDefined();
    if (o.env) expect(row).toContain(o.env);
    if (o.def) expect(row).toContain(o.def.replace(/\|/g, '\\|'));
  });
});

describe('generated blocks are up to date', () => {
  it.each(BLOCKS.map((b) => [b.file, b.id, b] as const))('%s: %s', async (file, id, block) => {
    const current = extractBlock(read(file), id);
    expect(current, `${file} has no block "${id}": add the lines ${begin(id)} and ${end(id)}, then run ${REGENERATE}`).toBeDefined();
    const fresh = (await block.render(REPO)).trim();
    if (current !== fresh) {
      const now = new Set(current!.split('\n'));
      const changed = fresh.split('\n').filter((l) => !now.has(l)).slice(0, 5);
      expect.fail(`${file}: the generated block "${id}" is out of date; run ${REGENERATE}. Lines it should have:\n${changed.join('\n')}`);
    }
  }, 60_000);
});

describe('docs/cli.md', () => {
  it('starts with the two quick-start commands', () => {
    const doc = read('docs/cli.md');
    expect(doc).toContain('npm ci && npm start');
    expect(doc).toContain('npm test');
  });
});
