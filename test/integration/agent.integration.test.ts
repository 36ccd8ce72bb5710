// The engine against the real emulator over a real socket: the seed scenario, late/early/missing
// transcripts, function-call pairs, deferred summaries, insert failures, both dialects.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJournal } from '../../src/conversation/journal.js';
import { mirrorIds, next, rig, say, serverIds, speak, TEST_KEY, waitUntil, type Rig } from '../helpers/engine.js';

let current: Rig | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

const SEED_TURNS = ['Can you tell me a quick story?', 'Can you tell me three extremely funny stories?', 'What language was the first summary you gave me?'];

describe.each(['ga', 'beta'] as const)('seed scenario (%s dialect)', (dialect) => {
  it('summarises at the trigger: mirror and server become [summary, user, assistant], the model sees the summary first', async () => {
    const journal = join(mkdtempSync(join(tmpdir(), 'rtc-')), 'journal.jsonl');
    const r = (current = await rig({ replyWords: 120, allowBeta: dialect === 'beta' }, { connection: { dialect }, policy: { preset: 'seedDemo', summaryLanguage: 'French' }, journal }));
    await r.agent.start();
    await speak(r, SEED_TURNS[0]);
    await r.agent.idle();
    expect(r.events.some((e) => e.name === 'summary')).toBe(false);
    await speak(r, SEED_TURNS[1]);
    const summary = await next(r, 'summary');
    await r.agent.idle();
    // After the second response: [summary, user, assistant], here and on the server.
    const h = r.agent.history();
    expect(h.map((t) => t.role)).toEqual(['system', 'user', 'assistant']);
    expect(h[0].id).toBe(summary.id);
    expect(h[0].id).toMatch(/^sum_\d{3}$/);
    expect(h[1].text).toBe(SEED_TURNS[1]);
    expect(serverIds(r)).toEqual(mirrorIds(r));
    expect(summary.text).toContain('[Summary in French]');
    expect(summary.replacedIds).toHaveLength(2);
    for (const id of summary.replacedIds) expect(serverIds(r)).not.toContain(id);
    // The model itself (context echo) confirms the summary is first and the old turns are gone.
    r.emu.sessions().at(-1)!.setContextEcho(true);
    await say(r, 'What is in your context?');
    const echo = r.agent.history().filter((t) => t.role === 'assistant').at(-1)!.text!;
    expect(echo).toMatch(new RegExp(`^Context: 1\\. system ${summary.id}`));
    for (const id of summary.replacedIds) expect(echo).not.toContain(id);
    // Nothing lost: the journal holds every turn, the summary and the deletes.
    const lines = parseJournal(readFileSync(journal, 'utf8'));
    const turnTexts = lines.filter((l) => l.type === 'turn').map((l) => (l as { text: string | null }).text);
    expect(turnTexts).toContain(SEED_TURNS[0]);
    expect(turnTexts).toContain(SEED_TURNS[1]);
    expect(lines.filter((l) => l.type === 'summary').map((l) => (l as { id: string }).id)).toContain(summary.id);
    expect(lines.filter((l) => l.type === 'delete').map((l) => (l as { id: string }).id).sort()).toEqual(expect.arrayContaining(summary.replacedIds));
    expect(readFileSync(journal, 'utf8')).not.toContain(TEST_KEY);
  });
});

describe('seed scenario, the third question', () => {
  it('the model answers that the first summary was in French', async () => {
    const r = (current = await rig({ replyWords: 120 }, { policy: { preset: 'seedDemo', summaryLanguage: 'French' } }));
    await r.agent.start();
    for (const t of SEED_TURNS) {
      await speak(r, t);
      await r.agent.idle();
    }
    const answer = r.agent.history().filter((t) => t.role === 'assistant').at(-1)!.text!;
    expect(answer).toMatch(/French/);
  });
});

describe('transcripts', () => {
  it('arriving late (after response.done) are fetched and filled in', async () => {
    const r = (current = await rig({ transcription: { lateProbability: 1 } }, { policy: { transcriptBackoffMs: 20, transcriptWaitMs: 200 } }));
    await r.agent.start();
    await speak(r, 'a late transcript');
    const t = await next(r, 'transcript', (p) => p.final && p.text === 'a late transcript');
    expect(['event', 'retrieve']).toContain(t.source);
    const user = r.agent.history().find((x) => x.role === 'user')!;
    expect(user.text).toBe('a late transcript');
    expect(user.textState).toBe('final');
  });

  it('arriving before the item event are kept and applied', async () => {
    const r = (current = await rig({ transcription: { neverProbability: 1 } }, { policy: { transcriptBackoffMs: 20, transcriptWaitMs: 5000 } }));
    await r.agent.start();
    const s = r.emu.sessions().at(-1)!;
    // The server's next user item id is announced by speech_started under server VAD; under manual
    // commit we learn it from the commit: inject the transcript ahead of the item event.
    const itemSeen = next(r, 'turn', (t) => t.role === 'user');
    r.agent.send({ type: 'conversation.item.create', item: { id: 'item_early01', type: 'message', role: 'user', content: [{ type: 'input_audio', audio: Buffer.alloc(9600).toString('base64') }] } });
    s.inject({ type: 'conversation.item.input_audio_transcription.completed', event_id: 'event_x1', item_id: 'item_early01', content_index: 0, transcript: 'said before the item' });
    await itemSeen;
    await waitUntil(() => r.agent.history().find((t) => t.id === 'item_early01')?.textState === 'final', 5000, 'early transcript applied');
    expect(r.agent.history().find((t) => t.id === 'item_early01')!.text).toBe('said before the item');
  });

  it('that never come end as "[inaudible]" after the retries, are summarised, and nothing is deleted unsummarised', async () => {
    const r = (current = await rig({ transcription: { neverProbability: 1 }, replyWords: 60 }, {
      policy: { preset: 'seedDemo', triggerTokens: 600, transcriptBackoffMs: 10, transcriptWaitMs: 100, transcriptMaxAttempts: 3 },
    }));
    await r.agent.start();
    await speak(r, 'nobody will ever know');
    await next(r, 'transcript', (p) => p.final && p.source === 'inaudible');
    const user = r.agent.history().find((x) => x.role === 'user')!;
    expect(user.text).toBe('[inaudible]');
    expect(user.textState).toBe('inaudible');
    await speak(r, 'second');
    await speak(r, 'third');
    const summary = await next(r, 'summary');
    expect(summary.replacedIds).toContain(user.id);
    await r.agent.idle();
    // Every deleted id was in the summary's input; the server matches the mirror.
    const deleted = r.events.filter((e) => e.name === 'summary').flatMap((e) => (e.payload as { replacedIds: string[] }).replacedIds);
    for (const id of deleted) expect(serverIds(r)).not.toContain(id);
    expect(serverIds(r)).toEqual(mirrorIds(r));
  });

  it('that fail are retrieved again and marked inaudible when the server has none', async () => {
    const r = (current = await rig({ transcription: { failProbability: 1 } }, { policy: { transcriptBackoffMs: 10, transcriptMaxAttempts: 2 } }));
    await r.agent.start();
    await speak(r, 'lost');
    const t = await next(r, 'transcript', (p) => p.final);
    expect(t.source).toBe('inaudible');
  });
});

describe('summaries', () => {
  it('keep a function call with its output (never split the pair)', async () => {
    // keep 1: the newest item (the output) is protected, so the boundary falls inside the pair.
    const r = (current = await rig({ replyWords: 40 }, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 1 } }));
    await r.agent.start();
    await say(r, 'first question');
    r.agent.send({ type: 'conversation.item.create', item: { id: 'call_item_1', type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' } });
    r.agent.send({ type: 'conversation.item.create', item: { id: 'call_out_1', type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}' } });
    await waitUntil(() => mirrorIds(r).includes('call_out_1'), 5000, 'function items mirrored');
    const call = r.agent.history().find((t) => t.id === 'call_item_1')!;
    expect(call.kind).toBe('function_call');
    expect(call.role).toBeNull();
    const [u1, a1] = mirrorIds(r);
    r.agent.summariseNow();
    const summary = await next(r, 'summary');
    expect(summary.replacedIds.sort()).toEqual([u1, a1].sort());
    await r.agent.idle();
    expect(mirrorIds(r)).toEqual([summary.id, 'call_item_1', 'call_out_1']);
    expect(serverIds(r)).toEqual(mirrorIds(r));
  });

  it('requested while a response is in flight is deferred until response.done, not raced', async () => {
    const r = (current = await rig({ replyWords: 40, latencyMs: 300 }, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2 } }));
    await r.agent.start();
    await say(r, 'one');
    await say(r, 'two');
    r.agent.sendText('three');
    await next(r, 'response.created', () => r.events.filter((e) => e.name === 'response.created').length === 3);
    r.agent.summariseNow();
    const summary = await next(r, 'summary');
    const order = r.events.map((e) => e.name);
    const thirdDone = order.findIndex((n, i) => n === 'response.done' && order.slice(0, i + 1).filter((x) => x === 'response.done').length === 3);
    const firstSummarising = r.events.findIndex((e) => e.name === 'state' && (e.payload as { summariser: string }).summariser !== 'idle');
    expect(thirdDone).toBeGreaterThanOrEqual(0);
    expect(firstSummarising).toBeGreaterThan(thirdDone);
    expect(summary.replacedIds.length).toBeGreaterThan(0);
    await r.agent.idle();
    expect(serverIds(r)).toEqual(mirrorIds(r));
  });

  it('whose insert fails delete nothing and leave the conversation unchanged', async () => {
    const r = (current = await rig({ replyWords: 30 }, { policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 2, cooldownMs: 50 } }));
    await r.agent.start();
    // An item already holds the id the summary will use: the server rejects the insert (duplicate id).
    r.agent.send({ type: 'conversation.item.create', item: { id: 'sum_001', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'squatter' }] } });
    await waitUntil(() => mirrorIds(r).includes('sum_001'), 5000, 'squatter mirrored');
    await say(r, 'one');
    await say(r, 'two');
    const before = serverIds(r);
    r.agent.summariseNow();
    const err = await next(r, 'error', (e) => e.code === 'summariser_failed');
    expect(err.message).toMatch(/inserting/);
    await r.agent.idle();
    expect(serverIds(r)).toEqual(before);
    expect(mirrorIds(r)).toEqual(before);
    expect(r.events.some((e) => e.name === 'summary')).toBe(false);
  });
});

describe('windows and responses', () => {
  it('reports the window from in-band response.done usage and ignores out-of-band responses', async () => {
    const r = (current = await rig({}, { summariser: { kind: 'realtime-oob' }, policy: { triggerTokens: 100_000, targetTokens: 0, keepLastTurns: 1 } }));
    await r.agent.start();
    await say(r, 'hello there');
    const w1 = r.events.filter((e) => e.name === 'window').map((e) => (e.payload as { tokens: number }).tokens);
    expect(w1).toHaveLength(1);
    expect(w1[0]).toBeGreaterThan(0);
    await say(r, 'and again');
    r.agent.summariseNow();
    const summary = await next(r, 'summary');
    expect(summary.text.length).toBeGreaterThan(0);
    await r.agent.idle();
    // The out-of-band summary response produced no window event and did not enter the mirror.
    expect(r.events.filter((e) => e.name === 'window')).toHaveLength(2);
    expect(serverIds(r)).toEqual(mirrorIds(r));
  });
});

describe('a response that never ends', () => {
  it('is treated as ended after responseTimeoutMs, with a warning, and the next turn is answered', async () => {
    const r = (current = await rig({}, { responseTimeoutMs: 200 }));
    await r.agent.start();
    // The server announces a response and then never sends its response.done.
    r.emu.sessions().at(-1)!.inject({ type: 'response.created', event_id: 'event_stuck', response: { id: 'resp_stuck', object: 'realtime.response', status: 'in_progress', output: [] } });
    await next(r, 'response.created', (e) => e.responseId === 'resp_stuck');
    r.agent.sendText('are you still there?');
    const warning = await next(r, 'error', (e) => /no response\.done/.test(e.message));
    expect(warning.fatal).toBe(false);
    expect(warning.message).toContain('resp_stuck');
    // The queued turn went out once the stuck response was given up, and it was answered.
    await next(r, 'response.done', (e) => e.responseId !== 'resp_stuck');
    expect(r.agent.history().some((t) => t.role === 'user' && t.text === 'are you still there?')).toBe(true);
  });
});
