// 7. realtime-proxy: what the proxy costs on the audio path, and how many sessions one core relays.
//   a. CPU per forwarded audio delta in the relay process: realtime-proxy (peeks at the type, forwards
//      the bytes) against a naive relay that parses and re-serialises every frame. Same upstream (a
//      blaster in this process that sends N GA audio deltas per response.create), same client.
//   b. Added latency per frame on loopback: deltas sent every 2 ms stamped with the send time, seen by
//      a client through the proxy and directly.
//   c. Sessions per core through the proxy, under the concurrency benchmark's rule: the largest N whose
//      proxy event-loop delay p99 stays under 20 ms in one process, N clients streaming real-time audio
//      both ways to the emulator (real-time pacing) with summaries happening.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { FROM_SOURCE, procCpuMs, spawnEmulator } from './lib/proc.js';
import { check, result, type BenchResult } from './lib/results.js';
import { micChunks } from './lib/audio.js';
import { LoopDelay, percentile, round, sleep } from './lib/stats.js';

const KEY = 'sk-bench-proxy-0123456789';
const P99_LIMIT_MS = 20;
const DELTA_B64 = Buffer.alloc(1920, 7).toString('base64'); // 40 ms of pcm16 at 24 kHz

export interface ProxyBenchParams {
  deltas: number;
  runs: number;
  latencyFrames: number;
  steps: number[];
  settleMs: number;
  windowMs: number;
  budgetMs: number;
}

// ---- the relay child (both variants) ------------------------------------------------------------

type RelayMsg = { cmd: 'loop-start' } | { cmd: 'loop-stop' } | { cmd: 'stop' };

/** Child role: runs one relay variant until told to stop; reports its port and loop delay over IPC. */
export async function relayChild(p: { variant: 'proxy' | 'naive'; upstream: string; policy?: Record<string, number> }): Promise<unknown> {
  let port: number;
  let close: () => Promise<void>;
  if (p.variant === 'proxy') {
    const { startProxy } = await import('../src/proxy/index.js');
    const proxy = await startProxy({
      port: 0,
      connection: { url: p.upstream, model: 'gpt-realtime', apiKey: KEY },
      summariser: { baseURL: p.upstream.replace(/^ws/, 'http').replace(/\/realtime$/, ''), apiKey: KEY },
      auth: { mode: 'proxy-key' },
      engine: { policy: p.policy ?? {}, reconnect: false, rolloverMarginMs: false },
      journal: false,
    });
    port = proxy.port;
    close = () => proxy.close();
  } else {
    const r = await naiveRelay(p.upstream);
    port = r.port;
    close = r.close;
  }
  const loop = new LoopDelay();
  process.send!({ ready: port });
  await new Promise<void>((resolve) => {
    process.on('message', (m: RelayMsg) => {
      if (m.cmd === 'loop-start') loop.start();
      else if (m.cmd === 'loop-stop') process.send!({ loop: loop.stop() });
      else if (m.cmd === 'stop') resolve();
    });
  });
  await close();
  return {};
}

/** The baseline: a relay that parses and re-serialises every frame in both directions. */
async function naiveRelay(upstream: string): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('connection', (client, req) => {
    const up = new WebSocket(`${upstream}${new URL(req.url ?? '/', 'http://x').search}`, { headers: { Authorization: req.headers.authorization ?? '' }, perMessageDeflate: false });
    const early: string[] = [];
    up.on('open', () => {
      for (const f of early) up.send(f);
      early.length = 0;
    });
    up.on('message', (d: Buffer) => client.send(JSON.stringify(JSON.parse(d.toString()))));
    client.on('message', (d: Buffer) => {
      const s = JSON.stringify(JSON.parse(d.toString()));
      if (up.readyState === WebSocket.OPEN) up.send(s);
      else early.push(s);
    });
    client.on('close', () => up.close());
    up.on('close', () => client.close());
  });
  await new Promise((r) => wss.once('listening', r));
  return { port: (wss.address() as AddressInfo).port, close: () => new Promise((r) => wss.close(() => r())) };
}

interface Relay {
  url: string;
  pid: number;
  loopStart(): void;
  loopStop(): Promise<{ p50: number; p99: number; max: number }>;
  stop(): Promise<void>;
}

async function startRelay(variant: 'proxy' | 'naive', upstream: string, policy?: Record<string, number>): Promise<Relay> {
  const worker = fileURLToPath(new URL(`./worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));
  const child: ChildProcess = fork(worker, ['proxy:relayChild'], { execArgv: FROM_SOURCE ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send({ params: { variant, upstream, policy } });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${variant} relay did not start`)), 60_000);
    child.on('message', (m: { ready?: number }) => {
      if (m.ready !== undefined) {
        clearTimeout(t);
        resolve(m.ready);
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    pid: child.pid!,
    loopStart: () => child.send({ cmd: 'loop-start' }),
    loopStop: () =>
      new Promise((resolve) => {
        const h = (m: { loop?: { p50: number; p99: number; max: number } }) => {
          if (m.loop) {
            child.off('message', h);
            resolve(m.loop);
          }
        };
        child.on('message', h);
        child.send({ cmd: 'loop-stop' });
      }),
    stop: () =>
      new Promise((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.send({ cmd: 'stop' });
      }),
  };
}

// ---- the blaster upstream (this process) ----------------------------------------------------------

/** A minimal GA server: session.created/updated, and per response.create N audio deltas (burst or paced). */
async function startBlaster(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  let n = 0;
  wss.on('connection', (ws) => {
    const sid = `sess_${++n}`;
    ws.send(JSON.stringify({ type: 'session.created', event_id: `evt_c${n}`, session: { type: 'realtime', object: 'realtime.session', id: sid, model: 'gpt-realtime', expires_at: Math.floor(Date.now() / 1000) + 3600, audio: { input: { transcription: null } } } }));
    ws.on('message', (d: Buffer) => {
      const ev = JSON.parse(d.toString()) as { type: string; session?: unknown; response?: { metadata?: { n?: string; pace?: string } } };
      if (ev.type === 'session.update') ws.send(JSON.stringify({ type: 'session.updated', event_id: `evt_u${n}`, session: { type: 'realtime', id: sid, ...(ev.session as object) } }));
      if (ev.type !== 'response.create') return;
      const count = Number(ev.response?.metadata?.n ?? 100);
      const paced = ev.response?.metadata?.pace === '1';
      const rid = `resp_${Date.now()}`;
      ws.send(JSON.stringify({ type: 'response.created', event_id: 'evt_rc', response: { object: 'realtime.response', id: rid, status: 'in_progress', output: [] } }));
      const frame = (i: number) =>
        `{"type":"response.output_audio.delta","event_id":"evt_${paced ? process.hrtime.bigint().toString() : i}","response_id":"${rid}","item_id":"item_b1","output_index":0,"content_index":0,"delta":"${DELTA_B64}"}`;
      const done = () =>
        ws.send(JSON.stringify({ type: 'response.done', event_id: 'evt_rd', response: { object: 'realtime.response', id: rid, status: 'completed', output: [], usage: { total_tokens: 10, input_tokens: 5, output_tokens: 5 } } }));
      if (!paced) {
        for (let i = 0; i < count; i++) ws.send(frame(i));
        done();
        return;
      }
      let i = 0;
      const t = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN || i >= count) {
          clearInterval(t);
          if (ws.readyState === WebSocket.OPEN) done();
          return;
        }
        ws.send(frame(i++));
      }, 2);
    });
  });
  await new Promise((r) => wss.once('listening', r));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/realtime`, close: () => new Promise((r) => wss.close(() => r())) };
}

/** A client that asks for `count` deltas and resolves with per-frame arrival data. */
async function pull(url: string, count: number, paced: boolean): Promise<number[]> {
  const ws = new WebSocket(`${url}?model=gpt-realtime`, { headers: { Authorization: `Bearer ${KEY}` }, perMessageDeflate: false });
  const latencies: number[] = [];
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (d: Buffer) => {
      const head = d.toString('latin1', 0, 60);
      if (head.startsWith('{"type":"session.created"')) {
        ws.send(JSON.stringify({ type: 'response.create', response: { metadata: { n: String(count), pace: paced ? '1' : '0' } } }));
        return;
      }
      if (head.startsWith('{"type":"response.output_audio.delta"')) {
        got++;
        if (paced) {
          const m = /"event_id":"evt_(\d+)"/.exec(d.toString('latin1', 0, 120));
          if (m) latencies.push(Number(process.hrtime.bigint() - BigInt(m[1])) / 1e6);
        }
      } else if (head.startsWith('{"type":"response.done"') && got >= count) resolve();
    });
  });
  ws.close();
  return latencies;
}

// ---- sessions per core through the proxy ----------------------------------------------------------

interface Streamer {
  ws: WebSocket;
  responding: boolean;
  sinceCommit: number;
}

async function openStreamer(url: string, counters: { responses: number; deltas: number; errors: number }): Promise<Streamer> {
  const ws = new WebSocket(`${url}?model=gpt-realtime`, { headers: { Authorization: `Bearer ${KEY}` }, perMessageDeflate: false });
  const s: Streamer = { ws, responding: false, sinceCommit: 0 };
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (d: Buffer) => {
      const head = d.toString('latin1', 0, 48);
      if (head.startsWith('{"type":"response.output_audio.delta"')) counters.deltas++;
      else if (head.includes('"session.created"')) {
        ws.send(JSON.stringify({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } }));
        resolve();
      } else if (head.includes('"response.done"')) {
        s.responding = false;
        counters.responses++;
      } else if (head.includes('"type":"error"')) counters.errors++;
    });
  });
  return s;
}

async function sessionsPerCore(o: ProxyBenchParams): Promise<{ maxN: number; steps: Record<string, number>[] }> {
  const emu = await spawnEmulator(['--pacing', 'realtime', '--reply-words', '10']);
  // The concurrency benchmark's policy: summaries keep happening during the windows.
  const relay = await startRelay('proxy', emu.url, { triggerTokens: 900, targetTokens: 300, keepLastTurns: 2 });
  const counters = { responses: 0, deltas: 0, errors: 0 };
  const streamers: Streamer[] = [];
  const chunks = micChunks().map((c) => JSON.stringify({ type: 'input_audio_buffer.append', audio: c.toString('base64') }));
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (const s of streamers) {
      if (s.ws.readyState !== WebSocket.OPEN) continue;
      s.ws.send(chunks[tick % chunks.length]);
      if (++s.sinceCommit >= 75 && !s.responding) {
        s.sinceCommit = 0;
        s.responding = true;
        s.ws.send('{"type":"input_audio_buffer.commit"}');
        s.ws.send('{"type":"response.create"}');
      }
    }
  }, 40);
  const steps: Record<string, number>[] = [];
  let maxN = 0;
  const t0 = Date.now();
  try {
    for (const n of o.steps) {
      if (Date.now() - t0 > o.budgetMs) break;
      while (streamers.length < n) {
        const s = await openStreamer(relay.url, counters);
        s.sinceCommit = Math.floor(Math.random() * 75); // spread the turns
        streamers.push(s);
      }
      await sleep(o.settleMs);
      const c0 = procCpuMs(relay.pid);
      const d0 = counters.deltas;
      relay.loopStart();
      await sleep(o.windowMs);
      const loop = await relay.loopStop();
      const cores = (procCpuMs(relay.pid) - c0) / o.windowMs;
      const deltasPerS = ((counters.deltas - d0) / (o.windowMs / 1000)) / n;
      steps.push({ n, p50: loop.p50, p99: loop.p99, proxyCores: round(cores, 3), deltasDownPerSessionS: round(deltasPerS, 1), errors: counters.errors });
      process.stdout.write(`   proxy sessions ${n}: loop p99 ${loop.p99} ms, proxy cores ${round(cores, 2)}, ${round(deltasPerS, 1)} deltas/s/session\n`);
      if (loop.p99 >= P99_LIMIT_MS) break;
      maxN = n;
    }
  } finally {
    clearInterval(timer);
    for (const s of streamers) s.ws.close();
    await relay.stop();
    await emu.close();
  }
  return { maxN, steps };
}

// ---- the benchmark ----------------------------------------------------------------------------------

export async function run(o: ProxyBenchParams): Promise<BenchResult> {
  const t0 = Date.now();
  const blaster = await startBlaster();
  const perDelta: Record<'proxy' | 'naive', number[]> = { proxy: [], naive: [] };
  let lat: { proxy: number[]; direct: number[] } = { proxy: [], direct: [] };
  try {
    for (const variant of ['proxy', 'naive'] as const) {
      const relay = await startRelay(variant, blaster.url);
      await pull(relay.url, 2_000, false); // warm-up (JIT)
      for (let r = 0; r < o.runs; r++) {
        const c0 = procCpuMs(relay.pid);
        await pull(relay.url, o.deltas, false);
        perDelta[variant].push(((procCpuMs(relay.pid) - c0) * 1000) / o.deltas);
      }
      if (variant === 'proxy') {
        await pull(relay.url, 500, true);
        lat = { proxy: await pull(relay.url, o.latencyFrames, true), direct: await pull(blaster.url, o.latencyFrames, true) };
      }
      await relay.stop();
      process.stdout.write(`   ${variant}: ${perDelta[variant].map((x) => round(x, 2)).join(', ')} µs CPU per delta\n`);
    }
  } finally {
    await blaster.close();
  }
  const med = (xs: number[]) => percentile(xs, 50);
  const ratio = med(perDelta.proxy) / med(perDelta.naive);
  const addedP50 = percentile(lat.proxy, 50) - percentile(lat.direct, 50);
  const addedP99 = percentile(lat.proxy, 99) - percentile(lat.direct, 50);
  const spc = await sessionsPerCore(o);
  // On a shared, overloaded machine the loop-delay rule measures the scheduler, not the proxy: the CPU a
  // session costs the proxy gives the other bound (sessions one fully available core could relay).
  const last = spc.steps.at(-1);
  const cpuBound = last && last.proxyCores > 0 ? Math.floor(last.n / last.proxyCores) : 0;
  return result(
    'realtime-proxy: CPU per forwarded audio delta vs a naive parse/re-serialise relay, added latency, sessions per core',
    {
      cpuPerDeltaUs: { proxy: round(med(perDelta.proxy), 2), naive: round(med(perDelta.naive), 2), runs: perDelta },
      deltasPerRun: o.deltas,
      latencyMs: {
        throughProxy: { p50: round(percentile(lat.proxy, 50), 3), p99: round(percentile(lat.proxy, 99), 3) },
        direct: { p50: round(percentile(lat.direct, 50), 3), p99: round(percentile(lat.direct, 99), 3) },
        addedP50: round(addedP50, 3),
        addedP99: round(addedP99, 3),
        frames: lat.proxy.length,
      },
      sessionsPerCore: spc,
      sessionsPerCoreByCpu: cpuBound,
    },
    [
      check('proxy / naive relay (CPU per forwarded audio delta)', round(ratio, 3), 'x', '<= 0.5', ratio <= 0.5),
      check('added latency per frame, p99 (through proxy p99 - direct p50)', round(addedP99, 3), 'ms', '< 1', addedP99 < 1),
      check('sessions per core through the proxy (proxy loop p99 < 20 ms)', spc.maxN, '', 'info', true),
      check('sessions per core through the proxy, by CPU per session', cpuBound, '', 'info', true),
    ],
    [
      'CPU is the relay process only (/proc/<pid>/stat, 10 ms ticks), over bursts of GA audio deltas (40 ms of pcm16 each) from an in-process upstream to an in-process client.',
      'The naive relay JSON.parses and JSON.stringifies every frame both ways; realtime-proxy peeks at the type in the first bytes and forwards the bytes, and runs the observer engine.',
      'Latency: deltas every 2 ms stamped with process.hrtime at the upstream, read at the client (same process, same clock).',
      'Sessions per core: N raw clients stream 25 x 40 ms appends per second and commit every 3 s; the emulator replies with real-time paced audio; the concurrency benchmark\'s policy (trigger 900) keeps summaries happening; the limit is the proxy process\'s event-loop delay p99 < 20 ms.',
      'The machine is shared (see load): figures are noisy on a loaded 2-core box.',
    ],
    Math.round((Date.now() - t0) / 1000),
  );
}
