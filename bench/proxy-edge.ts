// The proxy under a hostile client (issue 27, items 5 and 7): its RSS while clients stop reading
// their sockets, and a neighbour's turn latency while one client floods events. A one-off measurement
// (not part of bench/run.ts): the emulator runs in its own process, the proxy in this one, so the
// RSS figures are the proxy's (plus this script's small clients).
//
//   node --import tsx bench/proxy-edge.ts nonreader [seconds=20] [clients=4]
//   node --import tsx bench/proxy-edge.ts flood [seconds=10] [eventsPerSecond=10000]
//
// Prints one JSON line of figures. Run it on the current code and on an older commit to compare.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { spawnEmulator } from './lib/proc.js';

const KEY = 'sk-bench-edge-0123456789';
const MB = 1024 * 1024;
const rssMb = () => Math.round(process.memoryUsage().rss / MB);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url}?model=gpt-realtime`, { headers: { Authorization: `Bearer ${KEY}` } });
  return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
}

const userText = (text: string) => JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });

/** One text turn of a well-behaved client; resolves with its latency (ms) or -1 when it did not complete. */
function turn(ws: WebSocket, text: string, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => (ws.off('message', on), resolve(-1)), timeoutMs);
    const on = (d: WebSocket.RawData) => {
      const ev = JSON.parse(d.toString()) as { type: string; response?: { status?: string } };
      if (ev.type !== 'response.done') return;
      clearTimeout(timer);
      ws.off('message', on);
      resolve(ev.response?.status === 'completed' ? performance.now() - t0 : -1);
    };
    ws.on('message', on);
    ws.send(userText(text));
    ws.send(JSON.stringify({ type: 'response.create', response: { output_modalities: ['text'] } }));
  });
}

async function neighbour(url: string, until: () => boolean): Promise<{ turns: number; failed: number; maxMs: number; p50Ms: number }> {
  const ws = await open(url);
  const lat: number[] = [];
  let failed = 0;
  while (!until()) {
    const ms = await turn(ws, 'a short question');
    if (ms < 0) failed++;
    else lat.push(ms);
    await sleep(200);
  }
  ws.terminate();
  lat.sort((a, b) => a - b);
  return { turns: lat.length, failed, maxMs: Math.round(lat.at(-1) ?? 0), p50Ms: Math.round(lat[Math.floor(lat.length / 2)] ?? 0) };
}

/** Child role: floods `url` with item.create at `rate` per second until told to stop; prints its counts. */
async function floodChild(url: string, rate: number): Promise<void> {
  const flood = await open(url);
  let sent = 0;
  let refused = 0;
  let closed = '';
  flood.on('message', (d) => d.toString().includes('"rate_limit_exceeded"') && refused++);
  flood.on('close', (code, reason) => (closed = `${code} ${reason.toString()}`));
  const t0 = performance.now();
  const tick = setInterval(() => {
    // Catch up to the target rate (timers are coarse): sent = rate x elapsed.
    const due = Math.floor(((performance.now() - t0) * rate) / 1000);
    while (sent < due && flood.readyState === WebSocket.OPEN) flood.send(userText(`flood ${sent++}`));
  }, 5);
  process.send!('ready');
  await new Promise((r) => process.once('message', r));
  clearInterval(tick);
  process.stdout.write(`${JSON.stringify({ floodSent: sent, floodRefused: refused, floodSentPerSecond: Math.round((sent * 1000) / (performance.now() - t0)), floodClosed: closed || null })}\n`);
  flood.terminate();
  process.exit(0);
}

async function main(): Promise<void> {
  const [mode = 'nonreader', a, b] = process.argv.slice(2);
  if (mode === 'flood-child') return floodChild(a, Number(b));
  const seconds = Number(a ?? (mode === 'flood' ? 10 : 20));
  const emu = await spawnEmulator(['--api-key', KEY, '--pacing', 'fast', '--reply-words', mode === 'flood' ? '12' : '3000']);
  const { startProxy } = await import('../src/proxy/index.js');
  const closes: string[] = [];
  const proxy = await startProxy({
    port: 0,
    connection: { url: emu.url, model: 'gpt-realtime', apiKey: KEY },
    summariser: { baseURL: emu.httpUrl, apiKey: KEY },
    auth: { mode: 'proxy-key' },
    engine: { reconnect: false, rolloverMarginMs: false },
    journal: false,
    onEvent: (e) => e.type === 'closed' && closes.push(`${e.code} ${e.why}`),
  });
  const rssStart = rssMb();
  let rssPeak = rssStart;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb())), 100);
  const end = Date.now() + seconds * 1000;
  const over = () => Date.now() >= end;
  const out: Record<string, unknown> = { mode, seconds, commitNote: 'compare with the same command on another commit' };

  if (mode === 'nonreader') {
    const clients = Number(b ?? 4);
    const stuck: WebSocket[] = [];
    for (let i = 0; i < clients; i++) {
      const ws = await open(proxy.url);
      (ws as unknown as { _socket: import('node:net').Socket })._socket.pause(); // never reads a byte
      stuck.push(ws);
    }
    // Each asks for a long spoken answer every 500 ms (most are refused while one is active: the point
    // is that the output never stops coming while nobody reads it).
    const asker = setInterval(() => {
      for (const ws of stuck) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        ws.send(userText('tell me a very long story'));
        ws.send(JSON.stringify({ type: 'response.create', response: { output_modalities: ['audio'] } }));
      }
    }, 500);
    Object.assign(out, { clients, neighbour: await neighbour(proxy.url, over) });
    clearInterval(asker);
    for (const ws of stuck) ws.terminate();
  } else {
    // The flooder runs in its own process, so its sending is not slowed by the proxy it floods.
    const rate = Number(b ?? 10_000);
    const child = fork(fileURLToPath(import.meta.url), ['flood-child', proxy.url, String(rate)], { execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let report = '';
    child.stdout!.on('data', (d: Buffer) => (report += d.toString()));
    await new Promise((r) => child.once('message', r)); // connected
    Object.assign(out, { eventsPerSecond: rate, neighbour: await neighbour(proxy.url, over) });
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
    Object.assign(out, JSON.parse(report || '{}'));
  }
  clearInterval(sampler);
  Object.assign(out, { rssStartMb: rssStart, rssPeakMb: rssPeak, rssEndMb: rssMb(), closes: closes.slice(0, 8) });
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await proxy.close();
  await emu.close();
  process.exit(0);
}

void main();
