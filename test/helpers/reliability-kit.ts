// Shared pieces of the reliability suites: a stand-in chat-completions server the test controls
// (slow, failing, malformed, or forwarding to the emulator), journal checks, and agent invariants.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { createRealtimeAgent } from '../../src/agent.js';
import type { AgentEventName, AgentEvents, AgentOptions, RealtimeAgent, Turn } from '../../src/types.js';
import { TEST_KEY, type Rig } from './engine.js';
import { startWsProxy, type WsProxy } from './reliability-proxy.js';

import { parseJournal, type JournalLine } from '../../src/conversation/journal.js';

// ---- a chat-completions server under the test's control -----------------------------------------

export type LlmReply =
  | { kind: 'hang' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body: string }
  | { kind: 'forward'; to: string; apiKey?: string };

export interface FakeLlm {
  /** baseURL for the openai SDK (`…/v1`). */
  baseURL: string;
  /** Requests received so far (each SDK retry is one). */
  requests: number;
  close(): Promise<void>;
}

/** `reply(n)` decides the answer to the n-th request (1-based); it may wait before answering. */
export async function startFakeLlm(reply: (n: number, body: unknown) => LlmReply | Promise<LlmReply>): Promise<FakeLlm> {
  const open = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString();
    fake.requests++;
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const r = await reply(fake.requests, body);
    if (res.destroyed) return;
    if (r.kind === 'hang') return; // never answers; the client times out
    if (r.kind === 'status') {
      res.writeHead(r.status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
      res.end(r.body);
      return;
    }
    const up = await fetch(`${r.to.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${r.apiKey ?? 'sk-anything-000000'}` },
      body: raw,
    });
    const text = await up.text();
    if (res.destroyed) return;
    res.writeHead(up.status, { 'content-type': 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const fake: FakeLlm = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests: 0,
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return fake;
}

/** A promise with its resolver outside (to hold an answer back until the test releases it). */
export function gate<T = void>(): { promise: Promise<T>; open(v: T): void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

// ---- the journal --------------------------------------------------------------------------------

export function readJournal(path: string): JournalLine[] {
  return parseJournal(readFileSync(path, 'utf8'));
}

type TurnLine = Extract<JournalLine, { type: 'turn' }>;
type SummaryLine = Extract<JournalLine, { type: 'summary' }>;

export function journalTurns(lines: JournalLine[]): TurnLine[] {
  return lines.filter((l): l is TurnLine => l.type === 'turn');
}

export function journalSummaries(lines: JournalLine[]): SummaryLine[] {
  return lines.filter((l): l is SummaryLine => l.type === 'summary');
}

/** Ids that appear in more than one `turn` entry. */
export function duplicateTurnIds(lines: JournalLine[]): string[] {
  const n = new Map<string, number>();
  for (const t of journalTurns(lines)) n.set(t.id, (n.get(t.id) ?? 0) + 1);
  return [...n].filter(([, c]) => c > 1).map(([id]) => id);
}

/** Engine-made items (summaries, seeds): journaled as `summary` entries, never as turns. */
export const isEngineItem = (id: string) => /^(sum|seed)_\d+$/.test(id);

/**
 * Incremental JSONL validator: reads only what was appended since the last call, so it can run after
 * every one of 100,000 messages. Throws on a line that is not JSON or lacks `v`/`type`.
 */
export class JournalTail {
  private offset = 0;
  private carry = '';
  lines = 0;
  constructor(private readonly path: string) {}
  check(): void {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) throw new Error(`journal shrank from ${this.offset} to ${size} bytes`);
      if (size === this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const text = this.carry + buf.toString('utf8');
      const parts = text.split('\n');
      this.carry = parts.pop()!;
      for (const l of parts) {
        this.lines++;
        let v: unknown;
        try {
          v = JSON.parse(l);
        } catch {
          throw new Error(`journal line ${this.lines} is not valid JSON: ${l.slice(0, 120)}`);
        }
        const o = v as { v?: unknown; type?: unknown };
        if (o === null || typeof o !== 'object' || o.v !== 1 || typeof o.type !== 'string') {
          throw new Error(`journal line ${this.lines} is not a v1 entry: ${l.slice(0, 120)}`);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  /** A line written without its newline at the end would be a torn write. */
  get torn(): boolean {
    return this.carry.length > 0;
  }
}

// ---- agent invariants -----------------------------------------------------------------------------

const KINDS = new Set(['message', 'function_call', 'function_call_output', 'other']);
const TEXT_STATES = new Set(['pending', 'final', 'inaudible', 'none']);

/** Mirror shape: no holes, unique string ids, valid kinds/states. Returns the first problem or null. */
export function mirrorProblem(mirror: readonly (Turn | undefined)[]): string | null {
  const seen = new Set<string>();
  for (let i = 0; i < mirror.length; i++) {
    const t = mirror[i];
    if (!t || typeof t !== 'object') return `entry ${i} is ${String(t)}`;
    if (typeof t.id !== 'string' || t.id.length === 0) return `entry ${i} has id ${JSON.stringify(t.id)}`;
    if (seen.has(t.id)) return `id ${t.id} appears twice`;
    seen.add(t.id);
    if (!KINDS.has(t.kind)) return `entry ${t.id} has kind ${JSON.stringify(t.kind)}`;
    if (!TEXT_STATES.has(t.textState)) return `entry ${t.id} has textState ${JSON.stringify(t.textState)}`;
    if (t.text !== null && typeof t.text !== 'string') return `entry ${t.id} has text of type ${typeof t.text}`;
  }
  return null;
}

interface ChildLike {
  id?: string;
  src?: unknown;
  getSnapshot(): { status?: string; children?: Record<string, ChildLike | undefined> };
}

/** Every live actor under the root (children of children too), as [path, src]. */
export function liveActors(agent: RealtimeAgent): { path: string; src: string }[] {
  const out: { path: string; src: string }[] = [];
  const walk = (children: Record<string, ChildLike | undefined> | undefined, prefix: string) => {
    for (const [key, c] of Object.entries(children ?? {})) {
      if (!c) continue;
      const snap = c.getSnapshot();
      if (snap.status !== 'active') continue;
      out.push({ path: `${prefix}${key}`, src: typeof c.src === 'string' ? c.src : 'inline' });
      walk(snap.children, `${prefix}${key}/`);
    }
  };
  walk((agent.actor.getSnapshot() as { children: Record<string, ChildLike> }).children, '');
  return out;
}

/** Direct children of the root spawned from the `summariser` source. */
export function summariserChildren(agent: RealtimeAgent): number {
  const children = (agent.actor.getSnapshot() as { children: Record<string, ChildLike | undefined> }).children;
  return Object.values(children).filter((c) => c && c.src === 'summariser').length;
}

// ---- a rig with a journal, every agent event recorded, and optionally a proxy in the middle ------

export const ALL_EVENTS: AgentEventName[] = [
  'session', 'turn', 'transcript', 'assistant.delta', 'window', 'summary', 'error', 'state', 'audio.done',
  'speech.started', 'speech.stopped', 'response.created', 'response.done', 'closed', 'reconnect', 'seeded',
];

export interface RelRig extends Rig {
  journal: string;
  proxy: WsProxy | null;
  logs: string[];
}

export async function relRig(
  emuOptions: EmulatorOptions = {},
  agentOptions: AgentOptions = {},
  o: { proxy?: boolean; before?: (r: RelRig) => void } = {},
): Promise<RelRig> {
  const emu = await startEmulator({ audioPacing: 'fast', ...emuOptions });
  const proxy = o.proxy ? await startWsProxy(emu.url) : null;
  const journal = join(mkdtempSync(join(tmpdir(), 'rtc-rel-')), 'journal.jsonl');
  const logs: string[] = [];
  const agent = createRealtimeAgent({
    journal,
    reconnect: { maxAttempts: 5, baseDelayMs: 40, maxDelayMs: 400 },
    log: (l) => logs.push(l),
    ...agentOptions,
    connection: { url: proxy?.url ?? emu.url, apiKey: TEST_KEY, ...(agentOptions.connection ?? {}) },
    session: { turnDetection: null, ...(agentOptions.session ?? {}) },
    // Through the proxy the derived chat-completions base would be the proxy's: use the emulator's.
    summariser: { ...(proxy ? { baseURL: emu.httpUrl } : {}), ...(agentOptions.summariser ?? {}) },
  });
  const events: Rig['events'] = [];
  const r: RelRig = {
    emu,
    agent,
    events,
    journal,
    proxy,
    logs,
    async close() {
      await agent.stop();
      await proxy?.close();
      await emu.close();
    },
  };
  for (const name of ALL_EVENTS) agent.on(name, (payload) => events.push({ name, payload }));
  o.before?.(r);
  return r;
}

export function eventsOf<K extends AgentEventName>(r: Rig, name: K): AgentEvents[K][] {
  return r.events.filter((e) => e.name === name).map((e) => e.payload as AgentEvents[K]);
}
