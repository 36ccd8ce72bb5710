// Fault matrix: a socket drop in every session state, and every other fault the engine must survive
// (failed transcription, failed deletes, rate-limited responses, session expiry, a failing summary
// model), against the real emulator over real sockets. For EACH case:
//   - the conversation continues: a later turn gets a response;
//   - the journal holds every turn exactly once (user/assistant `turn` entries by id; summaries and
//     seeds are `summary` entries);
//   - once idle, the mirror (agent.history() ids) equals what the emulator holds.
// Where the emulator's handles cannot hit a state precisely, a WebSocket proxy in the test
// (helpers/reliability-proxy.ts) cuts the connection at an exact frame (right after the socket opens;
// while the summary insert or a delete is on the wire), and a chat-completions stand-in
// (helpers/reliability-kit.ts) holds the summary back or fails it.
import { afterEach, describe, expect, it } from 'vitest';
import { CONTINUATION_NOTE } from '../../machines/session.machine.js';
import { isObject } from '../../src/protocol/parse.js';
import { mirrorIds, next, say, serverIds, speak, speechPcm, waitUntil } from '../helpers/engine.js';
import {
  duplicateTurnIds, eventsOf, gate, isEngineItem, journalSummaries, journalTurns, readJournal, relRig, startFakeLlm,
  type FakeLlm, type RelRig,
} from '../helpers/reliability-kit.js';

let current: RelRig | null = null;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await current?.close();
  current = null;
  for (const c of cleanups.splice(0)) await c();
});

const LONG = 30_000;

function track<T extends RelRig>(r: T): T {
  current = r;
  return r;
}

async function fakeLlm(reply: Parameters<typeof startFakeLlm>[0]): Promise<FakeLlm> {
  const f = await startFakeLlm(reply);
  cleanups.push(() => f.close());
  return f;
}

/** Texts the test typed, per rig: each must be in the journal exactly once. */
const typed = new WeakMap<RelRig, string[]>();
async function turn(r: RelRig, text: string): Promise<void> {
  typed.set(r, [...(typed.get(r) ?? []), text]);
  await say(r, text);
}

function lastAssistant(r: RelRig): string | null {
  return r.agent.history().filter((t) => t.role === 'assistant').at(-1)?.text ?? null;
}

function parse(frame: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(frame) as unknown;
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** Text of the newest session's seed item on the emulator (null when it has none). */
function serverSeedText(r: RelRig): string | null {
  const items = r.emu.sessions().at(-1)!.items() as { id: string; content?: { text?: string }[] }[];
  const seed = items.find((i) => /^seed_\d+$/.test(i.id));
  return seed?.content?.[0]?.text ?? null;
}

/** Every id the agent ever reported as a user/assistant/function turn (not engine-made items). */
function reportedTurnIds(r: RelRig): string[] {
  return [...new Set(eventsOf(r, 'turn').map((t) => t.id).filter((id) => !isEngineItem(id)))];
}

function checkJournal(r: RelRig): void {
  const lines = readJournal(r.journal);
  const turns = journalTurns(lines);
  // Soft: every journal problem of a case is reported, not just the first.
  expect.soft(duplicateTurnIds(lines), 'turn ids journaled more than once').toEqual([]);
  expect.soft(turns.filter((t) => isEngineItem(t.id)).map((t) => t.id), 'summaries/seeds journaled as turns').toEqual([]);
  const journaled = new Set(turns.map((t) => t.id));
  expect.soft(reportedTurnIds(r).filter((id) => !journaled.has(id)), 'turns missing from the journal').toEqual([]);
  for (const text of typed.get(r) ?? []) {
    expect.soft(turns.filter((t) => t.role === 'user' && t.text === text).length, `user turn "${text}" in the journal`).toBe(1);
  }
  const summaryIds = journalSummaries(lines).map((s) => s.id);
  expect.soft(summaryIds.length, 'summary ids journaled twice').toBe(new Set(summaryIds).size);
}

/** The three checks every case ends with. */
async function expectHealthy(r: RelRig, label: string): Promise<void> {
  const text = `after ${label}, are you still there`;
  await turn(r, text);
  expect(lastAssistant(r)).toContain(`You said: ${text}`);
  await waitUntil(() => r.agent.history().every((t) => t.textState !== 'pending'), 15_000, 'no pending text');
  await r.agent.idle();
  expect(r.agent.actor.getSnapshot().status).toBe('active');
  expect.soft(mirrorIds(r), 'mirror == emulator').toEqual(serverIds(r));
  checkJournal(r);
}

/** Calls `fn` once, the first time the agent's state event satisfies `pred`. */
function onceState(r: RelRig, pred: (s: { session: string; summariser: string; pendingTranscripts: string[] }) => boolean, fn: () => void): void {
  let done = false;
  const off = r.agent.on('state', (s) => {
    if (done || !pred(s)) return;
    done = true;
    off();
    fn();
  });
}

const dropNow = (r: RelRig) => r.emu.sessions().at(-1)!.drop();

describe('a socket drop in each session state', () => {
  it('connecting: the very first socket dies right after opening; the engine reconnects', async () => {
    const r = track(await relRig({}, {}, { proxy: true }));
    r.proxy!.killOnOpen.add(0);
    await r.agent.start();
    const rc = eventsOf(r, 'reconnect');
    expect(rc.map((e) => e.reason)).toEqual(['drop']);
    expect(r.proxy!.connections.length).toBe(2);
    expect(eventsOf(r, 'seeded')).toEqual([]); // nothing to seed yet
    await expectHealthy(r, 'a drop while connecting');
  }, LONG);

  it('connecting (a reconnect attempt): the new socket is reset before it opens; the engine tries again', async () => {
    const r = track(await relRig({}, { session: { instructions: 'Be brief.' } }, { proxy: true }));
    const instructions: Record<number, string> = {};
    r.proxy!.onClientFrame = (frame, conn) => {
      const ev = parse(frame);
      if (ev?.type === 'session.update' && isObject(ev.session)) instructions[conn.index] = String(ev.session.instructions);
      return 'forward';
    };
    await r.agent.start();
    await turn(r, 'said before the line broke');
    r.proxy!.refuseUpgrade.add(1);
    const states: string[] = [];
    r.agent.on('state', (s) => states.push(s.session));
    dropNow(r);
    await next(r, 'seeded', () => true, 10_000);
    expect(r.proxy!.attempts).toBe(3);
    expect(eventsOf(r, 'reconnect').map((e) => `${e.reason}#${e.attempt}`)).toEqual(['drop#1', 'drop#2']);
    // The second drop happened in `connecting`: it went reconnecting -> online.connecting -> reconnecting.
    expect(states.slice(0, 3)).toEqual(['reconnecting', 'online.connecting', 'reconnecting']);
    // The first session gets the caller's instructions; the new one adds the continuation note.
    expect(instructions[0]).toBe('Be brief.');
    expect(instructions[2]).toBe(`Be brief.\n\n${CONTINUATION_NOTE}`);
    await r.agent.idle();
    await expectHealthy(r, 'a reset while reconnecting');
  }, LONG);

  it('configuring: the drop lands between session.update and session.updated', async () => {
    const r = track(await relRig());
    const at: string[] = [];
    onceState(r, (s) => s.session === 'online.configuring', () => {
      at.push(JSON.stringify(r.agent.actor.getSnapshot().value));
      dropNow(r);
    });
    await r.agent.start();
    expect(at).toEqual([JSON.stringify({ online: 'configuring' })]);
    expect(eventsOf(r, 'reconnect').map((e) => e.reason)).toEqual(['drop']);
    await expectHealthy(r, 'a drop while configuring');
  }, LONG);

  it('idle (live, nothing happening): reconnects, seeds the earlier turns, goes on', async () => {
    const r = track(await relRig());
    await r.agent.start();
    await turn(r, 'remember the number forty two');
    dropNow(r);
    const seeded = await next(r, 'seeded', () => true, 10_000);
    expect(seeded).toEqual({ id: 'seed_1', generation: 1 });
    await r.agent.idle();
    expect(serverSeedText(r)).toContain('remember the number forty two');
    await expectHealthy(r, 'a drop while idle');
  }, LONG);

  it('responding: the drop lands right after response.created', async () => {
    const r = track(await relRig({ latencyMs: 400, replyWords: 30 }));
    await r.agent.start();
    await turn(r, 'first question');
    typed.set(r, [...typed.get(r)!, 'a question whose answer is cut']);
    const created = eventsOf(r, 'response.created').length;
    r.agent.on('response.created', () => {
      if (eventsOf(r, 'response.created').length === created + 1) dropNow(r);
    });
    r.agent.sendText('a question whose answer is cut');
    await next(r, 'seeded', () => true, 10_000);
    await r.agent.idle();
    expect(serverSeedText(r)).toContain('a question whose answer is cut');
    await expectHealthy(r, 'a drop while a response starts');
  }, LONG);

  it('responding: the drop lands mid-stream (part of the answer already delivered)', async () => {
    const r = track(await relRig({ replyWords: 30 }, {}, { proxy: true }));
    await r.agent.start();
    await turn(r, 'say something long');
    typed.set(r, [...typed.get(r)!, 'and now something even longer']);
    // Two transcript deltas of the second answer reach the agent, then the line is cut.
    let deltas = 0;
    let cutItem = '';
    r.proxy!.onServerFrame = (frame, conn) => {
      const ev = parse(frame);
      if (conn.index === 0 && ev?.type === 'response.output_audio_transcript.delta' && ++deltas === 3) {
        cutItem = String(ev.item_id);
        return 'drop';
      }
      return 'forward';
    };
    r.agent.sendText('and now something even longer');
    await next(r, 'seeded', () => true, 10_000);
    expect(cutItem).toMatch(/^item_/);
    expect(eventsOf(r, 'assistant.delta').filter((d) => d.itemId === cutItem)).toHaveLength(2);
    await r.agent.idle();
    await expectHealthy(r, 'a drop mid-stream');
  }, LONG);

  it('awaiting transcripts: the user audio turn is kept (as inaudible) and journaled once', async () => {
    const r = track(await relRig({ transcription: { delayMs: 20_000 } }));
    await r.agent.start();
    await speak(r, 'spoken just before the drop');
    const user = r.agent.history().find((t) => t.role === 'user')!;
    await waitUntil(() => eventsOf(r, 'state').at(-1)!.pendingTranscripts.includes(user.id), 5000, 'transcript child pending');
    expect(user.textState).toBe('pending');
    dropNow(r);
    await next(r, 'seeded', () => true, 10_000);
    const lines = journalTurns(readJournal(r.journal)).filter((t) => t.id === user.id);
    expect(lines.map((l) => l.textState)).toEqual(['inaudible']);
    expect(eventsOf(r, 'state').at(-1)!.pendingTranscripts).toEqual([]);
    await expectHealthy(r, 'a drop with a transcript pending');
  }, LONG);

  it('summarising: a drop while the model writes the summary aborts it; the seed carries every turn, the late answer is ignored', async () => {
    // Design: a reconnect ends the summary under way (its items no longer exist on the new server and
    // the seed already carries them verbatim), reported as a non-fatal summariser_failed.
    const release = gate();
    let stateAtRequest = '';
    let r!: RelRig;
    const llm = await fakeLlm(async () => {
      stateAtRequest = eventsOf(r, 'state').at(-1)!.summariser;
      dropNow(r);
      await release.promise;
      return { kind: 'forward', to: r.emu.httpUrl };
    });
    r = track(await relRig({}, { summariser: { baseURL: llm.baseURL }, policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 100 } }));
    await r.agent.start();
    const texts = ['the first of three turns', 'the second of three turns', 'the third of three turns'];
    for (const t of texts) await turn(r, t);
    r.agent.summariseNow();
    const err = await next(r, 'error', (e) => e.code === 'summariser_failed', 10_000);
    expect(err.fatal).toBe(false);
    expect(err.message).toMatch(/interrupted by a reconnect/);
    await next(r, 'seeded', () => true, 10_000);
    expect(stateAtRequest).toBe('summarising');
    release.open();
    await new Promise((res) => setTimeout(res, 300));
    await r.agent.idle();
    expect(eventsOf(r, 'summary')).toHaveLength(0);
    expect(serverIds(r).some((id) => /^sum_/.test(id))).toBe(false);
    const seed = serverSeedText(r)!;
    for (const t of texts) expect(seed).toContain(t);
    expect(mirrorIds(r)).toEqual(serverIds(r));
    await expectHealthy(r, 'a drop while summarising');
  }, LONG);

  it('summarising: nothing is inserted into the new session before it is configured and seeded', async () => {
    // The proxy holds the new session's session.updated for a while, as a slow server would.
    const release = gate();
    let r!: RelRig;
    const llm = await fakeLlm(async () => {
      dropNow(r);
      await release.promise;
      return { kind: 'forward', to: r.emu.httpUrl };
    });
    r = track(await relRig({}, { summariser: { baseURL: llm.baseURL }, policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 100 } }, { proxy: true }));
    const creates: string[] = [];
    r.proxy!.onClientFrame = (frame, conn) => {
      const ev = parse(frame);
      if (conn.index === 1 && ev?.type === 'conversation.item.create' && isObject(ev.item)) creates.push(String(ev.item.id));
      return 'forward';
    };
    let held = false;
    r.proxy!.onServerFrame = (frame, conn) => {
      if (conn.index !== 1) return 'forward';
      const ev = parse(frame);
      if (ev?.type === 'session.updated' && !held) {
        held = true;
        setTimeout(() => conn.client.send(frame), 300);
        return 'swallow';
      }
      return 'forward';
    };
    onceState(r, (s) => s.session === 'online.configuring' && eventsOf(r, 'reconnect').length > 0, () => release.open());
    await r.agent.start();
    await turn(r, 'alpha turn');
    await turn(r, 'beta turn');
    await turn(r, 'gamma turn');
    r.agent.summariseNow();
    await next(r, 'seeded', () => true, 15_000);
    await new Promise((res) => setTimeout(res, 300));
    await r.agent.idle();
    expect(held, 'session.updated was held back').toBe(true);
    expect(creates[0], 'the first item of the new session is its seed').toMatch(/^seed_/);
    expect(creates.some((id) => /^sum_/.test(id))).toBe(false);
    expect(mirrorIds(r)).toEqual(serverIds(r));
    await expectHealthy(r, 'a summary in flight while the new session is configured');
  }, LONG);

  it('inserting: the drop lands while the summary insert is on the wire', async () => {
    const r = track(await relRig({}, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 100 } }, { proxy: true }));
    let stateAtInsert = '';
    r.proxy!.onClientFrame = (frame, conn) => {
      const ev = parse(frame);
      if (conn.index === 0 && ev?.type === 'conversation.item.create' && isObject(ev.item) && /^sum_/.test(String(ev.item.id))) {
        stateAtInsert = eventsOf(r, 'state').at(-1)!.summariser;
        return 'drop';
      }
      return 'forward';
    };
    await r.agent.start();
    await turn(r, 'one for the summary');
    await turn(r, 'two for the summary');
    await turn(r, 'three for the summary');
    r.agent.summariseNow();
    const err = await next(r, 'error', (e) => e.code === 'summariser_failed', 10_000);
    expect(stateAtInsert).toBe('inserting');
    expect(err.message).toMatch(/inserting/);
    await next(r, 'seeded', () => true, 10_000);
    await r.agent.idle();
    // Nothing was summarised: the seed carries every earlier turn verbatim.
    const seed = serverSeedText(r)!;
    for (const t of ['one for the summary', 'two for the summary', 'three for the summary']) expect(seed).toContain(t);
    await expectHealthy(r, 'a drop while inserting');
  }, LONG);

  it('pruning: summary inserted, deletes not all acknowledged; the next seed holds the summary once and loses no turn', async () => {
    const r = track(await relRig({}, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 100 } }, { proxy: true }));
    let deletes = 0;
    let stateAtDrop = '';
    r.proxy!.onClientFrame = (frame, conn) => {
      const ev = parse(frame);
      if (conn.index === 0 && ev?.type === 'conversation.item.delete' && ++deletes === 2) {
        stateAtDrop = eventsOf(r, 'state').at(-1)!.summariser;
        return 'drop';
      }
      return 'forward';
    };
    await r.agent.start();
    const texts = ['pruned turn number one', 'pruned turn number two', 'pruned turn number three'];
    for (const t of texts) await turn(r, t);
    const before = r.agent.history().map((t) => ({ id: t.id, text: t.text }));
    r.agent.summariseNow();
    await next(r, 'seeded', () => true, 10_000);
    expect(stateAtDrop).toBe('pruning');
    await r.agent.idle();
    const summaries = journalSummaries(readJournal(r.journal)).filter((s) => /^sum_/.test(s.id));
    expect(summaries).toHaveLength(1);
    const seed = serverSeedText(r)!;
    const sumText = summaries[0].text;
    expect(seed.split(sumText).length - 1, 'the summary appears exactly once in the seed').toBe(1);
    const journalTexts = new Set(journalTurns(readJournal(r.journal)).map((t) => t.text));
    for (const t of before) expect(seed.includes(t.text!) || journalTexts.has(t.text), `turn ${t.id} kept`).toBe(true);
    await expectHealthy(r, 'a drop while pruning');
  }, LONG);

  it('microphone audio appended while reconnecting is delivered once the new session is live', async () => {
    const r = track(await relRig());
    await r.agent.start();
    await turn(r, 'before the drop');
    dropNow(r);
    await next(r, 'reconnect', () => true, 5000);
    const pcm = speechPcm(1500);
    for (let i = 0; i < pcm.length; i += 4800) r.agent.appendAudio(pcm.subarray(i, i + 4800));
    await next(r, 'seeded', () => true, 10_000);
    r.emu.hint('said while the line was down');
    const done = eventsOf(r, 'response.done').length;
    r.agent.commitAudio();
    await waitUntil(() => eventsOf(r, 'response.done').length > done, 10_000, 'response to the buffered audio');
    await r.agent.idle();
    expect(lastAssistant(r)).toContain('You said: said while the line was down');
    await waitUntil(() => r.agent.history().some((t) => t.role === 'user' && t.text === 'said while the line was down'), 10_000, 'transcript');
    await expectHealthy(r, 'buffered microphone audio');
  }, LONG);
  it('a text turn typed while the connection is being re-established is answered once live (not lost)', async () => {
    const r = track(await relRig({}, { reconnect: { maxAttempts: 5, baseDelayMs: 300, maxDelayMs: 600 } }));
    await r.agent.start();
    await turn(r, 'before the line went down');
    dropNow(r);
    await next(r, 'reconnect', () => true, 5000);
    expect(r.agent.actor.getSnapshot().value).toBe('reconnecting');
    typed.set(r, [...typed.get(r)!, 'typed while reconnecting']);
    r.agent.sendText('typed while reconnecting');
    await next(r, 'seeded', () => true, 10_000);
    await waitUntil(() => (lastAssistant(r) ?? '').includes('You said: typed while reconnecting'), 8_000, 'the typed turn answered');
    await r.agent.idle();
    await expectHealthy(r, 'text typed while reconnecting');
  }, LONG);

  it('push-to-talk released while the connection is being re-established: the buffered audio is committed and answered once live', async () => {
    const r = track(await relRig({}, { reconnect: { maxAttempts: 5, baseDelayMs: 300, maxDelayMs: 600 } }));
    await r.agent.start();
    await turn(r, 'before the line went down');
    dropNow(r);
    await next(r, 'reconnect', () => true, 5000);
    const pcm = speechPcm(1200);
    for (let i = 0; i < pcm.length; i += 4800) r.agent.appendAudio(pcm.subarray(i, i + 4800));
    r.emu.hint('spoken and released while reconnecting');
    expect(r.agent.actor.getSnapshot().value).toBe('reconnecting');
    r.agent.commitAudio();
    await next(r, 'seeded', () => true, 10_000);
    await waitUntil(() => (lastAssistant(r) ?? '').includes('You said: spoken and released while reconnecting'), 8_000, 'the committed audio answered');
    await r.agent.idle();
    await expectHealthy(r, 'audio committed while reconnecting');
  }, LONG);
});

describe('other faults', () => {
  it('transcription failed: the turn ends as inaudible, once, and the dialogue goes on', async () => {
    const r = track(await relRig({ transcription: { failProbability: 1 } }, { policy: { transcriptBackoffMs: 10, transcriptMaxAttempts: 2 } }));
    await r.agent.start();
    await speak(r, 'never transcribed');
    const t = await next(r, 'transcript', (p) => p.final, 10_000);
    expect(t.source).toBe('inaudible');
    await expectHealthy(r, 'a failed transcription');
  }, LONG);

  it('delete failed (faults.failDeletes): summariser_failed, mirror still equals the server', async () => {
    const r = track(await relRig({ faults: { failDeletes: true } }, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 100 } }));
    await r.agent.start();
    await turn(r, 'delete me one');
    await turn(r, 'delete me two');
    r.agent.summariseNow();
    const err = await next(r, 'error', (e) => e.code === 'summariser_failed', 10_000);
    expect(err.message).toMatch(/pruning/);
    await r.agent.idle();
    expect(mirrorIds(r)).toEqual(serverIds(r));
    await expectHealthy(r, 'failed deletes');
  }, LONG);

  it('response failed with a rate limit: reported, not fatal, the next turn is answered', async () => {
    const r = track(await relRig());
    await r.agent.start();
    await turn(r, 'hello');
    r.emu.sessions().at(-1)!.failNextResponses(1);
    await turn(r, 'this answer is rate limited');
    const done = eventsOf(r, 'response.done').at(-1)!;
    expect(done.status).toBe('failed');
    const err = eventsOf(r, 'error').find((e) => e.serverCode === 'rate_limit_exceeded');
    expect(err?.fatal).toBe(false);
    await expectHealthy(r, 'a rate-limited response');
  }, LONG);

  it('planned rollover (before expires_at) at a turn boundary: reason "rollover", seeded, and a user transcript still pending is not thrown away', async () => {
    // Session cap 20 s, margin 17.5 s: the rollover is due 1.5-2.5 s after the session starts (expires_at
    // has whole seconds); the user's transcript comes 3 s after the commit, inside the retrieve loop's
    // window (5 attempts, 0.4 s x n: ~4 s) but after the rollover is due. The rollover must wait for it
    // (bounded by transcriptWaitMs, 10 s here) instead of seeding "[inaudible]".
    const r = track(await relRig({ maxSessionMs: 20_000, transcription: { delayMs: 3_000 } }, { rolloverMarginMs: 17_500, policy: { transcriptWaitMs: 10_000 } }));
    await r.agent.start();
    await speak(r, 'words that must survive the rollover');
    const user = r.agent.history().find((t) => t.role === 'user')!;
    expect(user.textState).toBe('pending');
    const rc = await next(r, 'reconnect', () => true, 10_000);
    expect(rc.reason).toBe('rollover');
    await next(r, 'seeded', () => true, 15_000);
    await r.agent.idle();
    const journaled = journalTurns(readJournal(r.journal)).filter((t) => t.id === user.id);
    expect(journaled.map((t) => t.text), 'the user turn in the journal').toEqual(['words that must survive the rollover']);
    expect(serverSeedText(r)).toContain('words that must survive the rollover');
    await expectHealthy(r, 'a planned rollover');
  }, LONG);

  it('session expiry (close 1001): rolls over at once with reason "expired" and seeds the new session', async () => {
    const r = track(await relRig());
    await r.agent.start();
    await turn(r, 'the session is about to expire');
    r.emu.sessions().at(-1)!.expire();
    const rc = await next(r, 'reconnect', () => true, 5000);
    expect(rc.reason).toBe('expired');
    expect(rc.delayMs).toBe(0);
    await next(r, 'seeded', () => true, 10_000);
    await r.agent.idle();
    expect(serverSeedText(r)).toContain('the session is about to expire');
    await expectHealthy(r, 'session expiry');
  }, LONG);
});

describe('the summary model failing', () => {
  const cases: { name: string; reply: Parameters<typeof startFakeLlm>[0]; requests: number; message: RegExp }[] = [
    { name: 'by timeout', reply: () => ({ kind: 'hang' }), requests: 3, message: /timed out|timeout/i },
    {
      name: 'with HTTP 429 and retry-after',
      reply: () => ({ kind: 'status', status: 429, headers: { 'retry-after-ms': '30', 'retry-after': '1' }, body: JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }) }),
      requests: 3,
      message: /429|rate limit/i,
    },
    { name: 'with HTTP 500', reply: () => ({ kind: 'status', status: 500, body: JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }) }), requests: 3, message: /500|server/i },
    { name: 'with a malformed reply (not JSON)', reply: () => ({ kind: 'status', status: 200, body: '{"id":"chatcmpl-1","choices":[{"message":' }), requests: 1, message: /summar/i },
    { name: 'with a malformed reply (no choices)', reply: () => ({ kind: 'status', status: 200, body: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] }) }), requests: 1, message: /no text/i },
  ];
  it.each(cases)('$name: retried by the SDK, then summariser_failed with the conversation unchanged', async ({ reply, requests, message }) => {
    const llm = await fakeLlm(reply);
    const r = track(await relRig({}, {
      summariser: { baseURL: llm.baseURL, timeoutMs: 300, maxRetries: 2 },
      policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 100 },
    }));
    await r.agent.start();
    await turn(r, 'a turn to summarise');
    await turn(r, 'another turn to summarise');
    await turn(r, 'a third turn to summarise');
    const before = serverIds(r);
    r.agent.summariseNow();
    const err = await next(r, 'error', (e) => e.code === 'summariser_failed', 20_000);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/the conversation is unchanged/);
    expect(llm.requests).toBe(requests);
    await r.agent.idle();
    expect(serverIds(r)).toEqual(before);
    expect(mirrorIds(r)).toEqual(before);
    expect(eventsOf(r, 'summary')).toEqual([]);
    await expectHealthy(r, 'a failed summary');
  }, LONG);
});

describe('reconnects are bounded and fatal conditions never loop', () => {
  it('a socket that always dies before going live: maxAttempts reconnects, then a clear failure', async () => {
    const r = track(await relRig({ faults: { dropAfterEvents: 1 } }, { reconnect: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 } }));
    await expect(r.agent.start()).rejects.toMatchObject({ code: 'socket_closed' });
    const rc = eventsOf(r, 'reconnect');
    expect(rc.map((e) => e.attempt)).toEqual([1, 2, 3]);
    rc.forEach((e, i) => {
      const full = Math.min(100, 20 * 2 ** i);
      expect(e.delayMs).toBeGreaterThanOrEqual(Math.floor(full / 2));
      expect(e.delayMs).toBeLessThanOrEqual(full);
    });
    expect(r.agent.actor.getSnapshot().value).toBe('failed');
  }, LONG);

  it('a flapping socket (live for a moment, then dropped, every time) still ends after a bounded number of reconnects', async () => {
    // session.created + session.updated, then the socket dies: each connection goes live briefly.
    const r = track(await relRig({ faults: { dropAfterEvents: 2 } }, { reconnect: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }));
    r.agent.start().catch(() => undefined);
    await waitUntil(() => r.agent.actor.getSnapshot().status !== 'active' || eventsOf(r, 'reconnect').length >= 12, 20_000, 'failure or 12 reconnects');
    expect(eventsOf(r, 'reconnect').length, 'reconnects before giving up').toBeLessThanOrEqual(6);
    expect(r.agent.actor.getSnapshot().value).toBe('failed');
  }, LONG);

  it('a fatal server error (insufficient_quota) ends the session without a single reconnect', async () => {
    const r = track(await relRig());
    await r.agent.start();
    await turn(r, 'hello');
    r.emu.sessions().at(-1)!.inject({ type: 'error', event_id: 'event_q1', error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota.', param: null, event_id: null } });
    await waitUntil(() => r.agent.actor.getSnapshot().status === 'done', 5000, 'session ended');
    expect(r.agent.actor.getSnapshot().value).toBe('failed');
    expect(eventsOf(r, 'error').some((e) => e.code === 'insufficient_quota' && e.fatal)).toBe(true);
    await new Promise((res) => setTimeout(res, 300));
    expect(eventsOf(r, 'reconnect')).toEqual([]);
  }, LONG);
});
