// Mutation testing of the machines and the conversation logic: `npm run mutate` (scripts/mutate.mjs)
// runs one Stryker pass per target of vitest.mutate.config.ts (MUTATE_TARGET), each with only the
// tests of that target. Reports: reports/mutation/<target>.{html,json} (git-ignored); scores:
// bench/mutation.json. Not part of npm test.
const target = process.env.MUTATE_TARGET ?? 'transcript';
const MUTATE = {
  transcript: ['machines/transcript.machine.ts'],
  summariser: ['machines/summariser.machine.ts'],
  conversation: ['src/conversation/**/*.ts'],
  session: ['machines/session.machine.ts', 'machines/session/**/*.ts'],
  tools: ['machines/tool-call.machine.ts', 'machines/tools.machine.ts'],
};

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: MUTATE[target],
  coverageAnalysis: 'perTest',
  // 2 cores on the project machine.
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['html', 'json', 'clear-text'],
  htmlReporter: { fileName: `reports/mutation/${target}.html` },
  jsonReporter: { fileName: `reports/mutation/${target}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  warnings: { slow: false },
  thresholds: { high: 85, low: 80, break: null },
};
