// Each machine file opens with a diagram and a `States:` line; both must match the machine itself
// (machine.toJSON()), so the header cannot drift from the statechart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sessionMachine } from '../../machines/session.machine.js';
import { summariserMachine } from '../../machines/summariser.machine.js';
import { transcriptMachine } from '../../machines/transcript.machine.js';
import { toolsMachine } from '../../machines/tools.machine.js';
import { toolCallMachine } from '../../machines/tool-call.machine.js';

interface StateJson {
  key: string;
  id: string;
  description?: string;
  states?: Record<string, StateJson>;
}

/** Every state node below the root. */
function stateNodes(node: StateJson): StateJson[] {
  return Object.values(node.states ?? {}).flatMap((s) => [s, ...stateNodes(s)]);
}

/** Every state node's key below the root. */
function stateNames(node: StateJson): string[] {
  return Object.values(node.states ?? {}).flatMap((s) => [s.key, ...stateNames(s)]);
}

/** The leading comment block of a file (up to the first line that is not a comment). */
function header(file: string): string[] {
  const lines = readFileSync(new URL(`../../machines/${file}`, import.meta.url), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end).map((l) => l.replace(/^\/\/ ?/, ''));
}

/** The words of the `States:` line and its indented continuation lines. */
function listedStates(lines: string[]): string[] {
  const at = lines.findIndex((l) => l.startsWith('States:'));
  if (at < 0) return [];
  const out = [lines[at].slice('States:'.length)];
  for (let i = at + 1; i < lines.length && /^\s+\S/.test(lines[i]); i++) out.push(lines[i]);
  return out.join(' ').split(/\s+/).filter(Boolean);
}

const MACHINES = [
  ['session.machine.ts', sessionMachine],
  ['summariser.machine.ts', summariserMachine],
  ['transcript.machine.ts', transcriptMachine],
  ['tools.machine.ts', toolsMachine],
  ['tool-call.machine.ts', toolCallMachine],
] as const;

const README = readFileSync(new URL('../../machines/README.md', import.meta.url), 'utf8');
const names = (m: (typeof MACHINES)[number][1]) => [...new Set(stateNames(m.toJSON() as unknown as StateJson))].sort();
/** The words of a diagram line after `label:` (state names joined by |, →, parentheses). */
const words = (text: string) => [...new Set(text.split(/[^A-Za-z]+/).filter(Boolean))].sort();

describe('machine header diagrams match the machines', () => {
  for (const [file, machine] of MACHINES) {
    it(`${file}: the States line lists exactly the machine's states, and the diagram shows each`, () => {
      const names = [...new Set(stateNames(machine.toJSON() as unknown as StateJson))].sort();
      const lines = header(file);
      expect(names.length).toBeGreaterThan(1);
      expect([...new Set(listedStates(lines))].sort()).toEqual(names);
      const diagram = lines.slice(0, lines.findIndex((l) => l.startsWith('States:'))).join('\n');
      for (const n of names) expect(diagram, `state ${n} missing from the diagram`).toMatch(new RegExp(`\\b${n}\\b`));
    });
  }

  it('every state of every machine (regions included) carries a description', () => {
    for (const [file, machine] of MACHINES) {
      const missing = stateNodes(machine.toJSON() as unknown as StateJson).filter((n) => !(typeof n.description === 'string' && n.description.trim().length > 10));
      expect(missing.map((n) => n.id), file).toEqual([]);
    }
  });

  it('machines/README.md: the table lists every machine file, and each machine with exactly its states', () => {
    for (const [file, machine] of MACHINES) {
      expect(README, file).toContain(`| \`${file}\` |`);
      const row = new RegExp(`^\\| \`${machine.id}\` \\| ([^|]+) \\|$`, 'm').exec(README);
      expect(row, `states row of ${machine.id}`).not.toBeNull();
      expect([...new Set(row![1].trim().split(/\s+/))].sort(), machine.id).toEqual(names(machine));
    }
  });

  it('machines/README.md: the diagram shows every region of live and every child machine, each with exactly its states', () => {
    const diagram = /## Who talks to whom\n\n```\n([\s\S]*?)```/.exec(README)![1].split('\n');
    const start = diagram.findIndex((l) => l.includes('live = parallel {'));
    const end = diagram.findIndex((l, i) => i > start && l.includes('}'));
    expect(start).toBeGreaterThan(0);
    const live = (sessionMachine.toJSON() as unknown as StateJson).states!.online.states!.live;
    const regions = Object.values(live.states!);
    expect(regions.map((r) => r.key)).toEqual(['response', 'queue', 'summary', 'rollover', 'tools']);
    for (const r of regions) {
      const line = diagram.slice(start, end + 1).find((l) => new RegExp(`\\b${r.key}:`).test(l));
      expect(line, `region ${r.key}`).toBeDefined();
      const listed = words(line!.slice(line!.indexOf(`${r.key}:`) + r.key.length + 1).replace(/}.*$/, ''));
      expect(listed, `region ${r.key}`).toEqual([...new Set(stateNames(r))].sort());
    }
    for (const [, machine] of MACHINES.slice(1)) {
      const line = diagram.slice(end + 1).find((l) => new RegExp(`^│\\s+${machine.id}: `).test(l));
      expect(line, `child ${machine.id}`).toBeDefined();
      expect(words(line!.slice(line!.indexOf(': ') + 2).replace(/│\s*$/, '')), machine.id).toEqual(names(machine));
    }
  });

  it('every machine file stays within about 400 lines', () => {
    for (const f of ['session.machine.ts', 'summariser.machine.ts', 'transcript.machine.ts', 'tools.machine.ts', 'tool-call.machine.ts', 'session/setup.ts', 'session/live.ts', 'session/effects.ts', 'session/types.ts', 'session/tools.ts', 'session/public-state.ts']) {
      const n = readFileSync(new URL(`../../machines/${f}`, import.meta.url), 'utf8').split('\n').length;
      expect(n, f).toBeLessThanOrEqual(420);
    }
  });
});
