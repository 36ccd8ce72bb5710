// Chooses the backend (built-in emulator, OpenAI, Azure or any --url) and the summariser that goes
// with it. Pure except for starting the emulator, which is imported lazily so real runs never load it.
import { randomBytes } from 'node:crypto';
import type { ConnectionOptions, SummariserOptions } from '../types.js';
import { UsageError, type CliOptions } from './args.js';

/** The parts of the emulator handle the CLI uses (started in-process when there is no key). */
export interface EmulatorHandle {
  url: string;
  httpUrl: string;
  close(): Promise<void> | void;
  hint(text: string): void;
}

export interface Backend {
  kind: 'emulator' | 'openai' | 'azure' | 'url';
  connection: ConnectionOptions;
  summariser: SummariserOptions;
  /** One line for the banner, saying plainly what answers. */
  banner: string;
  /** Everything that must be redacted from output. */
  secrets: string[];
  emulator?: EmulatorHandle;
}

export interface BackendPlan {
  kind: Backend['kind'];
  connection: ConnectionOptions;
  summariser: SummariserOptions;
  banner: string;
  secrets: string[];
}

const OPENAI_API = 'https://api.openai.com/v1';

/** True for OpenAI's own hosts, where a key is mandatory. */
export function isOpenAIHost(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'api.openai.com' || host.endsWith('.openai.com');
  } catch {
    return false;
  }
}

/** ws(s)://host/x/v1/realtime?model=m -> http(s)://host/x/v1 (where a compatible server's REST API usually is). */
export function httpBaseFromRealtimeUrl(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.search = '';
  u.hash = '';
  u.pathname = u.pathname.replace(/\/realtime\/?$/, '') || '/';
  return u.toString().replace(/\/$/, '');
}

/** https://host/v1 -> wss://host/v1/realtime?model=m (what the openai SDK does with its baseURL). */
export function realtimeUrlFromHttpBase(base: string, model: string): string {
  const u = new URL(base.replace(/\/$/, '') + '/realtime');
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  u.searchParams.set('model', model);
  return u.toString();
}

/** Decides the backend without side effects (unit-tested). Throws UsageError for contradictory setups. */
export function planBackend(o: CliOptions): BackendPlan | { kind: 'emulator' } {
  const summaryKey = o.summaryApiKey;
  const secrets = [o.apiKey, o.azureApiKey, o.summaryApiKey].filter((s): s is string => !!s);
  if (o.azureEndpoint) {
    const key = o.azureApiKey;
    if (!key) throw new UsageError('--azure-endpoint needs a key: set AZURE_OPENAI_API_KEY or pass --azure-api-key');
    const endpoint = o.azureEndpoint.replace(/\/+$/, '');
    return {
      kind: 'azure',
      connection: {
        azureEndpoint: endpoint,
        azureDeployment: o.azureDeployment,
        apiKey: key,
        dialect: o.dialect,
        connectTimeoutMs: o.connectTimeoutMs,
      },
      // Azure's v1 surface speaks the OpenAI REST shape, so the same SDK path works for summaries.
      summariser: {
        model: o.summaryModel,
        baseURL: o.summaryBaseUrl ?? `${endpoint}/openai/v1`,
        apiKey: summaryKey ?? key,
      },
      banner: `Azure OpenAI ${new URL(endpoint).host}, deployment ${o.azureDeployment} (${o.dialect})`,
      secrets,
    };
  }
  if (o.url) {
    if (isOpenAIHost(o.url) && !o.apiKey) {
      throw new UsageError(`${o.url} needs an API key: set OPENAI_API_KEY or pass --api-key`);
    }
    return {
      kind: 'url',
      connection: { url: o.url, apiKey: o.apiKey, model: o.model, dialect: o.dialect, connectTimeoutMs: o.connectTimeoutMs },
      summariser: {
        model: o.summaryModel,
        baseURL: o.summaryBaseUrl ?? httpBaseFromRealtimeUrl(o.url),
        apiKey: summaryKey ?? o.apiKey,
      },
      banner: `${redactUrl(o.url)} (${o.dialect}${o.apiKey ? '' : ', no API key'})`,
      secrets,
    };
  }
  if (o.apiKey) {
    const base = o.baseUrl?.replace(/\/+$/, '') ?? OPENAI_API;
    return {
      kind: 'openai',
      connection: {
        url: base === OPENAI_API ? undefined : realtimeUrlFromHttpBase(base, o.model),
        apiKey: o.apiKey,
        model: o.model,
        dialect: o.dialect,
        connectTimeoutMs: o.connectTimeoutMs,
      },
      summariser: { model: o.summaryModel, baseURL: o.summaryBaseUrl ?? base, apiKey: summaryKey ?? o.apiKey },
      banner: `OpenAI ${base === OPENAI_API ? 'api.openai.com' : new URL(base).host}, model ${o.model} (${o.dialect})`,
      secrets,
    };
  }
  if (o.summaryBaseUrl === undefined && o.summaryApiKey !== undefined) {
    throw new UsageError('--summary-api-key without a key or --url: the emulator summarises itself; drop it or add --summary-base-url');
  }
  return { kind: 'emulator' };
}

function redactUrl(url: string): string {
  // Query strings can carry keys on some servers: show only scheme, host and path.
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

/** Plans the backend and, when there is no key and no URL, starts the emulator on a free loopback port. */
export async function openBackend(o: CliOptions, pacing: 'realtime' | 'fast', emulatorExtra: Record<string, unknown> = {}): Promise<Backend> {
  const plan = planBackend(o);
  if (plan.kind !== 'emulator') return plan as BackendPlan;
  // A random key: the emulator checks auth like the real API, and nothing else on the machine can use it.
  const key = randomBytes(18).toString('hex');
  // Specifier in a variable: the emulator is a separate module tree, loaded only on this path.
  const spec = '../emulator/index.js';
  const mod = (await import(spec)) as {
    startEmulator(opts: Record<string, unknown>): Promise<EmulatorHandle>;
  };
  const emulator = await mod.startEmulator({ port: 0, host: '127.0.0.1', apiKey: key, audioPacing: pacing, seed: 1, ...emulatorExtra });
  return {
    kind: 'emulator',
    connection: { url: emulator.url, apiKey: key, model: o.model, dialect: o.dialect, connectTimeoutMs: o.connectTimeoutMs },
    summariser: {
      model: o.summaryModel,
      baseURL: o.summaryBaseUrl ?? emulator.httpUrl,
      apiKey: o.summaryBaseUrl ? o.summaryApiKey : key,
    },
    banner: 'no API key: using the built-in emulator; replies are synthetic',
    secrets: [key, ...plan.kind === 'emulator' ? [o.summaryApiKey].filter((s): s is string => !!s) : []],
    emulator,
  };
}
