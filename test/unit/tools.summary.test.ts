// Tool results in summaries and seeds: the prompt asks for a sentence per result, the transcript names
// the tool with its result, and the seed after a rollover carries recent results as text.
import { describe, expect, it } from 'vitest';
import { buildSeed } from '../../src/conversation/seed.js';
import { summarySystemPrompt, transcriptOf } from '../../src/conversation/summary-prompt.js';
import { createRealtimeAgent } from '../../src/agent.js';
import type { Turn } from '../../src/types.js';

const turn = (p: Partial<Turn> & { id: string }): Turn => ({ kind: 'message', role: 'user', text: null, textState: 'final', audio: false, at: 0, ...p });

const MIRROR: Turn[] = [
  turn({ id: 'sum_001', role: 'system', text: 'The user asked about Paris.', summaryOf: ['old1'] }),
  turn({ id: 'u1', text: 'What time is it in Tokyo?' }),
  turn({ id: 'fc1', kind: 'function_call', role: null, text: 'get_time({"city":"Tokyo"})', name: 'get_time', callId: 'call_1' }),
  turn({ id: 'fo1', kind: 'function_call_output', role: null, text: '{"time":"20:32"}', callId: 'call_1' }),
  turn({ id: 'a1', role: 'assistant', text: 'It is 20:32 in Tokyo.' }),
];

describe('tool results in summaries and seeds', () => {
  it('the summary prompt asks to state each tool result in a sentence', () => {
    expect(summarySystemPrompt()).toMatch(/For each tool call, state in one sentence what was asked and what the tool returned/);
  });

  it('the transcript names the tool next to its result', () => {
    expect(transcriptOf(MIRROR.slice(1))).toBe(
      ['user: What time is it in Tokyo?', 'assistant called the tool get_time({"city":"Tokyo"})', 'the tool get_time returned: {"time":"20:32"}', 'assistant: It is 20:32 in Tokyo.'].join('\n'),
    );
  });

  it('the seed carries the summary and the recent call with its result as text', () => {
    const seed = buildSeed(MIRROR)!;
    expect(seed.text).toContain('Summary of the conversation so far: The user asked about Paris.');
    expect(seed.text).toContain('assistant called the tool get_time({"city":"Tokyo"})\nthe tool get_time returned: {"time":"20:32"}');
    expect(seed.covers).toEqual(['sum_001', 'u1', 'fc1', 'fo1', 'a1']);
  });

  it('toolChoice must name a known tool (one-line bad_input)', () => {
    const make = (toolChoice: unknown) => () =>
      createRealtimeAgent({ connection: { url: 'ws://127.0.0.1:1/v1/realtime' }, tools: [{ name: 'get_time', execute: () => 'noon' }], toolChoice: toolChoice as never, journal: false });
    expect(make({ type: 'function', name: 'get_time' })).not.toThrow();
    expect(make('required')).not.toThrow();
    expect(make({ type: 'function', name: 'nope' })).toThrow('toolChoice must be "auto", "none", "required" or { type: "function", name } naming one of the tools (get_time)');
    expect(make('sometimes')).toThrow(/^toolChoice must be/);
  });
});
