// 4. Cost and window over a scripted 60-minute voice conversation, for four policies (the library's
// own with both context strategies: hysteresis, the default, and cache-aware), priced with
// gpt-realtime's published rates from the emulator's usage (o200k tokens, 10/20 audio tokens per
// second in/out, prompt-cache rule). Writes docs/window-chart.svg (window over time, four policies).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, spawnEmulator } from './lib/proc.js';
import { check, result, type BenchResult } from './lib/results.js';
import { chatCost, startChatProxy } from './lib/chat-proxy.js';
import { assistantScript, driveConversation } from './lib/conversation.js';
import { lineChart } from './lib/svg.js';
import { mean, round } from './lib/stats.js';
import type { AgentOptions } from '../src/types.js';

type Policy = 'unmanaged' | 'retention' | 'seed' | 'ours' | 'cacheAware';
const POLICIES: Policy[] = ['unmanaged', 'retention', 'seed', 'ours', 'cacheAware'];
const LABEL: Record<Policy, string> = {
  unmanaged: 'no management (server truncation auto)',
  retention: 'server retention_ratio 0.8',
  seed: 'seed policy (trigger 20,000, keep 2)',
  ours: 'ours, hysteresis strategy (trigger 20,000, target 10,000, keep 2)',
  cacheAware: 'ours, cache-aware strategy (trigger 20,000, keep 2)',
};
const COLOR: Record<Policy, string> = { unmanaged: '#d62728', retention: '#ff7f0e', seed: '#7f7f7f', ours: '#1f77b4', cacheAware: '#2ca02c' };
const KEY = 'sk-bench-cost-0123456789';
const TRIGGER = 20_000;
const MODEL = 'gpt-realtime';

export interface CostParams {
  policy: Policy;
  url: string;
  httpUrl: string;
  minutes: number;
  seed: number;
  script: string[];
}

export interface CostRun {
  policy: Policy;
  turns: number;
  simulatedMin: number;
  realtimeUsd: number;
  /** realtimeUsd split: input billed at full rate, cached input, output. */
  parts: { uncachedInputUsd: number; cachedInputUsd: number; outputUsd: number };
  summariserUsd: number;
  summariserCalls: number;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  maxWindow: number;
  meanWindow: number;
  /** Largest growth of the window between two consecutive responses (one turn). */
  maxTurnGrowth: number;
  summaries: number;
  errors: string[];
  series: Array<[number, number]>;
  wallS: number;
}

export function agentOptions(policy: Policy, url: string, summaryBaseURL: string): AgentOptions {
  const base: AgentOptions = {
    connection: { url, apiKey: KEY, model: MODEL },
    session: { turnDetection: null },
    summariser: { kind: 'chat', baseURL: summaryBaseURL },
    journal: false,
  };
  switch (policy) {
    case 'unmanaged':
      return { ...base, session: { ...base.session, truncation: 'auto' }, policy: { triggerTokens: 1e9, targetTokens: 0 } };
    case 'retention':
      return { ...base, session: { ...base.session, truncation: { retentionRatio: 0.8 } }, policy: { triggerTokens: 1e9, targetTokens: 0 } };
    case 'seed':
      return { ...base, policy: { triggerTokens: TRIGGER, targetTokens: 0, keepLastTurns: 2 } };
    case 'ours':
      return base; // defaults: trigger 20,000, target 10,000, keep 2, hysteresis strategy
    case 'cacheAware':
      return { ...base, policy: { strategy: 'cache-aware' } };
  }
}

export async function costClient(p: CostParams): Promise<CostRun> {
  const t0 = Date.now();
  const { createRealtimeAgent } = await import('../src/agent.js');
  const { usageCost } = await import('../src/conversation/costs.js');
  const proxy = await startChatProxy(p.httpUrl);
  const agent = createRealtimeAgent(agentOptions(p.policy, p.url, proxy.baseURL));
  let summaries = 0;
  const errors: string[] = [];
  agent.on('summary', () => summaries++);
  agent.on('error', (e) => errors.push(`${e.code}: ${e.message}`.slice(0, 200)));
  let realtimeUsd = 0;
  const parts = { uncachedInputUsd: 0, cachedInputUsd: 0, outputUsd: 0 };
  let input = 0;
  let cached = 0;
  let output = 0;
  agent.on('window', (w) => {
    realtimeUsd += usageCost(w.usage, MODEL);
    const u = w.usage;
    const outOnly = { output_token_details: u.output_token_details };
    const cachedOnly = {
      input_token_details: {
        text_tokens: u.input_token_details?.cached_tokens_details?.text_tokens ?? 0,
        audio_tokens: u.input_token_details?.cached_tokens_details?.audio_tokens ?? 0,
        cached_tokens_details: u.input_token_details?.cached_tokens_details,
      },
    };
    parts.outputUsd += usageCost(outOnly as typeof u, MODEL);
    parts.cachedInputUsd += usageCost(cachedOnly as typeof u, MODEL);
    parts.uncachedInputUsd = realtimeUsd - parts.outputUsd - parts.cachedInputUsd;
    input += w.usage.input_tokens ?? 0;
    cached += w.usage.input_token_details?.cached_tokens ?? 0;
    output += w.usage.output_tokens ?? 0;
  });
  const info = await agent.start();
  const conv = driveConversation({ agent, sessionId: () => info.id, httpUrl: p.httpUrl, apiKey: KEY, seed: p.seed, script: p.script });
  while (conv.simulatedMs() < p.minutes * 60_000) await conv.turn();
  await agent.stop();
  await proxy.close();
  const windows = conv.turns.map((t) => t.tokens);
  let growth = 0;
  for (let i = 1; i < windows.length; i++) growth = Math.max(growth, windows[i] - windows[i - 1]);
  return {
    policy: p.policy,
    turns: conv.turns.length,
    simulatedMin: round(conv.simulatedMs() / 60_000, 2),
    realtimeUsd: round(realtimeUsd, 4),
    parts: { uncachedInputUsd: round(parts.uncachedInputUsd, 4), cachedInputUsd: round(parts.cachedInputUsd, 4), outputUsd: round(parts.outputUsd, 4) },
    summariserUsd: round(chatCost(proxy.calls), 5),
    summariserCalls: proxy.calls.length,
    inputTokens: input,
    cachedTokens: cached,
    outputTokens: output,
    maxWindow: Math.max(...windows),
    meanWindow: Math.round(mean(windows)),
    maxTurnGrowth: growth,
    summaries,
    errors: errors.slice(0, 5),
    series: conv.turns.map((t) => [round(t.atMin, 2), t.tokens]),
    wallS: round((Date.now() - t0) / 1000, 1),
  };
}

// ---------------------------------------------------------------- parent

export interface CostOptions {
  minutes: number;
  seed: number;
}

export const CHART_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../docs/window-chart.svg' : '../../docs/window-chart.svg', import.meta.url));

export async function run(o: CostOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const script = assistantScript(o.seed, Math.ceil((o.minutes * 60) / 10) + 10);
  const dir = mkdtempSync(join(tmpdir(), 'rc-bench-'));
  const scriptPath = join(dir, 'script.json');
  writeFileSync(scriptPath, JSON.stringify(script));
  const emu = await spawnEmulator(['--pacing', 'fast', '--script', scriptPath, '--transcript-delay-ms', '20', '--seed', String(o.seed)]);
  let runs: CostRun[];
  try {
    // Nothing here is timed: the four conversations run side by side (one process each).
    runs = await Promise.all(
      POLICIES.map((policy) =>
        runChild<CostRun>('cost:costClient', { policy, url: emu.url, httpUrl: emu.httpUrl, minutes: o.minutes, seed: o.seed, script } satisfies CostParams, 600_000),
      ),
    );
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const by = (p: Policy) => runs.find((r) => r.policy === p)!;
  for (const r of runs) process.stdout.write(`  ${r.policy}: $${r.realtimeUsd.toFixed(2)} realtime + $${r.summariserUsd.toFixed(4)} summariser, ${r.turns} turns, max window ${r.maxWindow}, mean ${r.meanWindow}, ${r.summaries} summaries (${r.wallS} s)\n`);
  const total = (r: CostRun) => r.realtimeUsd + r.summariserUsd;
  const ours = by('ours');
  const vsUnmanaged = round(total(ours) / total(by('unmanaged')), 3);
  const vsSeed = round(total(ours) / total(by('seed')), 3);
  const cacheAware = by('cacheAware');
  const vsHysteresis = round(total(cacheAware) / total(ours), 3);
  const overTrigger = ours.maxWindow - TRIGGER;
  const windowOk = ours.maxWindow <= TRIGGER + ours.maxTurnGrowth;
  const table = Object.fromEntries(
    runs.map((r) => [
      r.policy,
      {
        label: LABEL[r.policy],
        totalUsd: round(total(r), 4),
        realtimeUsd: r.realtimeUsd,
        ...r.parts,
        summariserUsd: r.summariserUsd,
        cachedShare: round(r.cachedTokens / Math.max(1, r.inputTokens), 3),
        maxWindow: r.maxWindow,
        meanWindow: r.meanWindow,
        summaries: r.summaries,
        turns: r.turns,
        simulatedMin: r.simulatedMin,
        inputTokens: r.inputTokens,
        cachedTokens: r.cachedTokens,
        outputTokens: r.outputTokens,
        maxTurnGrowth: r.maxTurnGrowth,
        errors: r.errors,
      },
    ]),
  );
  const chart = lineChart({
    title: `Context window over a ${o.minutes}-minute voice conversation (emulator, gpt-realtime accounting)`,
    series: POLICIES.map((p) => ({ name: `${LABEL[p]}: $${total(by(p)).toFixed(2)}`, color: COLOR[p], points: [[0, 0] as [number, number], ...by(p).series], dash: p === 'seed' ? '5 3' : undefined })),
    xMax: o.minutes,
    yMax: Math.ceil((Math.max(...runs.map((r) => r.maxWindow)) * 1.1) / 5000) * 5000,
    hLines: [{ y: TRIGGER, label: 'trigger 20,000' }],
    xLabel: 'conversation time (minutes of audio, both sides)',
    yLabel: 'window (total tokens of each response)',
  });
  writeFileSync(CHART_PATH, chart);
  const notes = [
    `Script: user turns of 4 to 8 s of speech-like audio with a transcript hint (about 2.5 words/s), assistant replies of 25 to 50 words (10 to 20 s at the emulator's 400 ms per word), same seed (${o.seed}) for every policy; ${ours.turns} turns in ${o.minutes} minutes.`,
    'Prices: src/conversation/costs.ts (gpt-realtime: audio in $32/M, cached $0.40/M, audio out $64/M, text in $4/M, text out $16/M); summariser calls (chat completions through a recording proxy) at gpt-4o-mini list prices ($0.15/M in, $0.60/M out), included in the totals.',
    `The chart is docs/window-chart.svg (written by this benchmark).`,
  ];
  const strategy = (r: CostRun) => ({ totalUsd: round(total(r), 4), meanWindow: r.meanWindow, maxWindow: r.maxWindow, summaries: r.summaries });
  const figures = {
    minutes: o.minutes,
    trigger: TRIGGER,
    policies: table,
    // The two context strategies side by side (the same runs as policies.ours and policies.cacheAware).
    strategies: { hysteresis: strategy(ours), 'cache-aware': strategy(cacheAware) },
  };
  const checks = [
    check('cost: ours / unmanaged', vsUnmanaged, 'x', '<= 0.5', vsUnmanaged <= 0.5),
    check('cost: ours / seed policy', vsSeed, 'x', '<= 0.8', vsSeed <= 0.8),
    check('max window over trigger (ours), tokens', overTrigger, '', `<= one turn (${ours.maxTurnGrowth})`, windowOk),
    check('total cost, ours (USD)', round(total(ours), 2), '', 'info', true),
    check('total cost, unmanaged (USD)', round(total(by('unmanaged')), 2), '', 'info', true),
    check('total cost, retention 0.8 (USD)', round(total(by('retention')), 2), '', 'info', true),
    check('total cost, seed policy (USD)', round(total(by('seed')), 2), '', 'info', true),
    check('cost: cache-aware / hysteresis strategy', vsHysteresis, 'x', '<= 1', vsHysteresis <= 1),
    check('total cost, cache-aware strategy (USD)', round(total(cacheAware), 2), '', 'info', true),
    check('mean window, hysteresis strategy (tokens)', ours.meanWindow, '', 'info', true),
    check('mean window, cache-aware strategy (tokens)', cacheAware.meanWindow, '', 'info', true),
  ];
  return result('Cost and window, 60-minute conversation', figures, checks, notes, Math.round((Date.now() - t0) / 1000));
}
