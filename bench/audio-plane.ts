// 1. Audio plane CPU: client-side CPU per output-audio delta received and per 40 ms input chunk sent,
// for realtime-context, a bare `ws` floor and @openai/agents-realtime's RealtimeSession, each in its
// own process, against one emulator process (fast pacing, long replies). Variants are interleaved
// run by run so the ratios are side by side; figures are medians over the runs.
import { runChild, spawnEmulator } from './lib/proc.js';
import { check, result, type BenchResult } from './lib/results.js';
import { CHUNK_BYTES, micChunks } from './lib/audio.js';
import { cpuSince, median, round, sleep } from './lib/stats.js';

type Variant = 'floor' | 'ours' | 'agents';
const VARIANTS: Variant[] = ['floor', 'ours', 'agents'];
const KEY = 'sk-bench-audio-0123456789';

export interface AudioClientParams {
  variant: Variant;
  url: string;
  inputChunks: number;
  replies: number;
}

export interface AudioClientResult {
  variant: Variant;
  deltas: number;
  deltaBytes: number;
  outputCpuUs: number;
  /** Median over the replies of CPU per delta. */
  outputUsPerDelta: number;
  outputWallMs: number;
  inputChunks: number;
  inputCpuUs: number;
}

/** What every variant exposes to the measuring loop. */
interface Client {
  /** Ask for one long reply; resolves at response.done. */
  respond(): Promise<void>;
  sendChunk(i: number): void;
  close(): Promise<void>;
}

const PROMPT = 'Please tell me a long story.';

// ---------------------------------------------------------------- child: one variant

async function floorClient(url: string, onDelta: (bytes: number) => void): Promise<Client> {
  const { default: WebSocket } = await import('ws');
  const { buildSessionConfig } = await import('../src/protocol/session-config.js');
  const ws = new WebSocket(`${url}?model=gpt-realtime`, { headers: { Authorization: `Bearer ${KEY}` }, perMessageDeflate: false });
  let done: (() => void) | null = null;
  let updated: (() => void) | null = null;
  // The floor: parse every event, decode the audio of each delta. Nothing else.
  ws.on('message', (data: Buffer) => {
    const ev = JSON.parse(data.toString()) as { type: string; delta?: string };
    if (ev.type === 'response.output_audio.delta') onDelta(Buffer.from(ev.delta!, 'base64').length);
    else if (ev.type === 'response.done') done?.();
    else if (ev.type === 'session.updated') updated?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await new Promise<void>((resolve) => {
    updated = resolve;
    ws.send(JSON.stringify({ type: 'session.update', session: buildSessionConfig({ turnDetection: null, transcriptionModel: null }) }));
  });
  const chunks = micChunks();
  return {
    respond: () =>
      new Promise<void>((resolve) => {
        done = resolve;
        ws.send(JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: PROMPT }] } }));
        ws.send(JSON.stringify({ type: 'response.create' }));
      }),
    sendChunk: (i) => ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: chunks[i % chunks.length].toString('base64') })),
    close: async () => ws.close(),
  };
}

async function oursClient(url: string, onDelta: (bytes: number) => void): Promise<Client> {
  const { createRealtimeAgent } = await import('../src/agent.js');
  const agent = createRealtimeAgent({
    connection: { url, apiKey: KEY },
    session: { turnDetection: null, transcriptionModel: null },
    journal: false,
  });
  agent.on('audio', ({ pcm }) => onDelta(pcm.length));
  let done: (() => void) | null = null;
  agent.on('response.done', () => done?.());
  await agent.start();
  const chunks = micChunks();
  return {
    respond: () =>
      new Promise<void>((resolve) => {
        done = resolve;
        agent.sendText(PROMPT);
      }),
    sendChunk: (i) => agent.appendAudio(chunks[i % chunks.length]),
    close: () => agent.stop(),
  };
}

async function agentsClient(url: string, onDelta: (bytes: number) => void): Promise<Client> {
  const { RealtimeAgent, RealtimeSession, OpenAIRealtimeWebSocket } = await import('@openai/agents-realtime');
  const agent = new RealtimeAgent({ name: 'bench', instructions: 'You are a helpful voice assistant.' });
  const transport = new OpenAIRealtimeWebSocket({ url: `${url}?model=gpt-realtime` });
  const session = new RealtimeSession(agent, {
    transport,
    model: 'gpt-realtime',
    config: { audio: { input: { turnDetection: undefined } } },
  });
  // The application's audio handler, as a user of the SDK would attach it.
  session.on('audio', (e) => onDelta(e.data.byteLength));
  session.on('error', () => undefined);
  let done: (() => void) | null = null;
  transport.on('turn_done', () => done?.());
  await session.connect({ apiKey: KEY });
  // No turn detection, no transcription: the same stream as the other variants.
  transport.sendEvent({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null, transcription: null } } } } as never);
  await sleep(100);
  // The SDK takes ArrayBuffers: converted here, outside the measured loop.
  const chunks = micChunks().map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  return {
    respond: () =>
      new Promise<void>((resolve) => {
        done = resolve;
        session.sendMessage(PROMPT);
      }),
    sendChunk: (i) => session.sendAudio(chunks[i % chunks.length]),
    close: async () => session.close(),
  };
}

export async function audioClient(p: AudioClientParams): Promise<AudioClientResult> {
  let counting = false;
  let deltas = 0;
  let deltaBytes = 0;
  const onDelta = (bytes: number) => {
    if (!counting) return;
    deltas++;
    deltaBytes += bytes;
  };
  const make = p.variant === 'floor' ? floorClient : p.variant === 'ours' ? oursClient : agentsClient;
  const client = await make(p.url, onDelta);
  // Warm-up (JIT): one full reply and a few hundred input chunks.
  await client.respond();
  for (let i = 0; i < 500; i++) client.sendChunk(i);
  await sleep(200);
  // Output: several long replies, every delta counted; the median reply's CPU per delta counts
  // (a GC burst or a neighbour's load lands on one reply, not on the figure).
  counting = true;
  const t0 = performance.now();
  const perReply: number[] = [];
  let outputCpuUs = 0;
  for (let k = 0; k < p.replies; k++) {
    const d0 = deltas;
    const c0 = process.cpuUsage();
    await client.respond();
    const used = cpuSince(c0);
    outputCpuUs += used;
    perReply.push(used / Math.max(1, deltas - d0));
  }
  const outputWallMs = performance.now() - t0;
  counting = false;
  await sleep(100);
  // Input: 40 ms chunks in bursts of 50 per macrotask, then a short settle for the socket to flush.
  const c1 = process.cpuUsage();
  for (let i = 0; i < p.inputChunks; i += 50) {
    for (let j = i; j < Math.min(p.inputChunks, i + 50); j++) client.sendChunk(j);
    await new Promise<void>((r) => setImmediate(r));
  }
  await sleep(250);
  const inputCpuUs = cpuSince(c1);
  await client.close();
  return { variant: p.variant, deltas, deltaBytes, outputCpuUs, outputUsPerDelta: median(perReply), outputWallMs, inputChunks: p.inputChunks, inputCpuUs };
}

// ---------------------------------------------------------------- parent

export interface AudioOptions {
  runs: number;
  /** Replies measured per client process (median taken). */
  replies: number;
  replyWords: number;
  inputChunks: number;
}

export async function run(o: AudioOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const emu = await spawnEmulator(['--pacing', 'fast', '--reply-words', String(o.replyWords)]);
  const runs: AudioClientResult[][] = [];
  const notes: string[] = [];
  try {
    for (let r = 0; r < o.runs; r++) {
      const row: AudioClientResult[] = [];
      // Rotate the order each run so no variant always goes first.
      for (let k = 0; k < VARIANTS.length; k++) {
        const variant = VARIANTS[(k + r) % VARIANTS.length];
        row.push(await runChild<AudioClientResult>('audio-plane:audioClient', { variant, url: emu.url, inputChunks: o.inputChunks, replies: o.replies } satisfies AudioClientParams));
      }
      runs.push(row);
      process.stdout.write(`  audio run ${r + 1}/${o.runs}: ${row.map((x) => `${x.variant} ${x.outputUsPerDelta.toFixed(1)} us/delta`).join(', ')}\n`);
    }
  } finally {
    await emu.close();
  }
  const of = (row: AudioClientResult[], v: Variant) => row.find((x) => x.variant === v)!;
  const perDelta = (x: AudioClientResult) => x.outputUsPerDelta;
  const perChunk = (x: AudioClientResult) => x.inputCpuUs / x.inputChunks;
  const fig = (v: Variant) => ({
    outUsPerDelta: round(median(runs.map((row) => perDelta(of(row, v)))), 2),
    inUsPerChunk: round(median(runs.map((row) => perChunk(of(row, v)))), 2),
    outUsPerDeltaRuns: runs.map((row) => round(perDelta(of(row, v)), 2)),
    inUsPerChunkRuns: runs.map((row) => round(perChunk(of(row, v)), 2)),
    deltasPerRun: of(runs[0], v).deltas,
    deltasPerReply: of(runs[0], v).deltas / o.replies,
  });
  const floor = fig('floor');
  const ours = fig('ours');
  const agents = fig('agents');
  // Ratios per run (side by side in the same run), then the median.
  const ratio = (num: Variant, den: Variant, f: (x: AudioClientResult) => number) => round(median(runs.map((row) => f(of(row, num)) / f(of(row, den)))), 2);
  const oursVsFloorOut = ratio('ours', 'floor', perDelta);
  const agentsVsOursOut = ratio('agents', 'ours', perDelta);
  const oursVsFloorIn = ratio('ours', 'floor', perChunk);
  const agentsVsOursIn = ratio('agents', 'ours', perChunk);
  const deltaMs = Math.round(of(runs[0], 'floor').deltaBytes / of(runs[0], 'floor').deltas / 48);
  if (deltaMs !== 40) {
    notes.push(
      `The emulator streams ${deltaMs} ms output deltas (its fixed CHUNK_MS), not 40 ms: the per-delta figures are per ${deltaMs} ms delta. ` +
        `Scaled linearly to 40 ms of audio they would be ${round((ours.outUsPerDelta * 40) / deltaMs, 1)} us (ours), ${round((floor.outUsPerDelta * 40) / deltaMs, 1)} us (floor), ${round((agents.outUsPerDelta * 40) / deltaMs, 1)} us (agents-realtime); the ratios are what the targets use.`,
    );
  }
  const counts = new Set(runs.flat().map((x) => x.deltas));
  if (counts.size > 1) notes.push(`Delta counts differed between clients: ${[...counts].join(', ')}.`);
  const figures = {
    deltaAudioMs: deltaMs,
    deltasPerRun: floor.deltasPerRun,
    runs: o.runs,
    repliesPerRun: o.replies,
    method: 'per client process: median over its replies of CPU/deltas; per variant: median over runs; ratios: median of the per-run ratios',
    inputChunkBytes: CHUNK_BYTES,
    inputChunksPerRun: o.inputChunks,
    floor,
    realtimeContext: ours,
    agentsRealtime: agents,
    ratios: { oursVsFloorOut, agentsVsOursOut, oursVsFloorIn, agentsVsOursIn },
  };
  const checks = [
    check('output: ours / floor (CPU per delta)', oursVsFloorOut, 'x', '<= 1.1', oursVsFloorOut <= 1.1),
    check('output: agents-realtime / ours', agentsVsOursOut, 'x', '>= 2.5', agentsVsOursOut >= 2.5),
    check('output: ours, CPU per delta', ours.outUsPerDelta, 'us', 'info', true),
    check('output: floor, CPU per delta', floor.outUsPerDelta, 'us', 'info', true),
    check('output: agents-realtime, CPU per delta', agents.outUsPerDelta, 'us', 'info', true),
    check('input: ours / floor (CPU per 40 ms chunk)', oursVsFloorIn, 'x', '<= 1.1', oursVsFloorIn <= 1.1),
    check('input: agents-realtime / ours', agentsVsOursIn, 'x', '>= 2.5', agentsVsOursIn >= 2.5),
    check('input: ours, CPU per chunk', ours.inUsPerChunk, 'us', 'info', true),
  ];
  return result('Audio plane CPU', figures, checks, notes, Math.round((Date.now() - t0) / 1000));
}
