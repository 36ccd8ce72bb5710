// bench/results.json: machine info plus one entry per measurement; the printed table.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Check {
  /** What is compared, e.g. "ours / floor (CPU per output delta)". */
  name: string;
  value: number;
  unit: string;
  /** The target, e.g. "<= 1.1". */
  target: string;
  met: boolean;
}

export interface BenchResult {
  title: string;
  /** Every figure measured (medians unless named otherwise). */
  figures: Record<string, unknown>;
  /** The headline ratio and its target (the first check). */
  ratio: number | null;
  target: string;
  met: boolean;
  checks: Check[];
  notes: string[];
  durationS: number;
  /** When it ran, and whether with the reduced --quick sizes (development only). */
  date?: string;
  quick?: boolean;
  /** 1-minute load average of the machine before and after this measurement (shared machine). */
  load?: { before: number; after: number };
}

export interface Machine {
  cpus: number;
  loadavg: number[];
  model: string;
  memGiB: number;
  node: string;
  platform: string;
  date: string;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpus: c.length,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    model: c[0]?.model ?? 'unknown',
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

export const RESULTS_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../results.json' : '../../../bench/results.json', import.meta.url));

export function check(name: string, value: number, unit: string, target: string, met: boolean): Check {
  return { name, value, unit, target, met };
}

export function result(title: string, figures: Record<string, unknown>, checks: Check[], notes: string[], durationS: number): BenchResult {
  return {
    title,
    figures,
    ratio: checks[0]?.value ?? null,
    target: checks[0]?.target ?? '',
    met: checks.every((c) => c.met),
    checks,
    notes,
    durationS,
  };
}

/** Merges these results into bench/results.json (keeps the other measurements of an earlier run). */
export function saveResults(results: Record<string, BenchResult>, totalS: number, m: Machine = machine()): Record<string, BenchResult> {
  let prev: { results?: Record<string, BenchResult> } = {};
  if (existsSync(RESULTS_PATH)) {
    try {
      prev = JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as typeof prev;
    } catch {
      prev = {};
    }
  }
  const merged = { ...(prev.results ?? {}), ...results };
  const doc = { machine: m, command: 'npm run bench', lastRun: { measurements: Object.keys(results), totalS }, results: merged };
  writeFileSync(RESULTS_PATH, `${JSON.stringify(doc, null, 2)}\n`);
  return merged;
}

function fmt(v: number, unit: string): string {
  const s = Number.isInteger(v) || Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit === 'x' ? `${s}x` : unit ? `${s} ${unit}` : s;
}

/** Rows of the table: one per check. */
export function tableRows(results: Record<string, BenchResult>): string[][] {
  const rows: string[][] = [];
  for (const [key, r] of Object.entries(results)) {
    for (const c of r.checks) rows.push([key, c.name, fmt(c.value, c.unit), c.target, c.met ? 'met' : 'MISSED']);
  }
  return rows;
}

export function printTable(results: Record<string, BenchResult>): string {
  const head = ['bench', 'measure', 'value', 'target', ''];
  const rows = tableRows(results);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  const out = [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
  process.stdout.write(`\n${out}\n`);
  return out;
}

/** The same table in Markdown (docs/performance.md). */
export function markdownTable(results: Record<string, BenchResult>): string {
  const rows = tableRows(results);
  return ['| bench | measure | value | target | |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
