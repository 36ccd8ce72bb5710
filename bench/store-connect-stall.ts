// One-off measurement (not part of `npm run bench`): the event-loop stall a `?conversation=` connect
// causes on a proxy whose journal directory holds DIR_MB of other conversations. A 1 ms interval runs
// while clients connect (new conversations, then a resume); the largest gap between its ticks is the
// stall every other connection of the proxy sees. Run from a checkout:
//   npx tsx bench/store-connect-stall.ts [DIR_MB=200]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startEmulator } from '../src/emulator/index.js';
import { startProxy } from '../src/proxy/index.js';

const DIR_MB = Number(process.argv[2] ?? 200);
const FILE_MB = 1;

function fillDirectory(dir: string): void {
  const line = (i: number) => JSON.stringify({ v: 1, t: '2026-01-01T00:00:00.000Z', k: `x.${i}`, type: 'turn', id: `item_${i}`, role: 'user', kind: 'message', text: 'y'.repeat(180), textState: 'final' }) + '\n';
  const one = line(0).length;
  const body = Array.from({ length: Math.floor((FILE_MB * 1024 * 1024) / one) }, (_, i) => line(i)).join('');
  for (let f = 0; f < DIR_MB / FILE_MB; f++) {
    writeFileSync(join(dir, `other-${f}.jsonl`), JSON.stringify({ v: 1, t: '2026-01-01T00:00:00.000Z', type: 'conversation', id: `other-${f}` }) + '\n' + body);
  }
}

async function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { Authorization: 'Bearer x' } });
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve()); // session.created
    ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    ws.once('error', reject);
  });
  return ws;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-stall-'));
  fillDirectory(dir);
  const emu = await startEmulator({ audioPacing: 'fast' });
  const proxy = await startProxy({ port: 0, connection: { url: emu.url, model: 'gpt-realtime', apiKey: 'sk-x' }, summariser: { baseURL: emu.httpUrl, apiKey: 'sk-x' }, auth: { mode: 'proxy-key' }, journal: false, store: dir });
  const stalls: { id: string; maxGapMs: number; connectMs: number }[] = [];
  try {
    for (const id of ['new-1', 'new-2', 'new-3', 'new-4', 'new-1']) {
      let last = performance.now();
      let maxGap = 0;
      const tick = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 1);
      const t0 = performance.now();
      const ws = await connect(`${proxy.url}?model=gpt-realtime&conversation=${id}`);
      const connectMs = performance.now() - t0;
      clearInterval(tick);
      stalls.push({ id, maxGapMs: Math.round(maxGap * 10) / 10, connectMs: Math.round(connectMs) });
      ws.close();
      await new Promise((r) => ws.once('close', r));
      while (proxy.connections().length > 0) await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await proxy.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify({ dirMB: DIR_MB, files: DIR_MB / FILE_MB, connects: stalls })}\n`);
}

await main();
