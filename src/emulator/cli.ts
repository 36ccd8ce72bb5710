#!/usr/bin/env node
// realtime-emulator: run the local OpenAI Realtime API emulator (see src/emulator/README.md).
import { startEmulator } from './index.js';
import type { EmulatorOptions } from './options.js';
import { fsReason } from '../errors.js';
import { HELP_FLAGS, packageVersion, VERSION_FLAGS, versionLine } from '../cli/about.js';

const NAME = 'realtime-emulator';

const helpText = (version: string) => `${NAME} ${version}: a local, protocol-faithful OpenAI Realtime API server

Usage: realtime-emulator [options]

  --port N                  TCP port (0 = pick a free one; default 0)
  --host ADDR               bind address (default 127.0.0.1)
  --tls                     serve wss:/https: with a self-signed certificate made at start
  --cert FILE --key FILE    serve TLS with this PEM certificate and key
  --api-key KEY             accept only this API key; a wrong one is refused as OpenAI refuses it
                            (default: any non-empty key, so a mistyped key works here only)
  --dialect beta            also accept the beta dialect (OpenAI-Beta: realtime=v1); by default a
                            beta client gets an error event and close 4000, as from OpenAI now
  --ping-seconds N          WebSocket ping interval on every session (default 20; 0 = off)
  --replay FILE.jsonl       play the client side of a recording against a fresh emulator and report
                            every difference; exit 1 when they differ (see README "Recordings")
  --max-session-minutes N   session length before session_expired (default 60)
  --pacing realtime|fast    output audio at real-time pace (default) or as fast as possible
  --reply-words N           minimum reply length in words (default 24)
  --context-echo            replies list the items currently in the model context
  --script FILE             scripted replies (JSON array of strings, or one reply per line)
  --latency-ms N            delay before the first output delta of each response (default 0)
  --transcript-delay-ms N   input transcription delay (default 150)
  --transcript-fail-rate P  probability (0..1) that an input transcription fails
  --transcript-never-rate P probability (0..1) that an input transcription never arrives
  --transcript-late-rate P  probability (0..1) that it arrives only after the next response.done
  --drop-after-events N     fault: drop each socket after N server events
  --fail-deletes            fault: every conversation.item.delete fails
  --rate-limit-responses N  fault: the first N responses of each session fail (rate limit)
  --seed N                  PRNG seed for ids and random choices (default 1)
  --verbose                 log sessions to stderr
  --help, -h                show this help
  --version, -V             print the version

The emulator keeps no conversations: --store belongs to realtime-agent and realtime-proxy.
`;

class UsageError extends Error {}

function num(flag: string, v: string | undefined, opts: { min?: number; max?: number; int?: boolean } = {}): number {
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value (see --help)`);
  const n = Number(v);
  if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    const range = opts.max !== undefined ? ` between ${opts.min ?? 0} and ${opts.max}` : opts.min !== undefined ? ` >= ${opts.min}` : '';
    throw new UsageError(`${flag} ${v}: expected ${opts.int ? 'an integer' : 'a number'}${range}`);
  }
  return n;
}

function parseArgs(argv: string[]): { options: EmulatorOptions; help: boolean; version: boolean; verbose: boolean; replay?: string } {
  const o: EmulatorOptions = { audioPacing: 'realtime' };
  const t: NonNullable<EmulatorOptions['transcription']> = {};
  const f: NonNullable<EmulatorOptions['faults']> = {};
  let cert: string | undefined;
  let key: string | undefined;
  let help = false;
  let version = false;
  let verbose = false;
  let replay: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') && a.startsWith('--') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value (see --help)`);
      return v;
    };
    if (HELP_FLAGS.includes(flag)) {
      help = true;
      continue;
    }
    if (VERSION_FLAGS.includes(flag)) {
      version = true;
      continue;
    }
    switch (flag) {
      case '--store':
        throw new UsageError('--store: the emulator keeps no conversations; give --store to realtime-agent or realtime-proxy');
      case '--port':
        o.port = num(flag, val(), { min: 0, max: 65535, int: true });
        break;
      case '--host':
        o.host = val();
        break;
      case '--tls':
        o.tls = true;
        break;
      case '--cert':
        cert = val();
        break;
      case '--key':
        key = val();
        break;
      case '--api-key':
        o.apiKey = val();
        break;
      case '--dialect': {
        const v = val();
        if (v !== 'ga' && v !== 'beta') throw new UsageError(`--dialect ${v}: expected ga or beta`);
        o.allowBeta = v === 'beta';
        break;
      }
      case '--ping-seconds':
        o.pingIntervalMs = num(flag, val(), { min: 0 }) * 1000;
        break;
      case '--max-session-minutes':
        o.maxSessionMs = num(flag, val(), { min: 0.001 }) * 60_000;
        break;
      case '--pacing': {
        const v = val();
        if (v !== 'realtime' && v !== 'fast') throw new UsageError(`--pacing ${v}: expected realtime or fast`);
        o.audioPacing = v;
        break;
      }
      case '--reply-words':
        o.replyWords = num(flag, val(), { min: 1, int: true });
        break;
      case '--context-echo':
        o.contextEcho = true;
        break;
      case '--script':
        o.script = val();
        break;
      case '--latency-ms':
        o.latencyMs = num(flag, val(), { min: 0 });
        break;
      case '--transcript-delay-ms':
        t.delayMs = num(flag, val(), { min: 0 });
        break;
      case '--transcript-fail-rate':
        t.failProbability = num(flag, val(), { min: 0, max: 1 });
        break;
      case '--transcript-never-rate':
        t.neverProbability = num(flag, val(), { min: 0, max: 1 });
        break;
      case '--transcript-late-rate':
        t.lateProbability = num(flag, val(), { min: 0, max: 1 });
        break;
      case '--drop-after-events':
        f.dropAfterEvents = num(flag, val(), { min: 1, int: true });
        break;
      case '--fail-deletes':
        f.failDeletes = true;
        break;
      case '--rate-limit-responses':
        f.rateLimitResponses = num(flag, val(), { min: 0, int: true });
        break;
      case '--seed':
        o.seed = num(flag, val(), { int: true });
        break;
      case '--verbose':
        verbose = true;
        break;
      case '--replay':
        replay = val();
        break;
      default:
        throw new UsageError(`unknown flag ${a} (see --help)`);
    }
  }
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--cert and --key must be given together');
  if (cert !== undefined && key !== undefined) {
    if (o.tls) throw new UsageError('use either --tls or --cert/--key, not both');
    o.tls = { cert, key };
  }
  if (Object.keys(t).length) o.transcription = t;
  if (Object.keys(f).length) o.faults = f;
  return { options: o, help, version, verbose, replay };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${NAME}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(helpText(packageVersion()));
    return;
  }
  if (parsed.version) {
    process.stdout.write(versionLine(NAME));
    return;
  }
  const o = parsed.options;
  if (o.tls && typeof o.tls === 'object') {
    const { readFileSync } = await import('node:fs');
    const read = (flag: string, path: string): string => {
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        process.stderr.write(`${NAME}: cannot read ${flag} ${path}: ${fsReason(e)} (a PEM file)\n`);
        process.exit(2);
      }
    };
    o.tls = { cert: read('--cert', o.tls.cert), key: read('--key', o.tls.key) };
  }
  if (typeof o.script === 'string') {
    const { existsSync } = await import('node:fs');
    if (!existsSync(o.script)) {
      process.stderr.write(`realtime-emulator: --script ${o.script}: file not found\n`);
      process.exit(2);
    }
  }
  if (parsed.verbose) o.log = (line) => process.stderr.write(`${line}\n`);
  if (parsed.replay !== undefined) return replayMain(parsed.replay, o);
  const emu = await startEmulator(o);
  // The banner says what a client must send: the URL, the key rule, the dialect.
  // Without --api-key a mistyped key works here and fails on OpenAI: the start line says so.
  const keyRule = o.apiKey
    ? 'API key: only the one given with --api-key; a wrong key is refused like OpenAI does'
    : 'API key: any non-empty key, so a mistyped key works here and not on OpenAI: start with --api-key KEY to check yours';
  process.stdout.write(`listening ${emu.url} (${keyRule}; ${o.allowBeta ? 'GA and beta dialects' : 'GA dialect only, beta refused like OpenAI'})\n`);
  if (emu.certificatePath) process.stdout.write(`certificate ${emu.certificatePath}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** `--replay FILE`: one line per difference on stdout, exit 0 when none, 1 when any, 2 when unreadable. */
async function replayMain(file: string, o: EmulatorOptions): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { formatDifferences, replayRecording } = await import('./replay.js');
  if (!existsSync(file)) {
    process.stderr.write(`realtime-emulator: --replay ${file}: file not found\n`);
    process.exit(2);
  }
  let result: Awaited<ReturnType<typeof replayRecording>>;
  try {
    result = await replayRecording(file, { emulator: { ...o, audioPacing: 'fast' } });
  } catch (e) {
    process.stderr.write(`realtime-emulator: --replay ${file}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  for (const line of formatDifferences(result)) process.stdout.write(`${line}\n`);
  process.stdout.write(`${result.ok ? 'no differences' : `${result.differences.length} difference(s)`} in ${result.connections} connection(s) of ${file}\n`);
  process.exit(result.ok ? 0 : 1);
}

main().catch((e: unknown) => {
  process.stderr.write(`realtime-emulator: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
});
