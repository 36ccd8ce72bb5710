// The library's public types, gathered from the modules that own them. Only the top (the CLIs, the
// proxy, the inspector, the package index, tests) imports this file: a module below the agent imports
// the owner instead, so no import circle runs through here.
export type { Dialect } from './protocol/events.js';
export type { Role, TextState, Turn, TranscriptEvent, WindowEvent, SummaryEvent } from './conversation/turn.js';
export type { PolicyOptions, StrategyName } from './conversation/context-strategy.js';
export type { SessionInfo } from './protocol/session-info.js';
export type { TurnDetection, SessionSettings } from './protocol/session-config.js';
export type { ConnectionOptions, SummariserOptions, AgentOptions } from './agent/options.js';
export type { AgentEvents, AgentEventName, AgentState, RealtimeAgent } from './agent/handle.js';
