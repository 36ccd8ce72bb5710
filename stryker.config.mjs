// Mutation testing of the machines and the conversation logic (npm run mutate; not part of npm test).
// Report: reports/mutation/ (HTML + JSON, git-ignored); scores: bench/mutation.json (scripts/mutation-score.mjs).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['machines/**/*.ts', 'src/conversation/**/*.ts'],
  coverageAnalysis: 'perTest',
  // 2 cores on the project machine.
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 85, low: 80, break: null },
};
