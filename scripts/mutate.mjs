#!/usr/bin/env node
// npm run mutate [-- <target> ...]: one Stryker pass per target (default: every target: transcript, summariser, tools,
// conversation, session), then the scores per folder, the duration
// and the surviving mutants go to bench/mutation.json. Equivalent mutants (survivors
// no test can kill because the program behaves the same) are listed with the reason in
// scripts/mutation-equivalents.json and marked in the results.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';

// `--from-reports target=seconds ...`: score reports already in reports/mutation/ (runs made one target
// at a time, e.g. MUTATE_TARGET=summariser npx stryker run), with the durations they took.
const fromReports = process.argv[2] === '--from-reports';
const args = process.argv.slice(fromReports ? 3 : 2);
// `target=seconds@commit` records the commit a report was made on (default: HEAD).
const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const parsed = args.filter((a) => a.includes('=')).map((a) => a.split('=')).map(([k, v]) => [k, ...v.split('@')]);
const given = Object.fromEntries(parsed.map(([k, secs]) => [k, Number(secs)]));
const measuredOn = Object.fromEntries(parsed.map(([k, , commit]) => [k, commit ?? head]));
const targets = fromReports ? Object.keys(given) : args.length ? args : ['transcript', 'summariser', 'tools', 'conversation', 'session'];
const started = Date.now();
const durations = {};
const files = {};
for (const target of targets) {
  if (fromReports) {
    durations[target] = given[target];
    Object.assign(files, JSON.parse(readFileSync(`reports/mutation/${target}.json`, 'utf8')).files);
    continue;
  }
  const t0 = Date.now();
  const run = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATE_TARGET: target } });
  durations[target] = Math.round((Date.now() - t0) / 1000);
  if (run.status !== 0) {
    console.error(`stryker (${target}) exited with ${run.status}: no scores written`);
    process.exit(run.status ?? 1);
  }
  Object.assign(files, JSON.parse(readFileSync(`reports/mutation/${target}.json`, 'utf8')).files);
}
const durationS = fromReports ? Object.values(durations).reduce((a, b) => a + b, 0) : Math.round((Date.now() - started) / 1000);
const report = { files };
const equivalents = existsSync('scripts/mutation-equivalents.json') ? JSON.parse(readFileSync('scripts/mutation-equivalents.json', 'utf8')) : {};
const folders = {};
const survivors = [];
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const folder = file.split('/').slice(0, -1).join('/');
  const f = (folders[folder] ??= { killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0, total: 0 });
  const lines = source.split('\n');
  for (const m of mutants) {
    const s = m.status;
    if (s === 'CompileError' || s === 'RuntimeError' || s === 'Ignored') { f.errors++; continue; }
    f.total++;
    if (s === 'Killed') f.killed++;
    else if (s === 'Timeout') f.timeout++;
    else if (s === 'NoCoverage') f.noCoverage++;
    else f.survived++;
    if (s === 'Survived' || s === 'NoCoverage') {
      const line = m.location.start.line;
      const key = `${file}:${line}:${m.mutatorName}`;
      survivors.push({
        file, line, status: s, mutator: m.mutatorName, replacement: m.replacement,
        code: (lines[line - 1] ?? '').trim().slice(0, 160),
        ...(equivalents[key] ? { equivalent: equivalents[key] } : {}),
      });
    }
  }
}
/** Percent with one decimal; null when there is nothing to score. */
const pct = (part, whole) => (whole ? Math.round((part / whole) * 1000) / 10 : null);
const scores = Object.fromEntries(Object.entries(folders).map(([k, f]) => [k, {
  ...f,
  score: pct(f.killed + f.timeout, f.total),
  scoreWithoutEquivalents: f.total ? pct(f.killed + f.timeout, Math.max(1, f.total - survivors.filter((s) => s.equivalent && s.file.startsWith(`${k}/`) && !s.file.slice(k.length + 1).includes('/')).length)) : null,
}]));
// The issue's targets are per tree (all of machines/, all of src/conversation/): sum the folders under each.
const trees = Object.fromEntries(['machines', 'src/conversation'].map((root) => {
  const inTree = Object.entries(folders).filter(([k]) => k === root || k.startsWith(`${root}/`)).map(([, f]) => f);
  const sum = (key) => inTree.reduce((a, f) => a + f[key], 0);
  const detected = sum('killed') + sum('timeout');
  const total = sum('total');
  const equivalent = survivors.filter((s) => s.equivalent && s.file.startsWith(`${root}/`)).length;
  return [`${root}/`, {
    detected, total, equivalentSurvivors: equivalent,
    score: pct(detected, total),
    scoreWithoutEquivalents: total ? pct(detected, Math.max(1, total - equivalent)) : null,
  }];
}).filter(([, t]) => t.total > 0));
const out = {
  date: new Date().toISOString(),
  command: fromReports ? `MUTATE_TARGET=<target> npx stryker run (per target), then node scripts/mutate.mjs --from-reports ${args.join(' ')}` : `npm run mutate${args.length ? ` -- ${args.join(' ')}` : ''}`,
  targets,
  durationSeconds: durationS,
  durationSecondsPerTarget: durations,
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, concurrency 2`,
  measuredOn: fromReports ? measuredOn : Object.fromEntries(targets.map((t) => [t, head])),
  trees,
  scores,
  survivors,
};
writeFileSync('bench/mutation.json', `${JSON.stringify(out, null, 2)}\n`);
for (const [k, t] of Object.entries(trees)) console.log(`${k} (all files): ${t.score}% killed (${t.detected}/${t.total}), ${t.scoreWithoutEquivalents}% without the ${t.equivalentSurvivors} equivalent survivors`);
for (const [k, s] of Object.entries(scores)) console.log(`${k}: ${s.score}% killed (${s.killed + s.timeout}/${s.total}), ${s.survived} survived, ${s.noCoverage} not covered`);
console.log(`${survivors.length} survivors, ${durationS} s; bench/mutation.json written`);
