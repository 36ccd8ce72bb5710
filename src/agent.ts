// Composition root: assembles the session machine with its I/O actors (transport, protocol
// operations, summary model), the audio plane, the conversation store and its journal relay and the
// hold-during-switch buffer, and exposes the typed agent handle. The parts live in src/agent/ and adapters/.
import { createActor, fromCallback, fromPromise, type Actor } from 'xstate';
import { RealtimeSocket, connectionTarget, safeUrl } from '../adapters/realtime-socket.js';
import { createChatSummariser } from '../adapters/summary-llm.js';
import { openRecorder, type Recorder } from '../adapters/recorder.js';
import { createProtocolOperations } from '../adapters/realtime-operations.js';
import { publicState, sessionMachine, type AgentState, type SessionEmitted, type SocketCommand } from '../machines/session.machine.js';
import { summariserMachine, type DeleteOutput } from '../machines/summariser.machine.js';
import { transcriptMachine } from '../machines/transcript.machine.js';
import { toolsMachine } from '../machines/tools.machine.js';
import { toolCallMachine, type Validation } from '../machines/tool-call.machine.js';
import { createToolRegistry, type ToolRegistry } from './tools/registry.js';
import type { ToolCallEvent } from './tools/types.js';
import { resolvePolicy } from './conversation/policy.js';
import { resolveStrategy } from './conversation/strategy.js';
import { buildSummaryMessages } from './conversation/summary-prompt.js';
import { buildSessionConfig } from './protocol/session-config.js';
import { routeOf, type AudioPlaneEventType } from './protocol/event-registry.js';
import type { RealtimeTransport, TransportFactory } from './protocol/transport.js';
import type { WireEvent } from './protocol/events.js';
import { AgentError, redact } from './errors.js';
import { createAudioPlane } from './agent/audio-plane.js';
import { createHoldBuffer } from './agent/hold-buffer.js';
import { createJournalRelay } from './agent/journal-relay.js';
import { openAgentConversation } from './agent/conversation-store.js';
import { resolveConnection } from './agent/connection.js';
import type { PolicyOptions } from './conversation/context-strategy.js';
import type { Turn } from './conversation/turn.js';
import type { SessionInfo } from './protocol/session-info.js';
import type { AgentOptions } from './agent/options.js';
import type { AgentEventName, AgentEvents, RealtimeAgent } from './agent/handle.js';

export { resolveConnection, type ResolvedConnection } from './agent/connection.js';

/** The lifecycle part of the session's state value: `online.live`, `reconnecting` (regions left out). */
function lifecycleOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0];
  return `${k}.${typeof v === 'string' ? v : Object.keys(v as object)[0]}`;
}

export function createRealtimeAgent(options: AgentOptions = {}): RealtimeAgent {
  const conn = resolveConnection(options);
  let policy: PolicyOptions;
  try {
    policy = resolvePolicy(options.policy);
  } catch (e) {
    throw new AgentError('bad_input', `invalid policy: ${(e as Error).message}`, true);
  }
  if (options.toolTimeoutMs !== undefined && !(options.toolTimeoutMs > 0)) throw new AgentError('bad_input', 'toolTimeoutMs must be a positive number of milliseconds', true);
  const tools: ToolRegistry | null = options.tools !== undefined ? createToolRegistry(options.tools, options.toolTimeoutMs) : null;
  const choice = options.toolChoice;
  if (choice !== undefined && !(['auto', 'none', 'required'] as unknown[]).includes(choice) && !(typeof choice === 'object' && choice?.type === 'function' && tools?.names.includes(choice.name))) {
    throw new AgentError('bad_input', `toolChoice must be "auto", "none", "required" or { type: "function", name } naming one of the tools (${tools?.names.join(', ') || 'none given'})`, true);
  }
  const secrets = [conn.apiKey, options.summariser?.apiKey].filter((s): s is string => !!s);
  const log = (line: string) => options.log?.(redact(line, secrets));
  // Every frame both ways, for conformance replays (adapters/recorder.ts).
  let recorder: Recorder | null = null;
  try {
    if (options.record) recorder = openRecorder(options.record, secrets);
  } catch (e) {
    throw new AgentError('bad_input', `cannot write the recording ${options.record}: ${(e as Error).message}; check the path (its folder must exist)`, true);
  }
  const listeners = new Map<AgentEventName, Set<(p: unknown) => void>>();
  const fire = <K extends AgentEventName>(name: K, payload: AgentEvents[K]) => {
    const set = listeners.get(name);
    if (set) for (const h of set) h(payload);
  };
  // The conversation store is the journal: entries are queued and written off the event loop.
  const conversation = openAgentConversation(options, secrets, log, (e) => fire('error', e));
  const journal = conversation.sink;
  // The built-in socket feeds the recorder (option `record`); a custom transport records nothing.
  const onFrame = recorder ? (dir: 'send' | 'recv' | 'close', data: string | Buffer, binary?: boolean) => recorder!.frame(dir, data, binary) : undefined;
  const openTransport: TransportFactory = options.transport ?? ((o) => new RealtimeSocket({ ...o, onFrame }));

  let transport: RealtimeTransport | null = null;
  const requireTransport = (): RealtimeTransport => {
    if (!transport || !transport.isOpen) throw new Error('the connection is not open');
    return transport;
  };
  const ops = createProtocolOperations({ transport: requireTransport, ackTimeoutMs: policy.ackTimeoutMs, summaryLanguage: policy.summaryLanguage, log });
  const plane = createAudioPlane(fire, (itemId, ms) => actor.send({ type: 'AUDIO.MS', itemId, ms }));
  let oobCount = 0;

  const chat = createChatSummariser({
    apiKey: options.summariser?.apiKey ?? conn.apiKey,
    baseURL: options.summariser?.baseURL ?? conn.summaryBaseURL,
    model: options.summariser?.model,
    timeoutMs: options.summariser?.timeoutMs,
    maxRetries: options.summariser?.maxRetries,
  });

  // The socket actor: control-plane events to the machine, audio-plane events to the listeners,
  // each by its route in the protocol registry.
  const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack, receive }) => {
    const t = openTransport({
      url: conn.url,
      apiKey: conn.apiKey,
      model: conn.model,
      dialect: conn.dialect,
      azure: conn.azure,
      ca: options.connection?.ca,
      connectTimeoutMs: options.connection?.connectTimeoutMs,
      keepaliveMs: options.keepaliveMs,
      log,
    });
    recorder?.connect({ url: connectionTarget({ url: conn.url, model: conn.model, dialect: conn.dialect, azure: conn.azure, apiKey: conn.apiKey }).url, dialect: conn.dialect, auth: !conn.apiKey ? 'none' : conn.azure ? 'api-key' : 'bearer' });
    transport = t;
    t.on('open', () => sendBack({ type: 'SOCKET.OPEN' }));
    t.on('failure', (error) => sendBack({ type: 'SOCKET.FAILED', error }));
    t.on('close', ({ code, reason }) => {
      fire('closed', { code, reason });
      sendBack({ type: 'SOCKET.CLOSED', code, reason });
    });
    t.on('audio', (a) => plane.audio(a));
    t.on('event', (ev: WireEvent) => {
      const route = routeOf(ev.type);
      if (route === 'audio') plane.event(ev as WireEvent & { type: AudioPlaneEventType });
      else if (route === 'session' || route === 'mirror') sendBack({ type: 'SERVER.EVENT', event: ev });
      else if (route === undefined) log(`ignored unknown server event type ${JSON.stringify(ev.type.slice(0, 80))}`);
    });
    receive((cmd) => {
      if (cmd.type === 'SEND') t.send(cmd.event);
      else t.close(cmd.code, cmd.reason);
    });
    return () => {
      t.removeAllListeners();
      t.on('error', () => {});
      t.close();
    };
  });

  const retrieveItem = fromPromise<{ transcript: string | null }, { itemId: string; attempt: number }>(async ({ input }) => ({ transcript: await ops.retrieveTranscript(input.itemId) }));
  const summarise = fromPromise<{ text: string }, { messages: ReturnType<typeof buildSummaryMessages>; turns: Turn[] }>(async ({ input, signal }) => {
    if (options.summariser?.kind === 'realtime-oob') return { text: await ops.outOfBandSummary(input.turns, `oob_${++oobCount}`) };
    return { text: (await chat(input.messages, signal)).text };
  });
  const insertSummary = fromPromise<void, { id: string; text: string; role: 'system' | 'user' | 'assistant' }>(({ input }) => ops.insertAtRoot(input));
  const deleteItems = fromPromise<DeleteOutput, { ids: string[] }>(({ input }) => ops.deleteItems(input.ids));

  // Tools: validation and execution are I/O seen from the machines (user code, clocks, signals).
  const validateArguments = fromPromise<Validation, { name: string; arguments: string }>(async ({ input }) => tools!.validate(input.name, input.arguments));
  const executeTool = fromPromise<string, { name: string; callId: string; args: unknown }>(({ input, signal }) =>
    tools!.execute(input.name, input.args, { signal, callId: input.callId, agent }),
  );

  const machine = sessionMachine.provide({
    actors: {
      realtimeSocket,
      transcript: transcriptMachine.provide({ actors: { retrieveItem } }),
      summariser: summariserMachine.provide({ actors: { summarise, insertSummary, deleteItems } }),
      tools: toolsMachine.provide({ actors: { toolCall: toolCallMachine.provide({ actors: { validateArguments, executeTool } }) } }),
    },
  });

  const actor: Actor<typeof machine> = createActor(machine, {
    id: 'session',
    systemId: 'session',
    input: {
      url: conn.url,
      dialect: conn.dialect,
      model: conn.model,
      sessionConfig: buildSessionConfig(options.session, tools ? { declarations: tools.declarations, toolChoice: options.toolChoice } : undefined),
      tools: tools ? { timeouts: tools.timeouts, defaultTimeoutMs: tools.defaultTimeoutMs } : undefined,
      policy,
      strategy: resolveStrategy(policy.strategy),
      connectTimeoutMs: options.connection?.connectTimeoutMs,
      reconnect: options.reconnect === false ? undefined : {
        maxAttempts: options.reconnect?.maxAttempts ?? 5,
        baseDelayMs: options.reconnect?.baseDelayMs ?? 500,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
      },
      rolloverMarginMs: options.rolloverMarginMs === false ? undefined : options.rolloverMarginMs ?? 5 * 60_000,
      responseTimeoutMs: options.responseTimeoutMs,
      observer: options.observer, // realtime-proxy: the client owns the turns
      // The machine reads time and randomness only through these (deterministic under test).
      clock: { now: () => Date.now() },
      random: Math.random,
      // Resume: the store's latest summary and the turns it does not cover seed the first session.
      ...(conversation.plan ? { seed: conversation.plan.seed ?? undefined, firstGeneration: conversation.plan.firstGeneration, firstSummaryNumber: conversation.plan.firstSummaryNumber } : {}),
    },
  });

  // ---- emitted events: journal, listeners ---------------------------------------------------------
  const relay = createJournalRelay(
    journal,
    secrets,
    { mirror: () => actor.getSnapshot().context.mirror, window: () => actor.getSnapshot().context.window, safeUrl },
    (e) => fire('error', e),
  );
  let summariserNow = 'idle';
  const toolStarted = new Map<string, number>();
  actor.on('*', (e: SessionEmitted) => {
    relay.relay(e);
    switch (e.type) {
      case 'session':
        fire('session', e.info);
        break;
      case 'turn':
        fire('turn', e.turn);
        break;
      case 'transcript':
        fire('transcript', e.transcript);
        break;
      case 'window':
        fire('window', e.window);
        break;
      case 'summary':
        fire('summary', e.summary);
        break;
      case 'summary.skipped':
        fire('summary.skipped', { reason: e.reason });
        break;
      case 'deleted':
        plane.forget(e.id);
        break;
      case 'error':
        fire('error', new AgentError(e.error.code, redact(e.error.message, secrets), e.error.fatal, e.error.serverCode));
        break;
      case 'reconnect':
        log(`${e.reason === 'drop' ? `reconnecting (attempt ${e.attempt}) in ${e.delayMs} ms` : e.reason === 'expired' ? 'session expired: rolling over to a new session' : 'rolling over to a new session before expiry'}`);
        fire('reconnect', { attempt: e.attempt, delayMs: e.delayMs, reason: e.reason });
        break;
      case 'seeded':
        plane.clear(); // the previous session's items are gone
        fire('seeded', { id: e.id, generation: e.generation });
        break;
      case 'tool.call':
        toolStarted.set(e.callId, Date.now());
        fire('tool.call', { callId: e.callId, name: e.name, arguments: e.arguments, responseId: e.responseId });
        break;
      case 'tool.result': {
        const started = toolStarted.get(e.result.callId);
        toolStarted.delete(e.result.callId);
        const call: ToolCallEvent = { ...e.result, durationMs: started === undefined ? 0 : Date.now() - started, responseId: e.responseId };
        relay.tool(call);
        fire('tool.result', call);
        break;
      }
      case 'response':
        if (e.phase === 'created') fire('response.created', { responseId: e.responseId });
        else fire('response.done', { responseId: e.responseId, status: e.status ?? 'completed' });
        break;
      case 'summariser':
        summariserNow = e.state;
        break;
      case 'summary.inserted':
      case 'truncated':
        break; // journal only
    }
  });

  // ---- the user's input while the connection switches ---------------------------------------------
  const held = createHoldBuffer(() => log('audio buffer full while reconnecting: dropping the oldest audio'));
  let live = false;
  const hold = (h: Parameters<typeof held.hold>[0]) => {
    if (actor.getSnapshot().status !== 'active') {
      if (h.kind !== 'audio') fire('error', new AgentError('socket_closed', 'the session has ended: the turn was not sent (start a new session)'));
      return;
    }
    held.hold(h);
  };
  const release = () => {
    for (const h of held.drain()) {
      if (h.kind === 'audio') transport?.sendAudio(h.pcm);
      else if (h.kind === 'commit') actor.send({ type: 'USER.COMMIT' });
      else actor.send({ type: 'USER.TEXT', text: h.text });
    }
  };

  let lastState = '';
  // Every snapshot (several per server event) passes here: the common case (nothing the `state`
  // event reports changed; the hunting list is immutable, so the same array means the same ids) is
  // decided without building the key.
  let lastSession = '';
  let lastSummariser = '';
  let lastPublic: AgentState | '' = '';
  let lastHunting: readonly string[] | null = null;
  actor.subscribe({
    next(snap) {
      const session = lifecycleOf(snap.value);
      const nowLive = session === 'online.live';
      if (nowLive && !live) {
        live = true;
        // After the current macrostep: the machine is live when the held turns arrive.
        queueMicrotask(release);
      } else if (!nowLive) live = false;
      const state = publicState(snap);
      if (session === lastSession && summariserNow === lastSummariser && snap.context.hunting === lastHunting && state === lastPublic) return;
      lastSession = session;
      lastSummariser = summariserNow;
      lastHunting = snap.context.hunting;
      lastPublic = state;
      const pendingTranscripts = snap.context.hunting.slice();
      const key = `${state}|${session}|${summariserNow}|${pendingTranscripts.join(',')}`;
      if (key !== lastState) {
        lastState = key;
        fire('state', { state, session, summariser: summariserNow, pendingTranscripts });
      }
    },
    error(err) {
      fire('error', new AgentError('server_error', `internal error: ${redact(String((err as Error)?.message ?? err), secrets)}`, true));
    },
  });

  let started: Promise<SessionInfo> | null = null;

  const agent: RealtimeAgent = {
    actor,
    get state() {
      return publicState(actor.getSnapshot());
    },
    journalPath: journal?.path ?? null,
    conversationId: conversation.id,
    start() {
      if (started) return started;
      conversation.keepLease();
      started = new Promise<SessionInfo>((resolve, reject) => {
        const sub = actor.subscribe((snap) => {
          if (snap.matches({ online: 'live' })) {
            sub.unsubscribe();
            resolve(snap.context.session!);
          } else if (snap.status === 'done') {
            sub.unsubscribe();
            reject(snap.context.error ?? new AgentError('socket_closed', 'the session ended before it was configured', true));
          }
        });
        actor.start();
      });
      return started;
    },
    async stop() {
      if (actor.getSnapshot().status === 'active') {
        actor.send({ type: 'STOP' });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2_000);
          const done = () => {
            clearTimeout(t);
            resolve();
          };
          const sub = actor.subscribe({ next: (s) => s.status === 'done' && (sub.unsubscribe(), done()), complete: done });
          if (actor.getSnapshot().status === 'done') done();
        });
      }
      const snap = actor.getSnapshot();
      relay.end(snap.context.mirror, snap.context.error?.code ?? 'stopped');
      actor.stop();
      recorder?.close();
      // Everything queued reaches the store (or the spill file, said in a warning) before stop() resolves.
      await conversation.close();
    },
    sendText(text) {
      if (live && held.size === 0) actor.send({ type: 'USER.TEXT', text });
      else hold({ kind: 'text', text });
    },
    appendAudio(pcm) {
      if (live && held.size === 0 && transport?.isOpen) transport.sendAudio(pcm);
      else hold({ kind: 'audio', pcm: Buffer.from(pcm) });
    },
    commitAudio() {
      if (live && held.size === 0) actor.send({ type: 'USER.COMMIT' });
      else hold({ kind: 'commit' });
    },
    interrupt({ itemId, playedMs } = { itemId: '', playedMs: 0 }) {
      actor.send({ type: 'INTERRUPT', itemId, playedMs, audioMs: itemId ? plane.outputMs(itemId) : 0 });
    },
    send(event) {
      if (!transport?.isOpen) throw new AgentError('socket_closed', `cannot send ${event.type}: the session is not connected (call start() first)`);
      transport.send(event);
    },
    summariseNow() {
      actor.send({ type: 'SUMMARISE_NOW' });
    },
    history() {
      return actor.getSnapshot().context.mirror.slice();
    },
    idle() {
      // No `busy` tag: nothing asked for, running, waiting or being written (machines/session/public-state.ts).
      const isIdle = () => {
        const s = actor.getSnapshot();
        if (s.status !== 'active') return true;
        // A turn held for the next connection is work still to do.
        return held.turns === 0 && !s.hasTag('busy');
      };
      // Idle also means the store has what was said (unless it is down: then the conversation goes on).
      if (isIdle()) return conversation.drained();
      return new Promise<void>((resolve) => {
        const sub = actor.subscribe({
          next: () => {
            if (!isIdle()) return;
            sub.unsubscribe();
            resolve();
          },
          complete: () => resolve(),
          error: () => resolve(),
        });
      }).then(() => conversation.drained());
    },
    on(event, handler) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(handler as (p: unknown) => void);
      return () => set!.delete(handler as (p: unknown) => void);
    },
  };
  return agent;
}
