// The examples under examples/ run from the PACKED package, as a user would run them: `npm pack`,
// the tarball extracted into <tmp>/node_modules/realtime-context, the other dependencies linked from
// this repository's node_modules (no network install), then the examples' own tests with vitest in
// <tmp>. So `realtime-context` and `realtime-context/testing` resolve through the published
// package.json exports and dist/, not through the source tree. Needs `npm run build` first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples', 'model-based-testing');
const built = existsSync(join(ROOT, 'dist', 'src', 'testing', 'index.js'));
let dir = '';

// Child processes run asynchronously: a blocked worker misses vitest's RPC deadlines.
const run = (args: string[], cwd: string) =>
  promisify(execFile)(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }).then(
    (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );

describe.skipIf(!built)(built ? 'examples run from the packed package' : 'examples from the packed package: SKIPPED, no dist/ (run `npm run build` first)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtc-pack-'));
    // --ignore-scripts: dist/ is already built (npm test builds first); no prepare, no network.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    const tarball = join(dir, out.trim().split('\n').at(-1)!);
    const pkg = join(dir, 'node_modules', 'realtime-context');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
    // The package's dependencies (and vitest), linked from this repository: no install.
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name === 'realtime-context' || name.startsWith('.')) continue;
      symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
    }
    cpSync(EXAMPLES, join(dir, 'examples'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'example-user', private: true, type: 'module' }));
    writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['examples/**/*.test.ts'], testTimeout: 60000 } };\n");
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, include: ['examples'] }),
    );
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball carries the testing kit and exports it as realtime-context/testing', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', 'realtime-context', 'package.json'), 'utf8'));
    expect(pkg.exports['./testing']).toEqual({ types: './dist/src/testing/index.d.ts', default: './dist/src/testing/index.js' });
    expect(existsSync(join(dir, 'node_modules', 'realtime-context', 'dist', 'src', 'testing', 'index.d.ts'))).toBe(true);
    // The source tree is not what is published.
    expect(existsSync(join(dir, 'node_modules', 'realtime-context', 'src'))).toBe(false);
  });

  it('the examples typecheck against the published types', async () => {
    const tsc = await run([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir);
    expect(tsc.stdout + tsc.stderr, 'tsc output').toBe('');
    expect(tsc.status).toBe(0);
  }, 300_000);

  it("the examples' tests pass, run by vitest from the user's directory", async () => {
    const vitest = await run([join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=json', '--outputFile=result.json'], dir);
    expect(existsSync(join(dir, 'result.json')), vitest.stderr).toBe(true);
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    const files = result.testResults.map((f: { name: string }) => f.name.replace(`${dir}/`, ''));
    // Every example file ran, from the copy (so its imports resolved through node_modules/realtime-context).
    expect(files.sort()).toEqual(readdirSync(EXAMPLES).filter((f) => f.endsWith('.test.ts')).map((f) => `examples/${f}`).sort());
    expect(result.numFailedTests, JSON.stringify(result.testResults.map((f: { message: string }) => f.message))).toBe(0);
    expect(result.numPassedTests).toBeGreaterThan(5);
    expect(vitest.status).toBe(0);
  }, 300_000);
});
