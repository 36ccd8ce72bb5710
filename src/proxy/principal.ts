// Who a client is, for the store: every stored conversation belongs to one principal, and a client
// only ever reaches the conversations of its own. The principal is what authenticated the client:
// its proxy token, or (pass-through) its own API key; on loopback without tokens every local client
// is the one principal "local". The store id is the principal's tag plus the client's id, so another
// principal's id is, to this client, exactly an id nobody has used (docs/proxy.md "Security model").
import { createHash } from 'node:crypto';
import { newConversationId } from '../store/open.js';

/** The id a client sends to have the proxy mint a fresh, unguessable one (returned in CONVERSATION_HEADER). */
export const MINT_CONVERSATION = 'new';
/** Response header of the 101: the conversation id this connection holds (as the client names it). */
export const CONVERSATION_HEADER = 'x-rtc-conversation';

const CLIENT_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/;

export interface Principal {
  /** 'token' | 'key' (pass-through) | 'local' (loopback, no tokens). */
  readonly kind: 'token' | 'key' | 'local';
  /** 16 hex characters derived from the credential; never the credential itself. */
  readonly tag: string;
}

/** The principal of a client that presented `credential` (already checked by the auth step). */
export function principalOf(mode: 'passthrough' | 'proxy-key', credential: string | undefined, tokensConfigured: boolean): Principal {
  if (mode === 'passthrough') return { kind: 'key', tag: tagOf(`key:${credential ?? ''}`) };
  if (tokensConfigured) return { kind: 'token', tag: tagOf(`token:${credential ?? ''}`) };
  return { kind: 'local', tag: tagOf('local') };
}

function tagOf(what: string): string {
  return createHash('sha256').update(`rtc-principal:${what}`).digest('hex').slice(0, 16);
}

export type ConversationRequest =
  | { ok: true; clientId: string; storeId: string; minted: boolean }
  | { ok: false; message: string };

/**
 * The `?conversation=` value of a client: its own id (or a freshly minted one for "new") and the
 * store id it maps to for this principal.
 */
export function conversationFor(principal: Principal, requested: string): ConversationRequest {
  const minted = requested === MINT_CONVERSATION;
  const clientId = minted ? newConversationId() : requested;
  if (!CLIENT_ID.test(clientId)) {
    return { ok: false, message: `a conversation id is 1-100 letters, digits, "_", "-" or "." (not starting with "."), or "${MINT_CONVERSATION}" for a fresh one` };
  }
  return { ok: true, clientId, storeId: `p${principal.tag}.${clientId}`, minted };
}
