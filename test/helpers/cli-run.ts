// Spawns the real realtime-agent binary. It runs the built dist/src/cli.js when that is at least as
// new as the sources (as `npm test` builds first), else the TypeScript entry through tsx, so the
// tests always exercise the current code. REALTIME_AGENT_BIN overrides both.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './audio-env.js';

function newestMtime(dirs: string[]): number {
  let t = 0;
  for (const d of dirs) {
    const p = join(REPO, d);
    if (!existsSync(p)) continue;
    const st = statSync(p);
    if (st.isFile()) t = Math.max(t, st.mtimeMs);
    else for (const f of readdirSync(p)) if (f.endsWith('.ts')) t = Math.max(t, statSync(join(p, f)).mtimeMs);
  }
  return t;
}

export function cliCommand(): string[] {
  const bin = process.env.REALTIME_AGENT_BIN;
  if (bin) return bin.endsWith('.js') ? [process.execPath, bin] : [bin];
  const dist = join(REPO, 'dist', 'src', 'cli.js');
  const src = newestMtime(['src/cli.ts', 'src/cli', 'adapters', 'src', 'machines', 'src/conversation', 'src/emulator', 'src/protocol']);
  if (existsSync(dist) && statSync(dist).mtimeMs >= src) return [process.execPath, dist];
  return [process.execPath, '--import', join(REPO, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'), join(REPO, 'src', 'cli.ts')];
}

/** The environment minus every variable the CLI reads, so the host's settings never leak into a test. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['OPENAI_API_KEY', 'RTC_STORE', 'OPENAI_BASE_URL', 'REALTIME_URL', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT', 'NO_COLOR', 'FORCE_COLOR']) {
    delete env[k];
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Parsed --json lines so far. */
  json(): Array<Record<string, unknown>>;
  /** Resolves with the first JSON line matching, or rejects after timeoutMs. */
  waitJson(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitText(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CliResult>;
}

export function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string | 'pipe' } = {}): CliProcess {
  const [cmd, ...pre] = cliCommand();
  const t0 = Date.now();
  const proc = spawn(cmd, [...pre, ...args], { cwd: opts.cwd ?? REPO, env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    poke();
  });
  if (opts.stdin === 'pipe') {
    // left open: the test writes to it
  } else if (typeof opts.stdin === 'string') proc.stdin!.end(opts.stdin);
  else proc.stdin!.end();
  const exited = new Promise<CliResult>((resolve) => {
    proc.on('close', (code, signal) => {
      poke();
      resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - t0 });
    });
  });
  const json = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitFor = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`)), timeoutMs);
      const tryIt = () => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`process exited while waiting for ${what}; stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`));
        } else waiters.push(tryIt);
      };
      tryIt();
    });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    json,
    waitJson: (pred, timeoutMs = 20_000) => waitFor(() => json().find(pred), 'a JSON event', timeoutMs),
    waitText: (re, timeoutMs = 20_000) => waitFor(() => (re.test(out + err) ? true : undefined), String(re), timeoutMs).then(() => undefined),
    exited,
  };
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = spawnCli(args, { ...opts, stdin: opts.stdin ?? '' });
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return p.exited.finally(() => clearTimeout(timer));
}
