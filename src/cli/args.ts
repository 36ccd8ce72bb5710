// Command-line options: one table drives parsing, validation, defaults, env vars and --help,
// so the help text can never drift from what the parser accepts.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

// 'opt': a value is optional and must be attached with = (--inspect or --inspect=8080).
type Kind = 'string' | 'int' | 'bool' | 'opt';

interface OptionSpec {
  flag: string; // without the leading --
  key: keyof CliOptions;
  kind: Kind;
  arg?: string; // placeholder in --help
  env?: string;
  def: string; // default, as shown in --help
  help: string;
  choices?: readonly string[];
  group: 'Backend' | 'Summariser' | 'Context policy' | 'Session' | 'Input and output' | 'Reliability' | 'Inspector' | 'General';
  secret?: boolean;
}

export interface CliOptions {
  apiKey?: string;
  model: string;
  url?: string;
  dialect: 'ga' | 'beta';
  azureEndpoint?: string;
  azureDeployment?: string;
  azureApiKey?: string;
  baseUrl?: string;
  connectTimeoutMs: number;
  emulatorPacing?: 'realtime' | 'fast';
  summaryModel: string;
  summaryBaseUrl?: string;
  summaryApiKey?: string;
  preset: 'default' | 'seed-demo';
  trigger?: number;
  target?: number;
  keep?: number;
  policyStrategy?: 'hysteresis' | 'cache-aware';
  summaryRole?: 'system' | 'user' | 'assistant';
  summaryLanguage?: string;
  journal?: string;
  noJournal: boolean;
  /** Conversation store: a directory of JSONL journals or a postgres:// URL. */
  store?: string;
  /** Resume a stored conversation: its id, or a journal file. */
  resume?: string;
  leaseTtlS: number;
  record?: string;
  instructions?: string;
  voice?: string;
  transcriptionModel?: string;
  tools?: string;
  input?: string;
  output?: string;
  halfDuplex: boolean;
  headphones: boolean;
  json: boolean;
  noColor: boolean;
  inspect?: string;
  trace?: string;
  reconnectAttempts: number;
  rolloverMarginS: number;
  debug: boolean;
  demo: boolean;
  /** `conversations`: also list the conversations with no turns. */
  all: boolean;
  help: boolean;
  version: boolean;
}

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'api-key', key: 'apiKey', kind: 'string', arg: 'KEY', env: 'OPENAI_API_KEY', def: 'none', group: 'Backend', secret: true,
    help: 'OpenAI API key; with no key and no --url the built-in emulator is used' },
  { flag: 'model', key: 'model', kind: 'string', arg: 'NAME', def: 'gpt-realtime', group: 'Backend',
    help: 'realtime model (OpenAI and --url)' },
  { flag: 'url', key: 'url', kind: 'string', arg: 'URL', env: 'REALTIME_URL', def: 'OpenAI GA endpoint', group: 'Backend',
    help: 'any compatible realtime server (ws: or wss:)' },
  { flag: 'dialect', key: 'dialect', kind: 'string', arg: 'ga|beta', def: 'ga', choices: ['ga', 'beta'], group: 'Backend',
    help: 'wire dialect; beta only for third-party servers (OpenAI closes it with 4000)' },
  { flag: 'azure-endpoint', key: 'azureEndpoint', kind: 'string', arg: 'URL', env: 'AZURE_OPENAI_ENDPOINT', def: 'none', group: 'Backend',
    help: 'Azure OpenAI resource, https://<resource>.openai.azure.com' },
  { flag: 'azure-deployment', key: 'azureDeployment', kind: 'string', arg: 'NAME', env: 'AZURE_OPENAI_DEPLOYMENT', def: 'none', group: 'Backend',
    help: 'Azure realtime deployment name (required with --azure-endpoint)' },
  { flag: 'azure-api-key', key: 'azureApiKey', kind: 'string', arg: 'KEY', env: 'AZURE_OPENAI_API_KEY', def: 'none', group: 'Backend', secret: true,
    help: 'Azure OpenAI key (sent as the api-key header)' },
  { flag: 'base-url', key: 'baseUrl', kind: 'string', arg: 'URL', env: 'OPENAI_BASE_URL', def: 'https://api.openai.com/v1', group: 'Backend',
    help: 'OpenAI-style API base; the realtime URL is derived from it (like the openai SDK)' },
  { flag: 'connect-timeout', key: 'connectTimeoutMs', kind: 'int', arg: 'MS', def: '10000', group: 'Backend',
    help: 'give up connecting after this many milliseconds' },
  { flag: 'emulator-pacing', key: 'emulatorPacing', kind: 'string', arg: 'realtime|fast', def: 'realtime with a speaker, else fast',
    choices: ['realtime', 'fast'], group: 'Backend', help: 'built-in emulator: send audio at real-time speed or at once' },
  { flag: 'summary-model', key: 'summaryModel', kind: 'string', arg: 'NAME', def: 'gpt-4o-mini', group: 'Summariser',
    help: 'chat model that writes summaries (an Azure deployment name with --azure-endpoint)' },
  { flag: 'summary-base-url', key: 'summaryBaseUrl', kind: 'string', arg: 'URL', def: "the backend's own /v1", group: 'Summariser',
    help: 'OpenAI-compatible chat completions base URL (e.g. a local server)' },
  { flag: 'summary-api-key', key: 'summaryApiKey', kind: 'string', arg: 'KEY', def: "the backend's key", group: 'Summariser', secret: true,
    help: 'key for --summary-base-url' },
  { flag: 'preset', key: 'preset', kind: 'string', arg: 'NAME', def: 'default', choices: ['default', 'seed-demo'], group: 'Context policy',
    help: 'default (trigger 20000, target 10000, keep 2) or seed-demo (the notebook: trigger 2000, keep 2)' },
  { flag: 'trigger', key: 'trigger', kind: 'int', arg: 'TOKENS', def: 'from --preset (20000)', group: 'Context policy',
    help: 'summarise when the window reaches this many tokens' },
  { flag: 'target', key: 'target', kind: 'int', arg: 'TOKENS', def: 'from --preset (10000)', group: 'Context policy',
    help: 'fold enough old turns that the window falls to about this' },
  { flag: 'keep', key: 'keep', kind: 'int', arg: 'TURNS', def: 'from --preset (2)', group: 'Context policy',
    help: 'always keep this many recent turns verbatim' },
  { flag: 'policy-strategy', key: 'policyStrategy', kind: 'string', arg: 'NAME', def: 'hysteresis', choices: ['hysteresis', 'cache-aware'],
    group: 'Context policy', help: 'hysteresis (fold the oldest turns down to --target) or cache-aware (fold down to --keep: the fewest tokens re-billed after the summary busts the prompt cache)' },
  { flag: 'summary-role', key: 'summaryRole', kind: 'string', arg: 'ROLE', def: 'system', choices: ['system', 'user', 'assistant'],
    group: 'Context policy', help: 'role of the summary item (assistant text can make the model answer in text only)' },
  { flag: 'summary-language', key: 'summaryLanguage', kind: 'string', arg: 'LANG', def: "the conversation's", group: 'Context policy',
    help: 'language the summary is written in (the notebook used French)' },
  { flag: 'journal', key: 'journal', kind: 'string', arg: 'PATH', def: '<--store DIR, else .rtc>/journal-<time>.jsonl', group: 'Context policy',
    help: 'append every turn, summary and deletion to this JSONL file' },
  { flag: 'no-journal', key: 'noJournal', kind: 'bool', def: 'off', group: 'Context policy', help: 'keep no journal' },
  { flag: 'store', key: 'store', kind: 'string', arg: 'DIR|postgres://…', env: 'RTC_STORE', def: 'the journal directory (.rtc)', group: 'Context policy',
    help: 'conversation store: a directory of JSONL journals (new journals are written there), or PostgreSQL shared by many instances (?schema=NAME); the same on realtime-proxy' },
  { flag: 'resume', key: 'resume', kind: 'string', arg: 'ID|FILE', def: 'off', group: 'Context policy',
    help: 'continue a stored conversation (an id from `realtime-agent conversations`, or a journal file; any other file is refused, untouched)' },
  { flag: 'lease-ttl', key: 'leaseTtlS', kind: 'int', arg: 'SECONDS', def: '30', group: 'Context policy',
    help: 'the conversation lease lasts this long (renewed every third); another instance may resume it once it expires' },
  { flag: 'record', key: 'record', kind: 'string', arg: 'FILE.jsonl', def: 'off', group: 'General',
    help: 'record every WebSocket frame both ways (audio as byte counts, key redacted, mode 0600); check it with realtime-emulator --replay FILE' },
  { flag: 'instructions', key: 'instructions', kind: 'string', arg: 'TEXT', def: "the server's", group: 'Session',
    help: 'system instructions for the realtime model' },
  { flag: 'voice', key: 'voice', kind: 'string', arg: 'NAME', def: "the server's", group: 'Session', help: 'output voice (e.g. marin)' },
  { flag: 'transcription-model', key: 'transcriptionModel', kind: 'string', arg: 'NAME', def: "the library's", group: 'Session',
    help: 'input transcription model (an Azure deployment name on Azure)' },
  { flag: 'tools', key: 'tools', kind: 'string', arg: 'FILE.mjs', def: 'none', group: 'Session',
    help: 'ES module whose default export is the list of tools the model may call (see examples/tools.mjs)' },
  { flag: 'input', key: 'input', kind: 'string', arg: 'mic|text|wav:PATH', def: 'mic if a device is found, else text', group: 'Input and output',
    help: 'where user turns come from' },
  { flag: 'output', key: 'output', kind: 'string', arg: 'speaker|text|wav:PATH', def: 'speaker if a device is found, else text',
    group: 'Input and output', help: 'where assistant audio goes (the transcript is always shown)' },
  { flag: 'half-duplex', key: 'halfDuplex', kind: 'bool', def: 'on with mic + speaker', group: 'Input and output',
    help: 'mute the microphone while the assistant speaks (no echo cancellation in Node)' },
  { flag: 'headphones', key: 'headphones', kind: 'bool', def: 'off', group: 'Input and output',
    help: 'full duplex: keep the microphone open, so you can interrupt (barge-in)' },
  { flag: 'json', key: 'json', kind: 'bool', def: 'off', group: 'Input and output',
    help: 'one JSON object per line on stdout (session, turn, transcript, window, summary, tool.call, tool, error)' },
  { flag: 'no-color', key: 'noColor', kind: 'bool', env: 'NO_COLOR', def: 'colour on a terminal', group: 'Input and output',
    help: 'plain text (also when NO_COLOR is set to anything)' },
  { flag: 'reconnect-attempts', key: 'reconnectAttempts', kind: 'int', arg: 'N', def: '5', group: 'Reliability',
    help: 'after a dropped or dead connection, retry this many times (back-off with jitter); 0 = never' },
  { flag: 'rollover-margin', key: 'rolloverMarginS', kind: 'int', arg: 'SECONDS', def: '300', group: 'Reliability',
    help: 'open a fresh session this long before the server cap (60 min OpenAI, 30 min Azure); 0 = at expiry' },
  { flag: 'inspect', key: 'inspect', kind: 'opt', arg: '[=PORT|stately]', def: 'off', group: 'Inspector',
    help: 'serve the live inspector on 127.0.0.1 (a free port unless =PORT); =stately bridges to Stately\'s hosted UI (needs internet)' },
  { flag: 'trace', key: 'trace', kind: 'string', arg: 'FILE.jsonl', def: 'off', group: 'Inspector',
    help: 'write the inspector frames to a JSONL file (the inspector page can replay it)' },
  { flag: 'demo', key: 'demo', kind: 'bool', def: 'off', group: 'General',
    help: "scripted replay of the seed notebook's session on the emulator (what `npm start` runs)" },
  { flag: 'debug', key: 'debug', kind: 'bool', def: 'off', group: 'General', help: 'diagnostics on stderr and stack traces on failure' },
  { flag: 'all', key: 'all', kind: 'bool', def: 'off', group: 'General',
    help: 'with `conversations`: also list those with no turns (runs that failed or ended before anything was said), marked "no turns"' },
  { flag: 'help', key: 'help', kind: 'bool', def: '', group: 'General', help: 'show this help (-h)' },
  { flag: 'version', key: 'version', kind: 'bool', def: '', group: 'General', help: 'print "realtime-agent <version>" (-V)' },
];

const BY_FLAG = new Map(OPTIONS.map((o) => [o.flag, o]));
const ALIASES: Record<string, string> = { h: 'help', V: 'version', v: 'version' };

/** Parses argv (without node and script) plus the environment. Throws UsageError with a one-line message. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const out: Record<string, unknown> = {};
  // Where each value came from (--flag or ENV_VAR), so an error names what the person actually set.
  const from: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    if (raw === '--') throw new UsageError(`unexpected argument after -- (see --help)`);
    let name: string;
    let inline: string | undefined;
    if (raw.startsWith('--')) {
      const eq = raw.indexOf('=');
      name = eq >= 0 ? raw.slice(2, eq) : raw.slice(2);
      inline = eq >= 0 ? raw.slice(eq + 1) : undefined;
    } else if (/^-[a-zA-Z]$/.test(raw) && ALIASES[raw.slice(1)]) {
      name = ALIASES[raw.slice(1)];
    } else if (raw.startsWith('-')) {
      throw new UsageError(`unknown flag ${raw} (see --help)`);
    } else {
      throw new UsageError(`unexpected argument "${raw}": options start with -- (see --help)`);
    }
    const spec = BY_FLAG.get(name);
    if (!spec) throw new UsageError(`unknown flag --${name} (see --help)`);
    if (spec.kind === 'bool') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value (write just --${name})`);
      out[spec.key] = true;
      from[spec.key] = `--${name}`;
      continue;
    }
    if (spec.kind === 'opt') {
      out[spec.key] = inline ?? '';
      from[spec.key] = `--${name}`;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`--${name} needs a value: --${name} ${spec.arg ?? 'VALUE'}`);
      }
      value = next;
      i++;
    }
    out[spec.key] = convert(spec, value, `--${name}`);
    from[spec.key] = `--${name}`;
  }
  // Environment fills what the command line did not set (the command line wins).
  for (const spec of OPTIONS) {
    if (!spec.env || out[spec.key] !== undefined) continue;
    const v = env[spec.env];
    if (spec.kind === 'bool') {
      // NO_COLOR: present and non-empty means on (no-color.org).
      if (v !== undefined && v !== '') out[spec.key] = true;
    } else if (v !== undefined && v !== '') {
      out[spec.key] = convert(spec, v, spec.env);
      from[spec.key] = spec.env;
    }
  }
  const opts: CliOptions = {
    model: 'gpt-realtime',
    dialect: 'ga',
    connectTimeoutMs: 10_000,
    summaryModel: 'gpt-4o-mini',
    preset: 'default',
    noJournal: false,
    leaseTtlS: 30,
    halfDuplex: false,
    headphones: false,
    json: false,
    noColor: false,
    reconnectAttempts: 5,
    rolloverMarginS: 300,
    debug: false,
    demo: false,
    all: false,
    help: false,
    version: false,
    ...(out as Partial<CliOptions>),
  };
  validate(opts, (k) => from[k] ?? `--${flagOf(k)}`);
  return opts;
}

function convert(spec: OptionSpec, value: string, where: string): unknown {
  if (spec.kind === 'int') {
    if (!/^\d+$/.test(value)) throw new UsageError(`${where} must be a whole number, got "${value}": ${where === `--${spec.flag}` ? `--${spec.flag} ${spec.arg}` : `set ${where} to a number`}`);
    return Number(value);
  }
  if (spec.choices && !spec.choices.includes(value)) {
    throw new UsageError(`${where} must be one of ${spec.choices.join(', ')}, got "${value}"`);
  }
  if (value === '') throw new UsageError(`${where} needs a non-empty value`);
  return value;
}

const IO_IN = /^(mic|text|wav:.+)$/;
const IO_OUT = /^(speaker|text|wav:.+)$/;

function validate(o: CliOptions, src: (k: keyof CliOptions) => string): void {
  if (o.input !== undefined && !IO_IN.test(o.input)) {
    throw new UsageError(`--input must be mic, text or wav:PATH, got "${o.input}"`);
  }
  if (o.output !== undefined && !IO_OUT.test(o.output)) {
    throw new UsageError(`--output must be speaker, text or wav:PATH, got "${o.output}"`);
  }
  if (o.halfDuplex && o.headphones) throw new UsageError('--half-duplex and --headphones exclude each other: pick one');
  if (o.journal !== undefined && o.noJournal) throw new UsageError('--journal and --no-journal exclude each other: pick one');
  if ((o.store !== undefined || o.resume !== undefined) && o.noJournal) throw new UsageError(`${o.store !== undefined ? src('store') : '--resume'} needs a journal: drop --no-journal`);
  if (o.store !== undefined && /^postgres(ql)?:\/\//i.test(o.store) && o.journal !== undefined) {
    throw new UsageError('--journal and --store postgres://… exclude each other: the store is the journal; pick one');
  }
  if (o.store !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(o.store) && !/^postgres(ql)?:\/\//i.test(o.store)) {
    throw new UsageError(`${src('store')} must be a directory or a postgres:// URL, got "${o.store.split('://')[0]}://…"`);
  }
  if (o.leaseTtlS < 1) throw new UsageError('--lease-ttl must be at least 1 second');
  if (o.resume !== undefined && o.demo) throw new UsageError('--demo runs a fixed script: drop --resume');
  if (o.url !== undefined && !/^wss?:\/\//.test(o.url)) {
    throw new UsageError(`${src('url')} must start with ws:// or wss://, got "${o.url}"`);
  }
  if (o.azureEndpoint !== undefined && !/^https?:\/\//.test(o.azureEndpoint)) {
    throw new UsageError(`${src('azureEndpoint')} must start with https://, e.g. https://<resource>.openai.azure.com`);
  }
  if (o.azureEndpoint !== undefined && o.azureDeployment === undefined) {
    throw new UsageError(`${src('azureEndpoint')} needs --azure-deployment NAME (or AZURE_OPENAI_DEPLOYMENT)`);
  }
  if (o.azureEndpoint !== undefined && o.url !== undefined) {
    throw new UsageError('--url and --azure-endpoint exclude each other: pick one backend');
  }
  if (o.summaryBaseUrl !== undefined && !/^https?:\/\//.test(o.summaryBaseUrl)) {
    throw new UsageError(`--summary-base-url must start with http:// or https://, got "${o.summaryBaseUrl}"`);
  }
  if (o.trigger !== undefined && o.trigger < 1) throw new UsageError('--trigger must be at least 1');
  if (o.target !== undefined && o.trigger !== undefined && o.target >= o.trigger) {
    throw new UsageError(`--target (${o.target}) must be below --trigger (${o.trigger})`);
  }
  if (o.connectTimeoutMs < 1) throw new UsageError('--connect-timeout must be at least 1');
  if (o.inspect !== undefined && o.inspect !== '' && o.inspect !== 'stately' && !/^\d+$/.test(o.inspect)) {
    throw new UsageError(`--inspect takes a port or "stately", got "${o.inspect}": write --inspect, --inspect=8080 or --inspect=stately`);
  }
  if (o.inspect !== undefined && /^\d+$/.test(o.inspect) && Number(o.inspect) > 65535) {
    throw new UsageError(`--inspect port must be 0-65535, got ${o.inspect}`);
  }
  if (o.demo) {
    const conflicting = ['input', 'output', 'url', 'azureEndpoint'] as const;
    for (const k of conflicting) {
      if (o[k] !== undefined) throw new UsageError(`--demo runs a fixed script on the emulator: drop --${flagOf(k)}`);
    }
  }
}

function flagOf(key: keyof CliOptions): string {
  return OPTIONS.find((o) => o.key === key)?.flag ?? String(key);
}

/** The --help text: every option with its default and env var. */
export function helpText(version: string): string {
  const lines: string[] = [
    `realtime-agent ${version}: a speech-to-speech agent that keeps its context window healthy`,
    '',
    'Usage: realtime-agent [options]',
    '       realtime-agent conversations [--store DIR|postgres://…] [--json] [--all]   (list stored conversations)',
    '       npm start                       (= realtime-agent --demo)',
    '',
    'With no API key and no --url the built-in emulator answers (synthetic replies, no network).',
    'Text mode: each line is a user turn; /summarise, /history, /quit.',
  ];
  let group = '';
  for (const o of OPTIONS) {
    if (o.group !== group) {
      group = o.group;
      lines.push('', `${group}:`);
    }
    const left = `  --${o.flag}${o.arg ? (o.kind === 'opt' ? o.arg : ` ${o.arg}`) : ''}`;
    const meta = [o.def ? `default: ${o.def}` : '', o.env ? `env: ${o.env}` : ''].filter(Boolean).join('; ');
    lines.push(`${left.padEnd(36)} ${o.help}${meta ? ` [${meta}]` : ''}`);
  }
  lines.push(
    '',
    'Exit status: 0 normal end (also after Ctrl-C or SIGTERM), 1 runtime failure, 2 usage error.',
    'Secrets never appear in output, errors or the journal.',
  );
  return lines.join('\n') + '\n';
}
