// Safe audio device probe. `speaker` calls abort() on require when ALSA has no "default" device, and
// PortAudio can assert inside getDevices() with odd ALSA configs: neither can be caught in-process,
// so both checks run in child processes and only their exit status is trusted.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';

export interface DeviceProbe {
  mic: boolean;
  speaker: boolean;
  /** Why a device is missing (empty when both are there). */
  reason: string;
  /** Device list as naudiodon sees it, for --debug. */
  devices: string[];
}

const require = createRequire(import.meta.url);

/** Absolute path of an optional native package, or null when it is not installed. */
export function resolveOptional(name: 'naudiodon' | 'speaker'): string | null {
  try {
    return require.resolve(name);
  } catch {
    return null;
  }
}

interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(code: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve) => {
    // cwd = tmp: naudiodon registers a segfault handler that writes crash.log into the cwd.
    const child = spawn(process.execPath, ['-e', code], { cwd: tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.on('error', () => {
      clearTimeout(timer);
      resolve({ status: null, signal: null, stdout, stderr: stderr || 'spawn failed' });
    });
  });
}

let cached: Promise<DeviceProbe> | undefined;

/** Probes once per process (about 0.2 s); `fresh` or a custom `env` re-probes. */
export function probeAudioDevices(opts: { fresh?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DeviceProbe> {
  if (opts.env) return doProbe(opts.timeoutMs ?? 8000, opts.env);
  if (!cached || opts.fresh) cached = doProbe(opts.timeoutMs ?? 8000, process.env);
  return cached;
}

async function doProbe(timeoutMs: number, env: NodeJS.ProcessEnv): Promise<DeviceProbe> {
  const naudiodon = resolveOptional('naudiodon');
  const speaker = resolveOptional('speaker');
  const marker = '@@devices@@';
  const [dev, spk] = await Promise.all([
    naudiodon
      ? runChild(`process.stdout.write(${JSON.stringify(marker)}+JSON.stringify(require(${JSON.stringify(naudiodon)}).getDevices()))`, timeoutMs, env)
      : null,
    speaker ? runChild(`require(${JSON.stringify(speaker)})`, timeoutMs, env) : null,
  ]);
  const reasons: string[] = [];
  let devices: Array<{ id: number; name: string; maxInputChannels: number; maxOutputChannels: number }> = [];
  if (!dev) {
    reasons.push('microphone: the optional package naudiodon is not installed');
  } else if (dev.status !== 0) {
    reasons.push(`microphone: the device probe failed (${dev.signal ?? `exit ${dev.status}`})`);
  } else {
    try {
      devices = JSON.parse(dev.stdout.slice(dev.stdout.indexOf(marker) + marker.length));
    } catch {
      reasons.push('microphone: unreadable device list');
    }
  }
  const def = devices.find((d) => d.name === 'default');
  const mic = !!def && def.maxInputChannels > 0;
  if (dev && dev.status === 0 && !mic) {
    reasons.push(devices.length === 0 ? 'no audio device found (no sound card or sound server)' : 'no default input device');
  }
  let speakerOk = false;
  if (!spk) {
    reasons.push('speaker: the optional package speaker is not installed');
  } else if (spk.status === 0) {
    speakerOk = true;
  } else if (!reasons.some((r) => r.startsWith('no audio device'))) {
    reasons.push(spk.signal === 'SIGABRT' ? 'speaker: no ALSA output device' : `speaker: the load probe failed (${spk.signal ?? `exit ${spk.status}`})`);
  }
  return {
    mic,
    speaker: speakerOk,
    reason: reasons.join('; '),
    devices: devices.map((d) => `${d.id}:${d.name} (in ${d.maxInputChannels}/out ${d.maxOutputChannels})`),
  };
}
