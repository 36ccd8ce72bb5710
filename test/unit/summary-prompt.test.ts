import { describe, expect, it } from 'vitest';
import {
  buildSummaryMessages,
  INAUDIBLE,
  summaryId,
  summaryItemText,
  summarySystemPrompt,
  transcriptOf,
} from '../../src/conversation/summary-prompt.js';
import type { Turn } from '../../src/types.js';

const t = (over: Partial<Turn> & { id: string }): Turn => ({ kind: 'message', role: 'user', text: 'x', textState: 'final', audio: false, at: 0, ...over });

describe('summarySystemPrompt', () => {
  it('asks for the conversation\'s own language by default and never mentions French', () => {
    const p = summarySystemPrompt();
    expect(p).toContain('same language the conversation is in');
    expect(p.toLowerCase()).not.toContain('french');
  });

  it('asks for the given language when one is set', () => {
    const p = summarySystemPrompt('French');
    expect(p).toContain('Write the summary in French.');
    expect(p).not.toContain('same language the conversation is in');
    expect(summarySystemPrompt('Japanese')).toContain('Write the summary in Japanese.');
  });

  it('treats an empty language as "the conversation\'s own"', () => {
    expect(summarySystemPrompt('')).toContain('same language the conversation is in');
  });

  it('asks to merge an earlier summary and to keep facts', () => {
    const p = summarySystemPrompt();
    expect(p).toMatch(/earlier summary/i);
    expect(p).toMatch(/names, numbers/);
    expect(p).toContain('[inaudible]');
  });
});

describe('transcriptOf', () => {
  it('writes one "role: text" line per item, in order', () => {
    const out = transcriptOf([t({ id: 'u1', text: 'Tell me a story.' }), t({ id: 'a1', role: 'assistant', text: 'Once upon a time.' })]);
    expect(out).toBe('user: Tell me a story.\nassistant: Once upon a time.');
  });

  it('marks a previous summary as an earlier summary (rolling)', () => {
    const out = transcriptOf([t({ id: 'sum_001', role: 'system', text: 'They talked about cats.' }), t({ id: 'u2', text: 'And dogs?' })]);
    expect(out.split('\n')[0]).toBe('Earlier summary: They talked about cats.');
    const bySummaryOf = transcriptOf([t({ id: 'item_x', role: 'system', text: 'S.', summaryOf: ['a'] })]);
    expect(bySummaryOf).toBe('Earlier summary: S.');
  });

  it('writes function calls and their results', () => {
    const out = transcriptOf([
      { id: 'fc', kind: 'function_call', role: null, text: 'weather({"city":"Oslo"})', textState: 'final', audio: false, name: 'weather', callId: 'c', at: 0 },
      { id: 'fo', kind: 'function_call_output', role: null, text: '{"temp":3}', textState: 'final', audio: false, callId: 'c', at: 0 },
      { id: 'fc2', kind: 'function_call', role: null, text: null, textState: 'final', audio: false, at: 0 },
    ]);
    expect(out).toBe('assistant called the tool weather({"city":"Oslo"})\nthe tool weather returned: {"temp":3}\nassistant called the tool function()');
  });

  it('writes [inaudible] for turns without a transcript instead of dropping them', () => {
    const out = transcriptOf([
      t({ id: 'u1', text: null, textState: 'pending', audio: true }),
      t({ id: 'u2', text: 'garbled', textState: 'inaudible', audio: true }),
    ]);
    expect(out).toBe(`user: ${INAUDIBLE}\nuser: ${INAUDIBLE}`);
    expect(INAUDIBLE).toBe('[inaudible]');
  });

  it('leaves out other items and defaults a missing role to user', () => {
    const out = transcriptOf([
      { id: 'o', kind: 'other', role: null, text: null, textState: 'none', audio: false, at: 0 },
      t({ id: 'm', role: null, text: 'roleless' }),
    ]);
    expect(out).toBe('user: roleless');
  });

  it('is empty for no turns', () => {
    expect(transcriptOf([])).toBe('');
  });
});

describe('buildSummaryMessages', () => {
  it('returns a system prompt then the transcript as the user message', () => {
    const turns = [t({ id: 'u1', text: 'Hola' })];
    const msgs = buildSummaryMessages(turns, 'Spanish');
    expect(msgs).toEqual([
      { role: 'system', content: summarySystemPrompt('Spanish') },
      { role: 'user', content: 'user: Hola' },
    ]);
    expect(buildSummaryMessages(turns)[0].content).toBe(summarySystemPrompt());
  });
});

describe('summaryId and summaryItemText', () => {
  it('numbers summaries sum_001, sum_002, ... within 32 characters', () => {
    expect(summaryId(1)).toBe('sum_001');
    expect(summaryId(12)).toBe('sum_012');
    expect(summaryId(1234)).toBe('sum_1234');
    expect(summaryId(Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(32);
  });

  it('trims the summary text', () => {
    expect(summaryItemText('  A summary.\n')).toBe('A summary.');
  });
});

describe('summary prompt details', () => {
  it('the sentences of the system prompt are separated by spaces and ask for one paragraph and tool results', () => {
    const p = summarySystemPrompt();
    expect(p).toMatch(/^Summarise the following conversation in one concise, faithful paragraph/);
    expect(p).toContain('dialogue. Keep names');
    expect(p).toContain('For each tool call, state in one sentence what was asked and what the tool returned');
    expect(p).toContain('failed. Write the summary in the same language');
  });

  it('the tool name comes from the call, never from an output; missing texts read as empty', () => {
    const out = transcriptOf([
      { id: 'fc', kind: 'function_call', role: null, text: 'lookup({})', textState: 'final', audio: false, name: 'lookup', callId: 'k', at: 0 },
      { id: 'fo', kind: 'function_call_output', role: null, text: null, textState: 'final', audio: false, callId: 'k', name: 'bogus', at: 0 },
      { id: 'm', kind: 'message', role: 'user', text: 'hi', textState: 'final', audio: false, callId: 'j', name: 'bogus', at: 0 },
      { id: 'fo2', kind: 'function_call_output', role: null, text: 'x', textState: 'final', audio: false, callId: 'j', at: 0 },
      { id: 'sum_001', kind: 'message', role: 'system', text: null, textState: 'none', audio: false, at: 0 },
    ]);
    expect(out).toBe('assistant called the tool lookup({})\nthe tool lookup returned: \nuser: hi\nthe tool returned: x\nEarlier summary: ');
  });
});
