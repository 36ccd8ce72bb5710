// realtime-proxy's command line: its own flags (listen address, client auth, TLS) plus the agent's
// backend, summariser, policy, journal, reliability and inspector flags, parsed by the agent's own
// parser so they mean exactly the same thing.
import { readFileSync } from 'node:fs';
import { OPTIONS, parseArgs, UsageError, type CliOptions } from '../cli/args.js';
import { DEFAULT_LIMITS, type ProxyLimits } from './limits.js';
import { fsReason } from '../errors.js';

/** Agent flags that mean the same on the proxy (session, audio and display flags belong to the client). */
const SHARED = new Set([
  'api-key', 'model', 'url', 'dialect', 'azure-endpoint', 'azure-deployment', 'azure-api-key', 'base-url', 'connect-timeout',
  'emulator-pacing', 'summary-model', 'summary-base-url', 'summary-api-key', 'preset', 'trigger', 'target', 'keep',
  'policy-strategy', 'summary-role', 'summary-language', 'journal', 'no-journal', 'transcription-model', 'reconnect-attempts',
  'rollover-margin', 'inspect', 'json', 'debug', 'help', 'version', 'store', 'lease-ttl',
]);

export interface ProxyCliOptions {
  base: CliOptions;
  port: number;
  host: string;
  clientTokens: string[];
  passThrough: boolean;
  tls: boolean;
  /** --tls-cert/--tls-key: a PEM pair to serve (implies --tls); else one is made and kept in .rtc/proxy-tls/. */
  tlsCert?: string;
  tlsKey?: string;
  /** The limits given on the command line (the rest keep their defaults). */
  limits: Partial<ProxyLimits>;
  /** One line each: a secret was given as an argument (visible in `ps`). */
  warnings: string[];
}

const MiB = 1024 * 1024;
const seconds = (ms: number) => String(ms / 1000);

/** Limit flags: each sets one ProxyLimits field (value x scale); the docs' "Limits" table lists them. */
export const LIMIT_FLAGS: { flag: string; key: keyof ProxyLimits; arg: string; scale: number; def: string; help: string }[] = [
  { flag: 'max-connections', key: 'maxConnections', arg: 'N', scale: 1, def: String(DEFAULT_LIMITS.maxConnections), help: 'connections per process; over it a client gets HTTP 503 + Retry-After' },
  { flag: 'handshake-timeout', key: 'handshakeTimeoutMs', arg: 'S', scale: 1000, def: seconds(DEFAULT_LIMITS.handshakeTimeoutMs), help: 'seconds a client has from connecting to a complete upgrade request (0 = none)' },
  { flag: 'idle-timeout', key: 'idleTimeoutMs', arg: 'S', scale: 1000, def: seconds(DEFAULT_LIMITS.idleTimeoutMs), help: 'close a connection after this many seconds without a client frame (0 = never)' },
  { flag: 'client-rate', key: 'clientEventsPerSecond', arg: 'N', scale: 1, def: String(DEFAULT_LIMITS.clientEventsPerSecond), help: 'client events per second per connection; excess events get a rate_limit_exceeded error (0 = off)' },
  { flag: 'client-burst', key: 'clientEventBurst', arg: 'N', scale: 1, def: String(DEFAULT_LIMITS.clientEventBurst), help: 'client events accepted in a burst above --client-rate' },
  { flag: 'client-send-soft', key: 'clientSoftLimitBytes', arg: 'MIB', scale: MiB, def: String(DEFAULT_LIMITS.clientSoftLimitBytes / MiB), help: "MiB queued for a client before its upstream is paused" },
  { flag: 'client-send-hard', key: 'clientHardLimitBytes', arg: 'MIB', scale: MiB, def: String(DEFAULT_LIMITS.clientHardLimitBytes / MiB), help: 'MiB queued for a client before it is closed 1008 (client not reading)' },
];

/** Flags whose value is a secret: given as an argument, it shows in `ps` and shell history. */
const SECRET_FLAGS = new Set(['client-token', ...OPTIONS.filter((o) => o.secret).map((o) => o.flag)]);

function readSecretFile(flag: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --${flag} ${path}: ${fsReason(e)}`);
  }
  const v = text.trim();
  if (!v || /\s/.test(v)) throw new UsageError(`--${flag} ${path} must hold exactly one key (no spaces or extra lines)`);
  return v;
}

const PROXY_FLAGS: { flag: string; arg?: string; def: string; help: string }[] = [
  { flag: 'port', arg: 'N', def: '8787', help: 'listen on this TCP port (0 = a free one)' },
  { flag: 'host', arg: 'ADDR', def: '127.0.0.1', help: 'listen address; anything but loopback needs --client-token(s) or --pass-through' },
  { flag: 'pass-through', def: 'off', help: "each client's own key goes upstream (never stored); the proxy holds no key" },
  { flag: 'client-token', arg: 'TOKEN', def: 'none', help: 'a token clients present as their key when the proxy holds the upstream key (repeatable)' },
  { flag: 'client-tokens-file', arg: 'PATH', def: 'none', help: 'file of client tokens, one per line (# comments)' },
  { flag: 'tls', def: 'off', help: 'serve wss: with a self-signed certificate, made once and kept in .rtc/proxy-tls/ (its path and SHA-256 fingerprint are printed)' },
  { flag: 'tls-cert', arg: 'FILE', def: 'none', help: 'serve wss: with this PEM certificate (with --tls-key; implies --tls)' },
  { flag: 'tls-key', arg: 'FILE', def: 'none', help: 'the PEM private key of --tls-cert' },
  { flag: 'api-key-file', arg: 'PATH', def: 'none', help: 'read the upstream API key from this file (keeps it out of `ps`; or set OPENAI_API_KEY)' },
  ...LIMIT_FLAGS.map((f) => ({ flag: f.flag, arg: f.arg, def: f.def, help: f.help })),
];

export function parseProxyArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ProxyCliOptions {
  const rest: string[] = [];
  const out: Omit<ProxyCliOptions, 'base'> = { port: 8787, host: '127.0.0.1', clientTokens: [] as string[], passThrough: false, tls: false, limits: {} as Partial<ProxyLimits>, warnings: [] as string[] };
  let keyFromFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const m = /^--([^=]+)(?:=(.*))?$/.exec(raw);
    if (!m) {
      if (raw === '-h' || raw === '-V' || raw === '-v') {
        rest.push(raw);
        continue;
      }
      throw new UsageError(raw.startsWith('-') ? `unknown flag ${raw} (see --help)` : `unexpected argument "${raw}": options start with -- (see --help)`);
    }
    const [, name, inline] = m;
    if (SECRET_FLAGS.has(name)) {
      const instead = name === 'client-token' ? '--client-tokens-file' : name === 'api-key' ? '--api-key-file or OPENAI_API_KEY' : 'its environment variable';
      out.warnings.push(`warning: --${name} on the command line is visible to every local user (ps, shell history): use ${instead}`);
    }
    const limit = LIMIT_FLAGS.find((f) => f.flag === name);
    if (limit) {
      const v = inline ?? argv[++i];
      if (v === undefined || !/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--${name} needs a number >= 0 (${limit.arg}), got "${v ?? ''}"`);
      out.limits[limit.key] = Math.round(Number(v) * limit.scale);
      continue;
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value (see --help)`);
      i++;
      return next;
    };
    switch (name) {
      case 'port': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--port must be 0-65535, got "${v}"`);
        out.port = Number(v);
        break;
      }
      case 'host':
        out.host = value();
        break;
      case 'pass-through':
        out.passThrough = true;
        break;
      case 'tls':
        out.tls = true;
        break;
      case 'api-key-file':
        keyFromFile = readSecretFile(name, value());
        break;
      case 'tls-cert':
        out.tlsCert = value();
        break;
      case 'tls-key':
        out.tlsKey = value();
        break;
      case 'client-token': {
        const v = value();
        if (v.length < 16) throw new UsageError('--client-token must be at least 16 characters (e.g. openssl rand -hex 24)');
        out.clientTokens.push(v);
        break;
      }
      case 'client-tokens-file': {
        const path = value();
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (e) {
          throw new UsageError(`cannot read --client-tokens-file ${path}: ${fsReason(e)}`);
        }
        const tokens = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        if (tokens.length === 0) throw new UsageError(`--client-tokens-file ${path} holds no tokens: one per line`);
        if (tokens.some((t) => t.length < 16)) throw new UsageError(`--client-tokens-file ${path}: every token must be at least 16 characters`);
        out.clientTokens.push(...tokens);
        break;
      }
      default: {
        if (!SHARED.has(name)) {
          const isAgentFlag = OPTIONS.some((o) => o.flag === name);
          throw new UsageError(isAgentFlag ? `--${name} is a realtime-agent flag: the client decides that on the proxy (see --help)` : `unknown flag --${name} (see --help)`);
        }
        const spec = OPTIONS.find((o) => o.flag === name)!;
        if (spec.kind === 'bool' || spec.kind === 'opt' || inline !== undefined) rest.push(raw);
        else rest.push(raw, value());
      }
    }
  }
  if ((out.tlsCert === undefined) !== (out.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both files');
  if (out.tlsCert !== undefined) out.tls = true;
  if (keyFromFile !== undefined && rest.some((a) => a.startsWith('--api-key'))) throw new UsageError('--api-key-file and --api-key exclude each other: give the key once');
  const base = parseArgs(rest, keyFromFile !== undefined ? { ...env, OPENAI_API_KEY: keyFromFile } : env);
  if (out.passThrough && keyFromFile !== undefined) throw new UsageError('--pass-through and --api-key-file exclude each other: in pass-through each client brings its own key');
  const { clientSoftLimitBytes: soft = DEFAULT_LIMITS.clientSoftLimitBytes, clientHardLimitBytes: hard = DEFAULT_LIMITS.clientHardLimitBytes } = out.limits;
  if (soft > hard) throw new UsageError(`--client-send-soft (${soft / MiB} MiB) must not exceed --client-send-hard (${hard / MiB} MiB)`);
  // The low-water mark follows a lowered soft limit (a quarter of it), so any soft limit is consistent.
  if (out.limits.clientSoftLimitBytes !== undefined) out.limits.clientLowWaterBytes = Math.min(DEFAULT_LIMITS.clientLowWaterBytes, Math.floor(soft / 4));
  if (out.passThrough && (base.apiKey !== undefined && argv.some((a) => a.startsWith('--api-key')))) {
    throw new UsageError('--pass-through and --api-key exclude each other: in pass-through each client brings its own key');
  }
  const holdsKey = !out.passThrough;
  if (!isLoopbackHost(out.host) && holdsKey && out.clientTokens.length === 0) {
    throw new UsageError(`--host ${out.host} is not loopback: add --client-token (or --client-tokens-file), or use --pass-through so clients bring their own keys`);
  }
  if (out.passThrough && out.clientTokens.length > 0) {
    throw new UsageError('--pass-through and --client-token exclude each other: a client presents either its API key or a proxy token');
  }
  return { base, ...out };
}

export function isLoopbackHost(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host);
}

export function proxyHelpText(version: string): string {
  const lines = [
    `realtime-proxy ${version}: a Realtime API proxy that keeps every client's context window healthy`,
    '',
    'Usage: realtime-proxy [options]',
    '',
    'Point any GA Realtime client (OpenAI Agents SDK, openai SDK, Python, Go, a Twilio bridge) at',
    'ws://127.0.0.1:8787/v1/realtime?model=... instead of wss://api.openai.com/v1/realtime.',
    'With no API key and no --url the built-in emulator answers (synthetic replies, no network).',
    '',
    'Proxy:',
  ];
  for (const f of PROXY_FLAGS) lines.push(`${`  --${f.flag}${f.arg ? ` ${f.arg}` : ''}`.padEnd(36)} ${f.help} [default: ${f.def}]`);
  let group = '';
  for (const o of OPTIONS) {
    if (!SHARED.has(o.flag)) continue;
    if (o.group !== group) {
      group = o.group;
      lines.push('', `${group}:`);
    }
    const left = `  --${o.flag}${o.arg ? (o.kind === 'opt' ? o.arg : ` ${o.arg}`) : ''}`;
    const meta = [o.def ? `default: ${o.def}` : '', o.env ? `env: ${o.env}` : ''].filter(Boolean).join('; ');
    const help = o.flag === 'journal' ? 'one JSONL journal per connection: PATH gets -<connection id> before .jsonl' : o.flag === 'json' ? 'one JSON line per connection event on stdout (opened, summary, rollover, closed)' : o.help;
    lines.push(`${left.padEnd(36)} ${help}${meta ? ` [${meta}]` : ''}`);
  }
  lines.push('', 'Exit status: 0 after Ctrl-C or SIGTERM, 1 runtime failure, 2 usage error.', 'Keys and tokens never appear in output, journals or the inspector.');
  return lines.join('\n') + '\n';
}
