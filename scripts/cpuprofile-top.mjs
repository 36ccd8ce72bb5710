// Top functions of a V8 .cpuprofile (node --cpu-prof --cpu-prof-dir=DIR ...):
//   node scripts/cpuprofile-top.mjs FILE.cpuprofile [N] [--inclusive] [--under=TEXT]
// Self time by default; --inclusive counts a function once per sampled stack (callees included).
// --under=TEXT keeps only samples with a frame whose name contains TEXT (e.g. --under=onFrame: the
// socket's frame handling, without startup and the benchmark's own loop); shares are of those samples.
import { readFileSync } from 'node:fs';

const [file, nArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const inclusive = process.argv.includes('--inclusive');
const under = process.argv.find((a) => a.startsWith('--under='))?.slice('--under='.length);
if (!file) {
  process.stderr.write('usage: node scripts/cpuprofile-top.mjs FILE.cpuprofile [N] [--inclusive]\n');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const ticks = new Map();
for (let i = 0; i < prof.samples.length; i++) ticks.set(prof.samples[i], (ticks.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const name = (n) => {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|src)\//, '$1/')}:${f.lineNumber + 1}`;
};
const time = new Map();
let total = 0;
const hasFrame = (id) => {
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) if (name(byId.get(cur)).includes(under)) return true;
  return false;
};
for (const [id, t] of ticks) {
  if (under && !hasFrame(id)) continue;
  total += t;
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = inclusive ? parent.get(cur) : undefined) {
    const k = name(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    time.set(k, (time.get(k) ?? 0) + t);
  }
}
for (const [k, t] of [...time].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg ?? 20))) {
  process.stdout.write(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
}
