// Inspection stream -> small, stable, sanitised frames for the live view and the --trace file.
//
// One `FrameHub` per inspector (or trace). `attach(agent)` registers a single observer on the
// actor *system* (`actor.system.inspect`), backfills the actors that already exist, and listens to
// the agent's `window` / `summary` / `turn` / `error` events. Nothing is registered until attach()
// is called, and detaching removes the observer, so with no inspector nothing extra runs.
//
// Cost model while attached:
// - the observer itself only stores references (snapshots are immutable) and pushes small event
//   frames; all sanitising and state-node lookups happen later, in a timer, outside the actor's
//   macrostep;
// - snapshot frames are coalesced per actor (leading + trailing throttle, at most
//   `maxSnapshotsPerSecond`, default 20); states passed through in between are kept in `via` so a
//   quick idle -> summarising -> inserting -> pruning -> idle round trip is still visible;
// - contexts are sanitised (no buffers, no refs, strings shortened, arrays capped) so a long
//   session does not re-send an ever-growing transcript with every snapshot.
import type { AnyActorRef, AnyStateMachine, InspectionEvent, Observer } from 'xstate';
import { getStateNodes } from 'xstate';
import { redact } from '../errors.js';
import type { RealtimeAgent } from '../types.js';
import {
  FRAME_VERSION,
  type ActorFrame,
  type AgentStateFrame,
  type EventFrame,
  type Frame,
  type HelloFrame,
  type InspectableAgent,
  type SnapFrame,
  type SummaryFrame,
  type WindowFrame,
} from './frame-schema.js';
import { sanitize, shorten, type SanitizeOptions } from './sanitize.js';

// ---------------------------------------------------------------------------------------------
// Hub

export interface FrameHubOptions {
  secrets?: readonly (string | undefined | null)[];
  trigger?: number;
  target?: number;
  /** Snapshot frames per actor per second, at most (default 20). */
  maxSnapshotsPerSecond?: number;
  /** Recent event/turn/error frames kept for late joiners (default 300). */
  logSize?: number;
  /** Window points kept for late joiners (default 5000). */
  windowPoints?: number;
  /** Frames kept for `frames()` (tests, /trace.jsonl download; default 20000). */
  keepFrames?: number;
  /** Sanitiser limits for contexts. */
  sanitize?: Omit<SanitizeOptions, 'secrets'>;
  now?: () => number;
}

export type FrameSink = (frame: Frame) => void;

interface Pending {
  ref: AnyActorRef;
  snap: { status?: string; value?: unknown; context?: unknown } | undefined;
  via: unknown[];
  n: number;
  timer: ReturnType<typeof setTimeout> | null;
  last: number;
}

const isMachine = (l: unknown): l is AnyStateMachine =>
  !!l && typeof l === 'object' && 'root' in l && typeof (l as { toJSON?: unknown }).toJSON === 'function';

/** `{ type: 'SERVER.EVENT', event: { type: 'response.done' } }` -> 'response.done' (first nested object with a string type). */
function innerType(event: unknown): string | undefined {
  if (!event || typeof event !== 'object') return undefined;
  for (const [k, v] of Object.entries(event)) {
    if (k === 'type' || !v || typeof v !== 'object' || Array.isArray(v)) continue;
    const t = (v as { type?: unknown }).type;
    if (typeof t === 'string') return t;
  }
  return undefined;
}

function randomId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

export class FrameHub {
  readonly boot = randomId();
  readonly startedAt: number;
  private readonly secrets: readonly (string | undefined | null)[];
  private readonly interval: number;
  private readonly logSize: number;
  private readonly windowPoints: number;
  private readonly keepFrames: number;
  private readonly sanitizeOpts: SanitizeOptions;
  private readonly now: () => number;
  private trigger?: number;
  private target?: number;

  private readonly defs = new WeakMap<object, unknown>();
  private readonly actors = new Map<string, ActorFrame>();
  private readonly refs = new Map<string, AnyActorRef>();
  /** Actors already reported stopped: late snapshots or events must not bring them back. */
  private readonly dead = new WeakSet<object>();
  private readonly childrenOf = new Map<string, Set<string>>();
  private readonly snaps = new Map<string, SnapFrame>();
  private readonly pending = new Map<string, Pending>();
  private readonly log: Frame[] = [];
  private readonly windows: WindowFrame[] = [];
  private readonly summaries: SummaryFrame[] = [];
  private agentState: AgentStateFrame | null = null;
  private readonly all: Frame[] = [];
  private readonly sinks = new Set<FrameSink>();
  private readonly detachers = new Set<() => void>();

  constructor(options: FrameHubOptions = {}) {
    this.secrets = options.secrets ?? [];
    this.interval = 1000 / Math.max(0.1, options.maxSnapshotsPerSecond ?? 20);
    this.logSize = options.logSize ?? 300;
    this.windowPoints = options.windowPoints ?? 5000;
    this.keepFrames = options.keepFrames ?? 20000;
    this.sanitizeOpts = { ...options.sanitize, secrets: this.secrets };
    this.now = options.now ?? Date.now;
    this.trigger = options.trigger;
    this.target = options.target;
    this.startedAt = this.now();
  }

  /** Frames a late joiner needs: hello, live actors, their last snapshots, the window series, summaries and the recent log. */
  backlog(): Frame[] {
    this.flushAll();
    const state = this.agentState ? [this.agentState] : [];
    return [this.hello(), ...state, ...this.actors.values(), ...this.snaps.values(), ...this.windows, ...this.summaries, ...this.log];
  }

  hello(): HelloFrame {
    return { k: 'hello', v: FRAME_VERSION, t: this.startedAt, boot: this.boot, trigger: this.trigger, target: this.target };
  }

  /** Every frame published so far (bounded by `keepFrames`), for tests and trace downloads. */
  frames(): readonly Frame[] {
    return this.all;
  }

  addSink(sink: FrameSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  get sinkCount(): number {
    return this.sinks.size;
  }

  /** Starts observing an agent; returns the detach function. */
  attach(agent: InspectableAgent): () => void {
    const observer: Observer<InspectionEvent> = {
      next: (ev) => {
        // An exception thrown here would break the actor's macrostep: never let one escape.
        try {
          this.onInspection(ev);
        } catch {
          /* ignore */
        }
      },
    };
    const sub = agent.actor.system.inspect(observer);
    try {
      this.backfill(agent.actor);
    } catch {
      /* a half-started actor must not break attaching */
    }
    const offs: (() => void)[] = [];
    const on = agent.on.bind(agent) as RealtimeAgent['on'];
    const publicState = (state: string | undefined) => {
      if (state && state !== this.agentState?.state) this.publish({ k: 'state', t: this.now(), state: this.str(state) });
    };
    publicState(agent.state);
    offs.push(
      on('state', (s) => publicState(s?.state)),
      on('window', (w) => {
        if (w.trigger) this.trigger = w.trigger;
        if (w.target) this.target = w.target;
        this.publish({
          k: 'window',
          t: this.now(),
          tokens: w.tokens,
          trigger: w.trigger ?? this.trigger ?? 0,
          target: w.target ?? this.target ?? 0,
        });
      }),
      on('summary', (s) => {
        this.publish({
          k: 'summary',
          t: this.now(),
          id: this.str(s.id),
          turns: s.turns,
          before: s.windowBefore,
          after: s.windowAfterEstimate,
          text: s.text == null ? undefined : this.str(s.text),
        });
      }),
      on('turn', (turn) => {
        this.publish({
          k: 'turn',
          t: this.now(),
          id: this.str(turn.id),
          role: turn.role,
          kind: turn.kind,
          text: turn.text == null ? turn.text : this.str(turn.text),
          textState: turn.textState,
        });
      }),
      on('error', (e) => {
        this.publish({
          k: 'error',
          t: this.now(),
          code: this.str(String(e?.code ?? 'error')),
          message: this.str(String(e?.message ?? e)),
          fatal: Boolean(e?.fatal),
        });
      }),
    );
    let done = false;
    const detach = () => {
      if (done) return;
      done = true;
      sub.unsubscribe();
      for (const off of offs) {
        try {
          off();
        } catch {
          /* ignore */
        }
      }
      this.flushAll();
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    return detach;
  }

  /** Detaches every agent and cancels pending timers. */
  close(): void {
    for (const d of [...this.detachers]) d();
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
  }

  // -------------------------------------------------------------------------------------------

  private str(s: string): string {
    return shorten(redact(s, this.secrets), this.sanitizeOpts.maxString ?? 200);
  }

  private publish(frame: Frame): void {
    switch (frame.k) {
      case 'window':
        this.windows.push(frame);
        if (this.windows.length > this.windowPoints) this.windows.splice(0, this.windows.length - this.windowPoints);
        break;
      case 'summary':
        this.summaries.push(frame);
        if (this.summaries.length > 1000) this.summaries.shift();
        break;
      case 'state':
        this.agentState = frame;
        break;
      case 'event':
      case 'turn':
      case 'error':
        this.log.push(frame);
        if (this.log.length > this.logSize) this.log.splice(0, this.log.length - this.logSize);
        break;
    }
    this.all.push(frame);
    if (this.all.length > this.keepFrames * 1.25) this.all.splice(0, this.all.length - this.keepFrames);
    for (const sink of this.sinks) {
      try {
        sink(frame);
      } catch {
        /* a failing sink must not stop the others */
      }
    }
  }

  private onInspection(ev: InspectionEvent): void {
    const ref = ev.actorRef as AnyActorRef;
    switch (ev.type) {
      case '@xstate.actor':
        this.announce(ref);
        return;
      case '@xstate.snapshot':
        this.noteSnapshot(ref, ev.snapshot as Pending['snap']);
        return;
      case '@xstate.event': {
        if (!this.actors.has(ref.sessionId) && !this.dead.has(ref)) this.announce(ref);
        const source = ev.sourceRef as AnyActorRef | undefined;
        const frame: EventFrame = {
          k: 'event',
          t: this.now(),
          sid: ref.sessionId,
          id: this.str(ref.id),
          from: source ? this.str(source.id) : undefined,
          type: this.str(String((ev.event as { type?: unknown })?.type ?? '?')),
        };
        const detail = innerType(ev.event);
        if (detail) frame.detail = this.str(detail);
        this.publish(frame);
        return;
      }
      default:
        return; // microsteps and actions: too chatty for the live view
    }
  }

  private definition(logic: unknown): unknown {
    if (!isMachine(logic)) return undefined;
    let def = this.defs.get(logic);
    if (def === undefined) {
      const json = JSON.parse(JSON.stringify(logic.toJSON())) as unknown;
      def = sanitize(json, { secrets: this.secrets, maxString: 400, maxDepth: 40, maxArray: 500, maxKeys: 500 });
      this.defs.set(logic, def);
    }
    return def;
  }

  private announce(ref: AnyActorRef): void {
    const sid = ref.sessionId;
    if (this.actors.has(sid) || this.dead.has(ref)) return;
    const internal = ref as AnyActorRef & { logic?: unknown; _parent?: AnyActorRef; systemId?: string };
    const parent = internal._parent?.sessionId;
    const def = this.definition(internal.logic);
    const frame: ActorFrame = {
      k: 'actor',
      t: this.now(),
      sid,
      id: this.str(ref.id),
      systemId: internal.systemId ? this.str(internal.systemId) : undefined,
      parent,
      kind: def === undefined ? 'actor' : 'machine',
      def,
    };
    this.actors.set(sid, frame);
    this.refs.set(sid, ref);
    if (parent) {
      let set = this.childrenOf.get(parent);
      if (!set) this.childrenOf.set(parent, (set = new Set()));
      set.add(sid);
    }
    this.publish(frame);
  }

  private backfill(ref: AnyActorRef): void {
    this.announce(ref);
    const snap = ref.getSnapshot() as Pending['snap'] & { children?: Record<string, AnyActorRef | undefined> };
    if (!snap) return;
    this.noteSnapshot(ref, snap);
    for (const child of Object.values(snap.children ?? {})) if (child) this.backfill(child);
  }

  private noteSnapshot(ref: AnyActorRef, snap: Pending['snap']): void {
    const sid = ref.sessionId;
    if (this.dead.has(ref)) return;
    if (!this.actors.has(sid)) this.announce(ref);
    let p = this.pending.get(sid);
    if (!p) {
      p = { ref, snap, via: [], n: 0, timer: null, last: -Infinity };
      this.pending.set(sid, p);
    }
    p.snap = snap;
    p.n++;
    if (p.via.length < 32 && snap && 'value' in snap) p.via.push(snap.value);
    if (p.timer) return;
    const terminal = snap?.status !== undefined && snap.status !== 'active';
    const wait = terminal ? 0 : Math.max(0, p.last + this.interval - this.now());
    p.timer = setTimeout(() => this.flush(sid), wait);
    p.timer.unref?.();
  }

  private flushAll(): void {
    for (const [sid, p] of [...this.pending]) if (p.timer) this.flush(sid);
  }

  private leafIds(logic: AnyStateMachine, value: unknown): string[] {
    const nodes = getStateNodes(logic.root, value as never);
    return [...new Set(nodes.filter((n) => n.type === 'atomic' || n.type === 'final').map((n) => n.id))];
  }

  private flush(sid: string): void {
    const p = this.pending.get(sid);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.last = this.now();
    const snap = p.snap;
    if (!snap || !this.actors.has(sid)) {
      p.via = [];
      p.n = 0;
      return;
    }
    const logic = (p.ref as AnyActorRef & { logic?: unknown }).logic;
    const frame: SnapFrame = { k: 'snap', t: p.last, sid, status: String(snap.status ?? 'active'), n: p.n };
    if (isMachine(logic) && 'value' in snap) {
      try {
        frame.value = sanitize(snap.value, { secrets: this.secrets, maxDepth: 20 });
        frame.active = [...new Set(getStateNodes(logic.root, snap.value as never).map((n) => n.id))];
        if (p.via.length > 1) {
          const seen = new Set<string>();
          const via: string[][] = [];
          for (const v of p.via) {
            const leaves = this.leafIds(logic, v);
            const key = leaves.join('|');
            if (via.length && seen.has(key) && key === via[via.length - 1].join('|')) continue;
            seen.add(key);
            via.push(leaves);
          }
          if (via.length > 1) frame.via = via;
        }
      } catch {
        /* value not resolvable against this logic: send the frame without `active` */
      }
    }
    if ('context' in snap && snap.context !== undefined) frame.context = sanitize(snap.context, this.sanitizeOpts);
    else if ('output' in snap && (snap as { output?: unknown }).output !== undefined) {
      frame.context = { output: sanitize((snap as { output?: unknown }).output, this.sanitizeOpts) };
    }
    p.via = [];
    p.n = 0;
    this.snaps.set(sid, frame);
    this.publish(frame);
    if (frame.status !== 'active') this.stop(sid);
    else this.checkChildren(sid);
  }

  /** Children the parent no longer holds (stopChild, state exit) have stopped: no inspection event says so. */
  private checkChildren(sid: string): void {
    const kids = this.childrenOf.get(sid);
    const ref = this.refs.get(sid);
    if (!kids?.size || !ref) return;
    // Flushes run from timers or request handlers, never mid-macrostep, so the live snapshot is consistent.
    const snap = ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
    if (!snap || typeof snap.children !== 'object' || snap.children === null) return;
    const live = new Set<string>();
    for (const c of Object.values(snap.children)) if (c) live.add(c.sessionId);
    for (const kid of [...kids]) if (!live.has(kid)) this.stop(kid);
  }

  private stop(sid: string): void {
    if (!this.actors.has(sid)) return;
    const p = this.pending.get(sid);
    // Its last (e.g. done) snapshot goes out first; flush() comes back here for terminal ones.
    if (p?.timer) {
      this.flush(sid);
      if (!this.actors.has(sid)) return;
    }
    const ref = this.refs.get(sid);
    if (ref) this.dead.add(ref);
    this.pending.delete(sid);
    const parent = this.actors.get(sid)?.parent;
    if (parent) this.childrenOf.get(parent)?.delete(sid);
    this.actors.delete(sid);
    this.snaps.delete(sid);
    this.refs.delete(sid);
    this.publish({ k: 'stop', t: this.now(), sid });
    for (const kid of this.childrenOf.get(sid) ?? []) this.stop(kid);
    this.childrenOf.delete(sid);
  }
}
