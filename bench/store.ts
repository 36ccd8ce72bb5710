// Store: what journal writes cost the event loop (where the audio plane runs) at the concurrency
// benchmark's session count, side by side in one run:
//   - jsonl-sync:  the journal as it was (appendFileSync per entry, on the event loop);
//   - jsonl-async: the conversation store's writer over the JSONL directory (queued, batched, fs.promises);
//   - postgres:    the same writer over PostgreSQL (127.0.0.1:5432/test, a schema of its own, dropped after).
// Each of SESSIONS conversations writes a turn, the reply and a usage entry every `periodMs`
// (staggered), while a 40 ms tick copies one 40 ms microphone chunk per session (the audio plane's
// shape). Measured per mode: event-loop delay p50/p99/max, the 40 ms tick's lateness p99, time spent
// inside write() on the caller's stack, and write latency (write() -> acknowledged by the store).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { JsonlStore, openJournal } from '../adapters/journal-file.js';
import { PostgresStore } from '../adapters/store-postgres.js';
import { ConversationWriter } from '../src/store/writer.js';
import type { ConversationStore } from '../src/store/types.js';
import { check, result, type BenchResult } from './lib/results.js';
import { LoopDelay, median, percentile, round, sleep } from './lib/stats.js';

export interface StoreBenchOptions {
  sessions: number;
  periodMs: number;
  windowMs: number;
  pgUrl?: string;
}

type Mode = 'jsonl-sync' | 'jsonl-async' | 'postgres';

interface ModeFigures {
  entries: number;
  entriesPerS: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  tickLateP99Ms: number;
  writeCallUsP50: number;
  writeCallUsP99: number;
  latencyMsP50: number;
  latencyMsP99: number;
  unwritten: number;
}

const TEXT = 'You said: this is a typical spoken turn of about twenty five words, long enough to look like a real transcript line in the journal of a voice agent.';

async function runMode(mode: Mode, o: StoreBenchOptions, dir: string): Promise<ModeFigures> {
  const n = o.sessions;
  let store: ConversationStore | null = null;
  let schema = '';
  const ack: number[] = []; // write -> acknowledged, ms
  const callUs: number[] = [];
  type Sink = { write(e: Record<string, unknown> & { type: string }): void; close(): Promise<number> };
  const sinks: Sink[] = [];
  if (mode === 'jsonl-sync') {
    for (let i = 0; i < n; i++) {
      const j = openJournal(join(dir, `sync-${i}.jsonl`), []);
      sinks.push({
        write: (e) => {
          const t = performance.now();
          j.write(e as never);
          ack.push(performance.now() - t); // synchronous: acknowledged when the call returns
        },
        close: async () => 0,
      });
    }
  } else {
    if (mode === 'jsonl-async') store = new JsonlStore(join(dir, 'async'));
    else {
      schema = `rtc_bench_${randomBytes(4).toString('hex')}`;
      store = new PostgresStore({ url: `${o.pgUrl}?schema=${schema}`, max: 4 });
    }
    await store.open();
    for (let i = 0; i < n; i++) {
      const id = `bench_${i}`;
      await store.create(id);
      const w = new ConversationWriter(store, id, { onWarn: (m) => process.stderr.write(`   ${mode}: ${m}\n`) });
      // Latency per entry: the time from write() until the batch holding it is acknowledged.
      const queuedAt: number[] = [];
      sinks.push({
        write: (e) => {
          queuedAt.push(performance.now());
          w.write(e);
        },
        close: () => w.close(2_000),
      });
      // After each burst: when this writer has drained, every entry queued before it is stored.
      (sinks[i] as Sink & { settle?: () => Promise<void> }).settle = async () => {
        const start = queuedAt.splice(0);
        if (start.length === 0) return;
        await w.drained();
        const now = performance.now();
        for (const t of start) ack.push(now - t);
      };
    }
  }

  // The audio plane's shape: one 40 ms tick copying a 40 ms chunk (1,920 bytes) per session.
  const chunk = Buffer.alloc(1920, 7);
  const tickLate: number[] = [];
  let lastTick = performance.now();
  const audio = setInterval(() => {
    const now = performance.now();
    tickLate.push(Math.max(0, now - lastTick - 40));
    lastTick = now;
    for (let i = 0; i < n; i++) Buffer.from(chunk);
  }, 40);

  // Each session: turn + reply + usage every periodMs, staggered evenly.
  let entries = 0;
  let seq = 0;
  const step = o.periodMs / n;
  const timers: NodeJS.Timeout[] = [];
  const loop = new LoopDelay();
  loop.start();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = sinks[i] as Sink & { settle?: () => Promise<void> };
    const fire = () => {
      const t = performance.now();
      const id = `item_${(++seq).toString(36)}`;
      s.write({ type: 'turn', id, role: 'user', kind: 'message', text: TEXT, textState: 'final', prev: null });
      s.write({ type: 'turn', id: `${id}r`, role: 'assistant', kind: 'message', text: TEXT, textState: 'final', prev: id });
      s.write({ type: 'usage', responseId: `resp_${seq}`, tokens: 1234, usd: 0.001 });
      callUs.push(((performance.now() - t) / 3) * 1000);
      entries += 3;
      void s.settle?.();
    };
    timers.push(
      setTimeout(() => {
        fire();
        timers.push(setInterval(fire, o.periodMs));
      }, i * step),
    );
  }
  await sleep(o.windowMs);
  const elapsed = (performance.now() - t0) / 1000;
  const ld = loop.stop();
  for (const t of timers) clearInterval(t);
  clearInterval(audio);
  let unwritten = 0;
  for (const s of sinks) unwritten += await s.close();
  if (store) {
    if (store instanceof PostgresStore) await store.dropSchema();
    await store.close();
  }
  return {
    entries,
    entriesPerS: round(entries / elapsed, 0),
    loopP50Ms: ld.p50,
    loopP99Ms: ld.p99,
    loopMaxMs: ld.max,
    tickLateP99Ms: round(percentile(tickLate, 99), 2),
    writeCallUsP50: round(median(callUs), 1),
    writeCallUsP99: round(percentile(callUs, 99), 1),
    latencyMsP50: round(median(ack), 2),
    latencyMsP99: round(percentile(ack, 99), 2),
    unwritten,
  };
}

async function pgReachable(url: string): Promise<string | null> {
  const s = new PostgresStore({ url: `${url}?schema=rtc_bench_probe`, connectTimeoutMs: 2_000 });
  try {
    await s.open();
    await s.dropSchema();
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  } finally {
    await s.close().catch(() => undefined);
  }
}

export async function run(o: StoreBenchOptions): Promise<BenchResult> {
  const started = Date.now();
  const pgUrl = o.pgUrl ?? process.env.RTC_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dir = mkdtempSync(join(tmpdir(), 'rtc-bench-store-'));
  const figures: Record<string, unknown> = { sessions: o.sessions, entriesPerSessionPerS: round(3000 / o.periodMs, 2), windowMs: o.windowMs };
  const notes: string[] = [];
  try {
    const modes: Mode[] = ['jsonl-sync', 'jsonl-async'];
    const pgProblem = await pgReachable(pgUrl);
    if (pgProblem) notes.push(`postgres not measured: ${pgProblem}`);
    else modes.push('postgres');
    for (const m of modes) {
      process.stdout.write(`   ${m}: ${o.sessions} conversations, one turn + reply + usage each every ${o.periodMs} ms, ${o.windowMs / 1000} s\n`);
      const f = await runMode(m, { ...o, pgUrl }, dir);
      figures[m] = f;
      process.stdout.write(`   ${m}: loop p99 ${f.loopP99Ms} ms (max ${f.loopMaxMs}), 40 ms tick late p99 ${f.tickLateP99Ms} ms, write() ${f.writeCallUsP50} us p50 / ${f.writeCallUsP99} us p99, stored in ${f.latencyMsP50} ms p50 / ${f.latencyMsP99} ms p99, ${f.entriesPerS} entries/s\n`);
      await sleep(500);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const sync = figures['jsonl-sync'] as ModeFigures;
  const asyncJ = figures['jsonl-async'] as ModeFigures;
  const pg = figures.postgres as ModeFigures | undefined;
  notes.push(
    'write() is what the event loop pays per entry on the caller\'s stack; "stored in" is write() until the store acknowledged the batch holding the entry (for jsonl-sync, the append itself).',
    'Loop delay is measured over the whole window while the 40 ms audio tick runs; the async writer moves the file or database work off the caller\'s stack, so the audio path pays only the queueing.',
  );
  const checks = [
    check('loop delay p99, async JSONL store vs sync journal', round(asyncJ.loopP99Ms, 2), 'ms', `<= sync (${sync.loopP99Ms} ms) + 2`, asyncJ.loopP99Ms <= sync.loopP99Ms + 2),
    check('write() on the caller\'s stack, async JSONL p99', asyncJ.writeCallUsP99, 'us', 'info', true),
    check('write() on the caller\'s stack, sync journal p99', sync.writeCallUsP99, 'us', 'info', true),
    ...(pg
      ? [
          check('loop delay p99, PostgreSQL store', pg.loopP99Ms, 'ms', '< 20', pg.loopP99Ms < 20),
          check('stored in (write -> acknowledged), PostgreSQL p99', pg.latencyMsP99, 'ms', 'info', true),
          check('nothing left unwritten (all modes)', sync.unwritten + asyncJ.unwritten + pg.unwritten, '', '0', sync.unwritten + asyncJ.unwritten + pg.unwritten === 0),
        ]
      : []),
  ];
  return result(`Conversation store: journal writes at ${o.sessions} sessions, event-loop cost and write latency`, figures, checks, notes, Math.round((Date.now() - started) / 1000));
}
