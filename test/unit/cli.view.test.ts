import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { count, gauge, historyText, skippedText, statusText, summaryText } from '../../src/cli/format.js';
import { TerminalView } from '../../src/cli/view.js';
import type { Turn } from '../../src/types.js';

function sink(tty = false) {
  const chunks: string[] = [];
  const w = new Writable({ write(c, _e, cb) { chunks.push(c.toString()); cb(); } }) as Writable & { isTTY?: boolean };
  w.isTTY = tty;
  return { w, text: () => chunks.join('') };
}
const turn = (p: Partial<Turn>): Turn => ({ id: 'item_1', kind: 'message', role: 'user', text: null, textState: 'pending', audio: true, at: 0, ...p });

describe('cli formatting', () => {
  it('counts in words, singular for one (no "1 summaries")', () => {
    expect(count(1, 'summary', 'summaries')).toBe('1 summary');
    expect(count(0, 'summary', 'summaries')).toBe('0 summaries');
    expect(count(2, 'turn')).toBe('2 turns');
    expect(count(1, 'verbatim turn')).toBe('1 verbatim turn');
    expect(count(12345, 'rollover')).toBe('12,345 rollovers');
    expect(summaryText({ turns: 1, windowBefore: 2100, windowAfterEstimate: 900 })).toMatch(/^summarised 1 turn into 1, /);
  });

  it('formats the status line and the summary line', () => {
    expect(gauge(10, 20, 10)).toBe('[#####.....]');
    expect(gauge(50, 20, 4)).toBe('[####]');
    expect(statusText({ tokens: 21340, trigger: 20000, costUsd: 0.01234 })).toBe('window 21,340 / 20,000 [#####################] 107% · cost $0.0123'.replace('#####################', '#'.repeat(20)));
    expect(summaryText({ turns: 14, windowBefore: 21340, windowAfterEstimate: 9870 })).toBe('summarised 14 turns into 1, window 21,340 -> ≈9,870 (estimate until the next response)');
    // Issue 10: server figures are plain, estimates carry ≈ (the status line after a summary too).
    expect(statusText({ tokens: 9870, trigger: 20000, costUsd: 0, estimated: true })).toMatch(/^window ≈9,870 \/ 20,000 /);
    expect(skippedText({ reason: 'nothing to fold' })).toBe('summary skipped: nothing to fold');
  });

  it('prints history like the notebook', () => {
    const text = historyText([turn({ text: 'Hi\nthere', textState: 'final' }), turn({ id: 'item_2', role: 'assistant', text: 'Hello' })]);
    expect(text.split('\n')).toEqual([
      '—— Conversation so far ———————————————',
      '[user     ] Hi there (item_1)',
      '[assistant] Hello (item_2)',
      '——————————————————————————————————————————',
    ]);
  });
});

describe('terminal view', () => {
  it('fills user transcripts in as they arrive and streams assistant text', () => {
    const out = sink();
    const v = new TerminalView({ out: out.w, err: out.w, color: false, redact: (s) => s.replace('SECRET', '[redacted]') });
    v.onTurn(turn({}));
    v.onDelta({ itemId: 'item_2', responseId: 'r', delta: 'Hel' });
    v.onDelta({ itemId: 'item_2', responseId: 'r', delta: 'lo SECRET' });
    v.onTranscript({ itemId: 'item_1', text: 'hi', final: true, source: 'event' });
    v.onResponseDone();
    v.onTurn(turn({ id: 'item_2', role: 'assistant', text: 'Hello', textState: 'final' }));
    v.onWindow({ tokens: 979, trigger: 2000, target: 1000, costUsd: 0.5, responseId: 'r', usage: {} as never });
    v.onSummary({ id: 'sum_001', text: 's', replacedIds: ['a', 'b'], turns: 2, windowBefore: 2755, windowAfterEstimate: 1200 });
    expect(out.text()).toBe(
      'assistant: Hello [redacted]\nyou: hi\n-- window 979 / 2,000 [##########..........] 49% · cost $0.5000\n-- summarised 2 turns into 1, window 2,755 -> ≈1,200 (estimate until the next response)\n',
    );
  });

  it('colours roles unless colour is off, and uses a live status line on a TTY', () => {
    const out = sink(true);
    const v = new TerminalView({ out: out.w, err: out.w, color: true, redact: (s) => s });
    v.onTurn(turn({ text: 'typed', textState: 'final' }));
    v.onWindow({ tokens: 10, trigger: 20, target: 5, costUsd: 0, responseId: 'r', usage: {} as never });
    v.onTurn(turn({ id: 'item_3', role: 'assistant', text: 'ok', textState: 'final' }));
    const s = out.text();
    expect(s).toContain('\x1b[36m');
    expect(s).toContain('\r\x1b[K'); // status line cleared before the next transcript line
    expect(s).toMatch(/window 10 \/ 20/);
  });
  it('prints a skipped summary with its reason, and marks the window after a summary as an estimate on the status line', () => {
    const out = sink(true);
    const v = new TerminalView({ out: out.w, err: out.w, color: false, redact: (s) => s });
    v.onWindow({ tokens: 2333, trigger: 2000, target: 0, costUsd: 0, responseId: 'r', usage: {} as never });
    v.onSummarySkipped({ reason: 'nothing to fold: every older turn is among the kept recent turns' });
    expect(out.text()).toContain('-- summary skipped: nothing to fold: every older turn is among the kept recent turns\n');
    v.onSummary({ id: 'sum_001', text: 's', replacedIds: ['a', 'b'], turns: 2, windowBefore: 2333, windowAfterEstimate: 1683 });
    expect(out.text().split('\n').at(-1)).toMatch(/^window ≈1,683 \/ 2,000 /);
    v.onWindow({ tokens: 1553, trigger: 2000, target: 0, costUsd: 0, responseId: 'r2', usage: {} as never });
    expect(out.text().split('\r\x1b[K').at(-1)).toMatch(/^window 1,553 \/ 2,000 /);
  });
  it('shows the agent\'s public state on the live status line (TTY), not in printed window lines', () => {
    const tty = sink(true);
    const v = new TerminalView({ out: tty.w, err: tty.w, color: false, redact: (s) => s });
    v.onWindow({ tokens: 500, trigger: 2000, target: 0, costUsd: 0, responseId: 'r', usage: {} as never });
    v.onState('speaking');
    expect(tty.text().split('\r\x1b[K').at(-1)).toMatch(/^window 500 \/ 2,000 .* · cost \$0\.0000 · speaking$/);
    v.onState('listening');
    expect(tty.text().split('\r\x1b[K').at(-1)).toMatch(/ · listening$/);
    const plain = sink(false);
    const p = new TerminalView({ out: plain.w, err: plain.w, color: false, redact: (s) => s });
    p.onState('speaking');
    p.onWindow({ tokens: 500, trigger: 2000, target: 0, costUsd: 0, responseId: 'r', usage: {} as never });
    expect(plain.text()).toMatch(/-- window 500 \/ 2,000 .* · cost \$0\.0000\n$/);
  });
});
