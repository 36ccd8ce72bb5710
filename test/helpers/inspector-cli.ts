// Spawns the real CLI (`src/cli.ts` through tsx) on the built-in emulator, for the inspector's
// browser test: reads the printed inspector URL and drives the conversation through stdin.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** null when the CLI and the engine can run a session, otherwise why not. */
export function cliMissing(): string | null {
  const help = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (help.status !== 0) return `realtime-agent --help failed (${help.status}): ${(help.stderr || help.stdout).slice(0, 300)}`;
  if (!help.stdout.includes('--inspect')) return 'the CLI has no --inspect option yet';
  return null;
}

export interface CliSession {
  proc: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout (waits for it). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  line(text: string): void;
  stop(): Promise<number | null>;
}

export function startCli(args: string[]): CliSession {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.OPENAI_API_KEY; // no key: the embedded emulator answers
  delete env.REALTIME_URL;
  delete env.AZURE_OPENAI_ENDPOINT;
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), ...args], { cwd: ROOT, env, stdio: 'pipe' });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    async waitFor(re, timeoutMs = 20_000, from = 0) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = out.slice(from).match(re);
        if (m) return m;
        if (proc.exitCode !== null) throw new Error(`CLI exited (${proc.exitCode}) before ${re}; stdout:\n${out}\nstderr:\n${err}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}; stdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    line(text) {
      proc.stdin.write(text + '\n');
    },
    async stop() {
      if (proc.exitCode === null) {
        proc.stdin.end('/quit\n');
        const t = setTimeout(() => proc.kill('SIGTERM'), 5000);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return proc.exitCode;
    },
  };
}
