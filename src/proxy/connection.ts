// One client connection through the proxy: the client's socket, the current upstream link, and the
// real engine (createRealtimeAgent in observer mode) watching the upstream conversation.
//
// Client -> upstream: frames go out unchanged (audio appends are never parsed); only session.update
// is rewritten (transcription added when the client did not ask for it) and a response.create is
// held while the engine inserts a summary or prunes. Upstream -> client: audio and streaming deltas
// go out unchanged on a peek at the type; other events are parsed once, and the replies to the
// engine's own requests (its session.update, retrieves, out-of-band summaries, errors naming its
// event ids) are hidden. Effects on the conversation (summary added at root, items deleted, the new
// session's seed) are shown, so a client that mirrors history stays equal to the server.
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { createRealtimeAgent } from '../agent.js';
import { peekString } from './peek.js';
import { scanFrame, MAX_JSON_DEPTH } from '../protocol/frame-scan.js';
import { copyJson, mergeJson } from '../protocol/safe-json.js';
import { UpstreamLink } from './upstream.js';
import { ClientRate, IdleWatch, SendBudget } from './client-guard.js';
import { DEFAULT_LIMITS, type ProxyLimits } from './limits.js';
import { CONTINUATION_NOTE } from '../../machines/session.machine.js';
import { isObject, parseFrame } from '../protocol/parse.js';
import { AgentError, redact } from '../errors.js';
import type { AgentOptions, RealtimeAgent, SummariserOptions } from '../types.js';
import type { TransportOptions as RealtimeTransportOptions } from '../protocol/transport.js';
import { PROXY_STREAM_EVENTS } from '../protocol/event-registry.js';

type Ev = { type: string; event_id?: string; [key: string]: unknown };


/** Summariser states during which a client response.create waits (the server conversation is being edited). */
const EDITING = new Set(['inserting', 'pruning']);

/** PROXY_DEBUG=1: every non-audio frame in both directions on the log (development only). */
const DEBUG = !!process.env.PROXY_DEBUG;

/** After a close, a client that has not finished the closing handshake in this time is cut. */
const CLOSE_GRACE_MS = 2_000;

export interface ConnectionConfig {
  id: string;
  /** Engine options for this connection (connection.apiKey is the upstream key: never logged). */
  agent: AgentOptions;
  transcriptionModel: string;
  /** Headers passed upstream as given by the client (OpenAI-Organization, OpenAI-Project...). */
  upstreamHeaders?: Record<string, string>;
  /** One JSON-able object per connection event (opened, summary, rollover, closed). */
  onEvent?: (e: Record<string, unknown>) => void;
  log?: (line: string) => void;
  /** Per-connection limits (send budget, held frames, rate, idle): limits.ts, docs/proxy.md "Limits". */
  limits?: ProxyLimits;
}

export type TranscriptionWish = 'unset' | 'on' | 'off';

/** Close code when the stored conversation's lease is lost (application range: 4000-4999). */
export const LEASE_LOST_CLOSE_CODE = 4409;

export class ProxyConnection extends EventEmitter {
  readonly id: string;
  readonly agent: RealtimeAgent;
  client: WebSocket | null = null;
  private link: UpstreamLink | null = null;
  private generation = -1;
  private readonly secrets: string[];
  private readonly log: (line: string) => void;
  private readonly summariser: SummariserOptions;
  private readonly summariserFixed: boolean;
  private readonly openedAt = Date.now();
  // ---- what the client has asked for and seen
  private clientConfig: Record<string, unknown> = {};
  transcription: TranscriptionWish = 'unset';
  private readonly clientItems = new Set<string>();
  /** The in-band response the client saw created and not yet done (as response.created described it). */
  private clientResponse: Record<string, unknown> | null = null;
  // ---- who asked what upstream (per link)
  /** Session updates awaiting the server's answer; a client's patch is recorded only once accepted. */
  private pendingUpdates: { who: 'engine' | 'client'; eventId: string; assigned: boolean; patch?: Record<string, unknown> }[] = [];
  private engineIds = new Set<string>();
  private engineRetrieves = new Map<string, number>();
  private oob = new Set<string>();
  // ---- flow control
  private switching = false;
  private holding = false;
  private held: { data: Buffer; binary: boolean }[] = [];
  private heldBytes = 0;
  private releaseQueued = false;
  // ---- what the engine is doing, from the session actor's emitted events (never a child's snapshot)
  private summariserNow = 'idle';
  private responseActive = false;
  private paused = false;
  private early: { data: Buffer; binary: boolean }[] = [];
  private earlyBytes = 0;
  // ---- what this client may cost (limits.ts)
  private readonly limits: ProxyLimits;
  private readonly budget: SendBudget;
  private readonly rate: ClientRate;
  private idle: IdleWatch | null = null;
  private lastUpstreamClose: { code: number; reason: string } | null = null;
  private fatal: AgentError | null = null;
  private ended = false;
  private assignedCounter = 0;
  // ---- counters for the closed line
  summaries = 0;
  rollovers = 0;
  framesUp = 0;
  framesDown = 0;
  private opened: { resolve: () => void; reject: (e: { error: AgentError; status: number | null }) => void } | null = null;

  constructor(private readonly cfg: ConnectionConfig) {
    super();
    this.id = cfg.id;
    this.log = cfg.log ?? (() => {});
    this.limits = cfg.limits ?? DEFAULT_LIMITS;
    this.rate = new ClientRate(this.limits);
    this.budget = new SendBudget(this.limits, {
      buffered: () => this.client?.bufferedAmount ?? this.earlyBytes,
      pauseUpstream: () => this.link?.ws.pause(),
      resumeUpstream: () => this.link?.ws.resume(),
      overflow: (reason) => {
        this.log(`[${this.id}] ${reason}: closing it`);
        void this.close(reason, 1008, reason);
      },
    });
    this.secrets = [cfg.agent.connection?.apiKey, cfg.agent.summariser?.apiKey].filter((s): s is string => !!s);
    // Mutable: the summariser switches to the out-of-band realtime kind when the client turns transcription off.
    this.summariserFixed = cfg.agent.summariser?.kind !== undefined;
    this.summariser = { ...(cfg.agent.summariser ?? {}) };
    this.agent = createRealtimeAgent({
      ...cfg.agent,
      summariser: this.summariser,
      observer: true,
      transport: (o) => this.newLink(o),
    });
    this.agent.on('reconnect', (r) => {
      this.switching = true;
      this.rollovers++;
      this.cfg.onEvent?.({ type: 'rollover', conn: this.id, reason: r.reason, attempt: r.attempt, generation: this.generation + 1 });
    });
    this.agent.on('state', (s) => {
      if (DEBUG) this.log(`[${this.id}] state ${JSON.stringify(s)}`);
      if (this.switching && s.session === 'online.live') {
        this.switching = false;
        this.drain();
      }
    });
    this.agent.on('summary', (s) => {
      this.summaries++;
      this.cfg.onEvent?.({ type: 'summary', conn: this.id, id: s.id, turns: s.turns, windowBefore: s.windowBefore, windowAfterEstimate: s.windowAfterEstimate });
    });
    this.agent.on('error', (e) => {
      this.log(`[${this.id}] ${e.fatal ? 'fatal: ' : ''}${redact(e.message, this.secrets)}`);
      if (e.fatal) this.fatal = e;
      // Another instance took the stored conversation over: this connection ends (nothing it says
      // from now on would be stored), with a reason the client can act on.
      if (e.code === 'lease_lost') void this.close('lease lost', LEASE_LOST_CLOSE_CODE, 'conversation taken over by another instance');
    });
    // Held frames wait for the engine to stop editing: each summariser state change and each response
    // start or end may release them.
    this.agent.actor.on('summariser', (e) => {
      this.summariserNow = e.state;
      this.engineMoved();
    });
    this.agent.actor.on('response', (e) => {
      this.responseActive = e.phase === 'created';
      this.engineMoved();
    });
    this.agent.actor.subscribe({
      next: (snap) => {
        if (snap.status === 'done') this.engineEnded();
      },
      error: () => this.engineEnded(),
    });
  }

  /** Opens the first upstream; resolves when it is open, rejects with the failure (and HTTP status if any). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.opened = { resolve, reject };
      void this.agent.start().catch(() => {});
    });
  }

  /** The client socket, once the upgrade is complete. */
  attachClient(ws: WebSocket): void {
    this.client = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.contained('client frame', () => this.onClientFrame(data, isBinary)));
    ws.on('close', () => void this.close('client closed'));
    ws.on('error', (e) => this.log(`[${this.id}] client socket: ${redact(e.message, this.secrets)}`));
    this.idle = new IdleWatch(this.limits.idleTimeoutMs, (ms) => void this.close('idle', 1001, `idle: no client frame for ${Math.round(ms / 1000)} s`));
    // A client's ping is a frame too: a quiet listener that keeps its socket alive is not idle.
    ws.on('ping', () => this.idle?.touch());
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    for (const f of early) this.toClient(f.data, f.binary);
    // The upstream ended before the upgrade completed (e.g. 101 + error + close 3000 for a bad key):
    // the client still gets the error frames, then the same close.
    if (this.ended) ws.close(this.endedWith.code, truncateReason(this.endedWith.reason));
    this.cfg.onEvent?.({ type: 'opened', conn: this.id, model: this.cfg.agent.connection?.model ?? null });
  }

  // ---- upstream side ---------------------------------------------------------------------------

  private newLink(o: RealtimeTransportOptions): UpstreamLink {
    this.generation++;
    this.pendingResponse = false;
    this.responseActive = false; // a new upstream session has no response in flight
    // Client updates the old session never answered: kept (the new session gets them in the replay).
    for (const p of this.pendingUpdates) if (p.patch) mergeJson(this.clientConfig, p.patch);
    this.pendingUpdates = [];
    this.engineIds = new Set();
    this.engineRetrieves = new Map();
    this.oob = new Set();
    const link = new UpstreamLink(
      o,
      {
        onFrame: (l, data, binary) => this.contained('upstream frame', () => this.onUpstreamFrame(l, data, binary)),
        beforeSend: (l, ev) => (l === this.link ? this.beforeEngineSend(ev) : null),
        onOpen: (l) => {
          if (l !== this.link) return;
          // A new upstream while the client is not reading stays paused like the one it replaces.
          if (this.budget.upstreamPaused) l.ws.pause();
          if (this.opened) {
            this.opened.resolve();
            this.opened = null;
          }
          if (!this.switching) this.drain();
        },
        onClose: (l, code, reason) => {
          if (l === this.link) this.lastUpstreamClose = { code, reason };
        },
        onFailure: (_l, error, status) => {
          if (this.opened) {
            this.opened.reject({ error, status });
            this.opened = null;
          }
        },
      },
      this.cfg.upstreamHeaders,
    );
    this.link = link;
    return link;
  }

  private onUpstreamFrame(link: UpstreamLink, data: Buffer, binary: boolean): void {
    if (link !== this.link) return; // a previous generation's late frame
    this.framesDown++;
    if (binary) {
      this.toClient(data, true);
      return;
    }
    const scan = scanFrame(data);
    if (scan.tooDeep) {
      // Nothing of ours may walk it; the client may make of it what it can.
      this.log(`[${this.id}] upstream frame nested deeper than ${MAX_JSON_DEPTH} levels: forwarded unread`);
      this.toClient(data, false);
      return;
    }
    const t = scan.type;
    if (t !== null && PROXY_STREAM_EVENTS.has(t)) {
      // Out-of-band summary output (text) is ours; everything else streams straight through.
      if (this.oob.size === 0 || !this.oob.has(peekString(data, 'response_id') ?? '')) this.toClient(data, false);
      return;
    }
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.toClient(data, false);
      return;
    }
    const ev = parsed.event as Ev;
    if (DEBUG) this.log(`[${this.id}] down ${data.toString().slice(0, 160)}`);
    let show: boolean | string = true;
    let toEngine = true;
    let startedClientResponse = false;
    switch (ev.type) {
      case 'session.created':
        if (this.generation > 0) {
          // A new upstream session behind the same client connection: the old items are gone.
          show = false;
          this.announceSwitch();
        } else show = this.clientView(ev);
        break;
      case 'session.updated': {
        const who = this.pendingUpdates.shift();
        // Accepted: now part of what the client configured (a rejected one never is, so a rollover
        // does not replay what the service refused).
        if (who?.patch) mergeJson(this.clientConfig, who.patch);
        show = who?.who === 'engine' ? false : this.clientView(ev);
        break;
      }
      case 'error': {
        const err = isObject(ev.error) ? ev.error : {};
        const eid = typeof err.event_id === 'string' ? err.event_id : null;
        if (eid) {
          // A rejected session.update gets no session.updated: it leaves the queue here.
          const i = this.pendingUpdates.findIndex((p) => p.eventId === eid);
          if (i >= 0) this.pendingUpdates.splice(i, 1);
        }
        if (eid && this.engineIds.has(eid)) {
          show = false;
          // The engine never retries a rejected response.create: it does not originate any.
          toEngine = err.code !== 'conversation_already_has_active_response';
        } else if (eid) {
          toEngine = false; // the client's own mistake: its business, not the engine's
          this.clientResponsePending(false);
          if (this.assignedIds.has(eid)) show = this.unassign(ev);
        } else if (err.code === 'session_expired') {
          show = false; // the proxy rolls over; the client keeps talking
        }
        break;
      }
      case 'conversation.item.retrieved': {
        const id = isObject(ev.item) && typeof ev.item.id === 'string' ? ev.item.id : '';
        const n = this.engineRetrieves.get(id) ?? 0;
        if (n > 0) {
          show = false;
          if (n === 1) this.engineRetrieves.delete(id);
          else this.engineRetrieves.set(id, n - 1);
        }
        break;
      }
      case 'response.created':
      case 'response.done': {
        const r = isObject(ev.response) ? ev.response : {};
        const id = typeof r.id === 'string' ? r.id : '';
        const md = isObject(r.metadata) ? r.metadata : {};
        if (md.purpose === 'rtc-summary' || this.oob.has(id)) {
          show = false;
          if (ev.type === 'response.created') this.oob.add(id);
          else queueMicrotask(() => this.oob.delete(id));
        } else if (ev.type === 'response.created') {
          startedClientResponse = true;
          this.clientResponse = r;
        } else if (this.clientResponse?.id === id) this.clientResponse = null;
        break;
      }
      case 'conversation.item.input_audio_transcription.delta':
      case 'conversation.item.input_audio_transcription.completed':
      case 'conversation.item.input_audio_transcription.failed':
      case 'conversation.item.input_audio_transcription.segment':
        if (this.transcription !== 'on') show = false; // the proxy's addition: the client did not ask
        break;
      case 'conversation.item.added':
      case 'conversation.item.created':
        if (isObject(ev.item) && typeof ev.item.id === 'string') this.clientItems.add(ev.item.id);
        break;
      case 'conversation.item.deleted':
        if (typeof ev.item_id === 'string') this.clientItems.delete(ev.item_id);
        break;
      default:
        if (this.oob.size && typeof ev.response_id === 'string' && this.oob.has(ev.response_id)) show = false;
    }
    if (show === true) this.toClient(data, false);
    else if (typeof show === 'string') this.toClient(show, false);
    if (toEngine) link.deliver(ev);
    // Only once the engine knows the response is active: clearing it first would let a rollover in between.
    if (startedClientResponse) this.clientResponsePending(false);
  }

  private readonly assignedIds = new Set<string>();

  /** An error for a client event whose event_id the proxy assigned: the client never sent that id. */
  private unassign(ev: Ev): string {
    const err = { ...(ev.error as Record<string, unknown>) };
    if (typeof err.event_id === 'string' && this.assignedIds.has(err.event_id)) {
      this.assignedIds.delete(err.event_id);
      err.event_id = null;
    }
    return JSON.stringify({ ...ev, error: err });
  }

  /** session.created/updated as the client configured it: the transcription the proxy added is hidden. */
  private clientView(ev: Ev): boolean | string {
    if (this.transcription === 'on') return true;
    const s = isObject(ev.session) ? ev.session : null;
    const input = s && isObject(s.audio) && isObject(s.audio.input) ? s.audio.input : null;
    if (!input || input.transcription === null || input.transcription === undefined) return true;
    return JSON.stringify({ ...ev, session: { ...s, audio: { ...(s!.audio as object), input: { ...input, transcription: null } } } });
  }

  /**
   * After a rollover or reconnect: a response the old upstream dropped mid-way ends (the client would
   * wait for its response.done for ever), then every item the client knew is gone from the new session.
   */
  private announceSwitch(): void {
    this.endDroppedResponse();
    for (const id of this.clientItems) {
      this.toClient(JSON.stringify({ type: 'conversation.item.deleted', event_id: `event_proxy_${++this.assignedCounter}`, item_id: id }), false);
    }
    this.clientItems.clear();
  }

  /**
   * The client's response died with the upstream: it gets the response.done the service sends for a
   * response that failed (status "failed", status_details.error), for the id it saw created. Not
   * "cancelled": that status means turn_detected or client_cancelled, and neither happened.
   */
  private endDroppedResponse(): void {
    const r = this.clientResponse;
    if (!r) return;
    this.clientResponse = null;
    const error = {
      type: 'server_error',
      code: 'upstream_connection_lost',
      message: 'The connection to the Realtime service dropped before this response finished; the proxy reconnected with the conversation so far. Send response.create again.',
    };
    // No usage: nothing the service billed for it is known (the field is optional in the GA type).
    const { usage: _unknown, ...created } = r;
    const response = { ...created, status: 'failed', status_details: { type: 'failed', error }, output: [] };
    this.toClient(JSON.stringify({ type: 'response.done', event_id: `event_proxy_${++this.assignedCounter}`, response }), false);
  }

  /** The engine's own events on their way upstream: recorded (to hide the replies) or rewritten. */
  private beforeEngineSend(ev: Ev): Ev | null {
    if (ev.event_id) {
      this.engineIds.add(ev.event_id);
      if (this.engineIds.size > 4096) this.engineIds.delete(this.engineIds.values().next().value as string);
    }
    switch (ev.type) {
      case 'session.update':
        this.pendingUpdates.push({ who: 'engine', eventId: ev.event_id!, assigned: false });
        return { ...ev, session: this.engineSessionConfig() };
      case 'conversation.item.retrieve': {
        const id = String(ev.item_id ?? '');
        this.engineRetrieves.set(id, (this.engineRetrieves.get(id) ?? 0) + 1);
        return ev;
      }
      case 'response.create':
        // Only out-of-band summaries: an in-band response would be a turn the client never asked for.
        if (isObject(ev.response) && ev.response.conversation === 'none') return ev;
        this.log(`[${this.id}] dropped an engine response.create (observer mode)`);
        return null;
      case 'input_audio_buffer.commit':
      case 'input_audio_buffer.append':
      case 'conversation.item.truncate':
      case 'response.cancel':
        return null; // the client's to decide
      default:
        return ev;
    }
  }

  /**
   * The engine's session.update: on the first session only the transcription it needs (unless the
   * client turned it off); on a new session the client's whole configuration replayed, plus a note
   * that the conversation continues.
   */
  private engineSessionConfig(): Record<string, unknown> {
    const transcription = { model: this.cfg.transcriptionModel };
    if (this.generation === 0) {
      return this.transcription === 'off' ? { type: 'realtime' } : { type: 'realtime', audio: { input: { transcription } } };
    }
    const c = copyJson(this.clientConfig) as Record<string, any>;
    c.type ??= 'realtime';
    if (this.transcription !== 'off') {
      c.audio = isObject(c.audio) ? c.audio : {};
      c.audio.input = isObject(c.audio.input) ? c.audio.input : {};
      if (this.transcription !== 'on') c.audio.input.transcription = transcription;
    }
    if (typeof c.instructions === 'string') c.instructions = `${c.instructions}\n\n${CONTINUATION_NOTE}`.trim();
    return c;
  }

  // ---- client side -----------------------------------------------------------------------------

  private onClientFrame(data: Buffer, binary: boolean): void {
    if (this.ended) return;
    this.idle?.touch();
    const verdict = this.rate.admit();
    if (verdict !== 'ok') {
      this.refuseForRate(data, binary, verdict === 'abusive');
      return;
    }
    this.framesUp++;
    if (this.switching || this.holding || this.held.length > 0 || !this.link?.isOpen) {
      this.hold(data, binary);
      return;
    }
    if (!this.forward(data, binary)) {
      // A response.create while the summary is inserted or old items deleted: held, not rejected,
      // until the engine reports it is no longer editing (engineMoved).
      this.hold(data, binary);
      this.holding = true;
    }
  }

  /** Sends one client frame upstream; false when it has to wait (a response.create during an edit). */
  private forward(data: Buffer, binary: boolean): boolean {
    const link = this.link!;
    if (binary) {
      link.sendRaw(data, true);
      return true;
    }
    // The event's own top-level type, wherever it stands; audio appends (type first) are never parsed.
    const scan = scanFrame(data);
    if (scan.tooDeep) {
      this.refuseDeep();
      return true;
    }
    let t = scan.type;
    let event: Ev | null = null;
    if (t === null) {
      const parsed = parseFrame(data);
      if (parsed.ok) {
        event = parsed.event as Ev;
        t = event.type;
      }
    }
    if (DEBUG && t !== 'input_audio_buffer.append') this.log(`[${this.id}] up ${data.toString().slice(0, 200)} (summariser ${this.summariserNow})`);
    if (t === 'session.update') {
      this.clientSessionUpdate(data, event);
    } else if (t === 'response.create') {
      if (this.editing()) return false;
      link.sendRaw(data);
      // Until the server starts it, the engine must not roll over under it.
      this.clientResponsePending(true);
    } else {
      link.sendRaw(data); // audio, everything else, and what is not JSON: the server explains
    }
    this.backpressure();
    return true;
  }

  /**
   * A client frame nested deeper than MAX_JSON_DEPTH: answered with the service's error shape (as a
   * frame it cannot parse), never parsed, walked or forwarded.
   */
  private refuseDeep(): void {
    const error = {
      type: 'invalid_request_error',
      code: 'invalid_json',
      message: `Invalid event: failed to parse JSON value. The event nests deeper than ${MAX_JSON_DEPTH} levels (refused by the proxy).`,
      param: null,
      event_id: null,
    };
    this.toClient(JSON.stringify({ type: 'error', event_id: `event_proxy_${++this.assignedCounter}`, error }), false);
  }

  /**
   * Runs one socket handler: an exception in it ends this connection (1011) and never the process
   * nor another connection.
   */
  private contained(what: string, handler: () => void): void {
    try {
      handler();
    } catch (e) {
      this.log(`[${this.id}] ${what} handler failed: ${redact(e instanceof Error ? e.message : String(e), this.secrets)}`);
      void this.close(`${what} handler failed`, 1011, 'internal error in the proxy').catch(() => {});
    }
  }

  private clientSessionUpdate(data: Buffer, event: Ev | null): void {
    const parsed = event ? ({ ok: true, event } as const) : parseFrame(data);
    const s = parsed.ok && isObject(parsed.event.session) ? parsed.event.session : null;
    if (!parsed.ok || !s) {
      this.link!.sendRaw(data); // the server explains what is wrong with it
      return;
    }
    const ev = { ...parsed.event } as Ev;
    const input = isObject(s.audio) && isObject(s.audio.input) ? s.audio.input : null;
    if (input && 'transcription' in input) {
      this.transcription = input.transcription === null ? 'off' : 'on';
      // Transcription off: summaries go through an out-of-band response over item references.
      if (!this.summariserFixed) this.summariser.kind = this.transcription === 'off' ? 'realtime-oob' : undefined;
    } else if (this.transcription === 'unset') {
      const audio = isObject(s.audio) ? s.audio : {};
      ev.session = { ...s, audio: { ...audio, input: { ...(input ?? {}), transcription: { model: this.cfg.transcriptionModel } } } };
    }
    let assigned = false;
    if (typeof ev.event_id !== 'string') {
      ev.event_id = `event_proxy_${++this.assignedCounter}`;
      this.assignedIds.add(ev.event_id);
      if (this.assignedIds.size > 4096) this.assignedIds.delete(this.assignedIds.values().next().value as string); // bounded, as engineIds
      assigned = true;
    }
    this.pendingUpdates.push({ who: 'client', eventId: ev.event_id, assigned, patch: s });
    this.link!.sendRaw(JSON.stringify(ev));
  }

  private pendingResponse = false;
  private clientResponsePending(pending: boolean): void {
    if (this.pendingResponse === pending) return;
    this.pendingResponse = pending;
    if (this.agent.actor.getSnapshot().status === 'active') this.agent.actor.send({ type: 'CLIENT.RESPONSE', pending });
  }

  /** The summariser is editing the server conversation (or about to, the moment it is quiet). */
  private editing(): boolean {
    if (EDITING.has(this.summariserNow)) return true;
    return this.summariserNow === 'awaitingQuiet' && !this.responseActive;
  }

  /**
   * The engine changed state: release held frames once it no longer edits. After a setImmediate, so
   * the session finishes the step that emitted the event (the summariser's next state, the last
   * delete's acknowledgement) before anything of the client's goes upstream.
   */
  private engineMoved(): void {
    if (!this.holding || this.releaseQueued) return;
    this.releaseQueued = true;
    setImmediate(() => {
      this.releaseQueued = false;
      if (!this.ended && this.holding && !this.editing()) this.drain();
    });
  }

  /** Over the event rate: the frame is not forwarded; the client gets the service's error shape. */
  private refuseForRate(data: Buffer, binary: boolean, abusive: boolean): void {
    if (abusive) {
      const reason = `rate limit: ${this.rate.refused} events refused, over ${this.limits.clientEventsPerSecond}/s`;
      this.log(`[${this.id}] ${reason}: closing it`);
      void this.close(reason, 1008, reason);
      return;
    }
    const eventId = binary ? null : peekString(data, 'event_id');
    this.toClient(this.rate.errorFrame(eventId, ++this.assignedCounter), false);
  }

  private hold(data: Buffer, binary: boolean): void {
    this.held.push({ data, binary });
    this.heldBytes += data.length;
    if (this.heldBytes > this.limits.maxHeldBytes) this.pauseClient();
  }

  /** Sends held frames in order until one has to wait again. */
  private drain(): void {
    if (this.switching || !this.link?.isOpen) return;
    this.holding = false;
    while (this.held.length) {
      const f = this.held[0];
      if (!this.forward(f.data, f.binary)) {
        this.holding = true;
        return;
      }
      this.held.shift();
      this.heldBytes -= f.data.length;
    }
    if (this.paused && this.heldBytes < this.limits.upstreamLowWaterBytes) this.resumeClient();
  }

  private backpressure(): void {
    if (!this.paused && this.link && this.link.bufferedAmount > this.limits.upstreamHighWaterBytes) this.pauseClient();
  }

  private pauseClient(): void {
    if (this.paused || !this.client) return;
    this.paused = true;
    this.client.pause();
    const t = setInterval(() => {
      const low = this.limits.upstreamLowWaterBytes;
      if (this.ended || ((this.link?.bufferedAmount ?? 0) < low && this.heldBytes < low)) {
        clearInterval(t);
        this.resumeClient();
      }
    }, 10);
  }

  private resumeClient(): void {
    if (!this.paused) return;
    this.paused = false;
    this.client?.resume();
  }

  private toClient(data: Buffer | string, binary: boolean): void {
    if (this.ended && !this.client) return;
    if (!this.client) {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      this.early.push({ data: buf, binary });
      this.earlyBytes += buf.length;
      this.budget.check();
      return;
    }
    if (this.client.readyState !== 1) return;
    this.client.send(data, { binary });
    this.budget.check();
  }

  // ---- ending ----------------------------------------------------------------------------------

  private endedWith = { code: 1000, reason: '' };

  private engineEnded(): void {
    if (this.ended) return;
    // The engine gave up (fatal upstream error, reconnects exhausted): the client learns why.
    const c = this.lastUpstreamClose;
    const code = c && c.code >= 3000 && c.code <= 4999 ? c.code : 1011;
    const reason = (c && code === c.code ? c.reason : this.fatal?.message ?? 'upstream ended') || 'upstream ended';
    void this.close('upstream ended', code, redact(reason, this.secrets));
  }

  /** Ends the connection: the client socket, the engine (journal flushed) and its upstream. */
  async close(why: string, code = 1000, reason = ''): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.endedWith = { code, reason };
    this.budget.stop();
    this.idle?.stop();
    // Ended before the upstream opened (e.g. the client left during the handshake): start() settles.
    if (this.opened) {
      this.opened.reject({ error: new AgentError('socket_closed', `connection closed before the upstream opened (${why})`, true), status: null });
      this.opened = null;
    }
    const costUsd = this.agent.actor.getSnapshot().context.costUsd as number;
    const client = this.client;
    if (client && client.readyState === 1) {
      client.close(code, truncateReason(reason));
      // A client that does not read never answers the close: its queued bytes go with its socket.
      setTimeout(() => {
        if (client.readyState !== 3) client.terminate();
      }, CLOSE_GRACE_MS).unref();
    }
    await this.agent.stop().catch(() => {});
    this.cfg.onEvent?.({
      type: 'closed',
      conn: this.id,
      why,
      code: this.client ? code : null,
      costUsd: Math.round(costUsd * 1e6) / 1e6,
      durationMs: Date.now() - this.openedAt,
      summaries: this.summaries,
      rollovers: this.rollovers,
      framesUp: this.framesUp,
      framesDown: this.framesDown,
      ...(this.rate.refused ? { rateLimited: this.rate.refused } : {}),
    });
    this.emit('closed');
  }
}

function truncateReason(r: string): string {
  // A close reason is at most 123 bytes.
  let s = r.replace(/\s+/g, ' ');
  while (Buffer.byteLength(s) > 123) s = s.slice(0, -1);
  return s;
}
