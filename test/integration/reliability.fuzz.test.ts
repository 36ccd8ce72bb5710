// Property-based fuzzing of the server -> client path with fast-check: at least 100,000 generated and
// mutated server messages (malformed JSON, wrong types, missing fields, unknown types, events for
// unknown items, out-of-order and duplicate ids, oversized payloads) fed into LIVE sessions.
//
// What is exercised, and how (the choice the brief asked to state):
//  (b) MAIN, >= 100,000 messages, invariants after EVERY message. Two agents (GA and beta dialect)
//      are started against the emulator and go live over real sockets. The test captures each agent's
//      RealtimeSocket (RealtimeSocket.prototype.onFrame is wrapped once to learn `this`; the agent
//      does not expose its socket) and delivers every fuzzed frame through the socket's own ws
//      'message' listener (`sock.ws.emit('message', buf, false)`), i.e. the real path
//      frame -> parseFrame -> beta dialect translation -> agent plane/machine, synchronously. After
//      each message: no exception escaped, the root actor is still active, the mirror is consistent
//      (no holes, unique string ids, valid kinds/states), exactly one summariser child exists, and
//      the journal is valid JSONL (read incrementally). Between batches the event loop runs, so the
//      engine's own requests (retrieves, summary insert/deletes) really reach the emulator.
//  (a) ALSO, fewer messages (>= 3,000), sent by the emulator itself over the wire
//      (`handle.inject(raw)`), in batches; each batch ends with a unique unknown-type sentinel whose
//      "ignored unknown server event type" log line proves the batch was delivered, then the
//      invariants are checked.
// The run count and the fast-check seed are printed; FUZZ_SEED=<n> reproduces a run.
// Found by random seeds and pinned down as deterministic tests below: an `error` event whose code is
// an Object.prototype member name ("constructor", "valueOf", ...) ends the session as fatal; on the
// beta dialect an event whose TYPE is such a name throws out of the socket's message handler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { RealtimeSocket } from '../../adapters/realtime-socket.js';
import { createRealtimeAgent } from '../../src/agent.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { SERVER_ERROR_RULES } from '../../src/protocol/server-errors.js';
import type { RealtimeAgent } from '../../src/types.js';
import { waitUntil } from '../helpers/engine.js';
import { JournalTail, mirrorProblem, startFakeLlm, summariserChildren } from '../helpers/reliability-kit.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A fixed default keeps the suite deterministic for everyone; FUZZ_SEED=<n> replays a run and
// FUZZ_SEED=random explores (the seed used is printed either way).
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20_240_611);
const TARGET_MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 100_000);
const WIRE_MESSAGES = 3_000;

// ---- generators ----------------------------------------------------------------------------------

const ids = [...Array.from({ length: 24 }, (_, i) => `item_fz${String(i).padStart(2, '0')}`), 'sum_001', 'seed_1', 'root', '__proto__', 'constructor', 'toString', '', ' ', 'x'.repeat(300), 'ítem_ünïcödé_☃'];
const idArb = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });
const respIdArb = fc.constantFrom('resp_a', 'resp_b', 'resp_c', 'resp_d', '', 'resp_' + 'z'.repeat(64));
const textArb = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('hello', 'You said: what', '[inaudible]', '', '\u0000\uFFFF\uD800', '{"type":"error"}'));
const weird = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 8 }), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { maxLength: 3 }));

const NON_FATAL_CODES = Object.entries(SERVER_ERROR_RULES).filter(([, r]) => r.class !== 'fatal').map(([k]) => k);
const GA_TYPES = [
  'session.created', 'session.updated', 'conversation.created', 'conversation.item.added', 'conversation.item.created', 'conversation.item.done',
  'conversation.item.retrieved', 'conversation.item.deleted', 'conversation.item.truncated',
  'conversation.item.input_audio_transcription.delta', 'conversation.item.input_audio_transcription.completed', 'conversation.item.input_audio_transcription.failed',
  'input_audio_buffer.committed', 'input_audio_buffer.cleared', 'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped',
  'response.created', 'response.done', 'response.output_item.added', 'response.output_item.done', 'response.content_part.added', 'response.content_part.done',
  'response.output_text.delta', 'response.output_text.done', 'response.output_audio.delta', 'response.output_audio.done',
  'response.output_audio_transcript.delta', 'response.output_audio_transcript.done', 'response.function_call_arguments.delta',
  'response.function_call_arguments.done', 'rate_limits.updated', 'error',
];
const BETA_TYPES = ['response.text.delta', 'response.text.done', 'response.audio.delta', 'response.audio.done', 'response.audio_transcript.delta', 'response.audio_transcript.done'];

const partArb = fc.record(
  {
    type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('input_text', 'output_text', 'text', 'input_audio', 'output_audio', 'audio') }, { weight: 1, arbitrary: fc.constantFrom('image', 'input_image', '') }),
    text: fc.option(textArb, { nil: undefined }),
    transcript: fc.oneof(textArb, fc.constant(null), fc.constant(undefined)),
    audio: fc.option(fc.constantFrom('', 'AAAA', 'not base64!'), { nil: undefined }),
  },
  { requiredKeys: ['type'] },
);
const itemArb = fc.record(
  {
    id: idArb,
    object: fc.constant('realtime.item'),
    type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('message', 'function_call', 'function_call_output') }, { weight: 1, arbitrary: fc.constantFrom('mcp_call', 'reasoning', '') }),
    role: fc.constantFrom('user', 'assistant', 'system', 'developer', 'robot'),
    status: fc.constantFrom('completed', 'in_progress', 'incomplete'),
    content: fc.array(partArb, { maxLength: 3 }),
    call_id: fc.constantFrom('call_1', 'call_2', 'call_3'),
    name: fc.constantFrom('get_weather', 'lookup'),
    arguments: fc.constantFrom('{}', '{"city":"Paris"}', '{broken'),
    output: fc.constantFrom('{"temp":21}', 'done', ''),
  },
  { requiredKeys: ['id', 'type'] },
);
const usageArb = fc.record(
  {
    total_tokens: fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(-1)),
    input_tokens: fc.integer({ min: 0, max: 50_000 }),
    output_tokens: fc.integer({ min: 0, max: 5_000 }),
    input_token_details: fc.record({ text_tokens: fc.nat(), audio_tokens: fc.nat(), cached_tokens: fc.nat() }),
    output_token_details: fc.record({ text_tokens: fc.nat(), audio_tokens: fc.nat() }),
  },
  { requiredKeys: [] },
);
const responseArb = fc.record(
  {
    id: respIdArb,
    object: fc.constant('realtime.response'),
    status: fc.constantFrom('in_progress', 'completed', 'failed', 'cancelled', 'incomplete'),
    status_details: fc.option(fc.record({ type: fc.constantFrom('failed', 'cancelled'), error: fc.record({ type: fc.string({ maxLength: 10 }), code: fc.constantFrom('rate_limit_exceeded', 'server_error', '') }) }), { nil: null }),
    output: fc.array(itemArb, { maxLength: 3 }),
    usage: fc.option(usageArb, { nil: null }),
    metadata: fc.option(fc.constantFrom({ purpose: 'rtc-summary' }, { topic: 'x' }), { nil: null }),
    conversation_id: fc.constantFrom('conv_1', null, undefined),
  },
  { requiredKeys: ['id'] },
);

/** A well-formed-looking event of a known type, ids drawn from a small pool (duplicates, reorderings). */
const baseEventArb = fc.record({
  type: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...GA_TYPES) }, { weight: 2, arbitrary: fc.constantFrom(...BETA_TYPES) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }),
  event_id: fc.constantFrom('event_1', 'event_2', 'event_dup'),
  item_id: idArb,
  previous_item_id: fc.oneof(idArb, fc.constant(null), fc.constant(undefined)),
  response_id: respIdArb,
  output_index: fc.nat(3),
  content_index: fc.nat(2),
  item: itemArb,
  response: responseArb,
  delta: fc.oneof(textArb, fc.constantFrom('AAAAAAAA', 'AAAA====')),
  transcript: textArb,
  text: textArb,
  audio_start_ms: fc.integer({ min: -10, max: 100_000 }),
  audio_end_ms: fc.integer({ min: -10, max: 100_000 }),
  error: fc.record({ type: fc.constantFrom('invalid_request_error', 'server_error'), code: fc.oneof(fc.constantFrom(...NON_FATAL_CODES), fc.string({ maxLength: 12 })), message: textArb, event_id: fc.constantFrom(null, 'rtc_1', 'c_1') }),
  session: fc.record({ id: fc.constantFrom('sess_fz', 7), model: fc.constantFrom('gpt-realtime', ''), expires_at: fc.oneof(fc.integer(), fc.constant(null)) }),
}).map((e) => prune(e));

/** Keeps the fields that belong to the event's type (plus, sometimes, stray ones: mutated below). */
function prune(e: Record<string, unknown>): Record<string, unknown> {
  const t = String(e.type);
  const keep = new Set(['type', 'event_id']);
  if (/^conversation\.item\.(added|created|done|retrieved)$/.test(t)) ['item', 'previous_item_id'].forEach((k) => keep.add(k));
  if (/transcription|deleted|truncated|speech_|committed|output_|content_part|function_call_arguments|transcript|text\.|audio\./.test(t)) ['item_id', 'response_id', 'content_index', 'output_index', 'delta', 'transcript', 'text', 'audio_start_ms', 'audio_end_ms', 'item'].forEach((k) => keep.add(k));
  if (/^response\.(created|done)$/.test(t)) keep.add('response');
  if (t === 'error') keep.add('error');
  if (/^session\./.test(t)) keep.add('session');
  if (!GA_TYPES.includes(t) && !BETA_TYPES.includes(t)) Object.keys(e).forEach((k) => keep.add(k));
  return Object.fromEntries(Object.entries(e).filter(([k, v]) => keep.has(k) && v !== undefined));
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'dropField'; pick: number }
  | { kind: 'wrongType'; pick: number; value: unknown }
  | { kind: 'nestedWrongType'; field: 'item' | 'response' | 'error'; key: string; value: unknown }
  | { kind: 'unknownType'; type: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'garbage'; at: number; junk: string }
  | { kind: 'notObject'; raw: string }
  | { kind: 'oversized'; field: 'delta' | 'transcript' | 'text' | 'item'; bytes: number }
  | { kind: 'hugeArray'; n: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 6, arbitrary: fc.nat().map((pick) => ({ kind: 'dropField' as const, pick })) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('wrongType' as const), pick: fc.nat(), value: weird }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('nestedWrongType' as const), field: fc.constantFrom('item' as const, 'response' as const, 'error' as const), key: fc.constantFrom('id', 'type', 'role', 'content', 'output', 'usage', 'code', 'message', 'status'), value: weird }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }).map((type) => ({ kind: 'unknownType' as const, type })) },
  { weight: 3, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('garbage' as const), at: fc.nat(), junk: fc.constantFrom('}', '{', '"', '\\', ',', '\u0000', ']]', 'NaN', '\uFEFF') }) },
  { weight: 2, arbitrary: fc.constantFrom('[]', '[{"type":"error"}]', '42', '"response.done"', 'null', 'true', '', ' ', '{}', '{"type":""}', '{"type":7}', '{"type":null}', '\uFEFF{"type":"response.done"}', 'undefined').map((raw) => ({ kind: 'notObject' as const, raw })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversized' as const), field: fc.constantFrom('delta' as const, 'transcript' as const, 'text' as const, 'item' as const), bytes: fc.integer({ min: 64 * 1024, max: 512 * 1024 }) }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 3000 }).map((n) => ({ kind: 'hugeArray' as const, n })) },
);

function applyMutation(ev: Record<string, unknown>, m: Mutation): string {
  const keys = Object.keys(ev);
  const e: Record<string, unknown> = { ...ev };
  switch (m.kind) {
    case 'none':
      return JSON.stringify(e);
    case 'dropField':
      delete e[keys[m.pick % keys.length]];
      return JSON.stringify(e);
    case 'wrongType':
      e[keys[m.pick % keys.length]] = m.value;
      return JSON.stringify(e);
    case 'nestedWrongType': {
      const inner = e[m.field];
      e[m.field] = inner && typeof inner === 'object' && !Array.isArray(inner) ? { ...inner, [m.key]: m.value } : m.value;
      return JSON.stringify(e);
    }
    case 'unknownType':
      e.type = m.type;
      return JSON.stringify(e);
    case 'truncate': {
      const s = JSON.stringify(e);
      return s.slice(0, m.at % Math.max(1, s.length));
    }
    case 'garbage': {
      const s = JSON.stringify(e);
      const at = m.at % (s.length + 1);
      return s.slice(0, at) + m.junk + s.slice(at);
    }
    case 'notObject':
      return m.raw;
    case 'oversized': {
      // Text that can reach the mirror (item text, transcripts) is made of words: an unbroken run of
      // that size stalls the engine for minutes (token estimation), which is its own test below.
      const words = 'lorem ipsum dolor '.repeat(Math.ceil(m.bytes / 18));
      if (m.field === 'item') e.item = { id: 'item_fz00', type: 'message', role: 'user', content: [{ type: 'input_text', text: words }] };
      else e[m.field] = m.field === 'delta' ? 'A'.repeat(m.bytes) : words;
      return JSON.stringify(e);
    }
    case 'hugeArray':
      e.item = { id: 'item_fz01', type: 'message', role: 'assistant', content: Array.from({ length: m.n }, () => ({ type: 'output_text', text: 'x' })) };
      e.response = { id: 'resp_a', status: 'completed', output: Array.from({ length: Math.min(m.n, 500) }, (_, i) => ({ id: `item_fz${String(i % 24).padStart(2, '0')}`, type: 'message', role: 'assistant', content: [] })) };
      return JSON.stringify(e);
  }
}

/** One wire message: a base event, maybe mutated; sometimes sent twice in a row (duplicate). */
const messageArb = fc.tuple(baseEventArb, mutationArb, fc.integer({ min: 0, max: 19 })).map(([ev, m, dup]) => {
  const raw = applyMutation(ev, m);
  return dup === 0 ? [raw, raw] : [raw];
});
const batchArb = fc.array(messageArb, { minLength: 30, maxLength: 50, size: 'max' }).map((b) => b.flat());

// ---- the live sessions ---------------------------------------------------------------------------

interface Live {
  name: string;
  agent: RealtimeAgent;
  sock: RealtimeSocket;
  tail: JournalTail;
  logs: string[];
  internalErrors: string[];
  stats: { rejected: number; unknownTypes: number; turns: number; summaries: number; summaryFailures: number; errors: number; maxMirror: number };
}

let emu: Emulator;
const lives: Live[] = [];
const captured: RealtimeSocket[] = [];
const proto = RealtimeSocket.prototype as unknown as { onFrame: (data: Buffer, isBinary: boolean) => void };
const originalOnFrame = proto.onFrame;

async function startLive(name: string, dialect: 'ga' | 'beta'): Promise<Live> {
  const journal = join(mkdtempSync(join(tmpdir(), 'rtc-fuzz-')), 'journal.jsonl');
  const logs: string[] = [];
  const stats = { rejected: 0, unknownTypes: 0, turns: 0, summaries: 0, summaryFailures: 0, errors: 0, maxMirror: 0 };
  const agent = createRealtimeAgent({
    connection: { url: emu.url, apiKey: 'sk-fuzz-0123456789abcdef', dialect },
    session: { turnDetection: null },
    journal,
    log: (l) => {
      if (l.startsWith('ignored: malformed')) stats.rejected++;
      else if (l.startsWith('ignored unknown server event type')) stats.unknownTypes++;
      logs.push(l);
      if (logs.length > 2_000) logs.splice(0, 1_000);
    },
    policy: { triggerTokens: 30_000, targetTokens: 0, keepLastTurns: 2, transcriptWaitMs: 100, transcriptBackoffMs: 20, transcriptMaxAttempts: 2, ackTimeoutMs: 1_000, cooldownMs: 50 },
    summariser: { baseURL: emu.httpUrl, timeoutMs: 2_000, maxRetries: 0 },
  });
  const internalErrors: string[] = [];
  agent.on('error', (e) => {
    stats.errors++;
    if (e.code === 'summariser_failed') stats.summaryFailures++;
    if (/internal error/.test(e.message)) internalErrors.push(e.message);
  });
  agent.on('turn', () => stats.turns++);
  agent.on('summary', () => stats.summaries++);
  const before = captured.length;
  await agent.start();
  // The first frame (session.created) went through onFrame: the newest captured socket is this agent's.
  const sock = captured.slice(before).find((s) => s.options.dialect === dialect)!;
  expect(sock).toBeDefined();
  return { name, agent, sock, tail: new JournalTail(agent.journalPath!), logs, internalErrors, stats };
}

function invariants(l: Live, raw: string): void {
  const where = () => `${l.name}, after message ${JSON.stringify(raw.slice(0, 300))}`;
  const snap = l.agent.actor.getSnapshot();
  if (snap.status !== 'active') throw new Error(`the session actor is ${snap.status} (${JSON.stringify(snap.value)}): ${where()}`);
  const mirror = l.agent.history();
  l.stats.maxMirror = Math.max(l.stats.maxMirror, mirror.length);
  const problem = mirrorProblem(mirror);
  if (problem) throw new Error(`mirror: ${problem}: ${where()}`);
  const n = summariserChildren(l.agent);
  if (n !== 1) throw new Error(`${n} summariser children: ${where()}`);
  try {
    l.tail.check();
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${where()}`);
  }
  if (l.internalErrors.length) throw new Error(`${l.internalErrors[0]}: ${where()}`);
}

beforeAll(async () => {
  proto.onFrame = function (this: RealtimeSocket, data: Buffer, isBinary: boolean) {
    if (!captured.includes(this)) captured.push(this);
    return originalOnFrame.call(this, data, isBinary);
  };
  emu = await startEmulator({ audioPacing: 'fast', seed: 7, allowBeta: true }); // one of the two agents speaks beta
  lives.push(await startLive('ga', 'ga'));
  lives.push(await startLive('beta', 'beta'));
});

afterAll(async () => {
  proto.onFrame = originalOnFrame;
  for (const l of lives) await l.agent.stop();
  await emu?.close();
});

describe('fuzzing the server -> client path', () => {
  it(`>= ${TARGET_MESSAGES.toLocaleString('en')} generated/mutated messages through parse -> dialect -> machine, invariants after every message`, async () => {
    let count = 0;
    let batches = 0;
    const slowest = { ms: 0, raw: '' };
    const t0 = Date.now();
    const result = await fc.check(
      fc.asyncProperty(batchArb, fc.nat(9), async (batch, which) => {
        const l = lives[which < 7 ? 0 : 1];
        for (const raw of batch) {
          // Straight into the socket's ws 'message' listener: what a frame from the network does.
          const a = performance.now();
          l.sock.ws.emit('message', Buffer.from(raw), false);
          const ms = performance.now() - a;
          if (ms > slowest.ms) Object.assign(slowest, { ms, raw: raw.slice(0, 160) });
          count++;
          invariants(l, raw);
        }
        batches++;
        // Let the engine's own I/O (retrieves, summary insert/deletes, timers) run between batches.
        await new Promise((r) => setImmediate(r));
        for (const other of lives) invariants(other, '(between batches)');
      }),
      { seed: SEED, numRuns: Math.ceil(TARGET_MESSAGES / 38), endOnFailure: true },
    );
    console.log(`[fuzz] seed=${SEED} (FUZZ_SEED=${SEED} reproduces) messages=${count} batches=${batches} ${Date.now() - t0} ms; slowest message ${slowest.ms.toFixed(1)} ms: ${slowest.raw}`);
    if (result.failed) {
      throw new Error(`fuzz property failed (seed ${SEED}, path ${result.counterexamplePath}): ${String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance)}`);
    }
    for (const l of lives) console.log(`[fuzz] ${l.name}: ${JSON.stringify(l.stats)} journal lines ${l.tail.lines}`);
    expect(count).toBeGreaterThanOrEqual(TARGET_MESSAGES);
    // The fuzz reached past the parser: frames rejected, unknown types ignored, turns mirrored,
    // summaries attempted (so planning, insert and prune ran against fuzzed mirrors).
    for (const l of lives) {
      expect(l.stats.rejected, `${l.name}: frames rejected by the parser`).toBeGreaterThan(0);
      expect(l.stats.unknownTypes, `${l.name}: unknown types ignored`).toBeGreaterThan(0);
      expect(l.stats.turns, `${l.name}: turns mirrored`).toBeGreaterThan(100);
      expect(l.stats.maxMirror, `${l.name}: mirror size reached`).toBeGreaterThan(5);
    }
    expect(lives[0].stats.summaries + lives[0].stats.summaryFailures, 'summaries attempted (ga)').toBeGreaterThan(0);
    for (const l of lives) expect(l.tail.torn, `${l.name} journal ends with a complete line`).toBe(false);
    // No crash: both sessions still answer a real turn once the fuzzed in-flight response is closed.
    for (const l of lives) {
      // The fuzz may have left a fuzzed response "in flight" (created, never done): end it the way the
      // server would, with a fresh in-band response id.
      if (l.agent.actor.getSnapshot().matches({ online: { live: { response: 'active' } } })) {
        l.sock.ws.emit('message', Buffer.from(JSON.stringify({ type: 'response.done', event_id: 'event_end', response: { id: 'resp_fuzz_end', status: 'completed', output: [] } })), false);
      }
      const answered = new Promise<string>((resolve) => {
        const off = l.agent.on('turn', (t) => {
          if (t.role === 'assistant' && t.textState === 'final' && t.text?.includes('You said: are you still alive')) {
            off();
            resolve(t.text);
          }
        });
      });
      l.agent.sendText('are you still alive');
      const text = await Promise.race([answered, new Promise<string>((_, rej) => setTimeout(() => rej(new Error(`${l.name} never answered after the fuzz`)), 15_000))]);
      expect(text).toContain('You said: are you still alive');
      invariants(l, '(after the real turn)');
    }
  }, 300_000); // a bound against hangs, not a speed check (bench/ measures speed): 100k messages take ~75 s on a loaded 2-core machine

  it(`>= ${WIRE_MESSAGES.toLocaleString('en')} messages sent by the emulator over the real socket (handle.inject), invariants after each delivered batch`, async () => {
    // Its own live session, so this part does not depend on how the main fuzz left the others.
    const l = await startLive('wire', 'ga');
    lives.push(l);
    const handle = emu.sessions().at(-1)!;
    expect(handle.dialect).toBe('ga');
    const batches = fc.sample(batchArb, { seed: SEED + 1, numRuns: Math.ceil(WIRE_MESSAGES / 38) });
    let count = 0;
    for (let i = 0; i < batches.length; i++) {
      for (const raw of batches[i]) {
        handle.inject(raw);
        count++;
      }
      const sentinel = `fuzz.sentinel.${SEED}.${i}`;
      handle.inject({ type: sentinel, event_id: 'event_sentinel' });
      await waitUntil(() => l.logs.some((x) => x.includes(sentinel)), 10_000, `batch ${i} delivered`);
      invariants(l, `(wire batch ${i})`);
    }
    console.log(`[fuzz/wire] seed=${SEED + 1} messages=${count} batches=${batches.length}`);
    expect(count).toBeGreaterThanOrEqual(WIRE_MESSAGES);
  }, 60_000);

  it.each(['constructor', 'valueOf', 'toString', '__proto__', 'hasOwnProperty'])('an error event with code %j (an Object.prototype member name) is not fatal: the session goes on', async (code) => {
    const l = await startLive(`proto-${code}`, 'ga');
    try {
      const errors: string[] = [];
      l.agent.on('error', (e) => errors.push(`${String(e.code)}${e.fatal ? ' (fatal)' : ''}`));
      l.sock.ws.emit('message', Buffer.from(JSON.stringify({ type: 'error', event_id: 'event_p1', error: { type: 'invalid_request_error', code, message: 'odd code', param: null, event_id: null } })), false);
      expect(errors.filter((e) => e.includes('fatal')), 'fatal errors reported').toEqual([]);
      expect(l.agent.actor.getSnapshot().matches({ online: 'live' })).toBe(true);
    } finally {
      await l.agent.stop();
    }
  });

  it.each(['constructor', 'toString', '__proto__', 'valueOf'])('beta dialect: a server event of type %j is ignored, nothing is thrown out of the socket handler', async (type) => {
    const l = lives[1];
    expect(l.sock.options.dialect).toBe('beta');
    // ws would turn a throw from a 'message' listener into an uncaught exception: the process dies.
    expect(() => l.sock.ws.emit('message', Buffer.from(JSON.stringify({ type, event_id: 'event_t1' })), false)).not.toThrow();
    expect(l.agent.actor.getSnapshot().status).toBe('active');
  });

  it('an oversized unbroken text (128 KB, no spaces) in the mirror does not freeze the engine when a summary is planned', async () => {
    // The one wall-clock bound in this file, with a wide margin: planning needs milliseconds for
    // 128 KB of ordinary words (see the main fuzz); 2 s is ~200x that. Exact BPE on one unbroken
    // 128 KB run is super-linear (seconds) and blocks the event loop: audio, keepalive and all.
    const llm = await startFakeLlm(() => ({ kind: 'status', status: 200, body: JSON.stringify({ id: 'c1', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'short summary' } }] }) }));
    const agent = createRealtimeAgent({
      connection: { url: emu.url, apiKey: 'sk-fuzz-0123456789abcdef' },
      session: { turnDetection: null },
      journal: false,
      policy: { triggerTokens: 1_000_000, targetTokens: 0, keepLastTurns: 1, cooldownMs: 50 },
      summariser: { baseURL: llm.baseURL, maxRetries: 0 },
    });
    try {
      const before = captured.length;
      await agent.start();
      const sock = captured.slice(before)[0];
      const blob = 'A'.repeat(128 * 1024);
      sock.ws.emit('message', Buffer.from(JSON.stringify({ type: 'conversation.item.added', event_id: 'e1', previous_item_id: null, item: { id: 'item_blob', type: 'message', role: 'user', content: [{ type: 'input_text', text: blob }] } })), false);
      sock.ws.emit('message', Buffer.from(JSON.stringify({ type: 'conversation.item.added', event_id: 'e2', previous_item_id: 'item_blob', item: { id: 'item_next', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'next' }] } })), false);
      expect(agent.history().map((t) => t.id)).toEqual(['item_blob', 'item_next']);
      const t0 = performance.now();
      agent.summariseNow();
      await new Promise((r) => setImmediate(r));
      const blocked = performance.now() - t0;
      console.log(`[fuzz] planning a summary over a 128 KB unbroken text blocked the event loop for ${blocked.toFixed(0)} ms`);
      expect(blocked, 'event loop blocked (ms) by token estimation').toBeLessThan(2_000);
    } finally {
      await agent.stop();
      await llm.close();
    }
  }, 120_000);
});
