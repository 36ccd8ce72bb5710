// The agent's side of the conversation store: the journal sink the journal relay writes to. Entries
// are queued by a ConversationWriter and written off the event loop, to the opened conversation's
// store (JSONL directory or PostgreSQL) or, with only `journal: path`, to a JSONL store holding that
// one file. The first entry names the conversation; the lease is renewed while the agent runs.
import { dirname, join } from 'node:path';
import { JsonlStore } from '../../adapters/journal-file.js';
import { ConversationWriter } from '../store/writer.js';
import { newConversationId } from '../store/open.js';
import type { ResumePlan } from '../store/resume.js';
import { AgentError } from '../errors.js';
import type { AgentOptions } from './options.js';
import type { JournalSink } from './journal-relay.js';

export interface AgentConversation {
  /** The conversation's id in the store (null without a journal or store). */
  readonly id: string | null;
  /** Where the relay writes (null: no journal). */
  readonly sink: JournalSink | null;
  /** Set when resuming: what the first session is seeded with. */
  readonly plan: ResumePlan | null;
  /** Renews the lease (a store conversation) until close(). */
  keepLease(): void;
  /** Resolves when everything queued so far is in the store (or the store is down). */
  drained(): Promise<void>;
  /** Writes or spills what is queued, then releases the lease and closes the store. */
  close(): Promise<void>;
}

export function openAgentConversation(
  options: Pick<AgentOptions, 'conversation' | 'journal' | 'storeSpillPath' | 'storeCloseTimeoutMs'>,
  secrets: readonly string[],
  log: (line: string) => void,
  onError: (e: AgentError) => void,
): AgentConversation {
  const conv = options.conversation ?? null;
  const id = conv?.id ?? (options.journal ? newConversationId() : null);
  let writer: ConversationWriter | null = null;
  if (conv || options.journal) {
    let store = conv?.store;
    if (!store) {
      const jsonl = new JsonlStore(dirname(options.journal as string));
      jsonl.createSync(id!, options.journal as string);
      store = jsonl;
    }
    writer = new ConversationWriter(store, id!, {
      holder: conv?.holder,
      secrets,
      // Never nowhere: next to the journal file, or .rtc/unwritten-<id>.jsonl for a database store.
      spillPath: options.storeSpillPath ?? (conv?.location ? `${conv.location}.unwritten` : options.journal ? `${options.journal}.unwritten` : join('.rtc', `unwritten-${id}.jsonl`)),
      onWarn: (message, code) => onError(new AgentError(code, message, code === 'lease_lost')),
      log,
    });
  }
  const w = writer;
  const sink: JournalSink | null = w ? { path: conv ? conv.location : (options.journal as string), write: (e) => w.write(e) } : null;
  sink?.write({ type: 'conversation', id: id!, ...(conv?.plan ? { resumed: true } : {}), ...(conv ? { holder: conv.holder } : {}) });
  return {
    id,
    sink,
    plan: conv?.plan ?? null,
    keepLease() {
      // A renewal that finds another holder: the writer stops writing the store (later entries are
      // spilled) and says so once, as a fatal lease_lost error.
      conv?.keepLease((message) => (w ? w.loseLease(`${message}: this instance stops writing it`) : onError(new AgentError('lease_lost', message, true))), log);
    },
    drained: () => w?.drained() ?? Promise.resolve(),
    async close() {
      await w?.close(options.storeCloseTimeoutMs);
      await conv?.close();
    },
  };
}
