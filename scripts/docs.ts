// Rewrites the generated blocks of docs/*.md (option tables, benchmark and mutation figures) from
// their sources. `npx tsx scripts/docs.ts` writes; `--check` only says which blocks are out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOCKS, extractBlock, replaceBlock } from './docs/blocks.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const block of BLOCKS) {
  const path = join(repo, block.file);
  const text = readFileSync(path, 'utf8');
  const body = await block.render(repo);
  if (extractBlock(text, block.id) === body.trim()) continue;
  stale++;
  if (check) process.stdout.write(`${block.file}: "${block.id}" is out of date\n`);
  else {
    writeFileSync(path, replaceBlock(text, block.id, body));
    process.stdout.write(`${block.file}: "${block.id}" rewritten\n`);
  }
}
if (check && stale > 0) {
  process.stdout.write(`run: npx tsx scripts/docs.ts\n`);
  process.exit(1);
}
