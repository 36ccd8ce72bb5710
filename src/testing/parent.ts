// A parent double for machines that report to a typed `parentRef` (the summariser): an actor that
// records every event it receives, in order.
import { createActor, setup, type ActorRefFrom, type EventObject } from 'xstate';

export interface ReportCollector<TEvent extends EventObject> {
  /** Pass as the child's `parentRef` input. */
  ref: ActorRefFrom<ReturnType<typeof collectorMachine<TEvent>>>;
  /** Every event received, in order. */
  events: TEvent[];
  types(): string[];
}

function collectorMachine<TEvent extends EventObject>(sink: TEvent[]) {
  return setup({
    types: { events: {} as TEvent },
    actions: { record: ({ event }) => void sink.push(event) },
  }).createMachine({ on: { '*': { actions: 'record' } } });
}

export function reportCollector<TEvent extends EventObject>(): ReportCollector<TEvent> {
  const events: TEvent[] = [];
  const ref = createActor(collectorMachine<TEvent>(events)).start();
  return { ref, events, types: () => events.map((e) => e.type) };
}
