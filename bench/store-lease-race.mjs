// One-off measurement (not part of `npm run bench`): two processes race for the JSONL lease of each of
// ROUNDS conversations (free, or `expired`: a stalled holder's lease). Prints how many rounds both won.
//   node bench/store-lease-race.mjs SRC_CHECKOUT [ROUNDS=30] [free|expired]
// SRC_CHECKOUT is a checkout (with node_modules) whose adapters/journal-file.ts is measured.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
const [src, roundsArg = '30', mode = 'free'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const dir = mkdtempSync(join(tmpdir(), 'rtc-lease-race-'));
for (let r = 1; r <= rounds; r++) {
  writeFileSync(join(dir, `race-${r}.jsonl`), JSON.stringify({ v: 1, t: 'x', type: 'conversation', id: `race-${r}` }) + '\n');
  if (mode === 'expired') writeFileSync(join(dir, `race-${r}.jsonl.lease`), JSON.stringify({ holder: 'stalled', host: 'elsewhere', pid: 1, expiresAt: Date.now() - 1 }));
}
const kids = ['A', 'B'].map((h) => {
  const p = spawn('node', ['--import', 'tsx', fileURLToPath(new URL('./store-lease-race-child.mts', import.meta.url)), src, dir, h, String(rounds)], { cwd: src, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return new Promise((res) => p.on('close', () => res(JSON.parse(out || '[]'))));
});
await new Promise((r) => setTimeout(r, 3000)); // both loaded
for (let r = 1; r <= rounds; r++) {
  writeFileSync(join(dir, `go-${r}`), '');
  await new Promise((res) => setTimeout(res, 30));
}
const [a, b] = await Promise.all(kids);
const both = a.filter((r) => b.includes(r));
console.log(JSON.stringify({ src, mode, rounds, bothWon: both.length, aWon: a.length, bWon: b.length }));
rmSync(dir, { recursive: true, force: true });
