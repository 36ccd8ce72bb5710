// Install outside the repository, as docs/install.md says (issue 24): `npm pack`, then
// `npm install <tarball>` in an empty directory, offline. npm may not reach a registry here, so the
// package's production dependencies (their closure, read from package-lock.json) are placed in the
// directory's node_modules first, as hard links to this repository's copies (copies if that fails);
// npm then installs the tarball itself, links its three bins into node_modules/.bin and fetches
// nothing. Each installed bin answers --version and holds a short session against the emulator, and
// each export ('.', './emulator', './testing', './proxy') imports from the user's directory.
// Needs `npm run build` first (the tarball carries dist/).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/cli-run.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const built = existsSync(join(ROOT, 'dist', 'src', 'cli.js'));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string>; exports: Record<string, unknown> };
let dir = '';
const children: ChildProcess[] = [];

/** node_modules/<name> paths of the production dependencies and everything they need (package-lock.json). */
function productionClosure(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }> };
  const seen = new Set<string>();
  const find = (from: string, name: string): string | null => {
    for (let base = from; ; ) {
      const p = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (lock.packages[p]) return p;
      if (!base) return null;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const walk = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    const e = lock.packages[p];
    for (const n of Object.keys({ ...e.dependencies, ...e.peerDependencies })) {
      const r = find(p, n);
      if (r) walk(r);
    }
  };
  for (const n of Object.keys(lock.packages[''].dependencies ?? {})) walk(`node_modules/${n}`);
  // Nested copies come along with their top-level parent directory.
  return [...seen].filter((p) => !p.slice('node_modules/'.length).includes('/node_modules/'));
}

const exec = (cmd: string, args: string[], cwd: string, input?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
    const p = execFile(cmd, args, { cwd, env: cleanEnv({ NO_COLOR: '1' }), encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
      res({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) p.stdin!.end(input);
  });
const bin = (name: string) => join(dir, 'node_modules', '.bin', name);

/** Starts an installed server bin and resolves with the URL it listens on ("listening [on] ws://…"). */
function serve(name: string, args: string[]): Promise<string> {
  const p = spawn(bin(name), args, { cwd: dir, env: cleanEnv() });
  children.push(p);
  let text = '';
  return new Promise((res, rej) => {
    const look = (d: Buffer) => {
      text += d.toString();
      const m = /^listening (?:on )?(ws:\/\/127\.0\.0\.1:\d+\/v1\/realtime)/m.exec(text);
      if (m) res(m[1]);
    };
    p.stdout.on('data', look);
    p.stderr.on('data', look);
    p.on('exit', (code) => rej(new Error(`${name} exited ${code}: ${text}`)));
  });
}

describe.skipIf(!built)(built ? 'installed from the packed tarball, outside the repository' : 'install from the tarball: SKIPPED, no dist/ (run `npm run build` first)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rtc-install-'));
    const packOut = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    const tarball = join(dir, packOut.trim().split('\n').at(-1)!);
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
    const modules = realpathSync(join(ROOT, 'node_modules'));
    for (const p of productionClosure()) {
      const to = join(project, p);
      mkdirSync(dirname(to), { recursive: true });
      try {
        execFileSync('cp', ['-al', join(modules, p.slice('node_modules/'.length)), to]);
      } catch {
        cpSync(join(modules, p.slice('node_modules/'.length)), to, { recursive: true });
      }
    }
    const npm = await exec('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=optional', tarball], project);
    expect(npm.code, npm.stderr).toBe(0);
    dir = project;
  }, 300_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dirname(dir), { recursive: true, force: true });
  });

  it('npm installed the package from the tarball and linked its three bins', () => {
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules', PKG.name, 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(PKG.version);
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
    expect(lock.packages[`node_modules/${PKG.name}`].resolved).toMatch(/^file:.*\.tgz$/);
    for (const name of Object.keys(PKG.bin)) expect(existsSync(bin(name)), name).toBe(true);
    expect(existsSync(join(dir, 'node_modules', PKG.name, 'src'))).toBe(false); // dist/ only
  });

  it('each bin answers --version with "<bin> <version>"', async () => {
    for (const name of Object.keys(PKG.bin)) {
      const r = await exec(bin(name), ['--version'], dir);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(`${name} ${PKG.version}\n`);
    }
  }, 120_000);

  it('a short session: realtime-agent against realtime-emulator, and through realtime-proxy', async () => {
    const emulator = await serve('realtime-emulator', ['--port', '0', '--pacing', 'fast', '--api-key', 'sk-installed-key-0001']);
    const direct = await exec(bin('realtime-agent'), ['--url', emulator, '--api-key', 'sk-installed-key-0001', '--input', 'text', '--output', 'text', '--no-journal', '--no-color'], dir, 'hello from outside\n');
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toMatch(/^assistant: You said: hello from outside/m);
    // The proxy in front of the same emulator, holding the key; the agent is its client.
    const proxy = await serve('realtime-proxy', ['--port', '0', '--url', emulator, '--api-key', 'sk-installed-key-0001', '--no-journal']);
    const viaProxy = await exec(bin('realtime-agent'), ['--url', proxy, '--api-key', 'any-client-key', '--input', 'text', '--output', 'text', '--no-journal', '--no-color'], dir, 'hello through the proxy\n');
    expect(viaProxy.code, viaProxy.stderr).toBe(0);
    expect(viaProxy.stdout).toMatch(/^assistant: You said: hello through the proxy/m);
  }, 180_000);

  it("every export imports from the user's directory", async () => {
    const probes: Record<string, string> = { '.': 'createRealtimeAgent', './emulator': 'startEmulator', './testing': 'machineTestModel', './proxy': 'startProxy' };
    expect(Object.keys(PKG.exports).sort()).toEqual(Object.keys(probes).sort());
    const script = Object.entries(probes)
      .map(([sub, name]) => `{ const m = await import('${PKG.name}${sub === '.' ? '' : sub.slice(1)}'); console.log('${sub}', typeof m.${name}); }`)
      .join('\n');
    writeFileSync(join(dir, 'probe.mjs'), `${script}\n`);
    const r = await exec(process.execPath, ['probe.mjs'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(Object.keys(probes).map((sub) => `${sub} function`));
  }, 120_000);
});
