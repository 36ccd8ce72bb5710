// The tests Stryker runs against each mutant (npm run mutate): the model-based and unit tests of
// machines/ and src/conversation/. No sockets, no child processes, no devices: fast and deterministic.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/transcript.model.test.ts',
      'test/summariser.model.test.ts',
      'test/session.model.test.ts',
      'test/seed-defects.test.ts',
      'test/policy.test.ts',
      'test/strategy.test.ts',
      'test/items.test.ts',
      'test/mirror.test.ts',
      'test/journal.test.ts',
      'test/costs.test.ts',
      'test/summary-prompt.test.ts',
      'test/conversation.*.test.ts',
    ],
    testTimeout: 60_000,
  },
});
