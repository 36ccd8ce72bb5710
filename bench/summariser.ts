// 5. Summariser impact. (a) Time from the window crossing the trigger to the last delete
// acknowledged, without the model call: one session at fast pacing with a low trigger, the summary
// model reached through a recording proxy; the engine's `state` events time each summariser stage.
// (b) Event-loop delay p99 of a loaded client (N real-time sessions) in windows with summaries
// running vs windows without, alternated, same load.
import { runChild, spawnEmulator } from './lib/proc.js';
import { check, result, type BenchResult } from './lib/results.js';
import { startChatProxy } from './lib/chat-proxy.js';
import { assistantScript, driveConversation } from './lib/conversation.js';
import { LoopDelay, cpuSince, median, prng, round, sleep } from './lib/stats.js';
import { oursSession, startMicrophones, type Counters, type Session } from './concurrency.js';
import type { RealtimeAgent } from '../src/types.js';

const KEY = 'sk-bench-summariser-0123456789';

export interface LatencyParams {
  url: string;
  httpUrl: string;
  summaries: number;
  trigger: number;
  target: number;
  seed: number;
  script: string[];
}

export interface SummaryTiming {
  /** window event (over the trigger) -> summary event (every delete acknowledged). */
  totalMs: number;
  /** Time in the `summarising` stage (the model call as the engine sees it: SDK + HTTP + model). */
  summarisingMs: number;
  /** The model call as the proxy saw it (request in -> response out). */
  modelMs: number;
  /** crossing -> summarising (transcript wait, planning). */
  beforeMs: number;
  /** summarising done -> summary inserted (acknowledged). */
  insertMs: number;
  /** inserted -> every delete acknowledged. */
  pruneMs: number;
  deleted: number;
}

export async function latencyClient(p: LatencyParams): Promise<SummaryTiming[]> {
  const { createRealtimeAgent } = await import('../src/agent.js');
  const proxy = await startChatProxy(p.httpUrl);
  const agent: RealtimeAgent = createRealtimeAgent({
    connection: { url: p.url, apiKey: KEY },
    session: { turnDetection: null },
    policy: { triggerTokens: p.trigger, targetTokens: p.target, keepLastTurns: 2 },
    summariser: { kind: 'chat', baseURL: proxy.baseURL },
    journal: false,
  });
  const out: SummaryTiming[] = [];
  let cross = 0;
  let marks: Record<string, number> = {};
  let prevStage = 'idle';
  agent.on('window', (w) => {
    if (w.tokens >= w.trigger && !cross) {
      cross = performance.now();
      marks = {};
    }
  });
  agent.on('state', (s) => {
    if (cross && s.summariser !== prevStage && marks[s.summariser] === undefined) marks[s.summariser] = performance.now();
    prevStage = s.summariser;
  });
  agent.on('summary', (s) => {
    const end = performance.now();
    if (!cross) return;
    const call = [...proxy.calls].reverse().find((c) => c.start >= cross);
    const tSum = marks.summarising ?? cross;
    const afterSum = marks.awaitingQuiet ?? marks.inserting ?? marks.pruning ?? end;
    const tPrune = marks.pruning ?? end;
    out.push({
      totalMs: end - cross,
      summarisingMs: afterSum - tSum,
      modelMs: call?.durationMs ?? NaN,
      beforeMs: tSum - cross,
      insertMs: tPrune - afterSum,
      pruneMs: end - tPrune,
      deleted: s.replacedIds.length,
    });
    cross = 0;
  });
  const info = await agent.start();
  const conv = driveConversation({ agent, sessionId: () => info.id, httpUrl: p.httpUrl, apiKey: KEY, seed: p.seed, script: p.script, keepTurns: false });
  // Two warm-up summaries (JIT), then the measured ones.
  while (out.length < p.summaries + 2 && conv.count() < p.script.length - 1) await conv.turn();
  await agent.stop();
  await proxy.close();
  return out.slice(2);
}

export interface LoopParams {
  url: string;
  sessions: number;
  warmupMs: number;
  windowMs: number;
  pairs: number;
}

export interface LoopWindow {
  kind: 'without' | 'with';
  /** Client CPU over the window (ms). */
  cpuMs: number;
  p99: number;
  p50: number;
  max: number;
  summaries: number;
}

export async function loopClient(p: LoopParams): Promise<LoopWindow[]> {
  const c: Counters = { chunks: 0, deltas: 0, responses: 0, summaries: 0, errors: 0 };
  const sessions: Array<Session & { agent: RealtimeAgent }> = [];
  const timer = startMicrophones(sessions, c, prng(11));
  // No automatic summaries: the "with" windows start them with summariseNow().
  const policy = { triggerTokens: 1e9, targetTokens: 0, keepLastTurns: 2 };
  while (sessions.length < p.sessions) {
    const made = await Promise.all(Array.from({ length: Math.min(25, p.sessions - sessions.length) }, () => oursSession(p.url, c, policy)));
    for (const s of made) s.sinceCommit = Math.floor(Math.random() * 100);
    sessions.push(...made);
  }
  await sleep(p.warmupMs);
  // Warm the summary path (JIT) once in every session, then let new turns accumulate.
  for (const s of sessions) s.agent.summariseNow();
  await sleep(6_000);
  const loop = new LoopDelay(2);
  const out: LoopWindow[] = [];
  let rr = 0;
  try {
    for (let i = 0; i < p.pairs * 2; i++) {
      // Alternate, starting with "with" on odd pairs so neither kind always goes first.
      const kind: LoopWindow['kind'] = (i + (Math.floor(i / 2) % 2)) % 2 === 0 ? 'without' : 'with';
      const s0 = c.summaries;
      let kick: NodeJS.Timeout | undefined;
      if (kind === 'with') {
        // A quarter of the sessions start a summary every second, spread over the window.
        const per = Math.max(1, Math.round(p.sessions / 8));
        const fire = () => {
          for (let k = 0; k < per; k++) sessions[rr++ % sessions.length].agent.summariseNow();
        };
        fire();
        kick = setInterval(fire, 500);
      }
      const cpu0 = process.cpuUsage();
      loop.start();
      await sleep(p.windowMs);
      const d = loop.stop();
      const cpuMs = round(cpuSince(cpu0) / 1000, 1);
      if (kick) clearInterval(kick);
      out.push({ kind, cpuMs, p99: d.p99, p50: d.p50, max: d.max, summaries: c.summaries - s0 });
      process.stdout.write(`  loop window ${i + 1}: ${kind} summaries, p99 ${d.p99} ms, ${c.summaries - s0} summaries done\n`);
      if (kind === 'with') await sleep(2_500); // let the last summaries finish outside the next window
    }
  } finally {
    timer.stop();
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
  return out;
}

// ---------------------------------------------------------------- parent

export interface SummariserBenchOptions {
  summaries: number;
  loopSessions: number;
  warmupMs: number;
  windowMs: number;
  pairs: number;
  seed: number;
}

export async function run(o: SummariserBenchOptions): Promise<BenchResult> {
  const t0 = Date.now();
  // (a) latency, fast pacing
  const script = assistantScript(o.seed, 400);
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'rc-bench-'));
  const scriptPath = join(dir, 'script.json');
  writeFileSync(scriptPath, JSON.stringify(script));
  const fast = await spawnEmulator(['--pacing', 'fast', '--script', scriptPath, '--transcript-delay-ms', '20', '--seed', String(o.seed)]);
  let timings: SummaryTiming[];
  try {
    timings = await runChild<SummaryTiming[]>('summariser:latencyClient', { url: fast.url, httpUrl: fast.httpUrl, summaries: o.summaries, trigger: 4_000, target: 2_000, seed: o.seed, script } satisfies LatencyParams, 300_000);
  } finally {
    await fast.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // (b) loop delay with vs without summaries, real-time pacing
  const rt = await spawnEmulator(['--pacing', 'realtime', '--reply-words', '10']);
  let windows: LoopWindow[];
  try {
    windows = await runChild<LoopWindow[]>('summariser:loopClient', { url: rt.url, sessions: o.loopSessions, warmupMs: o.warmupMs, windowMs: o.windowMs, pairs: o.pairs } satisfies LoopParams, 300_000);
  } finally {
    await rt.close();
  }
  const med = (f: (t: SummaryTiming) => number) => round(median(timings.map(f)), 2);
  const excl = med((t) => t.totalMs - t.summarisingMs);
  const exclProxy = med((t) => t.totalMs - t.modelMs);
  const without = windows.filter((w) => w.kind === 'without');
  const withS = windows.filter((w) => w.kind === 'with');
  const p99Without = round(median(without.map((w) => w.p99)), 2);
  const p99With = round(median(withS.map((w) => w.p99)), 2);
  const spread = round(Math.max(...without.map((w) => w.p99)) - Math.min(...without.map((w) => w.p99)), 2);
  const diff = round(p99With - p99Without, 2);
  // Client CPU a summary costs: extra CPU of the "with" windows over the "without" ones, per summary.
  const extraCpuMs = median(withS.map((w) => w.cpuMs)) - median(without.map((w) => w.cpuMs));
  const summariesPerWindow = median(withS.map((w) => w.summaries));
  const cpuPerSummaryMs = summariesPerWindow > 0 ? round(extraCpuMs / summariesPerWindow, 2) : NaN;
  const tolerance = Math.max(1, spread);
  const figures = {
    latency: {
      summaries: timings.length,
      medianTotalMs: med((t) => t.totalMs),
      medianExcludingModelMs: excl,
      medianExcludingModelProxyMs: exclProxy,
      medianSummarisingStageMs: med((t) => t.summarisingMs),
      medianModelCallProxyMs: med((t) => t.modelMs),
      medianBeforeSummarisingMs: med((t) => t.beforeMs),
      medianInsertAckMs: med((t) => t.insertMs),
      medianDeletesAckMs: med((t) => t.pruneMs),
      medianItemsDeleted: med((t) => t.deleted),
      timings: timings.map((t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, round(v, 2)]))),
    },
    loopDelay: { sessions: o.loopSessions, windowMs: o.windowMs, p99WithoutMs: p99Without, p99WithMs: p99With, differenceMs: diff, spreadWithoutMs: spread, clientCpuPerSummaryMs: cpuPerSummaryMs, windows },
  };
  process.stdout.write(`  crossing -> last delete ack: ${figures.latency.medianTotalMs} ms, of which summarising ${figures.latency.medianSummarisingStageMs} ms; without it ${excl} ms\n`);
  process.stdout.write(`  loop p99 without summaries ${p99Without} ms, with ${p99With} ms (spread without ${spread} ms)\n`);
  const notes = [
    'Latency: one session at fast pacing, trigger 4,000 / target 2,000 / keep 2, 20 ms transcription delay; the summary model is the emulator\'s chat endpoint reached through a recording proxy. ' +
      '"Excluding the model call" subtracts the time the summariser spent in its summarising stage (SDK + HTTP + model); the proxy-side model time is also given.',
    `Loop delay: ${o.loopSessions} real-time sessions (the concurrency load), no automatic summaries; after a warm-up (every session summarised once, outside the windows), in "with" windows summariseNow() is called on an eighth of the sessions every 500 ms. ` +
      `"No measurable difference" = the with-minus-without difference of the median p99s is within the spread of the without windows (at least 1 ms).`,
  ];
  const checks = [
    check('loop p99 with summaries - without (ms)', diff, 'ms', `<= ${round(tolerance, 2)} (noise)`, diff <= tolerance),
    check('crossing -> last delete ack, excluding model call', excl, 'ms', 'info', true),
    check('client CPU per summary (chat call, insert, deletes)', cpuPerSummaryMs, 'ms', 'info', true),
    check('loop p99 without summaries', p99Without, 'ms', 'info', true),
    check('loop p99 with summaries', p99With, 'ms', 'info', true),
  ];
  return result('Summariser impact', figures, checks, notes, Math.round((Date.now() - t0) / 1000));
}
