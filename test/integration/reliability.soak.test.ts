// Soak, in accelerated time: a two-hour scripted voice conversation against the emulator.
//
// Simulated time is the audio itself: user turns are 4-8 s of pcm (seeded), assistant replies are
// whatever audio the emulator streams (replyWords words, 400 ms each), summed from the `audio`
// events. Two simulated hours are played at SCALE x real time: turn i starts no earlier than
// (simulated time so far) / SCALE after the start, so the 60-minute session cap and the 5-minute
// rollover margin, scaled by the same factor, fall where they would in a real two-hour call: two
// rollovers (reason 'rollover', or 'expired' if a turn straddles the deadline).
// Turn discipline: push-to-talk (manual commit); the next turn starts once the previous response is
// done, the engine is idle (summary inserted and pruned) and the session is live again after a
// rollover (a turn typed or committed during the switch is the fault matrix's business).
// Transcripts come at once (delayMs 0): a rollover that falls while a transcript is pending loses it
// (marked [inaudible]); that bug has its own deterministic test in reliability.fault-matrix.test.ts
// and must not make this run flaky.
// Policy: the library defaults (trigger 20,000, target 10,000, keep 2): over two hours the window
// reaches the trigger several times. Heap after ten simulated minutes and after two hours (after a
// forced GC) is reported and bounded (see the last assertions). Asserted: >= 2 rollovers, the window never
// above the trigger by more than one turn's tokens, every turn in the journal exactly once, the
// mirror equal to the emulator's conversation, few live child actors at the end.
import { afterEach, describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DEFAULT_POLICY } from '../../src/conversation/policy.js';
import { mirrorIds, serverIds, speechPcm, waitUntil } from '../helpers/engine.js';
import { duplicateTurnIds, eventsOf, isEngineItem, journalTurns, liveActors, readJournal, relRig, type RelRig } from '../helpers/reliability-kit.js';

const SCALE = 120; // 2 h simulated in ~60 s
const SIM_TOTAL_MS = 2 * 60 * 60_000;
const SESSION_CAP_MS = (60 * 60_000) / SCALE;
const ROLLOVER_MARGIN_MS = (5 * 60_000) / SCALE;
const REPLY_WORDS = 15; // ~6 s of assistant audio per reply
const BYTES_PER_MS = 48;

let current: RelRig | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

function forceGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

function heapMb(gc: (() => void) | null): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Deterministic 4-8 s durations (LCG). */
function durations(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 4000 + Math.round(((s / 2 ** 32) * 4000) / 100) * 100;
  };
}

describe('soak: a two-hour conversation in accelerated time', () => {
  it('two rollovers, the window stays near the trigger, every turn journaled, few actors left', async () => {
    const r = (current = await relRig(
      { replyWords: REPLY_WORDS, maxSessionMs: SESSION_CAP_MS, retainAudio: false, transcription: { delayMs: 0 }, seed: 11 },
      { rolloverMarginMs: ROLLOVER_MARGIN_MS, keepaliveMs: 60_000 },
    ));
    const gc = forceGc();
    let assistantBytes = 0;
    r.agent.on('audio', (a) => {
      assistantBytes += a.pcm.length;
    });
    const pcmCache = new Map<number, Buffer>();
    const pcmOf = (ms: number) => {
      let b = pcmCache.get(ms);
      if (!b) pcmCache.set(ms, (b = speechPcm(ms)));
      return b;
    };
    const nextDuration = durations(2024);

    await r.agent.start();
    const t0 = Date.now();
    let userMs = 0;
    let turns = 0;
    let heapAt10: number | null = null;
    const hints: string[] = [];
    const simMs = () => userMs + assistantBytes / BYTES_PER_MS;

    while (simMs() < SIM_TOTAL_MS) {
      // Accelerated clock: never ahead of the simulated schedule.
      const due = t0 + simMs() / SCALE;
      if (Date.now() < due) await new Promise((res) => setTimeout(res, due - Date.now()));
      await waitUntil(() => r.agent.actor.getSnapshot().matches({ online: 'live' }), 20_000, 'live before the next turn');
      const ms = nextDuration();
      const hint = `turn ${turns + 1} about topic ${(turns * 7) % 13}`;
      hints.push(hint);
      r.emu.hint(hint);
      const pcm = pcmOf(ms);
      const done = eventsOf(r, 'response.done').length;
      for (let i = 0; i < pcm.length; i += 48_000) r.agent.appendAudio(pcm.subarray(i, i + 48_000));
      r.agent.commitAudio();
      await waitUntil(() => eventsOf(r, 'response.done').length > done, 20_000, `response to turn ${turns + 1}`).catch((e: Error) => {
        // Say what happened around the lost response (a rollover under a requested response is defect F1
        // of test/machines/session.model.test.ts).
        const tail = r.events.slice(-12).map((ev) => `${ev.name}${ev.name === 'reconnect' ? `(${(ev.payload as { reason: string }).reason})` : ''}`);
        throw new Error(`${e.message}; last events: ${tail.join(', ')}`);
      });
      await r.agent.idle();
      userMs += ms;
      turns++;
      if (heapAt10 === null && simMs() >= 10 * 60_000) heapAt10 = heapMb(gc);
    }
    const wallMs = Date.now() - t0;
    await waitUntil(() => r.agent.history().every((t) => t.textState !== 'pending'), 20_000, 'transcripts settled');
    await r.agent.idle();
    const heapEnd = heapMb(gc);

    // ---- report ----
    const rollovers = eventsOf(r, 'reconnect').filter((e) => e.reason !== 'drop');
    const windows = eventsOf(r, 'window').map((w) => w.tokens);
    const actors = liveActors(r.agent);
    console.log(
      `[soak] ${turns} turns, simulated ${(simMs() / 60_000).toFixed(1)} min (user ${(userMs / 60_000).toFixed(1)} min, assistant ${(assistantBytes / BYTES_PER_MS / 60_000).toFixed(1)} min) in ${(wallMs / 1000).toFixed(1)} s wall (x${SCALE}); ` +
        `rollovers ${rollovers.length} (${rollovers.map((e) => e.reason).join(', ')}); summaries ${eventsOf(r, 'summary').length}; max window ${Math.max(...windows)} (trigger ${DEFAULT_POLICY.triggerTokens}); ` +
        `heap ${heapAt10?.toFixed(1)} MB after 10 simulated min -> ${heapEnd.toFixed(1)} MB after 2 h (ratio ${heapAt10 ? (heapEnd / heapAt10).toFixed(2) : 'n/a'}; gc ${gc ? 'forced' : 'not available'}; emulator in-process); ` +
        `live child actors ${actors.length}: ${actors.map((a) => a.path).join(', ')}`,
    );

    // ---- assertions ----
    expect(simMs()).toBeGreaterThanOrEqual(SIM_TOTAL_MS);
    expect(eventsOf(r, 'reconnect').filter((e) => e.reason === 'drop')).toEqual([]);
    expect(rollovers.length).toBeGreaterThanOrEqual(2);
    expect(eventsOf(r, 'seeded').length).toBe(rollovers.length);
    expect(eventsOf(r, 'summary').length).toBeGreaterThan(0);
    expect(eventsOf(r, 'error').filter((e) => e.code !== 'summariser_failed')).toEqual([]);

    // The window: never above the trigger by more than one turn's tokens (the largest growth between
    // two consecutive responses of the same session, with no summary in between).
    const steps: number[] = [];
    let prev: number | null = null;
    for (const e of r.events) {
      if (e.name === 'summary' || e.name === 'seeded') prev = null;
      if (e.name !== 'window') continue;
      const w = (e.payload as { tokens: number }).tokens;
      if (prev !== null && w > prev) steps.push(w - prev);
      prev = w;
    }
    const oneTurn = Math.max(...steps);
    expect(oneTurn).toBeGreaterThan(0);
    expect(Math.max(...windows)).toBeLessThanOrEqual(DEFAULT_POLICY.triggerTokens + oneTurn);

    // Every turn in the journal, once; every spoken hint is a user turn there.
    const lines = readJournal(r.journal);
    const jt = journalTurns(lines);
    expect(duplicateTurnIds(lines)).toEqual([]);
    const journaled = new Set(jt.map((t) => t.id));
    const reported = [...new Set(eventsOf(r, 'turn').map((t) => t.id).filter((id) => !isEngineItem(id)))];
    expect(reported.filter((id) => !journaled.has(id))).toEqual([]);
    const userTexts = jt.filter((t) => t.role === 'user').map((t) => t.text);
    expect(hints.filter((h) => userTexts.filter((t) => t === h).length !== 1)).toEqual([]);
    expect(jt.filter((t) => t.role === 'assistant').length).toBe(turns);

    expect(mirrorIds(r)).toEqual(serverIds(r));
    expect(actors.length).toBeLessThanOrEqual(3);

    // Memory: the engine's state is bounded (the mirror is pruned by summaries and reset at each
    // rollover, finished children are stopped), so the heap after 2 simulated hours stays near the heap
    // after 10 minutes. The bound is looser than the memory benchmark's 1.10x target because this
    // process also holds the in-process emulator and every event the rig recorded (a few MB over ~500
    // turns); a leak of one retained actor or item list per turn (tens of KB each) exceeds it.
    expect(gc, 'heap growth needs a forced GC (node:v8 --expose-gc)').not.toBeNull();
    expect(heapAt10).not.toBeNull();
    expect(heapEnd - heapAt10!, `heap grew ${(heapEnd - heapAt10!).toFixed(1)} MB over 2 simulated hours`).toBeLessThan(24);
    expect(heapEnd / heapAt10!).toBeLessThan(1.5);
  }, 150_000);
});
