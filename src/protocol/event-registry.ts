// One registry of the server events the engine knows: for each GA type, where it goes and its beta
// name when that differs. The socket adapter drops (and logs once) anything not listed here; the agent
// hands `audio` events to the audio plane; the session machine gets `session` and `mirror` events;
// `ignore` events are known and deliberately unused. Adding an event is one entry here plus one
// handler in the place its route names (the switches over each route are exhaustive).

/** audio: the audio plane (agent, never a machine); mirror: the conversation mirror reducer;
 *  session: the session machine's own handling; ignore: known, deliberately unused. */
export type Route = 'audio' | 'mirror' | 'session' | 'ignore';

interface Entry {
  readonly route: Route;
  /** The beta dialect's name, when it differs from the GA name. */
  readonly beta?: string;
  /** realtime-proxy: 'stream' = relayed to the client on the peeked type alone, never parsed (the
   *  engine does not need it); every other event is parsed once, for the engine and the client view. */
  readonly proxy?: 'stream';
}

export const SERVER_EVENTS = {
  'session.created': { route: 'session' },
  'session.updated': { route: 'session' },
  error: { route: 'session' },

  'conversation.item.added': { route: 'mirror', beta: 'conversation.item.created' },
  // Beta proxies and older servers still send `created`; after translation it is also accepted as is.
  'conversation.item.created': { route: 'mirror' },
  'conversation.item.done': { route: 'mirror' },
  'conversation.item.retrieved': { route: 'mirror' },
  'conversation.item.deleted': { route: 'mirror' },
  'conversation.item.truncated': { route: 'mirror' },
  'conversation.item.input_audio_transcription.completed': { route: 'mirror' },
  'conversation.item.input_audio_transcription.failed': { route: 'mirror' },
  'response.created': { route: 'mirror' },
  'response.done': { route: 'mirror' },
  'response.output_audio_transcript.done': { route: 'mirror', beta: 'response.audio_transcript.done' },
  'response.output_text.done': { route: 'mirror', beta: 'response.text.done' },

  'response.output_audio.delta': { route: 'audio', beta: 'response.audio.delta', proxy: 'stream' },
  'response.output_audio.done': { route: 'audio', beta: 'response.audio.done' },
  'response.output_audio_transcript.delta': { route: 'audio', beta: 'response.audio_transcript.delta', proxy: 'stream' },
  'response.output_text.delta': { route: 'audio', beta: 'response.text.delta', proxy: 'stream' },
  // Display only (the turn's text is the completed transcript): shown from the audio plane, like the
  // assistant's deltas. Through the session machine each cost a full macrostep (4 a turn, a third of
  // the machine's events) for one emit: issue 23, docs/performance.md "Where the time went".
  'conversation.item.input_audio_transcription.delta': { route: 'audio' },
  'input_audio_buffer.speech_started': { route: 'audio' },
  'input_audio_buffer.speech_stopped': { route: 'audio' },

  'conversation.created': { route: 'ignore' },
  'conversation.item.input_audio_transcription.segment': { route: 'ignore' },
  'input_audio_buffer.committed': { route: 'ignore' },
  'input_audio_buffer.cleared': { route: 'ignore' },
  'input_audio_buffer.timeout_triggered': { route: 'ignore' },
  'input_audio_buffer.dtmf_event_received': { route: 'ignore' },
  'response.output_item.added': { route: 'ignore', proxy: 'stream' },
  'response.output_item.done': { route: 'ignore', proxy: 'stream' },
  'response.content_part.added': { route: 'ignore', proxy: 'stream' },
  'response.content_part.done': { route: 'ignore', proxy: 'stream' },
  'response.function_call_arguments.delta': { route: 'ignore', proxy: 'stream' },
  'response.function_call_arguments.done': { route: 'ignore' },
  'response.mcp_call_arguments.delta': { route: 'ignore' },
  'response.mcp_call_arguments.done': { route: 'ignore' },
  'response.mcp_call.in_progress': { route: 'ignore' },
  'response.mcp_call.completed': { route: 'ignore' },
  'response.mcp_call.failed': { route: 'ignore' },
  'mcp_list_tools.in_progress': { route: 'ignore' },
  'mcp_list_tools.completed': { route: 'ignore' },
  'mcp_list_tools.failed': { route: 'ignore' },
  'output_audio_buffer.started': { route: 'ignore', proxy: 'stream' },
  'output_audio_buffer.stopped': { route: 'ignore', proxy: 'stream' },
  'output_audio_buffer.cleared': { route: 'ignore', proxy: 'stream' },
  'rate_limits.updated': { route: 'ignore', proxy: 'stream' },
} as const satisfies Record<string, Entry>;

export type ServerEventType = keyof typeof SERVER_EVENTS;
type Registry = typeof SERVER_EVENTS;
/** The GA event types with route R. */
export type RoutedTo<R extends Route> = { [K in ServerEventType]: Registry[K]['route'] extends R ? K : never }[ServerEventType];
export type MirrorEventType = RoutedTo<'mirror'>;
export type SessionEventType = RoutedTo<'session'>;
export type AudioPlaneEventType = RoutedTo<'audio'>;

export function isKnownServerEvent(type: string): type is ServerEventType {
  return Object.hasOwn(SERVER_EVENTS, type);
}

/** The route of a known event; undefined for an unknown one (logged once and ignored by the socket). */
export function routeOf(type: string): Route | undefined {
  return isKnownServerEvent(type) ? SERVER_EVENTS[type].route : undefined;
}

export function eventsRoutedTo<R extends Route>(route: R): RoutedTo<R>[] {
  return (Object.keys(SERVER_EVENTS) as ServerEventType[]).filter((k) => SERVER_EVENTS[k].route === route) as RoutedTo<R>[];
}

/** Beta server event name -> GA name, for the renamed ones (derived from the registry). */
export const SERVER_EVENT_RENAMES_BETA_TO_GA: Readonly<Record<string, string>> = Object.fromEntries(
  (Object.entries(SERVER_EVENTS) as [string, Entry][]).filter(([, e]) => e.beta).map(([ga, e]) => [e.beta!, ga]),
);

/** For a `switch` over a route's types: a type the switch does not handle is a compile error. */
export function unhandled(x: never): never {
  throw new Error(`unhandled server event type ${String(x)}`);
}

/** The types (GA names and their beta names) realtime-proxy relays unparsed: the registry's `proxy` column. */
export const PROXY_STREAM_EVENTS: ReadonlySet<string> = new Set(
  (Object.entries(SERVER_EVENTS) as [string, Entry][]).filter(([, e]) => e.proxy === 'stream').flatMap(([ga, e]) => (e.beta ? [ga, e.beta] : [ga])),
);
