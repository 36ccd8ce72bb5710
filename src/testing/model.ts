// Model-based testing helpers over xstate/graph: a TestModel built from a machine (also one that
// invokes actors and uses delays, which createTestModel refuses), a path runner that checks your
// own invariants after every step, and coverage figures for a set of paths.
import { TestModel } from 'xstate/graph';
import {
  __unsafe_getAllOwnEventDescriptors as ownEventTypes,
  fromTransition,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type Snapshot,
} from 'xstate';

export interface MachineModelOptions<TSnapshot = AnyMachineSnapshot> {
  /** The machine's input for the walk. */
  input?: unknown;
  /**
   * Payload cases per event type: each entry is one branch the walk explores (a guarded branch is
   * only reached if some case makes the guard true). Event types without cases are taken as `{ type }`;
   * `xstate.error.actor.*` without cases get one `Error`.
   */
  payloads?: Record<string, AnyEventObject[]>;
  /** Event types never taken (a list, or a predicate on the type and the current snapshot). */
  exclude?: readonly string[] | ((type: string, snapshot: TSnapshot) => boolean);
  /**
   * State identity: the distinctions that matter to your checks (default: value and context).
   * Two snapshots with the same key are one node of the graph, so leave nothing out that a test
   * depends on (a counter, whether a text is blank) and put nothing in that grows without bound.
   */
  key?: (snapshot: TSnapshot) => unknown;
  /**
   * `true` (default): a node is also told apart by the transition that reached it (event with its
   * payload, and the previous node), so every transition is covered, not only every state, and an
   * error or abort path is its own event sequence even when it ends where a success path ends.
   */
  transitionCoverage?: boolean;
  /** Stop walking from a snapshot (final states always stop the walk). */
  stopWhen?: (snapshot: TSnapshot) => boolean;
  /** Throw instead of walking forever when the key lets the state space grow (default 100,000). */
  limit?: number;
}

const eventLabel = (e: AnyEventObject | undefined): string => {
  if (!e) return '';
  const { type, ...rest } = e;
  const payload = Object.keys(rest).length
    ? JSON.stringify(rest, (_k, v: unknown) => (v instanceof Error ? `Error(${v.message})` : v))
    : '';
  return payload ? `${type} ${payload}` : type;
};

/**
 * A TestModel over `machine`, walked purely (no actions run, no actors start): invocations and
 * delays become event descriptors (`xstate.done.actor.<id>`, `xstate.error.actor.<id>`,
 * `xstate.after.<delay>.<stateId>`) that your executors turn into real effects on the system under test.
 */
export function machineTestModel<TSnapshot = AnyMachineSnapshot>(
  machine: AnyStateMachine,
  options: MachineModelOptions<TSnapshot> = {},
): TestModel<AnyMachineSnapshot, AnyEventObject, unknown> {
  const payloads = options.payloads ?? {};
  const excluded = (type: string, s: TSnapshot): boolean =>
    typeof options.exclude === 'function' ? options.exclude(type, s) : (options.exclude ?? []).includes(type);
  const keyOf = (s: TSnapshot) => JSON.stringify(options.key ? options.key(s) : [(s as AnyMachineSnapshot).value, (s as AnyMachineSnapshot).context]);
  const coverTransitions = options.transitionCoverage ?? true;
  return new TestModel(machine as never, {
    input: options.input,
    events: (s: AnyMachineSnapshot) =>
      ownEventTypes(s)
        .filter((t: string) => !excluded(t, s as TSnapshot))
        .flatMap((t: string) => {
          if (payloads[t]) return payloads[t];
          if (t.includes('*')) return []; // a wildcard (done.actor.turn.*) needs concrete cases
          if (t.startsWith('xstate.error.actor.')) return [{ type: t, error: new Error(`${t.slice('xstate.error.actor.'.length)} failed`) }];
          return [{ type: t }];
        }),
    serializeState: (s: AnyMachineSnapshot, event?: AnyEventObject, prev?: AnyMachineSnapshot) =>
      coverTransitions && event && prev ? `${keyOf(s as TSnapshot)} via ${eventLabel(event)} from ${keyOf(prev as TSnapshot)}` : keyOf(s as TSnapshot),
    serializeEvent: (e: AnyEventObject) => eventLabel(e),
    stopWhen: (s: AnyMachineSnapshot) => s.status !== 'active' || !!options.stopWhen?.(s as TSnapshot),
    limit: options.limit ?? 100_000,
  } as never) as never;
}

/** What the helpers need of a path (xstate/graph's TestPath has it). */
export interface ModelPath {
  steps: readonly { state: unknown; event: unknown }[];
  description: string;
}

/** An invariant: return (or resolve to) `false` or a message to report a violation, or throw. */
export type Invariant = () => unknown;

export interface PathRunOptions {
  /** Makes `event` happen on the system under test (send it, settle a double, advance the clock). */
  execute(event: AnyEventObject, stepIndex: number): unknown;
  /** After every step: compare the system under test with what the test expects. */
  check?(stepIndex: number, event: AnyEventObject): unknown;
  /** Your invariants, checked after every step (and after init), by name. */
  invariants?: Record<string, Invariant>;
  /** Lets promises and queued events settle after each step (default: one macrotask). */
  settle?(): Promise<void>;
}

/** The steps of a path as event sequences: init first, then one event per step. */
export function pathEvents(path: Pick<ModelPath, 'steps'>): AnyEventObject[] {
  return path.steps.map((s) => s.event as AnyEventObject);
}

/** Runs one path against a system under test; the first failure names the step and the invariant. */
export async function runPath(path: ModelPath, run: PathRunOptions): Promise<void> {
  const settle = run.settle ?? flushMacrotask;
  const events = pathEvents(path);
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const where = `step ${i} (${eventLabel(event)})`;
    try {
      if (event.type !== 'xstate.init') {
        await run.execute(event, i);
        await settle();
      }
      await run.check?.(i, event);
    } catch (e) {
      throw new Error(`${where}: ${e instanceof Error ? e.message : String(e)}\n  path: ${describeEvents(events)}`);
    }
    for (const [name, invariant] of Object.entries(run.invariants ?? {})) {
      let verdict: unknown;
      try {
        verdict = await invariant();
      } catch (e) {
        verdict = e instanceof Error ? e.message : String(e);
      }
      if (verdict === false || typeof verdict === 'string') {
        throw new Error(`invariant "${name}" broken after ${where}${typeof verdict === 'string' ? `: ${verdict}` : ''}\n  path: ${describeEvents(events)}`);
      }
    }
  }
}

/** Runs every path; returns the failures instead of throwing (to prove a broken machine is caught). */
export async function collectFailures<P extends ModelPath>(
  paths: readonly P[],
  runOne: (path: P) => Promise<void>,
): Promise<{ path: string; message: string }[]> {
  const failures: { path: string; message: string }[] = [];
  for (const path of paths) {
    try {
      await runOne(path);
    } catch (e) {
      failures.push({ path: path.description, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return failures;
}

export interface PathCoverage {
  paths: number;
  /** Distinct event sequences (types and payloads): what the paths really exercise. */
  distinctSequences: number;
  eventTypes: Set<string>;
  /** Serialized `value` of every snapshot along the paths. */
  stateValues: Set<string>;
}

export function pathCoverage(paths: readonly Pick<ModelPath, 'steps'>[]): PathCoverage {
  const seqs = new Set<string>();
  const eventTypes = new Set<string>();
  const stateValues = new Set<string>();
  for (const p of paths) {
    seqs.add(describeEvents(pathEvents(p)));
    for (const s of p.steps) {
      eventTypes.add((s.event as AnyEventObject).type);
      const v = (s.state as { value?: unknown } | undefined)?.value;
      if (v !== undefined) stateValues.add(JSON.stringify(v));
    }
  }
  return { paths: paths.length, distinctSequences: seqs.size, eventTypes, stateValues };
}

export function describeEvents(events: readonly AnyEventObject[]): string {
  return events.map(eventLabel).join(' → ');
}

/** One macrotask: promise doubles settle and queued events are processed. */
export function flushMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface ReducerModelOptions<S, E extends AnyEventObject> {
  /** The model's starting state. */
  initial: S;
  /** The oracle: the state the system must be in after `event` (throw for an impossible event). */
  reduce(state: S, event: E): S;
  /** Events the walk may take from `state` (with their payloads): the environment's choices. */
  enabled(state: S): E[];
  /** State identity (default: the whole state): leave out what only describes the last step. */
  key?: (state: S) => unknown;
  /** As in machineTestModel: tell nodes apart by the transition that reached them (default true). */
  transitionCoverage?: boolean;
  /** Stop walking from a state (e.g. a final one, or past a bound on a counter). */
  stopWhen?: (state: S) => boolean;
  limit?: number;
}

/**
 * A TestModel whose graph is YOUR model, written as a reducer (an oracle independent of the machine
 * under test): the walk enumerates its event sequences, and each path step carries the model state
 * the system under test must match (`modelState(step)`). Use it to test a machine through what it
 * does (commands sent, events emitted) rather than its state names, so the test survives a redesign.
 */
export function reducerTestModel<S, E extends AnyEventObject>(options: ReducerModelOptions<S, E>): TestModel<Snapshot<unknown> & { context: S }, E, unknown> {
  const logic = fromTransition((s: S, e: E) => options.reduce(s, e), options.initial);
  const keyOf = (s: { context: S }) => JSON.stringify(options.key ? options.key(s.context) : s.context);
  const coverTransitions = options.transitionCoverage ?? true;
  return new TestModel(logic as never, {
    events: (s: { context: S }) => options.enabled(s.context),
    serializeState: (s: { context: S }, event?: AnyEventObject, prev?: { context: S }) =>
      coverTransitions && event && prev ? `${keyOf(s)} via ${eventLabel(event)} from ${keyOf(prev)}` : keyOf(s),
    serializeEvent: (e: AnyEventObject) => eventLabel(e),
    stopWhen: (s: { context: S }) => !!options.stopWhen?.(s.context),
    limit: options.limit ?? 100_000,
  } as never) as never;
}

/** The model state a reducerTestModel path step expects. */
export function modelState<S>(step: { state: unknown }): S {
  return (step.state as { context: S }).context;
}

/**
 * Computes a model's paths without throwing at collection time: a machine that cannot even be walked
 * (a broken guard throws during the walk) then fails a test instead of the whole file, which some
 * runners (Stryker's vitest runner among them) would not count as a failure.
 */
export function safePaths<P>(walk: () => P[]): { paths: P[]; error: Error | null } {
  try {
    return { paths: walk(), error: null };
  } catch (e) {
    return { paths: [], error: e instanceof Error ? e : new Error(String(e)) };
  }
}
