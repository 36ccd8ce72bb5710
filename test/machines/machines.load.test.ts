// Each machine module loads and yields a definition whose states are the documented ones. Imported
// inside the tests, so a machine that cannot even be built is a failing test (not a file that fails to
// load, which Stryker's vitest runner does not count as a failure: npm run mutate relies on this file).
import { describe, expect, it } from 'vitest';

const statesOf = (m: { toJSON(): unknown }) => Object.keys((m.toJSON() as { states: Record<string, unknown> }).states).sort();

describe('machine modules load', () => {
  it('transcript: awaitingTranscript, retrieving, backingOff, done, failed', async () => {
    const { transcriptMachine } = await import('../../machines/transcript.machine.js');
    expect(statesOf(transcriptMachine)).toEqual(['awaitingTranscript', 'backingOff', 'done', 'failed', 'retrieving']);
  });

  it('summariser: idle, collecting, planning, summarising, awaitingQuiet, inserting, pruning, cooldown', async () => {
    const { summariserMachine } = await import('../../machines/summariser.machine.js');
    expect(statesOf(summariserMachine)).toEqual(['awaitingQuiet', 'collecting', 'cooldown', 'idle', 'inserting', 'planning', 'pruning', 'summarising']);
  });

  it('session: builds', async () => {
    const { sessionMachine } = await import('../../machines/session.machine.js');
    expect(statesOf(sessionMachine).length).toBeGreaterThan(2);
  });
});
