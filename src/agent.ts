// Composition root: the session machine with its I/O actors provided (socket, retrieve, summarise,
// insert, delete), the audio plane (straight between the socket and the caller, never via a machine),
// the journal, and typed events.
import { createActor, fromCallback, fromPromise, type Actor } from 'xstate';
import { RealtimeSocket, OPENAI_REALTIME_URL, safeUrl } from '../adapters/realtime-socket.js';
import { createChatSummariser } from '../adapters/summary-llm.js';
import { openJournal, type JournalWriter } from '../adapters/journal-file.js';
import { sessionMachine, summariserState, type SessionEmitted, type SocketCommand } from '../machines/session.machine.js';
import { summariserMachine, type DeleteOutput } from '../machines/summariser.machine.js';
import { transcriptMachine } from '../machines/transcript.machine.js';
import { isSummary, resolvePolicy } from './conversation/policy.js';
import { buildSummaryMessages, summarySystemPrompt, transcriptOf } from './conversation/summary-prompt.js';
import { contentText } from './conversation/items.js';
import { buildSessionConfig } from './protocol/session-config.js';
import { isObject } from './protocol/parse.js';
import type { WireEvent } from './protocol/events.js';
import { AgentError, redact } from './errors.js';
import type { AgentEventName, AgentEvents, AgentOptions, PolicyOptions, RealtimeAgent, RealtimeTransport, SessionInfo, Turn } from './types.js';

const BYTES_PER_MS = 48; // pcm16, 24 kHz, mono

/** Events that only the audio plane or the caller needs: they never enter the session machine. */
const PLANE_ONLY = new Set([
  'response.output_audio_transcript.delta',
  'response.output_text.delta',
  'response.output_audio.done',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.function_call_arguments.delta',
  'input_audio_buffer.speech_started',
  'input_audio_buffer.speech_stopped',
  'input_audio_buffer.committed',
  'input_audio_buffer.cleared',
  'rate_limits.updated',
  'conversation.created',
]);

export interface ResolvedConnection {
  url: string;
  apiKey?: string;
  model: string;
  dialect: 'ga' | 'beta';
  azure: boolean;
  summaryBaseURL?: string;
}

/** Where to connect, from the options: explicit URL, Azure, or OpenAI's GA endpoint. */
export function resolveConnection(o: AgentOptions): ResolvedConnection {
  const c = o.connection ?? {};
  const model = c.model ?? c.azureDeployment ?? 'gpt-realtime';
  const dialect = c.dialect ?? 'ga';
  if (c.azureEndpoint) {
    if (!c.azureDeployment) throw new AgentError('bad_input', 'Azure needs a deployment name: set --azure-deployment', true);
    const base = c.azureEndpoint.replace(/\/+$/, '').replace(/^http/, 'ws');
    const url = dialect === 'beta'
      ? `${base}/openai/realtime?api-version=2025-04-01-preview&deployment=${encodeURIComponent(c.azureDeployment)}`
      : `${base}/openai/v1/realtime?model=${encodeURIComponent(c.azureDeployment)}`;
    if (!c.apiKey) throw new AgentError('missing_api_key', 'no Azure key: set AZURE_OPENAI_API_KEY (or --api-key)', true);
    return { url, apiKey: c.apiKey, model, dialect, azure: true, summaryBaseURL: `${c.azureEndpoint.replace(/\/+$/, '')}/openai/v1` };
  }
  if (c.url) {
    let u: URL;
    try {
      u = new URL(c.url);
    } catch {
      throw new AgentError('bad_input', `not a URL: ${JSON.stringify(c.url)}: give a ws:// or wss:// URL such as wss://api.openai.com/v1/realtime`, true);
    }
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) {
      throw new AgentError('bad_input', `unsupported URL scheme ${u.protocol} in --url: use ws:// or wss://`, true);
    }
    if (u.protocol === 'http:') u.protocol = 'ws:';
    if (u.protocol === 'https:') u.protocol = 'wss:';
    const isOpenAI = u.hostname === 'api.openai.com';
    if (isOpenAI && !c.apiKey) throw new AgentError('missing_api_key', 'no API key for api.openai.com: set OPENAI_API_KEY (or --api-key), or drop --url to use the built-in emulator', true);
    const httpBase = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}${u.pathname.replace(/\/realtime\/?$/, '')}`;
    return { url: u.toString(), apiKey: c.apiKey, model, dialect, azure: false, summaryBaseURL: isOpenAI ? undefined : httpBase };
  }
  if (!c.apiKey) throw new AgentError('missing_api_key', 'no API key: set OPENAI_API_KEY (or --api-key), or give --url for a compatible server', true);
  return { url: OPENAI_REALTIME_URL, apiKey: c.apiKey, model, dialect, azure: false };
}

export function createRealtimeAgent(options: AgentOptions = {}): RealtimeAgent {
  const conn = resolveConnection(options);
  let policy: PolicyOptions;
  try {
    policy = resolvePolicy(options.policy);
  } catch (e) {
    throw new AgentError('bad_input', `invalid policy: ${(e as Error).message}`, true);
  }
  const secrets = [conn.apiKey, options.summariser?.apiKey].filter((s): s is string => !!s);
  const log = (line: string) => options.log?.(redact(line, secrets));
  const journal: JournalWriter | null = options.journal ? openJournal(options.journal, secrets) : null;
  const listeners = new Map<AgentEventName, Set<(p: unknown) => void>>();
  const fire = <K extends AgentEventName>(name: K, payload: AgentEvents[K]) => {
    const set = listeners.get(name);
    if (set) for (const h of set) h(payload);
  };

  let socket: RealtimeTransport | null = null;
  const outputBytes = new Map<string, number>();
  const speechStart = new Map<string, number>();

  const requireSocket = (): RealtimeTransport => {
    if (!socket || !socket.isOpen) throw new Error('the connection is not open');
    return socket;
  };

  const chat = createChatSummariser({
    apiKey: options.summariser?.apiKey ?? conn.apiKey,
    baseURL: options.summariser?.baseURL ?? conn.summaryBaseURL,
    model: options.summariser?.model,
    timeoutMs: options.summariser?.timeoutMs,
    maxRetries: options.summariser?.maxRetries,
  });

  const realtimeSocket = fromCallback<SocketCommand, { url: string }>(({ sendBack, receive }) => {
    const socketOptions = {
      url: conn.url,
      apiKey: conn.apiKey,
      model: conn.model,
      dialect: conn.dialect,
      azure: conn.azure,
      ca: options.connection?.ca,
      connectTimeoutMs: options.connection?.connectTimeoutMs,
      keepaliveMs: options.keepaliveMs,
      log,
    };
    // proxy hook: an injected transport (realtime-proxy relays the same socket to its client).
    const s: RealtimeTransport = options.transport ? options.transport(socketOptions) : new RealtimeSocket(socketOptions);
    socket = s;
    s.on('open', () => sendBack({ type: 'SOCKET.OPEN' }));
    s.on('failure', (error: AgentError) => sendBack({ type: 'SOCKET.FAILED', error }));
    s.on('close', ({ code, reason }: { code: number; reason: string }) => {
      fire('closed', { code, reason });
      sendBack({ type: 'SOCKET.CLOSED', code, reason });
    });
    s.on('audio', (a: { itemId: string; responseId: string; pcm: Buffer }) => {
      outputBytes.set(a.itemId, (outputBytes.get(a.itemId) ?? 0) + a.pcm.length);
      fire('audio', a);
    });
    s.on('event', (ev: WireEvent) => {
      if (PLANE_ONLY.has(ev.type)) {
        planeEvent(ev);
        return;
      }
      sendBack({ type: 'SERVER.EVENT', event: ev });
    });
    receive((cmd) => {
      if (cmd.type === 'SEND') s.send(cmd.event);
      else s.close(cmd.code, cmd.reason);
    });
    return () => {
      s.removeAllListeners();
      s.on('error', () => {});
      s.close();
    };
  });

  function planeEvent(ev: WireEvent): void {
    const itemId = typeof ev.item_id === 'string' ? ev.item_id : '';
    const responseId = typeof ev.response_id === 'string' ? ev.response_id : '';
    switch (ev.type) {
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta':
        if (typeof ev.delta === 'string') fire('assistant.delta', { itemId, responseId, delta: ev.delta });
        break;
      case 'response.output_audio.done':
        actor.send({ type: 'AUDIO.MS', itemId, ms: Math.round((outputBytes.get(itemId) ?? 0) / BYTES_PER_MS) });
        fire('audio.done', { itemId, responseId });
        break;
      case 'input_audio_buffer.speech_started': {
        const ms = typeof ev.audio_start_ms === 'number' ? ev.audio_start_ms : 0;
        speechStart.set(itemId, ms);
        fire('speech.started', { itemId, audioStartMs: ms });
        break;
      }
      case 'input_audio_buffer.speech_stopped': {
        const end = typeof ev.audio_end_ms === 'number' ? ev.audio_end_ms : 0;
        const start = speechStart.get(itemId) ?? end;
        speechStart.delete(itemId);
        actor.send({ type: 'AUDIO.MS', itemId, ms: Math.max(0, end - start) });
        fire('speech.stopped', { itemId, audioEndMs: end });
        break;
      }
      default:
        break;
    }
  }

  const retrieveItem = fromPromise<{ transcript: string | null }, { itemId: string; attempt: number }>(async ({ input }) => {
    const ev = await requireSocket().request(
      { type: 'conversation.item.retrieve', item_id: input.itemId },
      (e) => e.type === 'conversation.item.retrieved' && isObject(e.item) && e.item.id === input.itemId,
      policy.ackTimeoutMs,
    );
    const item = ev.item as { content?: unknown };
    // Only an audio transcript counts; a retrieved item may still say transcript: null.
    const parts = Array.isArray(item.content) ? item.content : [];
    for (const p of parts) {
      if (isObject(p) && (p.type === 'input_audio' || p.type === 'audio') && typeof p.transcript === 'string') return { transcript: p.transcript };
    }
    const text = contentText(item.content);
    return { transcript: text.audio ? null : text.text };
  });

  const summarise = fromPromise<{ text: string }, { messages: ReturnType<typeof buildSummaryMessages>; turns: Turn[] }>(async ({ input, signal }) => {
    if (options.summariser?.kind === 'realtime-oob') return { text: await summariseOutOfBand(input.turns) };
    const r = await chat(input.messages, signal);
    return { text: r.text };
  });

  async function summariseOutOfBand(turns: Turn[]): Promise<string> {
    const s = requireSocket();
    const eventId = `oob_${Date.now().toString(36)}`;
    const ev = await s.request(
      {
        type: 'response.create',
        event_id: eventId,
        response: {
          conversation: 'none',
          output_modalities: ['text'],
          metadata: { purpose: 'rtc-summary' },
          instructions: summarySystemPrompt(policy.summaryLanguage),
          input: [
            ...turns.filter((t) => t.kind === 'message').map((t) => ({ type: 'item_reference', id: t.id })),
            { type: 'message', role: 'user', content: [{ type: 'input_text', text: `Summarise the conversation above.\n${transcriptOf(turns)}` }] },
          ],
        },
      },
      (e) => e.type === 'response.done' && isObject(e.response) && isObject(e.response.metadata) && e.response.metadata.purpose === 'rtc-summary',
      policy.ackTimeoutMs * 3,
    );
    const r = ev.response as { output?: { content?: unknown }[] };
    const text = contentText(r.output?.[0]?.content).text;
    if (!text) throw new Error('the out-of-band summary response had no text');
    return text;
  }

  const insertSummary = fromPromise<void, { id: string; text: string; role: 'system' | 'user' | 'assistant' }>(async ({ input }) => {
    const partType = input.role === 'assistant' ? 'output_text' : 'input_text';
    await requireSocket().request(
      {
        type: 'conversation.item.create',
        previous_item_id: 'root',
        item: { id: input.id, type: 'message', role: input.role, content: [{ type: partType, text: input.text }] },
      },
      (e) => (e.type === 'conversation.item.added' || e.type === 'conversation.item.created') && isObject(e.item) && e.item.id === input.id,
      policy.ackTimeoutMs,
    );
  });

  const deleteItems = fromPromise<DeleteOutput, { ids: string[] }>(async ({ input }) => {
    const out: DeleteOutput = { deleted: [], missing: [], failed: [] };
    await Promise.all(
      input.ids.map(async (id) => {
        try {
          await requireSocket().request(
            { type: 'conversation.item.delete', item_id: id },
            (e) => e.type === 'conversation.item.deleted' && e.item_id === id,
            policy.ackTimeoutMs,
          );
          out.deleted.push(id);
        } catch (e) {
          const err = e as Error & { code?: string };
          // "does not exist" / item_not_found: already gone, which is what we wanted.
          if (err.code === 'item_not_found' || /does not exist|not found|unknown item/i.test(err.message)) out.missing.push(id);
          else {
            out.failed.push(id);
            log(`delete ${id} failed: ${err.message}`);
          }
        }
      }),
    );
    return out;
  });

  const machine = sessionMachine.provide({
    actors: {
      realtimeSocket,
      transcript: transcriptMachine.provide({ actors: { retrieveItem } }),
      summariser: summariserMachine.provide({ actors: { summarise, insertSummary, deleteItems } }),
    },
  });

  const actor: Actor<typeof machine> = createActor(machine, {
    id: 'session',
    systemId: 'session',
    input: {
      url: conn.url,
      dialect: conn.dialect,
      model: conn.model,
      sessionConfig: buildSessionConfig(options.session),
      policy,
      connectTimeoutMs: options.connection?.connectTimeoutMs,
      reconnect: options.reconnect === false ? undefined : {
        maxAttempts: options.reconnect?.maxAttempts ?? 5,
        baseDelayMs: options.reconnect?.baseDelayMs ?? 500,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
      },
      rolloverMarginMs: options.rolloverMarginMs === false ? undefined : options.rolloverMarginMs ?? 5 * 60_000,
      responseTimeoutMs: options.responseTimeoutMs,
      observer: options.observer, // proxy hook
    },
  });

  // ---- events, journal ------------------------------------------------------------------------
  const journaled = new Set<string>();
  const inaudible = new Set<string>();
  const journalTurn = (t: Turn) => {
    // Summaries and seeds are journaled as `summary` entries, never as turns.
    if (!journal || journaled.has(t.id) || isSummary(t)) return;
    if (t.textState === 'pending') return;
    journaled.add(t.id);
    if (t.textState === 'inaudible') inaudible.add(t.id);
    const mirror = actor.getSnapshot().context.mirror;
    const at = mirror.findIndex((m) => m.id === t.id);
    const prev = at > 0 ? mirror[at - 1].id : at === 0 ? null : undefined;
    journal.write({ type: 'turn', id: t.id, role: t.role, kind: t.kind, text: t.text, textState: t.textState, prev, callId: t.callId, name: t.name });
  };
  const safeJournal = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      fire('error', new AgentError('journal_failed', `cannot write the journal ${journal?.path}: ${(e as Error).message}; check the path and free space`));
    }
  };

  actor.on('*', (e: SessionEmitted) => {
    switch (e.type) {
      case 'session':
        safeJournal(() => journal?.write({ type: 'session', sessionId: e.info.id, model: e.info.model, url: safeUrl(e.info.url), dialect: e.info.dialect, expiresAt: e.info.expiresAt }));
        fire('session', e.info);
        break;
      case 'turn':
        safeJournal(() => journalTurn(e.turn));
        fire('turn', e.turn);
        break;
      case 'transcript':
        // A transcript that arrives after the retry loop gave up still reaches the journal.
        if (e.transcript.final && e.transcript.source !== 'inaudible' && inaudible.has(e.transcript.itemId)) {
          inaudible.delete(e.transcript.itemId);
          safeJournal(() => journal?.write({ type: 'transcript', id: e.transcript.itemId, text: e.transcript.text }));
        }
        fire('transcript', e.transcript);
        break;
      case 'window':
        fire('window', e.window);
        break;
      case 'summary.inserted':
        safeJournal(() => journal?.write({ type: 'summary', id: e.id, text: e.text, replaces: e.replaces, windowBefore: actor.getSnapshot().context.window }));
        break;
      case 'summary':
        fire('summary', e.summary);
        break;
      case 'deleted':
        outputBytes.delete(e.id);
        safeJournal(() => journal?.write({ type: 'delete', id: e.id }));
        break;
      case 'truncated':
        safeJournal(() => journal?.write({ type: 'truncate', id: e.id, audioEndMs: e.audioEndMs, text: e.text }));
        break;
      case 'error':
        safeJournal(() => journal?.write({ type: 'error', code: e.error.code, message: redact(e.error.message, secrets) }));
        fire('error', new AgentError(e.error.code, redact(e.error.message, secrets), e.error.fatal, e.error.serverCode));
        break;
      case 'reconnect':
        log(`${e.reason === 'drop' ? `reconnecting (attempt ${e.attempt}) in ${e.delayMs} ms` : e.reason === 'expired' ? 'session expired: rolling over to a new session' : 'rolling over to a new session before expiry'}`);
        fire('reconnect', { attempt: e.attempt, delayMs: e.delayMs, reason: e.reason });
        break;
      case 'seeded':
        outputBytes.clear(); // the previous session's items are gone
        fire('seeded', { id: e.id, generation: e.generation });
        break;
      case 'response':
        if (e.phase === 'created') fire('response.created', { responseId: e.responseId });
        else fire('response.done', { responseId: e.responseId, status: e.status ?? 'completed' });
        break;
    }
  });

  // What the user says while the connection switches (reconnect, rollover) is kept, in order, and
  // delivered once the new session is live: audio (bounded to one minute, oldest dropped first),
  // commits and text turns.
  type Held = { kind: 'audio'; pcm: Buffer } | { kind: 'commit' } | { kind: 'text'; text: string };
  const MAX_BUFFER_BYTES = 60_000 * BYTES_PER_MS;
  let live = false;
  let held: Held[] = [];
  let heldBytes = 0;
  let warnedOverflow = false;
  const hold = (h: Held) => {
    if (actor.getSnapshot().status !== 'active') {
      if (h.kind !== 'audio') fire('error', new AgentError('socket_closed', 'the session has ended: the turn was not sent (start a new session)'));
      return;
    }
    held.push(h);
    if (h.kind !== 'audio') return;
    heldBytes += h.pcm.length;
    while (heldBytes > MAX_BUFFER_BYTES) {
      const i = held.findIndex((x) => x.kind === 'audio');
      if (i < 0) break;
      heldBytes -= (held[i] as { pcm: Buffer }).pcm.length;
      held.splice(i, 1);
      if (!warnedOverflow) log('audio buffer full while reconnecting: dropping the oldest audio');
      warnedOverflow = true;
    }
  };
  const release = () => {
    const items = held;
    held = [];
    heldBytes = 0;
    for (const h of items) {
      if (h.kind === 'audio') socket?.sendAudio(h.pcm);
      else if (h.kind === 'commit') actor.send({ type: 'USER.COMMIT' });
      else actor.send({ type: 'USER.TEXT', text: h.text });
    }
  };

  let lastState = '';
  actor.subscribe({
    next(snap) {
      const nowLive = snap.matches({ online: 'live' });
      if (nowLive && !live) {
        live = true;
        // After the current macrostep: the machine is live when the held turns arrive.
        queueMicrotask(release);
      } else if (!nowLive) live = false;
      const session = typeof snap.value === 'string' ? snap.value : Object.entries(snap.value).map(([k, v]) => `${k}.${String(v)}`).join(',');
      const summariser = summariserState(actor);
      const pendingTranscripts = snap.context.transcriptChildren.map((c) => c.slice('transcript.'.length));
      const key = `${session}|${summariser}|${pendingTranscripts.join(',')}`;
      if (key !== lastState) {
        lastState = key;
        fire('state', { session, summariser, pendingTranscripts });
      }
    },
    error(err) {
      fire('error', new AgentError('server_error', `internal error: ${redact(String((err as Error)?.message ?? err), secrets)}`, true));
    },
  });

  let started: Promise<SessionInfo> | null = null;

  const agent: RealtimeAgent = {
    actor,
    journalPath: journal?.path ?? null,
    start() {
      if (started) return started;
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
      const snap = actor.getSnapshot();
      if (snap.status === 'active') {
        actor.send({ type: 'STOP' });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2_000);
          const sub = actor.subscribe((s) => {
            if (s.status === 'done') {
              clearTimeout(t);
              sub.unsubscribe();
              resolve();
            }
          });
          if (actor.getSnapshot().status === 'done') {
            clearTimeout(t);
            resolve();
          }
        });
      }
      // Turns that never became final still belong in the journal: nothing is lost.
      safeJournal(() => {
        for (const t of actor.getSnapshot().context.mirror) if (!journaled.has(t.id) && !isSummary(t) && journal) {
          journaled.add(t.id);
          journal.write({ type: 'turn', id: t.id, role: t.role, kind: t.kind, text: t.text, textState: t.textState });
        }
        journal?.write({ type: 'end', reason: actor.getSnapshot().context.error?.code ?? 'stopped' });
      });
      actor.stop();
    },
    sendText(text) {
      if (live && held.length === 0) actor.send({ type: 'USER.TEXT', text });
      else hold({ kind: 'text', text });
    },
    appendAudio(pcm) {
      if (live && held.length === 0 && socket?.isOpen) socket.sendAudio(pcm);
      else hold({ kind: 'audio', pcm: Buffer.from(pcm) });
    },
    commitAudio() {
      if (live && held.length === 0) actor.send({ type: 'USER.COMMIT' });
      else hold({ kind: 'commit' });
    },
    interrupt({ itemId, playedMs }) {
      actor.send({ type: 'INTERRUPT', itemId, playedMs, audioMs: Math.round((outputBytes.get(itemId) ?? 0) / BYTES_PER_MS) });
    },
    send(event) {
      if (!socket?.isOpen) throw new AgentError('socket_closed', `cannot send ${event.type}: the session is not connected (call start() first)`);
      socket.send(event);
    },
    summariseNow() {
      actor.send({ type: 'SUMMARISE_NOW' });
    },
    history() {
      return actor.getSnapshot().context.mirror.slice();
    },
    idle() {
      const isIdle = () => {
        const s = actor.getSnapshot();
        if (s.status !== 'active') return true;
        const sum = summariserState(actor);
        return !s.context.responseActive && !s.context.responseQueued && (sum === 'idle' || sum === 'cooldown');
      };
      if (isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const sub = actor.subscribe(() => {
          if (isIdle()) {
            sub.unsubscribe();
            resolve();
          }
        });
        // The summariser's own transitions do not notify the root's subscribers: poll lightly too.
        const timer = setInterval(() => {
          if (isIdle()) {
            clearInterval(timer);
            sub.unsubscribe();
            resolve();
          }
        }, 20);
      });
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
