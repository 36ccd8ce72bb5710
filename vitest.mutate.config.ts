// The tests Stryker runs against each mutant (npm run mutate), per target. The machines are built at
// module load, so nearly all their mutants are "static" (Stryker cannot map them to single tests and
// runs every test of the config): each target therefore gets only the tests that exercise it.
import { defineConfig } from 'vitest/config';

// The files each target mutates are in stryker.config.mjs.
export const TARGETS: Record<string, { tests: string[] }> = {
  transcript: {
    tests: ['test/machines/machines.load.test.ts', 'test/machines/machines.diagram.test.ts', 'test/machines/transcript.model.test.ts', 'test/unit/seed-defects.test.ts'],
  },
  summariser: {
    tests: ['test/machines/machines.load.test.ts', 'test/machines/machines.diagram.test.ts', 'test/machines/summariser.model.test.ts', 'test/unit/seed-defects.test.ts', 'test/**/summariser.*.test.ts'],
  },
  conversation: {
    tests: [
      'test/unit/policy.test.ts', 'test/**/policy.*.test.ts', 'test/strategy.test.ts', 'test/unit/items.test.ts', 'test/**/mirror*.test.ts', 'test/unit/journal.test.ts',
      'test/unit/costs.test.ts', 'test/unit/summary-prompt.test.ts', 'test/unit/seed-defects.test.ts', 'test/machines/summariser.model.test.ts',
      'test/**/summariser.*.test.ts', 'test/**/conversation.*.test.ts', 'test/unit/seed.test.ts', 'test/unit/tokens.test.ts',
      'test/unit/cache-aware-strategy.test.ts',
    ],
  },
  // Slow (the session model replays ~500 paths per mutant): run on its own with `npm run mutate -- session`.
  // The agent and tool integration tests drive the session's effects (mirror effects, tool calls from
  // response.done) over the real socket to the emulator; a few seconds per run.
  session: {
    tests: [
      'test/machines/machines.load.test.ts', 'test/machines/machines.diagram.test.ts', 'test/machines/session.model.test.ts', 'test/**/session*.test.ts',
      'test/integration/agent.integration.test.ts', 'test/integration/agent.transport.test.ts', 'test/integration/tools.integration.test.ts',
      'test/unit/tools.summary.test.ts', 'test/integration/strategy.integration.test.ts',
    ],
  },
  tools: {
    tests: ['test/machines/machines.load.test.ts', 'test/machines/machines.diagram.test.ts', 'test/machines/tool-call.model.test.ts', 'test/machines/tools.machine.test.ts', 'test/integration/tools.integration.test.ts'],
  },
};

const target = TARGETS[process.env.MUTATE_TARGET ?? 'transcript'];
// MUTATE_TESTS=a.test.ts,b.test.ts: only these tests, to check quickly whether new tests kill mutants that
// survived the target's whole set (a mutant a subset kills, the whole set kills too).
const only = process.env.MUTATE_TESTS?.split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: only ?? target.tests,
    exclude: ['**/node_modules/**', 'test/**/*.e2e.test.ts', 'test/**/*.soak.test.ts', 'test/**/*.browser.test.ts'],
    testTimeout: 60_000,
  },
});
