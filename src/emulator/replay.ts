// The replay checker: plays the client side of a recording (adapters/recorder.ts format) against a
// fresh emulator and reports every difference in event types, order, error codes, close codes and
// field shapes — never ids, text or timings (README "Recordings").
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startEmulator } from './start.js';
import type { EmulatorOptions } from './options.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface RecordingLine {
  t?: number;
  dir: 'meta' | 'connect' | 'send' | 'recv' | 'close';
  event?: Obj;
  text?: string;
  binary?: number;
  code?: number;
  reason?: string;
  /** close line: who started the close (recordings made before this field: see clientClosed()). */
  by?: 'client' | 'server';
  handshake?: { url: string; dialect?: 'ga' | 'beta'; auth?: 'bearer' | 'api-key' | 'none' };
  /** meta line: "partial" = fixtures written from captured facts list only the fields they know. */
  fields?: 'complete' | 'partial';
}

export interface ReplayDifference {
  connection: number;
  kind: 'missing' | 'extra' | 'order' | 'code' | 'shape' | 'close';
  /** Position in the recorded server sequence (after delta runs are collapsed). */
  at: number;
  message: string;
}

export interface ReplayResult {
  ok: boolean;
  connections: number;
  differences: ReplayDifference[];
}

export interface ReplayOptions {
  /** Extra emulator options (the checker sets pacing, seed, allowBeta and apiKey itself). */
  emulator?: EmulatorOptions;
  /** Max wait for the server to catch up with the recording at each step (ms, default 3000). */
  stepTimeoutMs?: number;
}

export function parseRecording(text: string): RecordingLine[] {
  const out: RecordingLine[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`recording line ${i + 1}: not JSON`);
    }
    if (!isObj(v) || typeof v.dir !== 'string') throw new Error(`recording line ${i + 1}: expected an object with "dir"`);
    out.push(v as unknown as RecordingLine);
  });
  return out;
}

/** Groups the lines per connection (a recording without `connect` lines is one connection). */
function connections(lines: RecordingLine[]): RecordingLine[][] {
  const out: RecordingLine[][] = [];
  for (const l of lines) {
    if (l.dir === 'meta') continue;
    if (l.dir === 'connect' || !out.length) out.push([]);
    out[out.length - 1].push(l);
  }
  return out.filter((c) => c.some((l) => l.dir !== 'connect'));
}

/** A deterministic "speech" tone of n pcm16 bytes, for `{ $bytes: n }` audio placeholders. */
function toneBase64(n: number): string {
  const b = Buffer.alloc(n - (n % 2));
  for (let i = 0; i < b.length / 2; i++) b.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / 24000) * 0.3 * 32767), i * 2);
  return b.toString('base64');
}

function restoreAudio(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(restoreAudio);
  if (!isObj(v)) return v;
  if (typeof v.$bytes === 'number' && Object.keys(v).length === 1) return toneBase64(v.$bytes);
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = restoreAudio(x);
  return out;
}

/** The comparable identity of a server frame: its type, and for errors the code. */
function label(ev: Obj | undefined): string {
  if (!ev) return '(not JSON)';
  const type = String(ev.type);
  if (type === 'error' && isObj(ev.error)) return `error(${ev.error.code === null ? 'null' : String(ev.error.code)})`;
  return type;
}

/** Consecutive delta events of one type count once: how many deltas a reply has is content. */
function collapse(events: Obj[]): Obj[] {
  return events.filter((e, i) => !(String(e.type).endsWith('.delta') && i > 0 && events[i - 1].type === e.type));
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  // The recorder writes base64 audio as {"$bytes": n}: still a string on the wire.
  if (isObj(v) && typeof v.$bytes === 'number' && Object.keys(v).length === 1) return 'string';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Shape differences between a recorded value and the emulator's: missing fields, different JSON
 * kinds (null vs string counts), and — unless the recording is partial — extra fields. Arrays are
 * compared by their first element (lengths are content).
 */
function shapeDiff(rec: unknown, act: unknown, path: string, partial: boolean, out: string[]): void {
  if (kind(rec) !== kind(act)) {
    out.push(`${path || '(event)'}: ${kind(rec)} recorded, ${kind(act)} from the emulator`);
    return;
  }
  if (Array.isArray(rec) && Array.isArray(act)) {
    if (rec.length && act.length) shapeDiff(rec[0], act[0], `${path}[0]`, partial, out);
    return;
  }
  if (!isObj(rec) || !isObj(act)) return;
  for (const k of Object.keys(rec)) {
    if (!(k in act)) out.push(`${path ? `${path}.` : ''}${k}: recorded, absent from the emulator`);
    else shapeDiff(rec[k], act[k], path ? `${path}.${k}` : k, partial, out);
  }
  if (!partial) for (const k of Object.keys(act)) if (!(k in rec)) out.push(`${path ? `${path}.` : ''}${k}: sent by the emulator, absent from the recording`);
}

/** Longest common subsequence of labels: the pairs of (recorded, actual) indexes that match. */
function lcs(a: string[], b: string[]): Array<[number, number]> {
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const pairs: Array<[number, number]> = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

/** Compares one connection's recorded server frames with what the emulator sent. */
export function compareServerEvents(recorded: Obj[], actual: Obj[], partial: boolean, connection = 0): ReplayDifference[] {
  const rec = collapse(recorded);
  const act = collapse(actual);
  const ra = rec.map(label);
  const aa = act.map(label);
  const pairs = lcs(ra, aa);
  const diffs: ReplayDifference[] = [];
  const matchedR = new Set(pairs.map((p) => p[0]));
  const matchedA = new Set(pairs.map((p) => p[1]));
  const extraLabels = aa.filter((_, j) => !matchedA.has(j));
  const missingLabels = ra.filter((_, i) => !matchedR.has(i));
  ra.forEach((l, i) => {
    if (matchedR.has(i)) return;
    const before = i > 0 ? ` (after ${ra[i - 1]})` : ' (first)';
    const errorCode = l.startsWith('error(') && aa.some((x, j) => !matchedA.has(j) && x.startsWith('error('));
    if (errorCode) diffs.push({ connection, kind: 'code', at: i, message: `recorded ${l}${before}; the emulator sent ${aa.find((x, j) => !matchedA.has(j) && x.startsWith('error('))}` });
    else if (extraLabels.includes(l)) diffs.push({ connection, kind: 'order', at: i, message: `${l} is out of order: recorded at position ${i}${before}, elsewhere from the emulator` });
    else diffs.push({ connection, kind: 'missing', at: i, message: `recorded ${l}${before}; the emulator never sent it` });
  });
  aa.forEach((l, j) => {
    if (matchedA.has(j) || missingLabels.includes(l) || (l.startsWith('error(') && missingLabels.some((m) => m.startsWith('error(')))) return;
    diffs.push({ connection, kind: 'extra', at: j, message: `the emulator sent ${l}${j > 0 ? ` (after ${aa[j - 1]})` : ' (first)'}; not in the recording` });
  });
  for (const [i, j] of pairs) {
    const out: string[] = [];
    shapeDiff(rec[i], act[j], '', partial, out);
    for (const m of out) diffs.push({ connection, kind: 'shape', at: i, message: `${ra[i]}: ${m}` });
  }
  return diffs;
}

interface Live {
  events: Obj[];
  /** When each event arrived (Date.now()), index for index with `events`. */
  arrivals: number[];
  close?: { code: number; reason: string };
  ws: WebSocket;
}

function openSocket(url: string, headers: Record<string, string>): Promise<Live> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const live: Live = { events: [], arrivals: [], ws };
    ws.on('message', (d, binary) => {
      if (binary) return;
      live.arrivals.push(Date.now());
      try {
        live.events.push(JSON.parse(d.toString()) as Obj);
      } catch {
        live.events.push({ type: '(not JSON)' });
      }
    });
    ws.on('close', (code, reason) => (live.close = { code, reason: reason.toString() }));
    ws.once('open', () => resolve(live));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`the emulator answered HTTP ${res.statusCode} to the recorded handshake`)));
    ws.once('error', reject);
  });
}

/**
 * Whether the recorded close was the client's own: said by `by`, or, in recordings made before `by`
 * existed, by the reason our client always gives ("client closing").
 */
function clientClosed(l: RecordingLine): boolean {
  return l.by === 'client' || (l.by === undefined && l.reason === 'client closing');
}

/** Waits until `live` has at least n events, closed, or nothing new arrived for a while. */
async function catchUp(live: Live, n: number, timeoutMs: number): Promise<void> {
  const start = Date.now();
  let seen = live.events.length;
  let quietSince = Date.now();
  while (live.events.length < n && !live.close && Date.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, 5));
    if (live.events.length !== seen) {
      seen = live.events.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > Math.min(1500, timeoutMs)) break;
  }
}

/** Sends the client's close (codes a client may not send become 1000) and waits for the server's answer. */
async function closeAndWait(live: Live, code: number, reason: string, timeoutMs: number): Promise<void> {
  const sendable = code === 1000 || (code >= 3000 && code <= 4999);
  live.ws.close(sendable ? code : 1000, reason);
  const start = Date.now();
  while (!live.close && Date.now() - start < timeoutMs) await new Promise((r) => setTimeout(r, 5));
}

/** Plays a recording's client side against a fresh emulator per connection and reports the differences. */
export async function replayRecording(recording: string | RecordingLine[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const lines = typeof recording === 'string' ? parseRecording(recording.includes('\n') || recording.trim().startsWith('{') ? recording : readFileSync(recording, 'utf8')) : recording;
  const partial = lines.some((l) => l.dir === 'meta' && l.fields === 'partial');
  const conns = connections(lines);
  const differences: ReplayDifference[] = [];
  const stepTimeout = options.stepTimeoutMs ?? 3000;
  for (let c = 0; c < conns.length; c++) {
    const conn = conns[c];
    const hs = conn.find((l) => l.dir === 'connect')?.handshake ?? { url: 'ws://x/v1/realtime?model=gpt-realtime', dialect: 'ga', auth: 'bearer' };
    const recorded = conn.filter((l) => l.dir === 'recv');
    const recordedEvents = recorded.map((l) => l.event ?? { type: '(not JSON)' });
    // A recorded invalid_api_key means the key was wrong: the emulator asks for another one.
    // ...and a recorded beta refusal means the server did not allow beta: neither does the emulator.
    const refusedBeta = recordedEvents.some((e) => e.type === 'error' && isObj(e.error) && e.error.code === 'beta_api_shape_disabled');
    const wrongKey = recordedEvents.some((e) => e.type === 'error' && isObj(e.error) && e.error.code === 'invalid_api_key');
    const emu = await startEmulator({ seed: 1, audioPacing: 'fast', ...options.emulator, allowBeta: hs.dialect === 'beta' && !refusedBeta, ...(wrongKey ? { apiKey: 'sk-replay-expected-key-0000' } : {}) });
    try {
      const recordedUrl = new URL(hs.url);
      const url = new URL(emu.url.replace(/\/v1\/realtime$/, recordedUrl.pathname));
      for (const [k, v] of recordedUrl.searchParams) if (k === 'model' || k === 'intent' || k === 'deployment' || k === 'call_id' || k === 'api-version') url.searchParams.set(k, v);
      const headers: Record<string, string> = {};
      const key = wrongKey ? 'sk-replay-wrong-key-0000' : 'sk-replay-key-0000';
      if (hs.auth === 'bearer' || hs.auth === undefined) headers.Authorization = `Bearer ${key}`;
      else if (hs.auth === 'api-key') headers['api-key'] = key;
      if (hs.dialect === 'beta') headers['OpenAI-Beta'] = 'realtime=v1';
      const live = await openSocket(url.toString(), headers);
      const recClose = conn.find((l) => l.dir === 'close');
      // Each client frame goes out as long after the last server frame it had seen as it did in the
      // recording (the client's own pace): the server's timers (rate_limits.updated ~40 ms after
      // response.done, the transcription delay) then race the client's frames as they did, and a
      // client that closed 10 ms after response.done closes 10 ms after it here too.
      let anchor: { t: number; at: number; count: number } | null = null;
      let lastRecvT: number | undefined;
      const onTime = async (l: RecordingLine): Promise<number | undefined> => {
        if (lastRecvT === undefined || l.t === undefined) return undefined;
        // Anchored at the moment the matching server frame arrived here (not when this loop noticed it):
        // a busy machine delays the loop, not the schedule.
        if (!anchor || anchor.count !== recvSoFar) anchor = { t: lastRecvT, at: live.arrivals[recvSoFar - 1] ?? Date.now(), count: recvSoFar };
        const due = anchor.at + (l.t - anchor.t);
        const wait = Math.min(stepTimeout, due - Date.now());
        if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
        return due;
      };
      let recvSoFar = 0;
      let closedByUs = false;
      for (const l of conn) {
        if (l.dir === 'recv') {
          recvSoFar++;
          lastRecvT = l.t;
          continue;
        }
        if (l.dir === 'close' && clientClosed(l) && !live.close) {
          // The client closed here: close here too, at the same time, so what the server would have
          // sent later (e.g. rate_limits.updated ~40 ms after response.done) goes to a closed socket
          // in the replay too, and is in neither.
          await catchUp(live, recvSoFar, stepTimeout);
          const due = await onTime(l);
          await closeAndWait(live, l.code ?? 1000, l.reason ?? '', stepTimeout);
          // What arrived after the moment the recorded client closed, it never saw: not compared (a
          // late timer here must not make rate_limits.updated "extra").
          if (due !== undefined) {
            let keep = recvSoFar;
            while (keep < live.events.length && live.arrivals[keep] <= due) keep++;
            live.events.length = keep;
          }
          closedByUs = true;
          break;
        }
        if (l.dir !== 'send') continue;
        await catchUp(live, recvSoFar, stepTimeout);
        if (live.close) break;
        await onTime(l);
        if (l.binary !== undefined) live.ws.send(Buffer.alloc(l.binary), { binary: true });
        else if (l.text !== undefined) live.ws.send(l.text);
        else live.ws.send(JSON.stringify(restoreAudio(l.event)));
      }
      if (!closedByUs) {
        await catchUp(live, recorded.length, stepTimeout);
        // Events that follow the last recorded one (e.g. a late rate_limits.updated) get a moment too.
        await new Promise((r) => setTimeout(r, 100));
      }
      differences.push(...compareServerEvents(recordedEvents, live.events, partial, c));
      if (recClose && !closedByUs && (!live.close || live.close.code !== recClose.code))
        differences.push({ connection: c, kind: 'close', at: recorded.length, message: `recorded close ${recClose.code} ${recClose.reason ?? ''}; the emulator ${live.close ? `closed with ${live.close.code} ${live.close.reason}` : 'kept the socket open'}` });
      if (!recClose && live.close) differences.push({ connection: c, kind: 'close', at: recorded.length, message: `the emulator closed with ${live.close.code} ${live.close.reason}; the recording has no close` });
      if (!live.close) live.ws.close();
    } finally {
      await emu.close();
    }
  }
  return { ok: differences.length === 0, connections: conns.length, differences };
}

/** One line per difference, for the CLI. */
export function formatDifferences(r: ReplayResult): string[] {
  return r.differences.map((d) => `connection ${d.connection + 1}, event ${d.at + 1}: ${d.kind}: ${d.message}`);
}
