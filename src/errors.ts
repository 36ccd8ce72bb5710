// Errors as values with a one-line message that names the problem and the fix.

export type AgentErrorCode =
  | 'bad_api_key'
  | 'missing_api_key'
  | 'wrong_dialect'
  | 'unreachable'
  | 'connect_timeout'
  | 'handshake_failed'
  | 'session_expired'
  | 'insufficient_quota'
  | 'invalid_model'
  | 'server_error'
  | 'malformed_event'
  | 'socket_closed'
  | 'summariser_failed'
  | 'device_missing'
  | 'bad_input'
  | 'journal_failed'
  | 'store_unavailable'
  | 'conversation_busy'
  | 'lease_lost'
  | 'journal_damaged';

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    /** Fatal errors end the session; the others are reported and survived. */
    readonly fatal: boolean = false,
    /** Server error code, when the error came from an `error` event. */
    readonly serverCode?: string | null,
  ) {
    super(message);
  }
}

/** Removes every occurrence of the secrets from a string (keys never reach logs or files). */
export function redact(text: string, secrets: Iterable<string | undefined | null>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  // Anything that looks like an OpenAI key, even one we were not told about.
  return out.replace(/sk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]');
}

/** Why a file could not be read or written, in words and with the fix ("file not found: check the path"), not a bare errno code. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory: check the path';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: check its permissions';
    case 'EISDIR':
      return 'it is a directory: give a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory: check the path';
    case 'ENOSPC':
      return 'the disk is full';
    default:
      return String((e as Error)?.message ?? e).split('\n')[0];
  }
}

/** Whitespace folded to single spaces: text fit for one log line or one error message. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The first line of a thrown value's message (an Error's, or the value as text). */
export function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
