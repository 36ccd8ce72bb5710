// Composition root: assembles the session machine with its I/O actors (the socket actor, protocol
// operations, summary model), the audio plane, the conversation store and its journal relay, the
// user input with its hold-during-switch buffer and the state event, and exposes the typed agent
// handle. The parts live in src/agent/ and adapters/.
import { createActor, fromPromise, type Actor } from 'xstate';
import { RealtimeSocket, safeUrl } from '../adapters/realtime-socket.js';
import { createChatSummariser } from '../adapters/summary-llm.js';
import { openRecorder, type Recorder } from '../adapters/recorder.js';
import { createProtocolOperations } from '../adapters/realtime-operations.js';
import { publicState, sessionMachine } from '../machines/session.machine.js';
import { summariserMachine, type DeleteOutput } from '../machines/summariser.machine.js';
import { transcriptMachine } from '../machines/transcript.machine.js';
import { toolsMachine } from '../machines/tools.machine.js';
import { toolCallMachine, type Validation } from '../machines/tool-call.machine.js';
import { buildSummaryMessages } from './conversation/summary-prompt.js';
import type { RealtimeTransport, TransportFactory } from './protocol/transport.js';
import { AgentError, redact } from './errors.js';
import { createAudioPlane } from './agent/audio-plane.js';
import { createUserInput } from './agent/user-input.js';
import { createJournalRelay } from './agent/journal-relay.js';
import { openAgentConversation } from './agent/conversation-store.js';
import { resolveConnection } from './agent/connection.js';
import { createSocketActor } from './agent/socket-actor.js';
import { createEmittedHandler } from './agent/emitted.js';
import { createStateReporter } from './agent/state-event.js';
import { resolvePolicyAndTools, sessionInputOf } from './agent/session-input.js';
import type { Turn } from './conversation/turn.js';
import type { SessionInfo } from './protocol/session-info.js';
import type { AgentOptions } from './agent/options.js';
import type { AgentEventName, AgentEvents, RealtimeAgent } from './agent/handle.js';

export { resolveConnection, type ResolvedConnection } from './agent/connection.js';

export function createRealtimeAgent(options: AgentOptions = {}): RealtimeAgent {
  const conn = resolveConnection(options);
  const { policy, tools } = resolvePolicyAndTools(options);
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

  const realtimeSocket = createSocketActor({
    conn,
    options,
    openTransport,
    recorder,
    plane,
    log,
    onClosed: (c) => fire('closed', c),
    onTransport: (t) => {
      transport = t;
    },
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
    input: sessionInputOf(conn, options, policy, tools, conversation.plan),
  });

  // ---- emitted events: journal, listeners ---------------------------------------------------------
  const relay = createJournalRelay(
    journal,
    secrets,
    { mirror: () => actor.getSnapshot().context.mirror, window: () => actor.getSnapshot().context.window, safeUrl },
    (e) => fire('error', e),
  );
  const emitted = createEmittedHandler({ relay, plane, fire, log, secrets });
  actor.on('*', emitted.handle);

  // ---- the user's input while the connection switches ---------------------------------------------
  const input = createUserInput({ actor, transport: () => transport, live: () => reporter.live, log, error: (e) => fire('error', e) });

  // After the current macrostep: the machine is live when the held turns arrive.
  const reporter = createStateReporter(fire, () => emitted.summariser, () => queueMicrotask(input.release));
  actor.subscribe({
    next: (snap) => reporter.next(snap),
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
    sendText: (text) => input.sendText(text),
    appendAudio: (pcm) => input.appendAudio(pcm),
    commitAudio: () => input.commitAudio(),
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
        return input.heldTurns === 0 && !s.hasTag('busy');
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
