#!/usr/bin/env node
// realtime-agent: the command-line program. This file only orchestrates: parse options, pick I/O and
// backend, create the agent, run one mode (text, voice, WAV, demo), and end cleanly with the
// documented exit status (0 normal end or signal, 1 runtime failure, 2 usage error).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRealtimeAgent } from './agent.js';
import { AgentError, redact } from './errors.js';
import type { AgentOptions, RealtimeAgent } from './types.js';
import { helpText, parseArgs, UsageError, type CliOptions } from './cli/args.js';
import { openBackend, type Backend } from './cli/backend.js';
import { NOTEBOOK_REPLIES, runDemo } from './cli/demo.js';
import { count, historyText } from './cli/format.js';
import { packageVersion, versionLine } from './cli/about.js';
import { chooseIo, describe, type IoChoice } from './cli/io.js';
import { JsonOutput } from './cli/json-output.js';
import { loadTools } from './cli/tools.js';
import { runTextInput, type PromptLine } from './cli/text-input.js';
import { TerminalView } from './cli/view.js';
import { sendWavTurn, startMic, startOutput, type OutputPlane } from './cli/voice.js';
import { nextResponseDone } from './cli/wait.js';
import { startInspector, startStatelyBridge, startTrace } from '../adapters/inspector.js';
import { isPostgresUrl, openConversation, type OpenedConversation } from './store/open.js';
import { listConversations } from './cli/conversations.js';

const NAME = 'realtime-agent';
/** SIGINT/SIGTERM must end the process within 2 s even if a device or the socket hangs. */
const SHUTDOWN_DEADLINE_MS = 1800;

/**
 * With a fixed --inspect=PORT the token is kept in .rtc/inspector-token (mode 0600), so an open page
 * reconnects by itself when the CLI restarts; a free port gets a fresh random token each run.
 */
function persistentInspectorToken(): string {
  const path = join('.rtc', 'inspector-token');
  try {
    const t = readFileSync(path, 'utf8').trim();
    if (/^[a-f0-9]{32}$/.test(t)) return t;
  } catch {
    // none yet
  }
  const token = randomBytes(16).toString('hex');
  mkdirSync('.rtc', { recursive: true });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The password of a postgres:// store URL: a secret like the API key. */
function storePassword(store: string | undefined): string | undefined {
  if (!store || !isPostgresUrl(store)) return undefined;
  try {
    return decodeURIComponent(new URL(store).password) || undefined;
  } catch {
    return undefined;
  }
}

/** A new conversation's journal file: in the --store directory when one is given, else in .rtc/. */
function defaultJournal(dir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return join(dir, `journal-${stamp}.jsonl`);
}

class Run {
  private secrets: string[] = [];
  private agent: RealtimeAgent | null = null;
  private backend: Backend | null = null;
  private output: OutputPlane | null = null;
  private mic: { stop(): Promise<void> } | null = null;
  private textInput: { close(): void } | null = null;
  private view: TerminalView | null = null;
  private json: JsonOutput | null = null;
  private inspectors: { close(): Promise<void> }[] = [];
  private conversation: OpenedConversation | null = null;
  private stopping = false;
  private failWith: ((e: unknown) => void) | null = null;
  readonly failed: Promise<never>;

  constructor(private readonly o: CliOptions) {
    this.secrets = [o.apiKey, o.azureApiKey, o.summaryApiKey, storePassword(o.store)].filter((s): s is string => !!s);
    this.failed = new Promise<never>((_, reject) => (this.failWith = reject));
    this.failed.catch(() => undefined);
  }

  redact = (s: string): string => redact(s, this.secrets);

  private debug = (line: string): void => {
    if (this.o.debug) process.stderr.write(this.redact(`[debug] ${line}`) + '\n');
  };

  private info(line: string): void {
    if (this.json) process.stderr.write(this.redact(line) + '\n');
    else this.view!.info(line);
  }

  fatal(e: unknown): void {
    this.failWith?.(e);
  }

  async main(): Promise<void> {
    const o = this.o;
    this.view = new TerminalView({
      out: process.stdout,
      err: process.stderr,
      color: !o.noColor && !!process.stdout.isTTY,
      redact: this.redact,
    });
    if (o.json) this.json = new JsonOutput(process.stdout, this.redact);

    // A bad --tools file is a usage error before anything starts.
    const tools = o.tools !== undefined ? await loadTools(o.tools) : undefined;
    const io: IoChoice = o.demo
      ? { input: { kind: 'text' }, output: { kind: 'text' }, halfDuplex: false, note: 'scripted demo of the seed notebook: audio turns with transcript hints, preset seed-demo, summaries in French' }
      : await chooseIo(o);
    const pacing = o.emulatorPacing ?? (io.output.kind === 'speaker' ? 'realtime' : 'fast');

    // The conversation (store, id, lease) comes first: a conversation another instance holds is
    // refused before anything else starts.
    // --store DIR is where the journal goes (and where `conversations --store DIR` looks); a resumed
    // conversation keeps writing its own file, so no new one is made for it.
    const pg = o.store !== undefined && isPostgresUrl(o.store);
    const journal = o.noJournal || pg ? false : (o.journal ?? defaultJournal(o.store ?? '.rtc'));
    if (journal && o.resume === undefined) mkdirSync(dirname(journal), { recursive: true });
    if (!o.noJournal) {
      this.conversation = await openConversation({
        store: o.store ?? (journal ? dirname(journal) : '.rtc'),
        resume: o.resume,
        file: journal || undefined,
        leaseTtlMs: o.leaseTtlS * 1000,
      });
    }
    const conv = this.conversation;

    // A resumed conversation's old item ids must not come back: the built-in emulator gets a fresh seed.
    const emulatorExtra = o.demo ? { script: NOTEBOOK_REPLIES } : o.resume ? { seed: randomBytes(4).readUInt32LE(0) } : {};
    this.backend = await openBackend(o, pacing, emulatorExtra);
    this.secrets.push(...this.backend.secrets);
    const preset = o.demo || o.preset === 'seed-demo' ? 'seedDemo' : 'default';
    const agentOptions: AgentOptions = {
      connection: this.backend.connection,
      session: {
        ...(o.instructions ? { instructions: o.instructions } : {}),
        ...(o.voice ? { voice: o.voice } : {}),
        ...(o.transcriptionModel ? { transcriptionModel: o.transcriptionModel } : {}),
        // Mic: the server detects turns (and speech_started drives barge-in); files and the demo commit.
        turnDetection: io.input.kind === 'mic' ? 'server_vad' : null,
        outputModalities: io.output.kind === 'text' && !o.demo ? ['text'] : ['audio'],
      },
      policy: {
        preset,
        ...(o.trigger !== undefined ? { triggerTokens: o.trigger } : {}),
        ...(o.target !== undefined ? { targetTokens: o.target } : {}),
        ...(o.keep !== undefined ? { keepLastTurns: o.keep } : {}),
        ...(o.policyStrategy ? { strategy: o.policyStrategy } : {}),
        ...(o.summaryRole ? { summaryRole: o.summaryRole } : {}),
        ...(o.summaryLanguage ? { summaryLanguage: o.summaryLanguage } : o.demo ? { summaryLanguage: 'French' } : {}),
      },
      summariser: this.backend.summariser,
      ...(tools ? { tools } : {}),
      journal,
      ...(conv ? { conversation: conv } : {}),
      ...(o.record ? { record: o.record } : {}),
      reconnect: o.reconnectAttempts === 0 ? false : { maxAttempts: o.reconnectAttempts },
      rolloverMarginMs: o.rolloverMarginS * 1000,
      log: this.debug,
    };

    const banner = [
      `${NAME} ${packageVersion()} · ${this.backend.banner}`,
      `${io.note}`,
      conv ? `${conv.plan ? 'resuming' : 'conversation'} ${conv.id}${conv.plan ? ` (${count(conv.plan.summaries.length, 'summary', 'summaries')}, ${count(conv.plan.turns.length, 'verbatim turn')} in the seed)` : ''}` : '',
      conv ? (conv.location ? `journal: ${conv.location}` : `store: ${conv.store.label}`) : 'journal: off',
      ...(tools ? [`tools: ${tools.map((t) => t.name).join(', ')}`] : []),
    ].filter(Boolean);
    for (const l of banner) this.info(l);

    const agent = createRealtimeAgent(agentOptions);
    this.agent = agent;
    // The demo prints the notebook's own view (history blocks) instead of the live transcript.
    if (this.json) this.json.attach(agent);
    else if (!o.demo) this.view.attach(agent);
    agent.on('error', (e) => {
      if (e.fatal) this.fatal(e);
      else if (!this.json) this.view!.error(`warning: ${e.message}`);
    });
    // A dropped socket is the engine's business (it reconnects or rolls over); a session that cannot
    // go on ends with a fatal error event, handled above.
    await this.startInspection(agent, agentOptions);

    const info = await Promise.race([agent.start(), this.failed]);
    this.json?.session(info, {
      backend: this.backend.kind,
      input: describe(io.input),
      output: describe(io.output),
      ...(conv ? { conversation: conv.id, resumed: !!conv.plan, store: conv.store.kind } : {}),
    });
    this.debug(`session ${info.id} model ${info.model} dialect ${info.dialect}`);

    await Promise.race([this.runMode(agent, io), this.failed]);
  }

  /** --inspect[=PORT|stately] and --trace: attached before start() so every actor is seen. */
  private async startInspection(agent: RealtimeAgent, a: AgentOptions): Promise<void> {
    const o = this.o;
    const chart = { trigger: a.policy?.triggerTokens, target: a.policy?.targetTokens };
    const say = (kind: string, url: string, text: string) => {
      if (this.json) this.json.emit('inspector', { kind, url });
      else this.info(text);
    };
    if (o.inspect === 'stately') {
      const bridge = await startStatelyBridge({ secrets: this.secrets });
      bridge.attach(agent);
      this.inspectors.push(bridge);
      say('stately', bridge.url, `inspector (Stately's hosted UI, needs internet) ${bridge.url}`);
    } else if (o.inspect !== undefined) {
      const port = o.inspect === '' ? 0 : Number(o.inspect);
      const insp = await startInspector({
        port,
        token: port ? persistentInspectorToken() : undefined,
        secrets: this.secrets,
        tracePath: o.trace,
        ...chart,
      });
      insp.attach(agent);
      this.inspectors.push(insp);
      say('local', insp.url, `inspector ${insp.url}`);
    }
    if (o.trace && (o.inspect === undefined || o.inspect === 'stately')) {
      const trace = startTrace(o.trace, this.secrets, chart);
      trace.attach(agent);
      this.inspectors.push(trace);
      this.debug(`trace: ${o.trace}`);
    }
  }

  private async runMode(agent: RealtimeAgent, io: IoChoice): Promise<void> {
    const o = this.o;
    if (o.demo) {
      const print = (s: string) => {
        if (!this.json) this.view!.line(s);
      };
      await runDemo({ agent, emulator: this.backend!.emulator!, print });
      return;
    }
    const plane = { log: (l: string) => this.debug(l), onFatal: (e: AgentError) => this.fatal(e) };
    this.output = await startOutput(agent, io.output, plane);
    if (io.input.kind === 'mic') {
      this.mic = await startMic(agent, this.output, io.halfDuplex, plane);
      this.info('listening: speak now (Ctrl-C to quit)');
      await new Promise<never>(() => undefined); // runs until a signal or a failure
    } else if (io.input.kind === 'wav') {
      const done = nextResponseDone(agent);
      const ms = sendWavTurn(agent, io.input.path, (l) => this.info(l));
      this.debug(`sent ${ms} ms of audio from ${io.input.path}`);
      await done;
      await this.drainOutput();
      await agent.idle();
    } else {
      const t = runTextInput(agent, {
        input: process.stdin,
        showHistory: () => {
          if (this.json) for (const turn of agent.history()) this.json.emit('turn', turn);
          else this.view!.line(historyText(agent.history()));
        },
        info: (l) => this.info(l),
        // A person at a terminal gets a prompt line below the status line (not with --json).
        ...(process.stdin.isTTY && process.stdout.isTTY && !this.json
          ? { terminal: { output: process.stdout, attach: (p: PromptLine | null) => this.view!.setPrompt(p) } }
          : {}),
      });
      this.textInput = t;
      if (process.stdin.isTTY && !this.json) this.info('type a message and press Enter (/summarise, /history, /quit)');
      await t.done;
      await this.drainOutput();
    }
  }

  /** Lets the speaker finish the last reply before a normal end. */
  private async drainOutput(): Promise<void> {
    const spk = this.output?.speaker;
    while (spk?.playing()) await new Promise((r) => setTimeout(r, 50));
  }

  /** Ends everything in order: inputs, devices, agent (journal flushed, socket closed), emulator. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Each step is guarded on its own: one failing part must not keep the others open.
    const step = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (e) {
        this.debug(`${what}: ${(e as Error).message}`);
      }
    };
    await step('stdin', () => this.textInput?.close());
    await step('microphone', () => this.mic?.stop());
    await step('output', () => this.output?.close());
    await step('agent', () => this.agent?.stop());
    // Without an agent (it failed to start) the conversation's lease is released here.
    if (!this.agent) await step('conversation', () => this.conversation?.close());
    for (const i of this.inspectors) await step('inspector', () => i.close());
    await step('emulator', () => this.backend?.emulator?.close());
    this.view?.close();
  }

  report(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    const line = msg.split('\n')[0];
    process.stderr.write(this.redact(`${NAME}: ${line}`) + '\n');
    if (this.json && !this.json.reported(e)) this.json.error({ code: e instanceof AgentError ? e.code : 'error', message: line, fatal: true });
    if (this.o.debug && e instanceof Error && e.stack) process.stderr.write(this.redact(e.stack) + '\n');
  }
}

async function main(argv: string[]): Promise<number> {
  let o: CliOptions;
  // `realtime-agent conversations [...]` (or --list-conversations) lists the store instead of running.
  const listing = argv[0] === 'conversations' || argv.includes('--list-conversations');
  if (listing) argv = argv.filter((a, i) => !(i === 0 && a === 'conversations') && a !== '--list-conversations');
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${NAME}: ${redact(e.message, [])}\n`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    process.stdout.write(helpText(packageVersion()));
    return 0;
  }
  if (o.all && !listing) {
    process.stderr.write(`${NAME}: --all only goes with \`realtime-agent conversations\`\n`);
    return 2;
  }
  if (listing) {
    try {
      await listConversations(o, process.stdout);
      return 0;
    } catch (e) {
      process.stderr.write(`${NAME}: ${redact(e instanceof Error ? e.message : String(e), [storePassword(o.store)]).split('\n')[0]}\n`);
      return 1;
    }
  }
  if (o.version) {
    process.stdout.write(versionLine(NAME));
    return 0;
  }
  const run = new Run(o);
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) process.exit(sig === 'SIGINT' ? 130 : 143); // second Ctrl-C: leave now
    signalled = true;
    setTimeout(() => {
      process.stderr.write(`${NAME}: shutdown took too long; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    void run.shutdown().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run.main();
    await run.shutdown();
    return 0;
  } catch (e) {
    if (signalled) return new Promise<number>(() => undefined); // the signal handler exits
    run.report(e);
    const deadline = setTimeout(() => process.exit(e instanceof UsageError ? 2 : 1), SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await run.shutdown().catch(() => undefined);
    return e instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${NAME}: internal error: ${redact(e instanceof Error ? e.message : String(e), [])}\n`);
    process.exit(1);
  },
);
