// Generated blocks of the docs: option tables from each binary's --help, the benchmark table from
// bench/results.json, the mutation scores from bench/mutation.json. Each block sits between two
// markers in its file; `npx tsx scripts/docs.ts` rewrites them and test/e2e/cli.docs.test.ts fails when a
// file is out of date, so no option or figure in the docs can drift from its source.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable, type BenchResult } from '../../bench/lib/results.js';
import { parseHelp, readHelp, type Binary, type HelpOption, type ParsedHelp } from './help-options.js';

export const REGENERATE = 'npx tsx scripts/docs.ts';

export interface Block {
  file: string; // relative to the repository
  id: string;
  render(repo: string): Promise<string>;
}

export const begin = (id: string): string => `<!-- BEGIN GENERATED ${id}: edit the source, then run ${REGENERATE} -->`;
export const end = (id: string): string => `<!-- END GENERATED ${id} -->`;

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const code = (s: string): string => `\`${cell(s)}\``;

/** Groups of the same name merged, first position kept (the agent's General options are split). */
function mergedGroups(help: ParsedHelp): ParsedHelp['groups'] {
  const byName = new Map<string, HelpOption[]>();
  for (const g of help.groups) byName.set(g.name, [...(byName.get(g.name) ?? []), ...g.options]);
  return [...byName].map(([name, options]) => ({ name, options }));
}

/** `| Option | Default | Env var | What it does |`, one bold row per group. */
export function optionTable(help: ParsedHelp): string {
  const rows = ['| Option | Default | Env var | What it does |', '|---|---|---|---|'];
  for (const g of mergedGroups(help)) {
    rows.push(`| **${g.name}** | | | |`);
    for (const o of g.options) {
      rows.push(`| ${code(o.left)} | ${cell(o.def ?? '')} | ${o.env ? code(o.env) : ''} | ${cell(o.help)} |`);
    }
  }
  return rows.join('\n');
}

function envLine(help: ParsedHelp): string {
  const envs = [...new Set(help.groups.flatMap((g) => g.options.flatMap((o) => (o.env ? [o.env] : []))))];
  return envs.length ? `\nEnvironment variables (used when the flag is absent): ${envs.map(code).join(', ')}.\n` : '';
}

function optionsBlock(file: string, bin: Binary): Block {
  return {
    file,
    id: `options ${bin}`,
    async render(repo) {
      const help = parseHelp(await readHelp(repo, bin));
      const usage = ['```text', ...help.usage.map((u) => `${u.startsWith(bin) || u.startsWith('npm') ? '' : `${bin} `}${u}`), '```'];
      return [`From \`${bin} --help\`:`, '', ...usage, '', optionTable(help), envLine(help)].join('\n').trimEnd();
    },
  };
}

const day = (iso: string): string => iso.replace('T', ' ').slice(0, 16) + ' UTC';

function benchBlock(): Block {
  return {
    file: 'docs/performance.md',
    id: 'bench results',
    async render(repo) {
      const doc = JSON.parse(readFileSync(join(repo, 'bench/results.json'), 'utf8')) as {
        machine: { cpus: number; model: string; memGiB: number; node: string; platform: string };
        results: Record<string, BenchResult & { date?: string; quick?: boolean; load?: { before: number; after: number } }>;
      };
      const m = doc.machine;
      const when = Object.entries(doc.results).map(
        ([k, r]) => `| ${k} | ${r.date ? day(r.date) : 'unknown'} | \`npm run bench -- ${k}\`${r.quick ? ' (quick)' : ''} | ${r.load ? `${r.load.before} / ${r.load.after}` : ''} | ${r.durationS} s |`,
      );
      return [
        `From \`bench/results.json\` (machine: ${m.cpus} × ${m.model}, ${m.memGiB} GiB, ${m.platform}, Node ${m.node}).`,
        'Each benchmark was last run on its own date; the 1-minute load average before and after tells how',
        'busy the machine was (2 cores: above 2 the figures that depend on scheduling are noise-dominated).',
        '',
        '| bench | run on | command | load before / after | took |',
        '|---|---|---|---|---|',
        ...when,
        '',
        markdownTable(doc.results),
      ].join('\n');
    },
  };
}

interface MutationDoc {
  date: string;
  command: string;
  machine: string;
  measuredOn: Record<string, string>;
  durationSecondsPerTarget: Record<string, number>;
  trees: Record<string, { detected: number; total: number; equivalentSurvivors: number; score: number; scoreWithoutEquivalents: number }>;
  scores: Record<string, { killed: number; timeout: number; survived: number; noCoverage: number; total: number; score: number; scoreWithoutEquivalents: number }>;
}

const minutes = (s: number): string => `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;

function mutationBlock(): Block {
  return {
    file: 'docs/testing.md',
    id: 'mutation scores',
    async render(repo) {
      const d = JSON.parse(readFileSync(join(repo, 'bench/mutation.json'), 'utf8')) as MutationDoc;
      const n = (x: number): string => x.toLocaleString('en-US');
      return [
        `From \`bench/mutation.json\` (written ${day(d.date)} on ${d.machine}; command: \`${d.command}\`).`,
        '',
        '| tree | mutants | detected | score | without equivalent survivors |',
        '|---|---|---|---|---|',
        ...Object.entries(d.trees).map(([k, t]) => `| \`${k}\` | ${n(t.total)} | ${n(t.detected)} | ${t.score} % | ${t.scoreWithoutEquivalents} % |`),
        '',
        '| report | killed | timeout | survived | no coverage | total | score |',
        '|---|---|---|---|---|---|---|',
        ...Object.entries(d.scores).map(([k, s]) => `| \`${k}\` | ${n(s.killed)} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${n(s.total)} | ${s.score} % |`),
        '',
        '| target | measured on commit | Stryker time |',
        '|---|---|---|',
        ...Object.entries(d.measuredOn).map(([k, c]) => `| \`${k}\` | \`${c}\` | ${minutes(d.durationSecondsPerTarget[k] ?? 0)} |`),
      ].join('\n');
    },
  };
}

export const BLOCKS: readonly Block[] = [
  optionsBlock('docs/cli.md', 'realtime-agent'),
  optionsBlock('docs/proxy.md', 'realtime-proxy'),
  optionsBlock('docs/emulator.md', 'realtime-emulator'),
  benchBlock(),
  mutationBlock(),
];

/** The text between the markers of `id` (undefined when the file has no such block). */
export function extractBlock(text: string, id: string): string | undefined {
  const a = text.indexOf(begin(id));
  const b = text.indexOf(end(id));
  if (a < 0 || b < a) return undefined;
  return text.slice(a + begin(id).length, b).trim();
}

/** The file with the block of `id` replaced by `body`; throws when the markers are missing. */
export function replaceBlock(text: string, id: string, body: string): string {
  const a = text.indexOf(begin(id));
  const b = text.indexOf(end(id));
  if (a < 0 || b < a) throw new Error(`no markers for "${id}": add the lines ${begin(id)} and ${end(id)}`);
  return `${text.slice(0, a)}${begin(id)}\n${body}\n${text.slice(b)}`;
}
