/** A tool that has not answered after this long gets an error output and its signal aborted. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
