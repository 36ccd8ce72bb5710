// realtime-context: the library's public exports.
export { createRealtimeAgent, resolveConnection } from './agent.js';
export { AgentError, redact, type AgentErrorCode } from './errors.js';
export type * from './types.js';
export { DEFAULT_POLICY, SEED_DEMO_POLICY, resolvePolicy, planFold, shouldSummarise } from './conversation/policy.js';
export { buildSummaryMessages, summarySystemPrompt, INAUDIBLE } from './conversation/summary-prompt.js';
export { parseJournal, conversationFromJournal, type JournalEntry, type JournalLine } from './conversation/journal.js';
export { PRICES, priceFor, usageCost } from './conversation/costs.js';
export { buildSeed } from './conversation/seed.js';
export { buildSessionConfig, DEFAULT_INSTRUCTIONS } from './protocol/session-config.js';
export { classifyServerError, SERVER_ERROR_RULES } from './protocol/server-errors.js';
export * as dialect from './protocol/dialect.js';
export { sessionMachine } from '../machines/session.machine.js';
export { transcriptMachine } from '../machines/transcript.machine.js';
export { summariserMachine } from '../machines/summariser.machine.js';
export { startInspector, startTrace, readTrace, startStatelyBridge, type LiveInspector, type InspectorOptions } from '../adapters/inspector.js';
export { createToolRegistry, DEFAULT_TOOL_TIMEOUT_MS, type Tool, type ToolChoice, type ToolContext, type ToolCallEvent, type ToolRegistry } from './tools/index.js';
export { toolCallMachine } from '../machines/tool-call.machine.js';
export { toolsMachine } from '../machines/tools.machine.js';
