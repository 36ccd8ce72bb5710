#!/usr/bin/env node
// realtime-proxy: the engine in front of any GA Realtime client. See docs/proxy.md.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openBackend, planBackend, type Backend } from '../cli/backend.js';
import { UsageError } from '../cli/args.js';
import { packageVersion, versionLine } from '../cli/about.js';
import { count } from '../cli/format.js';
import { redact } from '../errors.js';
import { parseProxyArgs, proxyHelpText, type ProxyCliOptions } from './args.js';
import { proxyTls, type ProxyTls } from './tls-files.js';
import type { RealtimeProxy, startProxy as StartProxy } from './server.js';
import type { AgentOptions } from '../types.js';

const NAME = 'realtime-proxy';

/** The upstream: the agent's backend plan; in pass-through the key comes from each client instead. */
async function backendFor(o: ProxyCliOptions): Promise<Backend> {
  if (!o.passThrough) return openBackend(o.base, o.base.emulatorPacing ?? 'realtime');
  // Plan as if a key were set (so OpenAI, Azure or --url is chosen), then drop it: clients bring theirs.
  const placeholder = 'pass-through';
  const plan = planBackend({ ...o.base, apiKey: placeholder, azureApiKey: o.base.azureEndpoint ? placeholder : undefined });
  if (plan.kind === 'emulator') throw new UsageError('--pass-through needs an upstream that takes keys');
  const p = plan as Backend;
  const host = p.kind === 'azure' ? new URL(o.base.azureEndpoint!).host : p.kind === 'url' ? new URL(o.base.url!).host : 'api.openai.com';
  return {
    ...p,
    connection: { ...p.connection, apiKey: undefined },
    summariser: { ...p.summariser, apiKey: o.base.summaryApiKey },
    banner: `pass-through to ${host}: each client's own key goes upstream (never stored)`,
    secrets: [o.base.summaryApiKey].filter((s): s is string => !!s),
  };
}

/** The engine options every connection shares: the context policy, reconnects, rollover. */
function engineOptions(o: ProxyCliOptions): NonNullable<Parameters<typeof StartProxy>[0]['engine']> {
  const preset = o.base.preset === 'seed-demo' ? 'seedDemo' : 'default';
  return {
    policy: {
      preset,
      ...(o.base.trigger !== undefined ? { triggerTokens: o.base.trigger } : {}),
      ...(o.base.target !== undefined ? { targetTokens: o.base.target } : {}),
      ...(o.base.keep !== undefined ? { keepLastTurns: o.base.keep } : {}),
      ...(o.base.policyStrategy ? { strategy: o.base.policyStrategy } : {}),
      ...(o.base.summaryRole ? { summaryRole: o.base.summaryRole } : {}),
      ...(o.base.summaryLanguage ? { summaryLanguage: o.base.summaryLanguage } : {}),
    },
    reconnect: o.base.reconnectAttempts === 0 ? false : { maxAttempts: o.base.reconnectAttempts },
    rolloverMarginMs: o.base.rolloverMarginS * 1000,
  } satisfies Partial<AgentOptions>;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let o: ProxyCliOptions;
  try {
    o = parseProxyArgs(argv, env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${NAME}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (o.base.help) {
    process.stdout.write(proxyHelpText(packageVersion()));
    return 0;
  }
  if (o.base.version) {
    process.stdout.write(versionLine(NAME));
    return 0;
  }
  const secrets: string[] = [...o.clientTokens];
  const say = (line: string) => process.stderr.write(`${redact(line, secrets)}\n`);
  for (const w of o.warnings) say(`${NAME}: ${w}`);
  const debug = o.base.debug ? say : undefined;
  let backend: Backend;
  try {
    backend = await backendFor(o);
  } catch (e) {
    say(`${NAME}: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
  secrets.push(...backend.secrets);
  // As on the agent: --store DIR is where the connections' journals go (so `realtime-agent conversations
  // --store DIR` lists them); otherwise .rtc/.
  const storeDir = o.base.store !== undefined && !/^postgres(ql)?:\/\//i.test(o.base.store) ? o.base.store : '.rtc';
  const journalBase = o.base.noJournal ? null : (o.base.journal ?? join(storeDir, `journal-${stamp()}.jsonl`));
  if (journalBase) mkdirSync(dirname(journalBase) || '.', { recursive: true });
  const json = o.base.json;
  const emit = (e: Record<string, unknown>) => {
    if (json) process.stdout.write(`${redact(JSON.stringify(e), secrets)}\n`);
    else if (e.type === 'opened') say(`+ ${e.conn} connected (model ${e.model})`);
    else if (e.type === 'summary') say(`  ${e.conn} summarised ${count(Number(e.turns), 'turn')}, window ${e.windowBefore} -> ~${e.windowAfterEstimate}`);
    else if (e.type === 'rollover') say(`  ${e.conn} ${e.reason === 'drop' ? 'reconnecting after a drop' : 'rolled over to a new upstream session'}`);
    else if (e.type === 'closed') say(`- ${e.conn} closed (${e.why}) · ${count(Number(e.summaries), 'summary', 'summaries')}, ${count(Number(e.rollovers), 'rollover')} · cost $${Number(e.costUsd).toFixed(4)}`);
    else if (e.type === 'inspector') say(`  ${e.conn} inspector ${e.url}`);
    else if (e.type === 'refused') say(`! ${e.conn} refused (HTTP ${e.status} ${e.code}): ${e.detail}`);
  };
  const engine = engineOptions(o);

  let inspectorMod: typeof import('../../adapters/inspector.js') | null = null;
  if (o.base.inspect !== undefined) {
    if (o.base.inspect === 'stately') {
      say(`${NAME}: --inspect=stately is not available on the proxy: use --inspect (a local inspector per connection)`);
      return 2;
    }
    inspectorMod = await import('../../adapters/inspector.js');
  }
  let nextInspectPort = o.base.inspect && /^\d+$/.test(o.base.inspect) ? Number(o.base.inspect) : 0;

  // --tls: the certificate clients must trust, kept between runs; where it is and its fingerprint are printed.
  let tls: ProxyTls | undefined;
  if (o.tls) {
    try {
      tls = await proxyTls({ certFile: o.tlsCert, keyFile: o.tlsKey, host: o.host });
    } catch (e) {
      say(`${NAME}: ${(e as Error).message}`);
      await backend.emulator?.close();
      return e instanceof UsageError ? 2 : 1;
    }
  }

  let proxy: RealtimeProxy;
  try {
    // Loaded after the arguments are checked: the engine (and its tokenizer tables) is heavy to load.
    const { startProxy } = await import('./server.js');
    proxy = await startProxy({
      port: o.port,
      host: o.host,
      connection: backend.connection,
      summariser: backend.summariser,
      auth: o.passThrough ? { mode: 'passthrough' } : { mode: 'proxy-key', clientTokens: o.clientTokens },
      engine,
      journal: journalBase ? (id) => journalBase.replace(/(\.jsonl)?$/, `-${id}.jsonl`) : false,
      // ?conversation=<id> resumes from this store (the agent's default: the journal directory).
      store: o.base.store ?? (journalBase ? dirname(journalBase) || '.' : undefined),
      leaseTtlMs: o.base.leaseTtlS * 1000,
      limits: o.limits,
      transcriptionModel: o.base.transcriptionModel,
      tls: tls ? { cert: tls.cert, key: tls.key } : false,
      onEvent: emit,
      log: debug,
      onConnection: inspectorMod
        ? (conn) => {
            // One local inspector per live connection (each engine is its own actor system).
            let insp: Awaited<ReturnType<typeof inspectorMod.startInspector>> | null = null;
            let closed = false;
            const port = nextInspectPort;
            if (nextInspectPort) nextInspectPort++;
            void inspectorMod!
              .startInspector({ port, secrets, title: `${NAME} ${conn.id}`, trigger: engine.policy?.triggerTokens, target: engine.policy?.targetTokens })
              .then((i) => {
                if (closed) return void i.close();
                insp = i;
                i.attach(conn.agent);
                emit({ type: 'inspector', conn: conn.id, url: i.url });
              })
              .catch((e) => say(`  ${conn.id} inspector failed: ${(e as Error).message}`));
            return () => {
              closed = true;
              void insp?.close();
            };
          }
        : undefined,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    say(`${NAME}: ${err.code === 'EADDRINUSE' ? `port ${o.port} on ${o.host} is in use: pick another with --port` : err.message}`);
    await backend.emulator?.close();
    return 1;
  }
  say(`${NAME} ${packageVersion()} · ${backend.banner}`);
  say(`listening on ${proxy.url}?model=${o.base.model}${o.clientTokens.length ? ' (clients authenticate with their proxy token)' : ''}`);
  if (tls) {
    const how = { given: 'given with --tls-cert', created: 'made now, kept for the next runs', reused: 'kept from an earlier run' }[tls.origin];
    say(`tls certificate: ${tls.certPath} (${how}; valid until ${tls.validTo})`);
    say(`tls SHA-256 fingerprint: ${tls.fingerprint}`);
    say(`  trust it: NODE_EXTRA_CA_CERTS=${tls.certPath} for Node clients, or pin the fingerprint`);
  }
  say(`journal: ${journalBase ? `${journalBase.replace(/(\.jsonl)?$/, '-<connection>.jsonl')}` : 'off'}`);
  if (json) process.stdout.write(`${JSON.stringify({ type: 'listening', url: proxy.url, backend: backend.kind, ...(tls ? { certificate: tls.certPath, fingerprint256: tls.fingerprint } : {}) })}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(1);
      stopping = true;
      const deadline = setTimeout(() => resolve(0), 3_000);
      deadline.unref();
      void proxy
        .close()
        .then(() => backend.emulator?.close())
        .finally(() => {
          clearTimeout(deadline);
          resolve(0);
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${NAME}: ${redact(String((e as Error)?.message ?? e), [])}\n`);
    process.exit(1);
  },
);
