// Opening a conversation before the agent starts: pick the store (a directory = JSONL journals, a
// postgres:// URL = PostgreSQL), run its migration, create a new conversation or load one to resume
// (by id, or from a journal file), and take the lease that keeps two instances from writing one
// conversation. The result feeds createRealtimeAgent({ conversation }).
import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { JsonlStore } from '../../adapters/journal-file.js';
import { PostgresStore } from '../../adapters/store-postgres.js';
import { AgentError, firstLine } from '../errors.js';
import { assertJournalFile } from './journal-check.js';
import { planResume, type ResumePlan } from './resume.js';
import { JournalDamagedError, type ConversationStore } from './types.js';

export const DEFAULT_LEASE_TTL_MS = 30_000;

export interface OpenConversationOptions {
  /**
   * A store, a postgres:// URL, or a directory of JSONL journals (default `.rtc`). A store object is
   * shared (e.g. by all of a proxy's connections): the conversation's close() releases its lease and
   * leaves the store open for its owner to close. A store made here from a URL or directory is closed
   * with the conversation.
   */
  store?: ConversationStore | string;
  /** Resume this conversation: its id in the store, or a JSONL journal file. */
  resume?: string;
  /** With `resume` (an id): a conversation the store does not have yet is created under that id (realtime-proxy's ?conversation=). */
  createMissing?: boolean;
  /** Id for a new conversation (default: a fresh `conv_…`). */
  conversationId?: string;
  /** JSONL only: the file a new conversation is written to (default <dir>/<id>.jsonl). */
  file?: string;
  /** Lease length; renewed every third of it (default 30 s). */
  leaseTtlMs?: number;
  /** Lease holder name (default host:pid:random). */
  holder?: string;
  /** Diagnostics, e.g. a torn journal tail cut on resume. */
  log?: (line: string) => void;
}

export interface OpenedConversation {
  readonly id: string;
  readonly store: ConversationStore;
  readonly holder: string;
  readonly leaseTtlMs: number;
  /** Set when resuming: the seed and the numbers to continue from. */
  readonly plan: ResumePlan | null;
  /** JSONL: the journal file. */
  readonly location: string | null;
  /** Renews the lease until close(); onLost when another instance took it (or it cannot be renewed in time). */
  keepLease(onLost: (message: string) => void, log?: (line: string) => void): void;
  /** Stops renewing, releases the lease, and closes the store unless it was given as an object (shared). */
  close(): Promise<void>;
}

/** A fresh conversation id: 128 random bits, so an id cannot be guessed (realtime-proxy mints them for clients). */
export function newConversationId(): string {
  return `conv_${randomBytes(16).toString('hex')}`;
}

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** A store from its spec: postgres:// URL or a directory. */
export function storeFromSpec(spec: string): ConversationStore {
  return isPostgresUrl(spec) ? new PostgresStore({ url: spec }) : new JsonlStore(spec);
}


export async function openConversation(o: OpenConversationOptions = {}): Promise<OpenedConversation> {
  // With createMissing the id names a conversation in the store, never a file (a proxy client's id
  // must not reach a file that happens to have that name in the proxy's working directory).
  const resumeFile = o.resume !== undefined && !o.createMissing && !isPostgresUrl(o.resume) && existsSync(o.resume) && statSync(o.resume).isFile() ? o.resume : null;
  // A file that is not a journal is refused before anything opens it: never appended to, no lease file.
  if (resumeFile) assertJournalFile(resumeFile);
  const shared = typeof o.store === 'object';
  const closeOwned = async (): Promise<void> => {
    if (!shared) await store.close().catch(() => undefined);
  };
  let store: ConversationStore;
  if (typeof o.store === 'object') store = o.store;
  else if (resumeFile && (o.store === undefined || !isPostgresUrl(o.store))) store = new JsonlStore(dirname(resumeFile));
  else if (resumeFile) throw new AgentError('bad_input', `--resume ${resumeFile} is a journal file: resume it without --store postgres://, or give a conversation id from that store`, true);
  else store = storeFromSpec(o.store ?? '.rtc');

  try {
    await store.open();
  } catch (e) {
    await closeOwned();
    throw new AgentError('store_unavailable', `cannot open the conversation store ${store.label}: ${firstLine(e)}; start it (see docs/store.md, "Starting PostgreSQL") or use a journal directory`, true);
  }
  const holder = o.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const ttl = o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  let id: string | undefined;
  let leased = false;
  // Every failed path gives the lease back (no `<journal>.lease` left behind) and closes the store.
  const fail = async (e: AgentError): Promise<never> => {
    if (leased && id !== undefined) await store.release(id, holder).catch(() => undefined);
    await closeOwned();
    throw e;
  };
  let plan: ResumePlan | null = null;
  try {
    const resuming = o.resume !== undefined && !(o.createMissing && !resumeFile && !(await store.exists(o.resume)));
    if (resuming) {
      id = resumeFile && store instanceof JsonlStore ? store.adopt(resumeFile) : o.resume!;
      if (!(await store.exists(id))) {
        return await fail(new AgentError('bad_input', `no conversation ${id} in ${store.label}: list them with \`realtime-agent conversations\``, true));
      }
    } else {
      id = o.resume ?? o.conversationId ?? newConversationId();
      if (await store.exists(id)) return await fail(new AgentError('bad_input', `conversation ${id} already exists in ${store.label}: resume it instead`, true));
      await store.create(id, { file: o.file ?? (store instanceof JsonlStore ? join(store.dir, `${id}.jsonl`) : undefined) });
    }
    const refused = await store.acquire(id, holder, ttl);
    leased = !refused;
    if (refused) {
      return await fail(new AgentError('conversation_busy', `conversation ${id} is held by another live instance (${refused.holder}) until ${refused.expiresAt}: stop that instance or wait for its lease to expire`, true));
    }
    if (resuming) {
      const repaired = await store.recover?.(id);
      if (repaired) o.log?.(repaired);
      plan = planResume(await store.read(id));
    }
  } catch (e) {
    if (e instanceof AgentError) throw e;
    if (e instanceof JournalDamagedError) {
      return fail(new AgentError('journal_damaged', `conversation ${id!}: line ${e.line} of its journal ${e.file} is not valid JSON (the journal is damaged): move that file aside or repair the line, then resume again`, true));
    }
    const what = id !== undefined ? `cannot read conversation ${id} in the ${store.label}` : `conversation store ${store.label} failed`;
    return fail(new AgentError('store_unavailable', `${what} (${firstLine(e)})`, true));
  }
  const convId: string = id;

  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  return {
    id: convId,
    store,
    holder,
    leaseTtlMs: ttl,
    plan,
    location: store instanceof JsonlStore ? (store.pathOf(convId) ?? null) : null,
    keepLease(onLost, log) {
      let lastOk = Date.now();
      timer = setInterval(() => {
        store.renew(convId, holder, ttl).then(
          (ok) => {
            if (closed) return;
            if (ok) lastOk = Date.now();
            else {
              clearInterval(timer!);
              onLost(`another instance took over conversation ${convId}`);
            }
          },
          (e: unknown) => {
            // The store is down: nobody else can take the lease meanwhile (it lives in that store).
            log?.(`lease renewal failed (${firstLine(e)}); last renewed ${Date.now() - lastOk} ms ago`);
          },
        );
      }, Math.max(50, Math.floor(ttl / 3)));
      timer.unref();
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await store.release(convId, holder).catch(() => undefined);
      await closeOwned();
    },
  };
}
