// Property-based fuzzing of the proxy's client edge (issue 27): arbitrary client frames (prototype
// keys, deep nesting, huge and odd numbers, sorted, duplicate and escaped keys, invalid UTF-8, binary
// frames, interleaved with valid events) through the real proxy to the embedded emulator. After every
// case: the proxy is up, Object.prototype is clean, the process's memory stays under a generous bound
// computed from its own baseline, and a fresh client still completes a response.
// Seeded and reproducible: the seed is printed; FUZZ_SEED=<n> replays a run, FUZZ_RUNS=<n> sets its length.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { peekType } from '../../src/proxy/index.js';
import { MAX_JSON_DEPTH, scanFrame } from '../../src/protocol/frame-scan.js';
import { RawClient } from '../helpers/emulator-client.js';
import { proxyOnEmulator, type ProxyRig } from '../helpers/proxy-rig.js';
import { sortedJson } from '../helpers/canonical-json.js';

const SEED = Number(process.env.FUZZ_SEED ?? 27_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const MB = 1024 * 1024;

let rig: ProxyRig;
let baseline: { rss: number; heap: number };

beforeAll(async () => {
  console.log(`proxy fuzz: seed ${SEED}, ${RUNS} runs (FUZZ_SEED=${SEED} to replay)`);
  rig = await proxyOnEmulator(
    { seed: 6, replyWords: 12 },
    { engine: { policy: { triggerTokens: 600, targetTokens: 250, keepLastTurns: 1, transcriptWaitMs: 200 }, reconnect: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 } } },
  );
  await freshClientCompletes(); // warm: the baseline includes one served connection
  const m = process.memoryUsage();
  baseline = { rss: m.rss, heap: m.heapUsed };
});

afterAll(async () => {
  await rig?.close();
});

/** A step that must end: a proxy that stopped answering fails the case instead of hanging the run. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function freshClientCompletes(): Promise<void> {
  const c = await within(5_000, 'a fresh client connecting', RawClient.connect(rig.proxy.url, { key: 'fuzz' }));
  await c.waitFor('session.created');
  const m = c.mark();
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'still there?' }] } });
  c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
  const done = await c.waitFor('response.done', m, 5_000);
  expect(done.response.status).toBe('completed');
  c.close();
  await within(5_000, 'a fresh client closing', c.closed);
}

// ---- frames -------------------------------------------------------------------------------------
type Frame = { data: Buffer; binary: boolean };
const text = (s: string): Frame => ({ data: Buffer.from(s), binary: false });

const userText = fc.string({ maxLength: 40 }).map((t) => ({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: t }] } }));
const validEvent = fc.oneof(
  userText,
  fc.constant({ type: 'response.create', response: { output_modalities: ['text'] } }),
  fc.constant({ type: 'response.cancel' }),
  fc.constant({ type: 'input_audio_buffer.clear' }),
  fc.uint8Array({ minLength: 0, maxLength: 960 }).map((a) => ({ type: 'input_audio_buffer.append', audio: Buffer.from(a).toString('base64') })),
  fc.string({ maxLength: 60 }).map((i) => ({ type: 'session.update', session: { type: 'realtime', instructions: i } })),
);


const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype');
const protoFrame = fc.tuple(protoKey, protoKey, fc.constantFrom('session', 'tracing', 'prompt', 'metadata')).map(([k1, k2, where]) => {
  const payload = `{"${k1}":{"${k2}":{"polluted":"fuzz"}}}`;
  const session =
    where === 'session' ? `{"type":"realtime","${k1}":{"polluted":"fuzz"}}` : where === 'metadata' ? `{"type":"realtime","tracing":{"metadata":${payload}}}` : `{"type":"realtime","${where}":${payload}}`;
  return text(`{"type":"session.update","session":${session}}`);
});
const deepFrame = fc.tuple(fc.integer({ min: MAX_JSON_DEPTH - 4, max: 8_000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) =>
  text(`{"type":"session.update","session":{"type":"realtime","tracing":${open.repeat(n)}${open === '[' ? '' : '1'}${(open === '[' ? ']' : '}').repeat(n)}}}`),
);
const oddNumber = fc.constantFrom('1e309', '-1e309', '-0', '1e-400', '123456789012345678901234567890', '0.1e1', '9007199254740993', 'NaN', 'Infinity', '-', '01');
const numberFrame = fc.tuple(oddNumber, fc.constantFrom('max_output_tokens', 'audio_end_ms', 'content_index')).map(([n, k]) =>
  k === 'max_output_tokens'
    ? text(`{"type":"response.create","response":{"max_output_tokens":${n}}}`)
    : text(`{"type":"conversation.item.truncate","item_id":"item_x","content_index":${k === 'content_index' ? n : 0},"audio_end_ms":${k === 'audio_end_ms' ? n : 0}}`),
);
const sortedFrame = validEvent.map((e) => text(sortedJson(e)));
const duplicateFrame = fc.constantFrom(
  '{"type":"input_audio_buffer.append","audio":"","type":"session.update","session":{"type":"realtime","instructions":"dup"}}',
  '{"type":"response.create","type":"input_audio_buffer.append","audio":"AAAA"}',
  '{"typ\\u0065":"session.update","type":"input_audio_buffer.append","audio":"","session":{"type":"realtime"}}',
  '{"type":"session.upd\\u0061te","session":{"type":"realtime","instructions":"escaped"}}',
  '{"event_id":"e","session":{"type":"realtime","instructions":"sorted"},"type":"session.update"}',
).map(text);
const invalidUtf8 = fc.tuple(validEvent, fc.constantFrom([0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80])).map(([e, bad]) => {
  const s = JSON.stringify(e);
  return { data: Buffer.concat([Buffer.from(s.slice(0, -1)), Buffer.from(bad), Buffer.from(s.slice(-1))]), binary: false };
});
const binaryFrame = fc.uint8Array({ maxLength: 200 }).map((a) => ({ data: Buffer.from(a), binary: true }));
const randomJson = fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 80 })).map(text);
const typedJson = fc.tuple(fc.constantFrom('session.update', 'response.create', 'conversation.item.create', 'input_audio_buffer.append', 'nope'), fc.jsonValue({ maxDepth: 4 }))
  .map(([type, v]) => text(JSON.stringify({ type, ...(v !== null && typeof v === 'object' && !Array.isArray(v) ? v : { session: v, response: v }) })));

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 3, arbitrary: validEvent.map((e) => text(JSON.stringify(e))) },
  { weight: 2, arbitrary: protoFrame },
  { weight: 2, arbitrary: deepFrame },
  { weight: 1, arbitrary: numberFrame },
  { weight: 2, arbitrary: sortedFrame },
  { weight: 2, arbitrary: duplicateFrame },
  { weight: 1, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: binaryFrame },
  { weight: 1, arbitrary: randomJson },
  { weight: 2, arbitrary: typedJson },
);

describe('proxy fuzz: arbitrary client frames', () => {
  it('after every case the proxy is up, memory bounded, prototypes clean, and a fresh client completes a response', async () => {
    // Generous and computed, not timed: the baseline plus room for every frame a run sends many times over.
    const rssBound = baseline.rss + 384 * MB;
    const heapBound = baseline.heap + 256 * MB;
    let worst = { rss: 0, heap: 0 };
    const closes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 12 }), async (frames) => {
        const c = await within(5_000, 'the fuzzing client connecting', RawClient.connect(rig.proxy.url, { key: 'fuzz' }));
        await c.waitFor('session.created', 0, 5_000);
        for (const f of frames) if (c.ws.readyState === c.ws.OPEN) c.ws.send(f.data, { binary: f.binary });
        await freshClientCompletes();
        c.close();
        const closed = await within(5_000, 'the fuzzing client closing', c.closed);
        closes.set(closed.code, (closes.get(closed.code) ?? 0) + 1);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
        const m = process.memoryUsage();
        worst = { rss: Math.max(worst.rss, m.rss), heap: Math.max(worst.heap, m.heapUsed) };
        expect(m.rss).toBeLessThan(rssBound);
        expect(m.heapUsed).toBeLessThan(heapBound);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(
      `proxy fuzz: rss ${Math.round(baseline.rss / MB)} -> max ${Math.round(worst.rss / MB)} MB (bound ${Math.round(rssBound / MB)}), heap ${Math.round(baseline.heap / MB)} -> max ${Math.round(worst.heap / MB)} MB; client closes ${JSON.stringify(Object.fromEntries(closes))}`,
    );
    // Every connection the cases opened has ended: nothing lingers in the proxy.
    for (let i = 0; i < 100 && rig.proxy.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rig.proxy.connections()).toEqual([]);
  }, 120_000);
});

describe('frame scan: the top-level type and the depth, against JSON.parse', () => {
  /** Nesting depth of a parsed value (objects and arrays), the oracle for scanFrame's depth. */
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === 'object' ? 1 + Math.max(0, ...(Array.isArray(v) ? v : Object.values(v as object)).map(depthOf)) : 0;

  it('peekType is the parsed top-level type or null, never another key\'s; type-first frames are always read', () => {
    const eventLike = fc.tuple(fc.string({ maxLength: 30 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), fc.boolean(), fc.boolean());
    fc.assert(
      fc.property(eventLike, ([type, rest, typeFirst, sorted]) => {
        const obj: Record<string, unknown> = typeFirst ? { type, ...rest } : { ...rest, type };
        obj.type = type;
        const s = sorted ? sortedJson(obj) : JSON.stringify(obj);
        const peeked = peekType(Buffer.from(s));
        const parsed = JSON.parse(s) as { type: unknown };
        if (peeked !== null) expect(peeked).toBe(parsed.type);
        // The fast path stays for frames that start with their type and escape nothing (an escaped key
        // might decode to a second "type": then the scan leaves it to the parser).
        if (s.startsWith(`{"type":${JSON.stringify(type)}`) && !s.includes('\\')) expect(peeked).toBe(type);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('the depth scanned is the parsed depth, and only frames deeper than the limit are refused', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 80 }), (v, wrap) => {
        const s = `${'['.repeat(wrap)}${JSON.stringify(v)}${']'.repeat(wrap)}`;
        const expected = wrap + depthOf(v);
        const scan = scanFrame(Buffer.from(s));
        expect(scan.tooDeep).toBe(expected > MAX_JSON_DEPTH);
        if (!scan.tooDeep) expect(scan.depth).toBe(expected);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
