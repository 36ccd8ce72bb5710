// The actor half of the frame hub: turns XState inspection events into actor, snapshot, event and
// stop frames. It keeps the live actors and their last snapshot frames (for late joiners), coalesces
// snapshot frames per actor (leading + trailing throttle; states passed through in between are kept
// in `via`), and notices children that stopped without an inspection event saying so.
//
// The observer path (inspect) only stores references and pushes small event frames; sanitising and
// state-node lookups happen later in flush(), from a timer, outside the actor's macrostep.
import type { AnyActorRef, AnyStateMachine, InspectionEvent } from 'xstate';
import { getStateNodes } from 'xstate';
import type { ActorFrame, EventFrame, Frame, SnapFrame } from './frame-schema.js';
import { sanitize, type SanitizeOptions } from './sanitize.js';

export interface ActorTrackerOptions {
  secrets: readonly (string | undefined | null)[];
  /** Minimum ms between two snapshot frames of one actor. */
  interval: number;
  sanitizeOpts: SanitizeOptions;
  now: () => number;
  /** Redacts and shortens a string for a frame. */
  str: (s: string) => string;
  publish: (frame: Frame) => void;
}

type Snap = { status?: string; value?: unknown; context?: unknown } | undefined;

interface Pending {
  ref: AnyActorRef;
  snap: Snap;
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

function leafIds(logic: AnyStateMachine, value: unknown): string[] {
  const nodes = getStateNodes(logic.root, value as never);
  return [...new Set(nodes.filter((n) => n.type === 'atomic' || n.type === 'final').map((n) => n.id))];
}

/** The leaf states passed through since the last frame, consecutive repeats collapsed. */
function viaLeaves(logic: AnyStateMachine, values: unknown[]): string[][] {
  const seen = new Set<string>();
  const via: string[][] = [];
  for (const v of values) {
    const leaves = leafIds(logic, v);
    const key = leaves.join('|');
    if (via.length && seen.has(key) && key === via[via.length - 1].join('|')) continue;
    seen.add(key);
    via.push(leaves);
  }
  return via;
}

export class ActorTracker {
  private readonly defs = new WeakMap<object, unknown>();
  private readonly actors = new Map<string, ActorFrame>();
  private readonly refs = new Map<string, AnyActorRef>();
  /** Actors already reported stopped: late snapshots or events must not bring them back. */
  private readonly dead = new WeakSet<object>();
  private readonly childrenOf = new Map<string, Set<string>>();
  private readonly snaps = new Map<string, SnapFrame>();
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly o: ActorTrackerOptions) {}

  /** Live actors and their last snapshot frames, for a late joiner. */
  backlog(): Frame[] {
    return [...this.actors.values(), ...this.snaps.values()];
  }

  inspect(ev: InspectionEvent): void {
    const ref = ev.actorRef as AnyActorRef;
    switch (ev.type) {
      case '@xstate.actor':
        this.announce(ref);
        return;
      case '@xstate.snapshot':
        this.noteSnapshot(ref, ev.snapshot as Snap);
        return;
      case '@xstate.event': {
        if (!this.actors.has(ref.sessionId) && !this.dead.has(ref)) this.announce(ref);
        const { str } = this.o;
        const source = ev.sourceRef as AnyActorRef | undefined;
        const frame: EventFrame = {
          k: 'event',
          t: this.o.now(),
          sid: ref.sessionId,
          id: str(ref.id),
          from: source ? str(source.id) : undefined,
          type: str(String((ev.event as { type?: unknown })?.type ?? '?')),
        };
        const detail = innerType(ev.event);
        if (detail) frame.detail = str(detail);
        this.o.publish(frame);
        return;
      }
      default:
        return; // microsteps and actions: too chatty for the live view
    }
  }

  /** Announces an actor and its descendants with their current snapshots (attaching to a running agent). */
  backfill(ref: AnyActorRef): void {
    this.announce(ref);
    const snap = ref.getSnapshot() as Snap & { children?: Record<string, AnyActorRef | undefined> };
    if (!snap) return;
    this.noteSnapshot(ref, snap);
    for (const child of Object.values(snap.children ?? {})) if (child) this.backfill(child);
  }

  /** Sends every snapshot frame still waiting for its throttle timer. */
  flushAll(): void {
    for (const [sid, p] of [...this.pending]) if (p.timer) this.flush(sid);
  }

  /** Cancels pending timers. */
  close(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
  }

  private definition(logic: unknown): unknown {
    if (!isMachine(logic)) return undefined;
    let def = this.defs.get(logic);
    if (def === undefined) {
      const json = JSON.parse(JSON.stringify(logic.toJSON())) as unknown;
      def = sanitize(json, { secrets: this.o.secrets, maxString: 400, maxDepth: 40, maxArray: 500, maxKeys: 500 });
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
      t: this.o.now(),
      sid,
      id: this.o.str(ref.id),
      systemId: internal.systemId ? this.o.str(internal.systemId) : undefined,
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
    this.o.publish(frame);
  }

  private noteSnapshot(ref: AnyActorRef, snap: Snap): void {
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
    const wait = terminal ? 0 : Math.max(0, p.last + this.o.interval - this.o.now());
    p.timer = setTimeout(() => this.flush(sid), wait);
    p.timer.unref?.();
  }

  private flush(sid: string): void {
    const p = this.pending.get(sid);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.last = this.o.now();
    const snap = p.snap;
    if (!snap || !this.actors.has(sid)) {
      p.via = [];
      p.n = 0;
      return;
    }
    const frame = this.snapFrame(sid, p, snap);
    p.via = [];
    p.n = 0;
    this.snaps.set(sid, frame);
    this.o.publish(frame);
    if (frame.status !== 'active') this.stop(sid);
    else this.checkChildren(sid);
  }

  /** The sanitised snapshot frame: value, active state nodes, states passed through, context or output. */
  private snapFrame(sid: string, p: Pending, snap: NonNullable<Snap>): SnapFrame {
    const logic = (p.ref as AnyActorRef & { logic?: unknown }).logic;
    const frame: SnapFrame = { k: 'snap', t: p.last, sid, status: String(snap.status ?? 'active'), n: p.n };
    if (isMachine(logic) && 'value' in snap) {
      try {
        frame.value = sanitize(snap.value, { secrets: this.o.secrets, maxDepth: 20 });
        frame.active = [...new Set(getStateNodes(logic.root, snap.value as never).map((n) => n.id))];
        if (p.via.length > 1) {
          const via = viaLeaves(logic, p.via);
          if (via.length > 1) frame.via = via;
        }
      } catch {
        /* value not resolvable against this logic: send the frame without `active` */
      }
    }
    if ('context' in snap && snap.context !== undefined) frame.context = sanitize(snap.context, this.o.sanitizeOpts);
    else if ('output' in snap && (snap as { output?: unknown }).output !== undefined) {
      frame.context = { output: sanitize((snap as { output?: unknown }).output, this.o.sanitizeOpts) };
    }
    return frame;
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
    this.o.publish({ k: 'stop', t: this.o.now(), sid });
    for (const kid of this.childrenOf.get(sid) ?? []) this.stop(kid);
    this.childrenOf.delete(sid);
  }
}
