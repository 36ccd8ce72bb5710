// Session machine cost per server event, in process (no socket, no emulator, no audio): the real
// session machine, provided like the agent provides it apart from the socket (a callback actor that
// hands the scripted server events in through `sendBack`, exactly where the agent's socket does),
// driven through S sessions x T voice turns of a scripted GA event stream (committed user audio with
// its transcription, an audio answer with its transcript deltas, response.done with usage). Events
// are filtered by the agent's own routing first (audio-plane events never reach the machine), so the
// figure is the control plane's cost per wire event, averaged over every event of the stream.
//
//   node --expose-gc dist/bench/session-events.js [--old=<worktree of 8057ba8, built>] [--runs=4]
//   npm run bench -- session-events --old=<dir>      (merges the result into bench/results.json)
//
// With --old the same harness runs in that worktree, interleaved old,new,old,new in fresh child
// processes, so the ratio comes from one run on one machine load. The file runs unchanged in 8057ba8
// (copy it there and build): the agent's routing and the context strategy are loaded when the tree
// has them, else 8057ba8's own PLANE_ONLY list applies (see `toMachine`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createActor, fromCallback } from 'xstate';
import { sessionMachine, type SocketCommand } from '../machines/session.machine.js';
import { resolvePolicy } from '../src/conversation/policy.js';
import type { WireEvent } from '../src/protocol/events.js';
import { check, result, type BenchResult } from './lib/results.js';

export interface SessionEventsParams {
  /** Child processes per variant (interleaved old,new,old,new when an old tree is given). */
  runs: number;
  sessions: number;
  turns: number;
  /** A worktree of the old commit with this harness built (dist/bench/session-events.js). */
  oldDir?: string;
}

export interface ChildResult {
  events: number;
  toMachine: number;
  usPerEvent: number;
  usPerMachineEvent: number;
  usPerTurn: number;
}

// Loaded by URL so this file also compiles in 8057ba8, which has neither module.
const optional = async <T>(rel: string): Promise<T | null> => {
  const url = new URL(rel, import.meta.url);
  return existsSync(fileURLToPath(url)) ? ((await import(url.href)) as T) : null;
};
const registry = await optional<{ routeOf(type: string): string | undefined }>('../src/protocol/event-registry.js');
const strategies = await optional<{ resolveStrategy(x: undefined): unknown }>('../src/conversation/strategy.js');

/** 8057ba8's src/agent.ts: the events that never entered the session machine (its PLANE_ONLY). */
const PLANE_ONLY_8057BA8 = new Set([
  'response.output_audio_transcript.delta', 'response.output_text.delta', 'response.output_audio.done',
  'response.output_item.added', 'response.output_item.done', 'response.content_part.added', 'response.content_part.done',
  'response.function_call_arguments.delta', 'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped',
  'input_audio_buffer.committed', 'input_audio_buffer.cleared', 'rate_limits.updated', 'conversation.created',
]);

/** Does the agent hand this event to the machine? (src/agent.ts's socket actor: the registry's routes.) */
const toMachine = (ev: WireEvent) => {
  if (!registry) return !PLANE_ONLY_8057BA8.has(ev.type);
  const r = registry.routeOf(ev.type);
  return r === 'session' || r === 'mirror';
};

const input = () => ({
  url: 'ws://127.0.0.1:1/v1/realtime',
  dialect: 'ga' as const,
  model: 'gpt-realtime',
  sessionConfig: { type: 'realtime', instructions: 'Be brief.' },
  // Never summarise: the measured stream is the per-turn control plane, not the summariser's I/O.
  policy: resolvePolicy({ triggerTokens: 10_000_000, targetTokens: 5_000_000 }),
  // The default strategy where the tree has one (typed there as SessionInput['strategy']).
  strategy: strategies?.resolveStrategy(undefined) as never,
  reconnect: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 },
  rolloverMarginMs: 5 * 60_000,
  clock: { now: () => Date.now() },
  random: Math.random,
});

const usage = (turn: number) => ({
  total_tokens: 800 + turn * 120,
  input_tokens: 600 + turn * 100,
  output_tokens: 200 + turn * 20,
  input_token_details: { text_tokens: 100, audio_tokens: 500 + turn * 100, cached_tokens: turn * 64, cached_tokens_details: { text_tokens: 0, audio_tokens: turn * 64 } },
  output_token_details: { text_tokens: 40, audio_tokens: 160 + turn * 20 },
});

/** One voice turn as the GA server sends it (after input_audio_buffer.commit + response.create). */
export function turnEvents(s: number, t: number, previousItemId: string | null): WireEvent[] {
  const user = `item_u${s}_${t}`;
  const asst = `item_a${s}_${t}`;
  const resp = `resp_${s}_${t}`;
  let n = 0;
  const id = () => `event_${s}_${t}_${n++}`;
  const userItem = (status: string) => ({ id: user, object: 'realtime.item', type: 'message', status, role: 'user', content: [{ type: 'input_audio', transcript: null }] });
  const heard = 'could you tell me what the weather is like in Lisbon this weekend please';
  const said = 'Sure. In Lisbon this weekend expect sunny spells, around twenty two degrees, with a light breeze from the west in the afternoon.';
  const words = said.split(' ');
  const asstItem = (status: string, transcript: string | null) => ({
    id: asst, object: 'realtime.item', type: 'message', status, role: 'assistant',
    content: transcript === null ? [] : [{ type: 'output_audio', transcript }],
  });
  const ev: WireEvent[] = [
    { type: 'input_audio_buffer.committed', event_id: id(), previous_item_id: previousItemId, item_id: user },
    { type: 'conversation.item.added', event_id: id(), previous_item_id: previousItemId, item: userItem('completed') },
    { type: 'conversation.item.done', event_id: id(), previous_item_id: previousItemId, item: userItem('completed') },
    ...heard.split(' ').slice(0, 4).map((w) => ({ type: 'conversation.item.input_audio_transcription.delta', event_id: id(), item_id: user, content_index: 0, delta: `${w} ` })),
    { type: 'conversation.item.input_audio_transcription.completed', event_id: id(), item_id: user, content_index: 0, transcript: heard, usage: { type: 'duration', seconds: 3 } },
    { type: 'response.created', event_id: id(), response: { object: 'realtime.response', id: resp, status: 'in_progress', output: [], conversation_id: 'conv_1', audio: { output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy' } } } },
    { type: 'response.output_item.added', event_id: id(), response_id: resp, output_index: 0, item: asstItem('in_progress', null) },
    { type: 'conversation.item.added', event_id: id(), previous_item_id: user, item: asstItem('in_progress', null) },
    { type: 'response.content_part.added', event_id: id(), response_id: resp, item_id: asst, output_index: 0, content_index: 0, part: { type: 'audio', transcript: '' } },
    ...words.map((w, i) => ({ type: 'response.output_audio_transcript.delta', event_id: id(), response_id: resp, item_id: asst, output_index: 0, content_index: 0, delta: i ? ` ${w}` : w })),
    { type: 'response.output_audio.done', event_id: id(), response_id: resp, item_id: asst, output_index: 0, content_index: 0 },
    { type: 'response.output_audio_transcript.done', event_id: id(), response_id: resp, item_id: asst, output_index: 0, content_index: 0, transcript: said },
    { type: 'response.content_part.done', event_id: id(), response_id: resp, item_id: asst, output_index: 0, content_index: 0, part: { type: 'audio', transcript: said } },
    { type: 'conversation.item.done', event_id: id(), previous_item_id: user, item: asstItem('completed', said) },
    { type: 'response.output_item.done', event_id: id(), response_id: resp, output_index: 0, item: asstItem('completed', said) },
    {
      type: 'response.done', event_id: id(),
      response: { object: 'realtime.response', id: resp, status: 'completed', status_details: null, output: [asstItem('completed', said)], conversation_id: 'conv_1', usage: usage(t) },
    },
    { type: 'rate_limits.updated', event_id: id(), rate_limits: [{ name: 'tokens', limit: 20000, remaining: 19000, reset_seconds: 1.2 }] },
  ];
  return ev;
}

/** One child process: warm-up sessions, then S measured sessions of T turns (event delivery timed only). */
export function measure(p: { sessions: number; turns: number; warmup: number }): ChildResult {
  const scripts: WireEvent[][][] = [];
  const total = p.warmup + p.sessions;
  for (let s = 0; s < total; s++) {
    const turns: WireEvent[][] = [];
    let prev: string | null = null;
    for (let t = 0; t < p.turns; t++) {
      turns.push(turnEvents(s, t, prev));
      prev = `item_a${s}_${t}`;
    }
    scripts.push(turns);
  }
  let events = 0;
  let machineEvents = 0;
  // CPU time of this process (user + system), not wall time: the machine is shared.
  let cpuUs = 0;
  for (let s = 0; s < total; s++) {
    let sendBack: ((e: unknown) => void) | null = null;
    const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack: sb }) => {
      sendBack = sb as (e: unknown) => void;
      return () => {};
    });
    const actor = createActor(sessionMachine.provide({ actors: { realtimeSocket } }), { input: input() });
    // The agent listens to every emitted event and every snapshot; so does this harness (no-ops).
    actor.on('*', () => {});
    actor.subscribe({ next: () => {}, error: () => {} });
    actor.start();
    const deliver = (ev: WireEvent) => {
      if (toMachine(ev)) sendBack!({ type: 'SERVER.EVENT', event: ev });
    };
    sendBack!({ type: 'SOCKET.OPEN' });
    deliver({ type: 'session.created', event_id: 'e0', session: { id: `sess_${s}`, model: 'gpt-realtime', expires_at: Math.floor(Date.now() / 1000) + 3600 } });
    deliver({ type: 'session.updated', event_id: 'e1', session: {} });
    if (!actor.getSnapshot().matches({ online: 'live' })) throw new Error('the session did not go live');
    const measured = s >= p.warmup;
    const t0 = process.cpuUsage();
    for (const turn of scripts[s]) {
      actor.send({ type: 'USER.COMMIT' });
      for (const ev of turn) {
        deliver(ev);
        if (measured) {
          events++;
          if (toMachine(ev)) machineEvents++;
        }
      }
    }
    if (measured) {
      const d = process.cpuUsage(t0);
      cpuUs += d.user + d.system;
    }
    if (actor.getSnapshot().context.mirror.length !== 2 * p.turns) throw new Error(`mirror holds ${actor.getSnapshot().context.mirror.length} turns, expected ${2 * p.turns}`);
    actor.stop();
  }
  const us = cpuUs;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { events, toMachine: machineEvents, usPerEvent: r(us / events), usPerMachineEvent: r(us / machineEvents), usPerTurn: r(us / (p.sessions * p.turns)) };
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function child(script: string, p: { sessions: number; turns: number; warmup: number }): ChildResult {
  const out = spawnSync(process.execPath, ['--expose-gc', script, `--child=${JSON.stringify(p)}`], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`${script}: ${out.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as ChildResult;
}

export async function run(params: SessionEventsParams): Promise<BenchResult> {
  const t0 = Date.now();
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts')) throw new Error('session-events runs from dist/ (npm run build) so both trees run compiled JavaScript');
  const oldScript = params.oldDir ? `${params.oldDir}/dist/bench/session-events.js` : null;
  if (oldScript && !existsSync(oldScript)) throw new Error(`no ${oldScript}: build the old worktree first (npx tsc -p tsconfig.build.json there)`);
  const p = { sessions: params.sessions, turns: params.turns, warmup: Math.max(5, Math.round(params.sessions / 5)) };
  const news: ChildResult[] = [];
  const olds: ChildResult[] = [];
  for (let i = 0; i < params.runs; i++) {
    if (oldScript) {
      olds.push(child(oldScript, p));
      process.stdout.write(`   old run ${i + 1}: ${olds.at(-1)!.usPerEvent} us/event, ${olds.at(-1)!.usPerTurn} us/turn\n`);
    }
    news.push(child(self, p));
    process.stdout.write(`   new run ${i + 1}: ${news.at(-1)!.usPerEvent} us/event, ${news.at(-1)!.usPerTurn} us/turn\n`);
  }
  const fig = (rs: ChildResult[]) =>
    rs.length ? { usPerEvent: median(rs.map((r) => r.usPerEvent)), usPerMachineEvent: median(rs.map((r) => r.usPerMachineEvent)), usPerTurn: median(rs.map((r) => r.usPerTurn)), runs: rs.map((r) => r.usPerEvent) } : null;
  const newer = fig(news)!;
  const older = fig(olds);
  const figures: Record<string, unknown> = { sessions: p.sessions, turnsPerSession: p.turns, eventsPerTurn: news[0].events / (p.sessions * p.turns), new: newer, ...(older ? { old: older, oldTree: params.oldDir } : {}) };
  const checks = older
    ? [check('new / old (CPU per server event)', Math.round((newer.usPerEvent / older.usPerEvent) * 100) / 100, 'x', '<= 1.0', newer.usPerEvent / older.usPerEvent <= 1.0)]
    : [check('session machine, per server event', newer.usPerEvent, 'us', 'measured', true)];
  const notes = [
    `${p.sessions} sessions x ${p.turns} voice turns, ${figures.eventsPerTurn} wire events per turn (audio deltas excluded), each variant in ${params.runs} fresh child processes${older ? ', interleaved old,new' : ''}; medians.`,
  ];
  return result('Session machine: CPU per server event (in process, no I/O)', figures, checks, notes, Math.round((Date.now() - t0) / 1000));
}

// Child mode: measure and print one JSON line.
const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg && process.argv[1] === fileURLToPath(import.meta.url)) {
  const p = JSON.parse(childArg.slice('--child='.length)) as { sessions: number; turns: number; warmup: number };
  process.stdout.write(`${JSON.stringify(measure(p))}\n`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const r = await run({ runs: Number(arg('runs') ?? 4), sessions: Number(arg('sessions') ?? 200), turns: Number(arg('turns') ?? 20), oldDir: arg('old') });
  process.stdout.write(`${JSON.stringify(r.figures, null, 2)}\n${r.checks.map((c) => `${c.name}: ${c.value} ${c.unit} (${c.target})`).join('\n')}\n`);
}
