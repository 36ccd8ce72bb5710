// What a client is told when its stored conversation cannot be opened. The store's own message names
// the lease holder's host and pid, or the server's absolute store path: that goes to the proxy's log
// only; the client gets the class of the problem and what to do.
import { AgentError } from '../errors.js';

export interface StoreRefusal {
  status: number;
  code: string;
  /** Safe for the client: no host, pid, path or store label. */
  clientMessage: string;
  /** The full message, for the proxy's log (secrets already removed by the caller's redact). */
  logMessage: string;
}

export function storeRefusal(e: unknown, leaseTtlMs: number): StoreRefusal {
  const err = e instanceof AgentError ? e : new AgentError('store_unavailable', String((e as Error)?.message ?? e), true);
  const logMessage = err.message;
  switch (err.code) {
    case 'conversation_busy':
      return {
        status: 409,
        code: err.code,
        clientMessage: `conversation is in use by another connection; retry after its lease expires (up to ${Math.ceil(leaseTtlMs / 1000)} s)`,
        logMessage,
      };
    case 'store_unavailable':
      return { status: 503, code: err.code, clientMessage: 'the conversation store is unavailable or could not read this conversation; retry later (the proxy log has the cause)', logMessage };
    case 'journal_damaged':
      // Retrying will not help: the operator has to repair or move the journal aside.
      return { status: 400, code: err.code, clientMessage: "this conversation's stored journal is damaged and cannot be resumed; ask the operator (the proxy log has the cause)", logMessage };
    case 'bad_input':
      return { status: 400, code: 'conversation_unavailable', clientMessage: 'this conversation cannot be opened (the proxy log has the cause)', logMessage };
    default:
      return { status: 503, code: err.code, clientMessage: 'this conversation cannot be opened now (the proxy log has the cause)', logMessage };
  }
}
