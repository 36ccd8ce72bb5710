// 2. Concurrency: N sessions in one client process, each streaming real-time audio both ways
// (25 x 40 ms chunks per second up from one shared 40 ms timer, assistant audio down at real-time
// pace) with summaries happening, against the emulator in another process. The client ramps N up and
// stops at the first N whose event-loop delay p99 reaches 20 ms (or when the time budget is spent).
import { procCpuMs, runChild, spawnEmulator } from './lib/proc.js';
import { check, result, type BenchResult } from './lib/results.js';
import { micChunks } from './lib/audio.js';
import { PerformanceObserver } from 'node:perf_hooks';
import type { RealtimeAgent } from '../src/types.js';
import type { PolicyInput } from '../src/conversation/policy.js';
import { LoopDelay, cpuSince, percentile, prng, round, sleep } from './lib/stats.js';

type Variant = 'ours' | 'agents';
const KEY = 'sk-bench-concurrency-0123456789';
const P99_LIMIT_MS = 20;
/** A step also fails when the microphones could not keep real time (chunks actually sent per session per second). */
const MIN_UP_RATE = 24;

export interface ConcurrencyParams {
  variant: Variant;
  url: string;
  emulatorPid: number;
  steps: number[];
  settleMs: number;
  windowMs: number;
  budgetMs: number;
}

export interface StepResult {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** CPU cores used by the client process during the window (cpu time / wall time). */
  clientCores: number;
  emulatorCores: number;
  chunksUpPerSessionS: number;
  deltasDownPerSessionS: number;
  responses: number;
  summaries: number;
  errors: number;
  connectMs: number;
  heapMB: number;
  /** Wall time of the shared 40 ms microphone tick (all sessions' appends, in slices), p99. */
  tickP99Ms: number;
  gcMaxMs: number;
  gcTotalMs: number;
  deltasPerResponse: number;
}

export interface Session {
  append(chunk: Buffer, ab: ArrayBuffer): void;
  commitAndRespond(): void;
  responding: boolean;
  sinceCommit: number;
  turnChunks: number;
  close(): Promise<void>;
}

export interface Counters {
  chunks: number;
  deltas: number;
  responses: number;
  summaries: number;
  errors: number;
}

/** Low trigger so summaries keep happening during the windows. */
export const CONCURRENCY_POLICY = { triggerTokens: 900, targetTokens: 300, keepLastTurns: 2 };

export async function oursSession(url: string, c: Counters, policy: PolicyInput = CONCURRENCY_POLICY): Promise<Session & { agent: RealtimeAgent }> {
  const { createRealtimeAgent } = await import('../src/agent.js');
  const agent = createRealtimeAgent({
    connection: { url, apiKey: KEY },
    session: { turnDetection: null },
    policy,
    journal: false,
  });
  const s: Session & { agent: RealtimeAgent } = {
    agent,
    append: (chunk) => agent.appendAudio(chunk),
    commitAndRespond: () => agent.commitAudio(),
    responding: false,
    sinceCommit: 0,
    turnChunks: 100,
    close: () => agent.stop(),
  };
  agent.on('audio', () => c.deltas++);
  agent.on('response.done', () => {
    c.responses++;
    s.responding = false;
  });
  agent.on('summary', () => c.summaries++);
  agent.on('error', () => c.errors++);
  await agent.start();
  return s;
}

async function agentsSession(url: string, c: Counters): Promise<Session> {
  const { RealtimeAgent, RealtimeSession, OpenAIRealtimeWebSocket } = await import('@openai/agents-realtime');
  const ra = new RealtimeAgent({ name: 'bench', instructions: 'You are a helpful voice assistant.' });
  const { emulatorCompatibleWebSocket } = await import('./lib/agents-ws.js');
  const transport = new OpenAIRealtimeWebSocket({ url: `${url}?model=gpt-realtime`, createWebSocket: emulatorCompatibleWebSocket(KEY) });
  const session = new RealtimeSession(ra, { transport, model: 'gpt-realtime' });
  const s: Session = {
    append: (_chunk, ab) => session.sendAudio(ab),
    commitAndRespond: () => {
      transport.sendEvent({ type: 'input_audio_buffer.commit' });
      transport.requestResponse();
    },
    responding: false,
    sinceCommit: 0,
    turnChunks: 100,
    close: async () => session.close(),
  };
  session.on('audio', () => c.deltas++);
  session.on('error', () => c.errors++);
  transport.on('turn_done', () => {
    c.responses++;
    s.responding = false;
  });
  await session.connect({ apiKey: KEY });
  transport.sendEvent({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } } as never);
  return s;
}

/**
 * One shared 40 ms timer drives every session's microphone (what a production server would do):
 * one 40 ms chunk per session per tick, sent in slices of SLICE sessions with a yield to the event
 * loop between slices (as per-caller audio would arrive as separate I/O events, not one burst). A
 * session commits its turn (and asks for a reply) after 4 to 6 s of audio when no reply is in flight.
 * `onTick` gets the wall time of each tick (all slices).
 */
export const SLICE = 25;

export function startMicrophones(sessions: Session[], c: Counters, rand: () => number, onTick?: (ms: number) => void): { stop(): void } {
  const chunks = micChunks();
  const abs = chunks.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  let tick = 0;
  let running = false;
  let owed = 0;
  let stopped = false;
  const runTick = async () => {
    running = true;
    const t = performance.now();
    const k = tick++ % chunks.length;
    for (let i = 0; i < sessions.length && !stopped; i += SLICE) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r));
      for (const s of sessions.slice(i, i + SLICE)) {
        s.append(chunks[k], abs[k]);
        c.chunks++;
        if (++s.sinceCommit >= s.turnChunks && !s.responding) {
          s.sinceCommit = 0;
          s.responding = true;
          s.turnChunks = 100 + Math.floor(rand() * 50);
          s.commitAndRespond();
        }
      }
    }
    onTick?.(performance.now() - t);
    running = false;
    // A tick that overran the next one: catch up at once (the microphones keep producing).
    if (owed > 0 && !stopped) {
      owed--;
      void runTick();
    }
  };
  const timer = setInterval(() => {
    if (running) owed++;
    else void runTick();
  }, 40);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export async function concurrencyClient(p: ConcurrencyParams): Promise<StepResult[]> {
  const c: Counters = { chunks: 0, deltas: 0, responses: 0, summaries: 0, errors: 0 };
  const sessions: Session[] = [];
  const rand = prng(7);
  let tickMs: number[] = [];
  let gcMs: number[] = [];
  const gcObs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs.push(e.duration);
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const timer = startMicrophones(sessions, c, rand, (ms) => tickMs.push(ms));
  const make = p.variant === 'ours' ? oursSession : agentsSession;
  const loop = new LoopDelay(2);
  const out: StepResult[] = [];
  const started = Date.now();
  try {
    for (const n of p.steps) {
      if (Date.now() - started > p.budgetMs) break;
      const tc = Date.now();
      while (sessions.length < n) {
        const batch = Math.min(25, n - sessions.length);
        const made = await Promise.all(Array.from({ length: batch }, () => make(p.url, c)));
        // Stagger the new sessions' first turns.
        for (const s of made) s.sinceCommit = Math.floor(rand() * 150) - 50;
        sessions.push(...made);
      }
      const connectMs = Date.now() - tc;
      await sleep(p.settleMs);
      const measure = async () => {
        const before = { ...c };
        const e0 = procCpuMs(p.emulatorPid);
        const cpu0 = process.cpuUsage();
        const w0 = performance.now();
        tickMs = [];
        gcMs = [];
        loop.start();
        await sleep(p.windowMs);
        const d = loop.stop();
        const wallMs = performance.now() - w0;
        return { before, d, wallMs, cpuUs: cpuSince(cpu0), emuMs: procCpuMs(p.emulatorPid) - e0, after: { ...c }, ticks: tickMs, gcs: gcMs };
      };
      let m = await measure();
      // The machine is shared: a window over the limit is confirmed by a second one (the better counts).
      const upRate = (x: typeof m) => (x.after.chunks - x.before.chunks) / n / (x.wallMs / 1000);
      if (m.d.p99 >= P99_LIMIT_MS || upRate(m) < MIN_UP_RATE) {
        const again = await measure();
        process.stdout.write(`  ${p.variant} N=${n}: p99 ${m.d.p99} ms, confirming: ${again.d.p99} ms\n`);
        if (again.d.p99 < m.d.p99 && upRate(again) >= MIN_UP_RATE) m = again;
      }
      const { before, d, wallMs, cpuUs } = m;
      const secs = wallMs / 1000;
      const step: StepResult = {
        n,
        p50: d.p50,
        p99: d.p99,
        max: d.max,
        clientCores: round(cpuUs / 1000 / wallMs, 3),
        emulatorCores: round(m.emuMs / wallMs, 3),
        chunksUpPerSessionS: round((m.after.chunks - before.chunks) / n / secs, 2),
        deltasDownPerSessionS: round((m.after.deltas - before.deltas) / n / secs, 2),
        responses: m.after.responses - before.responses,
        summaries: m.after.summaries - before.summaries,
        errors: m.after.errors - before.errors,
        connectMs,
        heapMB: round(process.memoryUsage().heapUsed / 2 ** 20, 1),
        tickP99Ms: round(percentile(m.ticks, 99), 2),
        gcMaxMs: round(Math.max(0, ...m.gcs), 2),
        gcTotalMs: round(m.gcs.reduce((a, b) => a + b, 0), 1),
        deltasPerResponse: m.after.responses > before.responses ? round((m.after.deltas - before.deltas) / (m.after.responses - before.responses), 1) : 0,
      };
      out.push(step);
      process.stdout.write(
        `  ${p.variant} N=${n}: loop p99 ${step.p99} ms (p50 ${step.p50}), client ${step.clientCores} cores, emulator ${step.emulatorCores} cores, ` +
          `up ${step.chunksUpPerSessionS}/s, down ${step.deltasDownPerSessionS}/s per session, tick p99 ${step.tickP99Ms} ms, gc max ${step.gcMaxMs} ms (total ${step.gcTotalMs}), ${step.summaries} summaries, ${step.errors} errors\n`,
      );
      if (!passes(step)) break;
    }
  } finally {
    timer.stop();
    gcObs.disconnect();
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
  return out;
}

// ---------------------------------------------------------------- parent

export interface ConcurrencyOptions {
  steps: number[];
  settleMs: number;
  windowMs: number;
  budgetMs: number;
}

const passes = (s: StepResult) => s.p99 < P99_LIMIT_MS && s.chunksUpPerSessionS >= MIN_UP_RATE;

function summarise(steps: StepResult[]) {
  const broke = steps.find((s) => !passes(s));
  const best = steps.filter((s) => passes(s) && (!broke || s.n < broke.n)).at(-1);
  return {
    maxN: best?.n ?? 0,
    brokeAt: broke?.n ?? null,
    coresAtMaxN: best?.clientCores ?? null,
    /** N divided by the cores the client process actually used at that N (an extrapolation). */
    nPerCoreUsed: best && best.clientCores > 0 ? Math.round(best.n / best.clientCores) : null,
    steps,
  };
}

export async function run(o: ConcurrencyOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const out: Record<Variant, ReturnType<typeof summarise>> = {} as never;
  for (const variant of ['ours', 'agents'] as Variant[]) {
    // A fresh emulator per variant: real-time pacing, 10-word (4 s) replies, transcription on.
    const emu = await spawnEmulator(['--pacing', 'realtime', '--reply-words', '10']);
    try {
      const steps = await runChild<StepResult[]>(
        'concurrency:concurrencyClient',
        { variant, url: emu.url, emulatorPid: emu.pid, steps: o.steps, settleMs: o.settleMs, windowMs: o.windowMs, budgetMs: o.budgetMs } satisfies ConcurrencyParams,
        o.budgetMs + 120_000,
      );
      out[variant] = summarise(steps);
    } finally {
      await emu.close();
    }
  }
  const ours = out.ours;
  const agents = out.agents;
  const notes: string[] = [
    'A Node client process runs one event loop, so it uses at most one core: sessions per core = the largest N whose loop-delay p99 stayed under 20 ms in one process ' +
      `while every session still sent at least ${MIN_UP_RATE} of its 25 chunks per second (a window over the limit is re-measured once; the better window counts, as the machine is shared). ` +
      'nPerCoreUsed divides that N by the cores the process actually used at that N (an extrapolation, not a measurement).',
    `One shared 40 ms timer feeds every session's microphone, in slices of ${SLICE} sessions with a yield to the event loop between slices (per-caller audio arrives as separate I/O events in production, not as one burst). ` +
      'Turns are committed manually (turn detection off) every 4 to 6 s of microphone audio while the microphone keeps streaming; replies are 4 s of real-time audio; ' +
      'realtime-context summarises with trigger 900 / target 300 tokens (a summary every four or five turns, about every 40 s per session: some 50 times more often than with the default trigger) so summaries run during every window; agents-realtime has no summariser.',
  ];
  const top = o.steps[o.steps.length - 1];
  for (const [name, v] of [['realtime-context', ours], ['agents-realtime', agents]] as const) {
    if (v.brokeAt === null) notes.push(`${name}: p99 stayed under 20 ms up to the largest N tried (${v.maxN}${v.maxN < top ? ', time budget reached' : ''}): the figure is a lower bound.`);
    const last = v.steps.at(-1);
    if (last && last.emulatorCores > 0.85) notes.push(`${name}: the emulator process used ${last.emulatorCores} cores at N=${last.n}: on this 2-core machine it, not the client, may be the limit.`);
    if (last && last.responses > 0 && last.deltasPerResponse < 39) notes.push(`${name}: at N=${last.n} responses carried ${last.deltasPerResponse} audio deltas on average instead of 40: replies were cut or late.`);
  }
  const figures = { limitP99Ms: P99_LIMIT_MS, minChunksUpPerSessionS: MIN_UP_RATE, realtimeContext: ours, agentsRealtime: agents };
  const checks = [
    check('sessions per core, realtime-context (p99 < 20 ms)', ours.maxN, '', '>= 500', ours.maxN >= 500),
    check('sessions per core, agents-realtime (p99 < 20 ms)', agents.maxN, '', 'info', true),
    check('ours / agents-realtime sessions per core', agents.maxN ? round(ours.maxN / agents.maxN, 2) : 0, 'x', 'info', true),
  ];
  return result('Concurrency', figures, checks, notes, Math.round((Date.now() - t0) / 1000));
}
