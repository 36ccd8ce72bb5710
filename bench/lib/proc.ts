// Child processes for the benchmarks: the emulator (its own process, parsed from its listening line)
// and benchmark clients (fork of bench/worker, one per measured variant so CPU is per process).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when running the TypeScript sources through tsx (development), false for the built dist/. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');
const EXT = FROM_SOURCE ? '.ts' : '.js';

export interface EmulatorProc {
  url: string;
  httpUrl: string;
  pid: number;
  /** CPU time (user+system, ms) the emulator process has used so far (Linux /proc; 0 elsewhere). */
  cpuMs(): number;
  close(): Promise<void>;
}

/** Starts `realtime-emulator` with these CLI flags in a separate process. */
export async function spawnEmulator(args: string[]): Promise<EmulatorProc> {
  const cli = fileURLToPath(new URL(`../../src/emulator/cli${EXT}`, import.meta.url));
  const execArgv = FROM_SOURCE ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...execArgv, cli, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`emulator did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`emulator exited (${code}): ${stderr}`));
    });
  });
  const httpUrl = url.replace(/^ws/, 'http').replace(/\/realtime$/, '');
  return {
    url,
    httpUrl,
    pid: child.pid!,
    cpuMs: () => procCpuMs(child.pid!),
    close: () => stopChild(child),
  };
}

/** user+system CPU of a process in ms from /proc/<pid>/stat (clock ticks of 10 ms). */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Runs one role of bench/worker in a fresh child process (with --expose-gc) and resolves with the
 * value it reports. The child's own CPU and heap are what the role measures.
 */
export function runChild<T>(role: string, params: unknown, timeoutMs = 180_000): Promise<T> {
  const worker = fileURLToPath(new URL(`../worker${EXT}`, import.meta.url));
  const execArgv = [...(FROM_SOURCE ? ['--import', 'tsx'] : []), '--expose-gc'];
  const child = fork(worker, [role], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Parameters go over IPC (a script can exceed the argv size limit).
  child.send({ params });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(() => reject(new Error(`${role}: no result within ${timeoutMs / 1000} s`)));
    }, timeoutMs);
    child.on('message', (m: { ok: boolean; result?: T; error?: string }) => {
      done(() => (m.ok ? resolve(m.result as T) : reject(new Error(`${role}: ${m.error}`))));
    });
    child.once('exit', (code, signal) => {
      done(() => reject(new Error(`${role}: child exited (${code ?? signal}) without a result`)));
    });
  });
}
