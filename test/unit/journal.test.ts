import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../adapters/journal-file.js';
import { conversationFromJournal, journalLine, parseJournal, type JournalEntry, type JournalLine } from '../../src/conversation/journal.js';

const KEY = 'sk-test-0123456789abcdefXYZ';
const AZURE_KEY = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entries: JournalEntry[] = [
  { type: 'session', sessionId: 'sess_1', model: 'gpt-realtime', url: 'wss://api.openai.com/v1/realtime', dialect: 'ga', expiresAt: null },
  { type: 'turn', id: 'item_u1', role: 'user', kind: 'message', text: 'Can you tell me a quick story?', textState: 'final' },
  { type: 'turn', id: 'item_a1', role: 'assistant', kind: 'message', text: 'Once upon a time, a cat.', textState: 'final' },
  { type: 'turn', id: 'fc_1', role: null, kind: 'function_call', text: 'f({})', textState: 'final', callId: 'call_1', name: 'f' },
  { type: 'summary', id: 'sum_001', text: 'A story about a cat.', replaces: ['item_u1', 'item_a1'], windowBefore: 2755 },
  { type: 'delete', id: 'item_u1' },
  { type: 'truncate', id: 'item_a1', audioEndMs: 800, text: 'Once upon…' },
  { type: 'error', code: 'server_error', message: 'oops' },
  { type: 'end', reason: 'stopped' },
];

describe('journalLine', () => {
  it('writes one JSON line with version and ISO time first', () => {
    const now = new Date('2025-01-02T03:04:05.678Z');
    const line = journalLine({ type: 'delete', id: 'item_1' }, [], now);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({ v: 1, t: '2025-01-02T03:04:05.678Z', type: 'delete', id: 'item_1' });
    expect(line.startsWith('{"v":1,"t":"2025-01-02T03:04:05.678Z","type":"delete"')).toBe(true);
  });

  it('keeps a text with newlines on one line', () => {
    const line = journalLine({ type: 'turn', id: 'x', role: 'user', kind: 'message', text: 'a\nb\r\nc', textState: 'final' }, []);
    expect(line.split('\n')).toHaveLength(2);
    expect((JSON.parse(line) as { text: string }).text).toBe('a\nb\r\nc');
  });

  it('removes given secrets and anything that looks like an OpenAI key', () => {
    const line = journalLine({ type: 'error', code: 'bad_api_key', message: `key ${KEY} / ${AZURE_KEY} / sk-other-abcdefghijk refused` }, [AZURE_KEY, undefined]);
    expect(line).not.toContain(KEY);
    expect(line).not.toContain(AZURE_KEY);
    expect(line).not.toContain('abcdefghijk');
    expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('parseJournal', () => {
  it('round-trips every entry type', () => {
    const now = new Date('2025-05-05T00:00:00.000Z');
    const text = entries.map((e) => journalLine(e, [], now)).join('');
    const lines = parseJournal(text);
    expect(lines).toHaveLength(entries.length);
    lines.forEach((l, i) => expect(l).toEqual({ v: 1, t: now.toISOString(), ...entries[i] }));
  });

  it('accepts an empty journal and a missing final newline', () => {
    expect(parseJournal('')).toEqual([]);
    expect(parseJournal('{"v":1,"t":"x","type":"end","reason":"r"}')).toHaveLength(1);
  });

  it('throws on a malformed line, naming it', () => {
    const text = `${journalLine({ type: 'delete', id: 'a' }, [])}{"v":1,"t":"x","type":"del\n`;
    expect(() => parseJournal(text)).toThrow('journal line 2 is not valid JSON');
  });

  // Bug: journal.ts filters out empty lines before numbering them, so the reported number is the
  // Nth non-empty line, not the line of the file a person would open.
  it('names the malformed line by its line number in the file, blank lines included', () => {
    const good = journalLine({ type: 'delete', id: 'a' }, []).trimEnd();
    // file lines: 1 good, 2 blank, 3 good, 4 bad
    const text = [good, '', good, 'not json', ''].join('\n');
    expect(() => parseJournal(text)).toThrow('journal line 4 is not valid JSON');
  });
});

describe('conversationFromJournal', () => {
  const now = new Date('2025-05-05T00:00:00.000Z');
  const parse = (es: JournalEntry[]): JournalLine[] => parseJournal(es.map((e) => journalLine(e, [], now)).join(''));

  it('keeps every turn once, in first-seen order, even after deletes', () => {
    const conv = conversationFromJournal(parse(entries));
    expect(conv.map((c) => c.id)).toEqual(['item_u1', 'item_a1', 'fc_1']);
    expect(conv[0]).toEqual({ id: 'item_u1', role: 'user', text: 'Can you tell me a quick story?' });
    expect(conv[2]).toEqual({ id: 'fc_1', role: null, text: 'f({})' });
  });

  it('applies truncations to the heard text', () => {
    const conv = conversationFromJournal(parse(entries));
    expect(conv.find((c) => c.id === 'item_a1')?.text).toBe('Once upon…');
  });

  it('updates a re-journaled turn in place and ignores truncations of unknown items', () => {
    const conv = conversationFromJournal(
      parse([
        { type: 'turn', id: 'u1', role: 'user', kind: 'message', text: null, textState: 'pending' },
        { type: 'turn', id: 'a1', role: 'assistant', kind: 'message', text: 'hi', textState: 'final' },
        { type: 'turn', id: 'u1', role: 'user', kind: 'message', text: 'late', textState: 'final' },
        { type: 'truncate', id: 'ghost', audioEndMs: 1, text: 'x' },
      ]),
    );
    expect(conv).toEqual([
      { id: 'u1', role: 'user', text: 'late' },
      { id: 'a1', role: 'assistant', text: 'hi' },
    ]);
  });
});

describe('openJournal (file writer)', () => {
  it('creates the file (and its folder) with mode 0600', () => {
    const path = join(dir, 'nested', 'deeper', 'a.jsonl');
    const w = openJournal(path, [KEY]);
    expect(w.path).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    w.write({ type: 'end', reason: 'stopped' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('tightens an existing file to 0600 and appends to it', () => {
    const path = join(dir, 'existing.jsonl');
    const first = journalLine({ type: 'delete', id: 'old' }, []);
    writeFileSync(path, first);
    chmodSync(path, 0o644);
    const w = openJournal(path, []);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    w.write({ type: 'delete', id: 'new' });
    const lines = parseJournal(readFileSync(path, 'utf8'));
    expect(lines.map((l) => (l as { id: string }).id)).toEqual(['old', 'new']);
  });

  it('writes synchronously: each entry is on disk when write returns', () => {
    const path = join(dir, 'sync.jsonl');
    const w = openJournal(path, []);
    entries.forEach((e, i) => {
      w.write(e);
      expect(parseJournal(readFileSync(path, 'utf8'))).toHaveLength(i + 1);
    });
    expect(parseJournal(readFileSync(path, 'utf8')).map((l) => l.type)).toEqual(entries.map((e) => e.type));
  });

  it('never writes the API key, wherever it appears in an entry', () => {
    const path = join(dir, 'secret.jsonl');
    const w = openJournal(path, [KEY, AZURE_KEY]);
    w.write({ type: 'session', sessionId: 's', model: 'm', url: `wss://u:${KEY}@host/v1/realtime?api-key=${AZURE_KEY}`, dialect: 'ga', expiresAt: 1 });
    w.write({ type: 'turn', id: 'u', role: 'user', kind: 'message', text: `my key is ${KEY}`, textState: 'final' });
    w.write({ type: 'error', code: 'bad_api_key', message: `Incorrect API key provided: ${AZURE_KEY}` });
    w.write({ type: 'summary', id: 'sum_001', text: `user shared ${KEY}`, replaces: [KEY], windowBefore: 1 });
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(AZURE_KEY);
    expect(text).toContain('[redacted]');
    expect(parseJournal(text)).toHaveLength(4);
  });
});

describe('conversationFromJournal order', () => {
  it('puts a user turn whose transcript came late before the answer to it (prev links, not line order)', () => {
    const lines = [
      { v: 1, t: 't', type: 'turn', id: 'a1', role: 'assistant', kind: 'message', text: 'answer', textState: 'final', prev: 'u1' },
      { v: 1, t: 't', type: 'turn', id: 'u1', role: 'user', kind: 'message', text: 'late question', textState: 'final', prev: null },
      { v: 1, t: 't', type: 'turn', id: 'u2', role: 'user', kind: 'message', text: 'next', textState: 'final', prev: 'a1' },
    ] as JournalLine[];
    expect(conversationFromJournal(lines).map((t) => t.id)).toEqual(['u1', 'a1', 'u2']);
  });
  it('moves a turn right after its predecessor even when that one is not first', () => {
    const turn = (id: string, role: string, prev: string | null) => ({ v: 1, t: 't', type: 'turn', id, role, kind: 'message', text: id, textState: 'final', prev });
    const lines = [turn('a2', 'assistant', 'u2'), turn('u1', 'user', null), turn('a1', 'assistant', 'u1'), turn('u2', 'user', 'a1')] as JournalLine[];
    expect(conversationFromJournal(lines).map((t) => t.id)).toEqual(['u1', 'a1', 'u2', 'a2']);
  });

  it('a late transcript replaces the [inaudible] text of its turn', () => {
    const lines = [
      { v: 1, t: 't', type: 'turn', id: 'u1', role: 'user', kind: 'message', text: '[inaudible]', textState: 'inaudible', prev: null },
      { v: 1, t: 't', type: 'transcript', id: 'u1', text: 'heard after all' },
      { v: 1, t: 't', type: 'transcript', id: 'zz', text: 'no such turn' },
    ] as JournalLine[];
    expect(conversationFromJournal(lines)).toEqual([{ id: 'u1', role: 'user', text: 'heard after all' }]);
  });
});
