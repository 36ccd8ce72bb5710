export { createToolRegistry, serialise, isZodSchema, type ToolRegistry, type Validation } from './registry.js';
export { DEFAULT_TOOL_TIMEOUT_MS } from './defaults.js';
export type { Tool, ToolChoice, ToolContext, ToolCallEvent, FunctionDeclaration, JsonSchema, ZodLike } from './types.js';
