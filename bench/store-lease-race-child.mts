// One racing instance (a process of its own): for each round, spin until the go file appears, then
// acquire the round's conversation with a fresh JsonlStore; print the rounds it won.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
const [src, dir, holder, roundsArg] = process.argv.slice(2);
const { JsonlStore } = await import(join(src, 'adapters/journal-file.ts'));
const won: number[] = [];
for (let r = 1; r <= Number(roundsArg); r++) {
  const store = new JsonlStore(dir);
  await store.open();
  await store.exists(`race-${r}`);
  while (!existsSync(join(dir, `go-${r}`))) { /* spin */ }
  if ((await store.acquire(`race-${r}`, holder, 60_000)) === null) won.push(r);
}
await new Promise((r) => setTimeout(r, 4000)); // stay alive: a dead holder frees its leases
process.stdout.write(JSON.stringify(won));
