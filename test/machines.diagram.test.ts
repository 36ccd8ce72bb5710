// Each machine file opens with a diagram and a `States:` line; both must match the machine itself
// (machine.toJSON()), so the header cannot drift from the statechart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sessionMachine } from '../machines/session.machine.js';
import { summariserMachine } from '../machines/summariser.machine.js';
import { transcriptMachine } from '../machines/transcript.machine.js';

interface StateJson {
  key: string;
  states?: Record<string, StateJson>;
}

/** Every state node's key below the root. */
function stateNames(node: StateJson): string[] {
  return Object.values(node.states ?? {}).flatMap((s) => [s.key, ...stateNames(s)]);
}

/** The leading comment block of a file (up to the first line that is not a comment). */
function header(file: string): string[] {
  const lines = readFileSync(new URL(`../machines/${file}`, import.meta.url), 'utf8').split('\n');
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
] as const;

describe('machine header diagrams match the machines', () => {
  for (const [file, machine] of MACHINES) {
    it(`${file}: the States line lists exactly the machine's states, and the diagram shows each`, () => {
      const names = [...new Set(stateNames(machine.toJSON() as unknown as StateJson))].sort();
      const lines = header(file);
      expect(names.length).toBeGreaterThan(2);
      expect([...new Set(listedStates(lines))].sort()).toEqual(names);
      const diagram = lines.slice(0, lines.findIndex((l) => l.startsWith('States:'))).join('\n');
      for (const n of names) expect(diagram, `state ${n} missing from the diagram`).toMatch(new RegExp(`\\b${n}\\b`));
    });
  }

  it('every machine file stays within about 400 lines', () => {
    for (const f of ['session.machine.ts', 'summariser.machine.ts', 'transcript.machine.ts', 'session/setup.ts', 'session/live.ts', 'session/effects.ts', 'session/types.ts']) {
      const n = readFileSync(new URL(`../machines/${f}`, import.meta.url), 'utf8').split('\n').length;
      expect(n, f).toBeLessThanOrEqual(420);
    }
  });
});
