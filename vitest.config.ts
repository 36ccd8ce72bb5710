import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A private TMPDIR per test file, removed afterwards (no temp dirs left behind).
    setupFiles: ['test/helpers/tmp-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Sockets, child processes and real devices: files run in forks, two at a time on a 2-core machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
