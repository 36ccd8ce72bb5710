// realtime-context/testing: the kit the project's own model-based tests use, for testing the machines
// with your own policy, summariser or invariants (see docs/model-based-testing.md).
export {
  machineTestModel,
  reducerTestModel,
  modelState,
  runPath,
  collectFailures,
  safePaths,
  pathCoverage,
  pathEvents,
  describeEvents,
  flushMacrotask,
  type MachineModelOptions,
  type ReducerModelOptions,
  type PathRunOptions,
  type PathCoverage,
  type Invariant,
  type ModelPath,
} from './model.js';
export { createTestClock, SimulatedClock, type TestClock } from './clock.js';
export {
  controlledActor,
  answeringActor,
  summariseDouble,
  insertSummaryDouble,
  deleteItemsDouble,
  retrieveItemDouble,
  summariserDoubles,
  toolDoubles,
  type ToolRunInput,
  type ControlledActor,
  type Call,
} from './actors.js';
export {
  scriptedSocket,
  matches,
  type ScriptedSocket,
  type ScriptedConnection,
  type ServerScript,
  type ScriptStep,
  type ClientMatch,
} from './socket.js';
export { reportCollector, type ReportCollector } from './parent.js';
