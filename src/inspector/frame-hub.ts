// Inspection stream -> small, stable, sanitised frames for the live view and the --trace file.
//
// One `FrameHub` per inspector (or trace). `attach(agent)` registers a single observer on the
// actor *system* (`actor.system.inspect`), backfills the actors that already exist, and listens to
// the agent's `window` / `summary` / `turn` / `error` events. Nothing is registered until attach()
// is called, and detaching removes the observer, so with no inspector nothing extra runs.
//
// The hub keeps what a late joiner needs (window series, summaries, recent log) and fans frames
// out to its sinks. The actors and their snapshot frames (coalesced to at most
// `maxSnapshotsPerSecond` per actor, sanitised outside the actor's macrostep) are actor-tracker.ts's
// job. Contexts are sanitised (no buffers, no refs, strings shortened, arrays capped) so a long
// session does not re-send an ever-growing transcript with every snapshot.
import type { InspectionEvent, Observer } from 'xstate';
import { redact } from '../errors.js';
import type { RealtimeAgent } from '../types.js';
import { ActorTracker } from './actor-tracker.js';
import { FRAME_VERSION, type AgentStateFrame, type Frame, type HelloFrame, type InspectableAgent, type SummaryFrame, type WindowFrame } from './frame-schema.js';
import { shorten, type SanitizeOptions } from './sanitize.js';

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

function randomId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

export class FrameHub {
  readonly boot = randomId();
  readonly startedAt: number;
  private readonly secrets: readonly (string | undefined | null)[];
  private readonly logSize: number;
  private readonly windowPoints: number;
  private readonly keepFrames: number;
  private readonly sanitizeOpts: SanitizeOptions;
  private readonly now: () => number;
  private trigger?: number;
  private target?: number;

  private readonly log: Frame[] = [];
  /** The agent's public state (agent.state), the last one published. */
  private agentState: AgentStateFrame | null = null;
  private readonly windows: WindowFrame[] = [];
  private readonly summaries: SummaryFrame[] = [];
  private readonly all: Frame[] = [];
  private readonly sinks = new Set<FrameSink>();
  private readonly detachers = new Set<() => void>();
  private readonly tracker: ActorTracker;

  constructor(options: FrameHubOptions = {}) {
    this.secrets = options.secrets ?? [];
    this.logSize = options.logSize ?? 300;
    this.windowPoints = options.windowPoints ?? 5000;
    this.keepFrames = options.keepFrames ?? 20000;
    this.sanitizeOpts = { ...options.sanitize, secrets: this.secrets };
    this.now = options.now ?? Date.now;
    this.trigger = options.trigger;
    this.target = options.target;
    this.startedAt = this.now();
    this.tracker = new ActorTracker({
      secrets: this.secrets,
      interval: 1000 / Math.max(0.1, options.maxSnapshotsPerSecond ?? 20),
      sanitizeOpts: this.sanitizeOpts,
      now: this.now,
      str: (s) => this.str(s),
      publish: (frame) => this.publish(frame),
    });
  }

  /** Frames a late joiner needs: hello, live actors, their last snapshots, the window series, summaries and the recent log. */
  backlog(): Frame[] {
    this.tracker.flushAll();
    const state = this.agentState ? [this.agentState] : [];
    return [this.hello(), ...state, ...this.tracker.backlog(), ...this.windows, ...this.summaries, ...this.log];
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
          this.tracker.inspect(ev);
        } catch {
          /* ignore */
        }
      },
    };
    const sub = agent.actor.system.inspect(observer);
    try {
      this.tracker.backfill(agent.actor);
    } catch {
      /* a half-started actor must not break attaching */
    }
    const offs = this.listen(agent);
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
      this.tracker.flushAll();
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    return detach;
  }

  /** Detaches every agent and cancels pending timers. */
  close(): void {
    for (const d of [...this.detachers]) d();
    this.tracker.close();
  }

  // -------------------------------------------------------------------------------------------

  /** The agent's window, summary, turn and error events as frames; returns the unsubscribe functions. */
  private listen(agent: InspectableAgent): (() => void)[] {
    const on = agent.on.bind(agent) as RealtimeAgent['on'];
    const publicState = (state: string | undefined) => {
      if (state && state !== this.agentState?.state) this.publish({ k: 'state', t: this.now(), state: this.str(state) });
    };
    publicState(agent.state);
    return [
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
    ];
  }

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
}
