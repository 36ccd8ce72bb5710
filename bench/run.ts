// npm run bench [-- audio|concurrency|memory|cost|summariser|store|proxy|session-events ...] [--quick] [--old=<dir>]   (--markdown: print the last table)
// Runs the benchmarks (all by default), merges them into bench/results.json and prints the table.
// --old=<dir>: session-events also measures that worktree (8057ba8, built), interleaved.
import { loadavg } from 'node:os';
import { RESULTS_PATH, machine, markdownTable, printTable, saveResults, type BenchResult } from './lib/results.js';

const ALL = ['audio', 'concurrency', 'memory', 'cost', 'summariser', 'store', 'proxy', 'session-events'] as const;
type Name = (typeof ALL)[number];

async function runOne(name: Name, quick: boolean, oldDir?: string): Promise<BenchResult> {
  switch (name) {
    case 'audio': {
      const m = await import('./audio-plane.js');
      return m.run(quick ? { runs: 2, replies: 2, replyWords: 400, inputChunks: 1000 } : { runs: 5, replies: 5, replyWords: 1500, inputChunks: 5000 });
    }
    case 'concurrency': {
      const m = await import('./concurrency.js');
      return m.run(
        quick
          ? { steps: [25, 50], settleMs: 1_000, windowMs: 2_000, budgetMs: 15_000 }
          : { steps: [50, 100, 200, 300, 400, 500, 600, 800, 1000], settleMs: 2_000, windowMs: 5_000, budgetMs: 75_000 },
      );
    }
    case 'memory': {
      const m = await import('./memory.js');
      return m.run(quick ? { liveSessions: 20, minutes: 30, sampleEveryMin: 10, seed: 42 } : { liveSessions: 100, minutes: 120, sampleEveryMin: 10, seed: 42 });
    }
    case 'cost': {
      const m = await import('./cost.js');
      return m.run({ minutes: quick ? 15 : 60, seed: 42 });
    }
    case 'store': {
      const m = await import('./store.js');
      return m.run(quick ? { sessions: 100, periodMs: 2_000, windowMs: 4_000 } : { sessions: 500, periodMs: 2_000, windowMs: 10_000 });
    }
    case 'proxy': {
      const m = await import('./proxy.js');
      return m.run(
        quick
          ? { deltas: 5_000, runs: 2, latencyFrames: 1_000, steps: [10, 25], settleMs: 1_000, windowMs: 2_000, budgetMs: 20_000 }
          : { deltas: 30_000, runs: 5, latencyFrames: 3_000, steps: [25, 50, 100, 200, 300, 400, 600], settleMs: 2_000, windowMs: 4_000, budgetMs: 90_000 },
      );
    }
    case 'session-events': {
      const m = await import('./session-events.js');
      return m.run(quick ? { runs: 2, sessions: 40, turns: 20, oldDir } : { runs: 4, sessions: 200, turns: 20, oldDir });
    }
    case 'summariser': {
      const m = await import('./summariser.js');
      return m.run(
        quick
          ? { summaries: 3, loopSessions: 20, warmupMs: 8_000, windowMs: 2_000, pairs: 1, seed: 42 }
          : { summaries: 10, loopSessions: 100, warmupMs: 12_000, windowMs: 4_000, pairs: 3, seed: 42 },
      );
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--markdown')) {
    // Print the Markdown table of the last results (for docs/performance.md); runs nothing.
    const { readFileSync } = await import('node:fs');
    const doc = JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as { results: Record<string, BenchResult> };
    process.stdout.write(`${markdownTable(doc.results)}\n`);
    return;
  }
  const quick = args.includes('--quick');
  const oldDir = args.find((a) => a.startsWith('--old='))?.slice('--old='.length);
  const names = args.filter((a) => !a.startsWith('--'));
  for (const n of names) if (!(ALL as readonly string[]).includes(n)) throw new Error(`unknown benchmark ${n}: choose from ${ALL.join(', ')}`);
  const todo = (names.length ? names : ALL) as Name[];
  const m = machine();
  process.stdout.write(`realtime-context benchmarks on ${m.cpus} x ${m.model}, ${m.memGiB} GiB, Node ${m.node}, load ${m.loadavg.join(' ')}${quick ? ' (quick)' : ''}\n`);
  const t0 = Date.now();
  const results: Record<string, BenchResult> = {};
  for (const name of todo) {
    const s = Date.now();
    process.stdout.write(`\n== ${name}\n`);
    const before = loadavg()[0];
    results[name] = await runOne(name, quick, oldDir);
    results[name].date = new Date().toISOString();
    results[name].quick = quick;
    results[name].load = { before: Math.round(before * 100) / 100, after: Math.round(loadavg()[0] * 100) / 100 };
    process.stdout.write(`   ${name}: ${((Date.now() - s) / 1000).toFixed(0)} s\n`);
  }
  const totalS = Math.round((Date.now() - t0) / 1000);
  const merged = saveResults(results, totalS, m);
  printTable(merged);
  process.stdout.write(`\ntotal ${totalS} s; wrote bench/results.json\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
