// realtime-emulator: a local, protocol-faithful OpenAI Realtime API server (see README.md here).
export { startEmulator, type Emulator } from './start.js';
export type { EmulatorOptions } from './options.js';
export type { EmulatorSessionHandle } from './realtime-session.js';
export type { FaultOptions, TranscriptionOptions } from './faults.js';
export { HINT_FIELD, SUPPORTED_CLIENT_EVENTS } from './realtime-session.js';
export { summarise } from './chat-completions.js';
export { compareServerEvents, formatDifferences, parseRecording, replayRecording, type RecordingLine, type ReplayDifference, type ReplayResult } from './replay.js';
export { GENERIC_VERBS, TOOL_CALL_FIELD, decideToolCalls, synthesiseArguments, toolNameWords, type PlannedCall, type ToolCallScript } from './tools.js';
export { contextEcho, declaredLanguage, generateReply, UNINTELLIGIBLE } from './model.js';
export { cachedTokens, contextWindow, planTruncation } from './usage.js';
