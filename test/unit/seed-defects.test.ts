// One test per defect of the seed notebook (design.md, "Seed defects to fix"). Each would fail on the
// seed's behaviour and passes on ours. The seed is shared/seed/context-summarization-notebook.txt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise, toPromise, waitFor, type AnyActorRef } from 'xstate';
import { reportCollector } from '../../src/testing/index.js';
import { transcriptMachine, type RetrieveResult } from '../../machines/transcript.machine.js';
import {
  summariserMachine,
  type DeleteInput,
  type DeleteOutput,
  type InsertInput,
  type SummariseInput,
  type SummariserInput,
  type SummariserReport,
} from '../../machines/summariser.machine.js';
import { planFold } from '../../src/conversation/policy.js';
import { turnFromItem } from '../../src/conversation/items.js';
import { summarySystemPrompt, transcriptOf } from '../../src/conversation/summary-prompt.js';
import { buildSessionConfig } from '../../src/protocol/session-config.js';
import { connectionTarget, fastAudioDelta, OPENAI_REALTIME_URL } from '../../adapters/realtime-socket.js';
import type { Turn } from '../../src/types.js';

// ---- helpers ----------------------------------------------------------------------------------------

const turn = (id: string, role: 'user' | 'assistant' | 'system', text: string | null, over: Partial<Turn> = {}): Turn => ({
  id,
  kind: 'message',
  role,
  text,
  textState: text === null ? 'pending' : 'final',
  audio: role !== 'system',
  at: 0,
  ...over,
});

/** The seed's demo conversation: two exchanges (the first one is folded with keep 2). */
const SEED_TURNS: Turn[] = [
  turn('item_u1', 'user', 'Can you tell me a quick story?'),
  turn('item_a1', 'assistant', 'Once upon a time, a cat named Whiskers found a glowing stone.'),
  turn('item_u2', 'user', 'Can you tell me three extremely funny stories?'),
  turn('item_a2', 'assistant', 'Sure: a forgetful baker, a prankster dog and a parrot.'),
];

const POLICY: SummariserInput['policy'] = {
  targetTokens: 0,
  keepLastTurns: 2,
  summaryRole: 'system',
  summaryLanguage: undefined,
  transcriptWaitMs: 20,
  cooldownMs: 3_600_000, // stays in cooldown for the whole test
};

interface Doubles {
  calls: string[];
  inserts: InsertInput[];
  deletes: DeleteInput[];
  summaries: SummariseInput[];
  reports: SummariserReport[];
}

function startSummariser(opts: { insert?: (input: InsertInput) => Promise<void>; summaryText?: string } = {}) {
  // A stand-in parent that records every report the summariser sends it.
  const parent = reportCollector<SummariserReport>();
  const d: Doubles = { calls: [], inserts: [], deletes: [], summaries: [], reports: parent.events };
  const machine = summariserMachine.provide({
    actors: {
      summarise: fromPromise<{ text: string }, SummariseInput>(async ({ input }) => {
        d.calls.push('summarise');
        d.summaries.push(input);
        return { text: opts.summaryText ?? 'The user asked for a story about a cat.' };
      }),
      insertSummary: fromPromise<void, InsertInput>(async ({ input }) => {
        d.calls.push('insert');
        d.inserts.push(input);
        if (opts.insert) await opts.insert(input);
      }),
      deleteItems: fromPromise<DeleteOutput, DeleteInput>(async ({ input }) => {
        d.calls.push('delete');
        d.deletes.push(input);
        return { deleted: input.ids, missing: [], failed: [] };
      }),
    },
  });
  const actor = createActor(machine, { input: { parentRef: parent.ref, policy: POLICY } }).start();
  started.push(actor, parent.ref);
  return { actor, d };
}

const started: AnyActorRef[] = [];
afterEach(() => {
  for (const a of started.splice(0)) a.stop();
});

/** Lets pending promises and timers of zero length run. */
const settle = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
};

// ---- defect 1 ---------------------------------------------------------------------------------------

describe('seed defect 1', () => {
  const INPUT = { itemId: 'item_u1', maxAttempts: 4, backoffMs: 5, awaitMs: 10 };

  it('defect 1: the transcript fetch completes, and a retry issues a NEW retrieve instead of returning the stale result', async () => {
    const retrieves: { itemId: string; attempt: number }[] = [];
    const results: RetrieveResult[] = [{ transcript: null }, { transcript: 'hello' }];
    const machine = transcriptMachine.provide({
      actors: {
        retrieveItem: fromPromise<RetrieveResult, { itemId: string; attempt: number }>(async ({ input }) => {
          retrieves.push(input);
          return results[retrieves.length - 1] ?? { transcript: 'too many calls' };
        }),
      },
      delays: { awaitTranscript: 10, backoff: 5 },
    });
    const actor = createActor(machine, { input: INPUT }).start();
    started.push(actor);
    const out = await toPromise(actor);
    expect(retrieves).toHaveLength(2);
    expect(retrieves[0]).not.toEqual(retrieves[1]);
    expect(retrieves.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retrieves.every((r) => r.itemId === 'item_u1')).toBe(true);
    expect(out).toEqual({ itemId: 'item_u1', text: 'hello', source: 'retrieve', attempts: 2 });
  });

  it('defect 1: a transcript that never comes ends as "[inaudible]" after maxAttempts retrieves (never a silent hole)', async () => {
    let calls = 0;
    const machine = transcriptMachine.provide({
      actors: {
        retrieveItem: fromPromise<RetrieveResult, { itemId: string; attempt: number }>(async () => {
          calls++;
          return { transcript: null };
        }),
      },
      delays: { awaitTranscript: 10, backoff: 5 },
    });
    const actor = createActor(machine, { input: INPUT }).start();
    started.push(actor);
    const out = await toPromise(actor);
    expect(calls).toBe(INPUT.maxAttempts);
    expect(out.text).toBe('[inaudible]');
    expect(out.source).toBe('inaudible');
    expect(out.attempts).toBe(INPUT.maxAttempts);
  });
});

// ---- defect 2 ---------------------------------------------------------------------------------------

describe('seed defect 2', () => {
  it('defect 2: planFold folds nothing when there is nothing to summarise (kept turns only, pending transcripts only, or an old summary only)', () => {
    const p = { targetTokens: 0, keepLastTurns: 2 };
    const keptOnly = SEED_TURNS.slice(2);
    expect(planFold(keptOnly, 5_000, p).fold).toEqual([]);
    const pendingOnly = [turn('item_p1', 'user', null), turn('item_p2', 'user', null), ...keptOnly];
    expect(planFold(pendingOnly, 5_000, p).fold).toEqual([]);
    const oldSummaryOnly = [turn('sum_001', 'system', 'Earlier: a story about a cat.'), ...keptOnly];
    expect(planFold(oldSummaryOnly, 5_000, p).fold).toEqual([]);
    const both = [turn('sum_001', 'system', 'Earlier.'), turn('item_p1', 'user', null), ...keptOnly];
    const plan = planFold(both, 5_000, p);
    expect(plan.fold).toEqual([]);
    expect(plan.keep.map((t) => t.id)).toEqual(both.map((t) => t.id));
  });

  it('defect 2: with only the kept turns, the summariser goes back to idle without inserting an empty summary or deleting turns', async () => {
    const { actor, d } = startSummariser();
    actor.send({ type: 'SUMMARISE', turns: SEED_TURNS.slice(2), window: 2_755, audioMs: {}, responseActive: false });
    await vi.waitFor(() => expect(d.reports.map((r) => r.type)).toContain('SUMMARISER.SKIPPED'));
    await settle();
    expect(actor.getSnapshot().value).toBe('idle');
    expect(d.calls).toEqual([]);
    expect(d.inserts).toEqual([]);
    expect(d.deletes).toEqual([]);
  });

  it('defect 2: with only pending transcripts to fold, the summariser waits, then skips without inserting or deleting', async () => {
    const { actor, d } = startSummariser();
    const turns = [turn('item_p1', 'user', null), ...SEED_TURNS.slice(2)];
    actor.send({ type: 'SUMMARISE', turns, window: 2_755, audioMs: {}, responseActive: false });
    await vi.waitFor(() => expect(d.reports.map((r) => r.type)).toContain('SUMMARISER.SKIPPED'));
    await settle();
    expect(d.reports[0]).toEqual({ type: 'SUMMARISER.COLLECTING', pendingIds: ['item_p1'] });
    expect(actor.getSnapshot().value).toBe('idle');
    expect(d.calls).toEqual([]);
  });

  it('defect 2: an old summary alone is not re-summarised, inserted or deleted', async () => {
    const { actor, d } = startSummariser();
    const turns = [turn('sum_001', 'system', 'Earlier: a story about a cat.'), ...SEED_TURNS.slice(2)];
    actor.send({ type: 'SUMMARISE', turns, window: 2_755, audioMs: {}, responseActive: false });
    await vi.waitFor(() => expect(d.reports.map((r) => r.type)).toContain('SUMMARISER.SKIPPED'));
    await settle();
    expect(actor.getSnapshot().value).toBe('idle');
    expect(d.inserts).toEqual([]);
    expect(d.deletes).toEqual([]);
  });
});

// ---- defect 3 ---------------------------------------------------------------------------------------

describe('seed defect 3', () => {
  it('defect 3: assistant audio is streamed — fastAudioDelta yields each delta as it arrives, before response.done (the seed buffered until response.done)', () => {
    const chunks = Array.from({ length: 5 }, (_, k) => Buffer.from(Array.from({ length: 960 }, (_, i) => (i + k * 13) & 0xff)));
    const frames = [
      ...chunks.map((c, i) =>
        Buffer.from(JSON.stringify({ type: 'response.output_audio.delta', event_id: `ev_${i}`, response_id: 'resp_1', item_id: 'item_a1', output_index: 0, content_index: 0, delta: c.toString('base64') })),
      ),
      Buffer.from(JSON.stringify({ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [] } })),
    ];
    const played: Buffer[] = [];
    frames.forEach((f, i) => {
      const d = fastAudioDelta(f);
      if (i < chunks.length) {
        // Playable right now: this chunk, not the whole reply.
        expect(d).not.toBeNull();
        expect(d!.pcm.equals(chunks[i])).toBe(true);
        played.push(d!.pcm);
        expect(played).toHaveLength(i + 1);
      } else {
        expect(d).toBeNull();
      }
    });
    expect(Buffer.concat(played).equals(Buffer.concat(chunks))).toBe(true);
  });
});

// ---- defect 4 ---------------------------------------------------------------------------------------

describe('seed defect 4', () => {
  it('defect 4: function_call, function_call_output, text-only assistant, mcp/other items and garbage do not crash turn handling', () => {
    const items: unknown[] = [
      { id: 'fc_1', type: 'function_call', name: 'get_time', call_id: 'call_1', arguments: '{}' },
      { id: 'fo_1', type: 'function_call_output', call_id: 'call_1', output: '{"time":"12:00"}' },
      { id: 'item_t1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It is noon.' }] },
      { id: 'item_t2', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Beta text answer.' }] },
      { id: 'mcp_1', type: 'mcp_call', server_label: 'docs', name: 'search', arguments: '{}' },
      { id: 'mcp_2', type: 'mcp_list_tools', server_label: 'docs', tools: [] },
      null,
      42,
      'item_x',
      { type: 'message', role: 'user', content: [] },
      { id: 7, type: 'function_call' },
    ];
    const turns: Turn[] = [];
    for (const item of items) {
      let t: Turn | null = null;
      expect(() => (t = turnFromItem(item, 0))).not.toThrow();
      if (t) turns.push(t);
    }
    expect(turns.map((t) => [t.id, t.kind, t.role])).toEqual([
      ['fc_1', 'function_call', null],
      ['fo_1', 'function_call_output', null],
      ['item_t1', 'message', 'assistant'],
      ['item_t2', 'message', 'assistant'],
      ['mcp_1', 'other', null],
      ['mcp_2', 'other', null],
    ]);
    expect(turns[2]).toMatchObject({ text: 'It is noon.', textState: 'final', audio: false });
    expect(turns[3]).toMatchObject({ text: 'Beta text answer.', textState: 'final', audio: false });
    // And they can be summarised.
    expect(() => transcriptOf(turns)).not.toThrow();
    expect(transcriptOf(turns)).toContain('assistant: It is noon.');
  });
});

// ---- defect 5 ---------------------------------------------------------------------------------------

describe('seed defect 5', () => {
  it('defect 5: no delete is sent while the summary insert is unacknowledged', async () => {
    const { actor, d } = startSummariser({ insert: () => new Promise<void>(() => {}) });
    actor.send({ type: 'SUMMARISE', turns: SEED_TURNS, window: 2_755, audioMs: {}, responseActive: false });
    await waitFor(actor, (s) => s.matches('inserting'));
    await settle(20);
    expect(actor.getSnapshot().value).toBe('inserting');
    expect(d.inserts).toHaveLength(1);
    expect(d.deletes).toEqual([]);
    expect(d.calls).not.toContain('delete');
  });

  it('defect 5: a failed insert deletes nothing, goes to cooldown and reports SUMMARISER.FAILED (stage inserting)', async () => {
    const { actor, d } = startSummariser({ insert: async () => { throw new Error('duplicate_item_id: sum_001 exists'); } });
    actor.send({ type: 'SUMMARISE', turns: SEED_TURNS, window: 2_755, audioMs: {}, responseActive: false });
    await waitFor(actor, (s) => s.matches('cooldown'));
    await settle();
    expect(d.deletes).toEqual([]);
    expect(d.calls).toEqual(['summarise', 'insert']);
    const failed = d.reports.filter((r) => r.type === 'SUMMARISER.FAILED');
    expect(failed).toEqual([{ type: 'SUMMARISER.FAILED', stage: 'inserting', message: 'duplicate_item_id: sum_001 exists', deleted: [] }]);
    expect(d.reports.map((r) => r.type)).not.toContain('SUMMARISER.DONE');
  });

  it('defect 5: the summary is inserted (and acknowledged) first, then the folded items are deleted', async () => {
    const { actor, d } = startSummariser();
    actor.send({ type: 'SUMMARISE', turns: SEED_TURNS, window: 2_755, audioMs: {}, responseActive: false });
    await vi.waitFor(() => expect(d.reports.map((r) => r.type)).toContain('SUMMARISER.DONE'));
    expect(d.calls).toEqual(['summarise', 'insert', 'delete']);
    expect(d.inserts).toEqual([{ id: 'sum_001', text: 'The user asked for a story about a cat.', role: 'system' }]);
    expect(d.deletes).toEqual([{ ids: ['item_u1', 'item_a1'] }]);
    const types = d.reports.map((r) => r.type);
    expect(types.indexOf('SUMMARISER.INSERTED')).toBeLessThan(types.indexOf('SUMMARISER.DONE'));
    expect(d.reports.find((r) => r.type === 'SUMMARISER.DONE')).toMatchObject({ id: 'sum_001', replaces: ['item_u1', 'item_a1'], deleted: ['item_u1', 'item_a1'] });
    await waitFor(actor, (s) => s.matches('idle'));
  });
});

// ---- defect 6 ---------------------------------------------------------------------------------------

describe('seed defect 6', () => {
  it('defect 6: GA connection (no OpenAI-Beta header) and a GA session.update (type realtime, nested audio config)', () => {
    const { headers } = connectionTarget({ url: OPENAI_REALTIME_URL, apiKey: 'sk-test-abcdefgh', model: 'gpt-realtime', dialect: 'ga' });
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('openai-beta');
    expect(headers.Authorization).toBe('Bearer sk-test-abcdefgh');

    const s = buildSessionConfig() as { type: string; audio: { input: Record<string, unknown>; output: Record<string, unknown> } } & Record<string, unknown>;
    expect(s.type).toBe('realtime');
    expect(s.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(s.audio.output.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(s.audio.input.transcription).toEqual({ model: 'gpt-4o-mini-transcribe' });
    expect(s.audio.output.voice).toBe('marin');
    expect(s.output_modalities).toEqual(['audio']);
    // The seed's beta-only fields are gone.
    for (const beta of ['modalities', 'input_audio_format', 'output_audio_format', 'input_audio_transcription', 'voice', 'turn_detection']) {
      expect(s).not.toHaveProperty(beta);
    }
  });
});

describe('buildSessionConfig (GA shape, defect 6 follow-up)', () => {
  it('maps the settings into the nested audio config', () => {
    const s = buildSessionConfig({ voice: 'shimmer', transcriptionModel: null, turnDetection: 'semantic_vad', instructions: 'Be brief.', outputModalities: ['text'] }) as Record<string, any>;
    expect(s.instructions).toBe('Be brief.');
    expect(s.output_modalities).toEqual(['text']);
    expect(s.audio.output.voice).toBe('shimmer');
    expect(s.audio.input.transcription).toBeNull();
    expect(s.audio.input.turn_detection).toMatchObject({ type: 'semantic_vad', create_response: true, interrupt_response: true });
    expect((buildSessionConfig({ turnDetection: null }) as Record<string, any>).audio.input.turn_detection).toBeNull();
    expect((buildSessionConfig() as Record<string, any>).audio.input.turn_detection).toMatchObject({ type: 'server_vad', create_response: true });
  });

  it('adds the server truncation safety net only when asked', () => {
    expect(buildSessionConfig()).not.toHaveProperty('truncation');
    expect(buildSessionConfig({ truncation: 'disabled' }).truncation).toBe('disabled');
    expect(buildSessionConfig({ truncation: { retentionRatio: 0.8 } }).truncation).toEqual({ type: 'retention_ratio', retention_ratio: 0.8 });
    expect(buildSessionConfig({ truncation: { retentionRatio: 0.5, postInstructionsTokens: 24_000 } }).truncation).toEqual({
      type: 'retention_ratio',
      retention_ratio: 0.5,
      token_limits: { post_instructions: 24_000 },
    });
  });

  it('merges extra fields last', () => {
    expect(buildSessionConfig({ extra: { max_output_tokens: 200, type: 'realtime' } })).toMatchObject({ max_output_tokens: 200, type: 'realtime' });
  });
});

// ---- defect 7 ---------------------------------------------------------------------------------------

describe('seed defect 7', () => {
  it('defect 7: the summary is written in the conversation\'s own language, not hard-coded French', () => {
    const p = summarySystemPrompt();
    expect(p.toLowerCase()).not.toContain('french');
    expect(p).toMatch(/same language the conversation is in/);
    expect(summarySystemPrompt('French')).toContain('Write the summary in French.');
  });

  it('defect 7: the summariser machine passes the configured language (none by default) to the summary prompt', async () => {
    const { actor, d } = startSummariser();
    actor.send({ type: 'SUMMARISE', turns: SEED_TURNS, window: 2_755, audioMs: {}, responseActive: false });
    await vi.waitFor(() => expect(d.summaries).toHaveLength(1));
    const system = d.summaries[0].messages[0];
    expect(system.role).toBe('system');
    expect(system.content.toLowerCase()).not.toContain('french');
    expect(d.summaries[0].messages[1].content).toBe('user: Can you tell me a quick story?\nassistant: Once upon a time, a cat named Whiskers found a glowing stone.');
    await vi.waitFor(() => expect(d.reports.map((r) => r.type)).toContain('SUMMARISER.DONE'));
  });
});

// ---- design rule next to defect 5 -----------------------------------------------------------------------

describe('summariser: never writes while a response is in flight', () => {
  it('waits for RESPONSE.ACTIVE false before inserting', async () => {
    const { actor, d } = startSummariser();
    actor.send({ type: 'SUMMARISE', turns: SEED_TURNS, window: 2_755, audioMs: {}, responseActive: true });
    await waitFor(actor, (s) => s.matches('awaitingQuiet'));
    await settle(10);
    expect(d.inserts).toEqual([]);
    expect(actor.getSnapshot().value).toBe('awaitingQuiet');
    actor.send({ type: 'RESPONSE.ACTIVE', active: false });
    await vi.waitFor(() => expect(d.calls).toEqual(['summarise', 'insert', 'delete']));
  });
});
