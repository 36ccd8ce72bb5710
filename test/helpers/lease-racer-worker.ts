// A worker thread that races for JSONL leases: its own event loop and its own JsonlStore, so its
// acquire really runs at the same time as the other workers' (the same process would serialise them).
// Each round: wait for the shared start signal, then acquire the conversation under this worker's
// holder name, and report whether it won.
import { parentPort, workerData } from 'node:worker_threads';
import { JsonlStore } from '../../adapters/journal-file.js';

const { dir, holder, signal } = workerData as { dir: string; holder: string; signal: SharedArrayBuffer };
const flag = new Int32Array(signal);

parentPort!.on('message', async (m: { round: number; id: string }) => {
  const store = new JsonlStore(dir); // a fresh instance each round, as a new process would have
  await store.open();
  await store.exists(m.id); // the index knows the conversation before the race starts
  parentPort!.postMessage({ ready: m.round });
  Atomics.wait(flag, 0, m.round - 1); // until the main thread moves the flag to this round
  const refused = await store.acquire(m.id, holder, 60_000);
  parentPort!.postMessage({ round: m.round, won: refused === null });
});
