// Protocol round trips the machines ask for, over the current transport: retrieve an item's
// transcript, insert a summary at the root, delete items, and an out-of-band summary response. Each
// resolves on the server's acknowledgement and rejects with a one-line reason.
import { isObject } from '../src/protocol/parse.js';
import { isMissingItemError } from '../src/protocol/server-errors.js';
import { contentText } from '../src/conversation/items.js';
import { summarySystemPrompt, transcriptOf } from '../src/conversation/summary-prompt.js';
import type { RealtimeTransport } from '../src/protocol/transport.js';
import type { Turn } from '../src/conversation/turn.js';

export interface DeleteResult {
  deleted: string[];
  missing: string[];
  failed: string[];
}

export interface OperationsOptions {
  /** The open transport (throws when there is none). */
  transport(): RealtimeTransport;
  ackTimeoutMs: number;
  summaryLanguage?: string;
  log(line: string): void;
}

export interface ProtocolOperations {
  retrieveTranscript(itemId: string): Promise<string | null>;
  insertAtRoot(item: { id: string; text: string; role: 'system' | 'user' | 'assistant' }): Promise<void>;
  deleteItems(ids: string[]): Promise<DeleteResult>;
  outOfBandSummary(turns: Turn[], eventId: string): Promise<string>;
}

export function createProtocolOperations(o: OperationsOptions): ProtocolOperations {
  return {
    async retrieveTranscript(itemId) {
      const ev = await o.transport().request(
        { type: 'conversation.item.retrieve', item_id: itemId },
        (e) => e.type === 'conversation.item.retrieved' && isObject(e.item) && e.item.id === itemId,
        o.ackTimeoutMs,
      );
      const item = ev.item as { content?: unknown };
      // Only an audio transcript counts; a retrieved item may still say transcript: null.
      for (const p of Array.isArray(item.content) ? item.content : []) {
        if (isObject(p) && (p.type === 'input_audio' || p.type === 'audio') && typeof p.transcript === 'string') return p.transcript;
      }
      const text = contentText(item.content);
      return text.audio ? null : text.text;
    },

    async insertAtRoot({ id, text, role }) {
      const partType = role === 'assistant' ? 'output_text' : 'input_text';
      await o.transport().request(
        { type: 'conversation.item.create', previous_item_id: 'root', item: { id, type: 'message', role, content: [{ type: partType, text }] } },
        (e) => (e.type === 'conversation.item.added' || e.type === 'conversation.item.created') && isObject(e.item) && e.item.id === id,
        o.ackTimeoutMs,
      );
    },

    async deleteItems(ids) {
      const out: DeleteResult = { deleted: [], missing: [], failed: [] };
      await Promise.all(
        ids.map(async (id) => {
          try {
            await o.transport().request({ type: 'conversation.item.delete', item_id: id }, (e) => e.type === 'conversation.item.deleted' && e.item_id === id, o.ackTimeoutMs);
            out.deleted.push(id);
          } catch (e) {
            const err = e as Error & { code?: string };
            // The server's "no such item" codes: already gone, which is what we wanted.
            if (isMissingItemError(err.code)) out.missing.push(id);
            else {
              out.failed.push(id);
              o.log(`delete ${id} failed: ${err.message}`);
            }
          }
        }),
      );
      return out;
    },

    async outOfBandSummary(turns, eventId) {
      const ev = await o.transport().request(
        {
          type: 'response.create',
          event_id: eventId,
          response: {
            conversation: 'none',
            output_modalities: ['text'],
            metadata: { purpose: 'rtc-summary' },
            instructions: summarySystemPrompt(o.summaryLanguage),
            input: [
              ...turns.filter((t) => t.kind === 'message').map((t) => ({ type: 'item_reference', id: t.id })),
              { type: 'message', role: 'user', content: [{ type: 'input_text', text: `Summarise the conversation above.\n${transcriptOf(turns)}` }] },
            ],
          },
        },
        (e) => e.type === 'response.done' && isObject(e.response) && isObject(e.response.metadata) && e.response.metadata.purpose === 'rtc-summary',
        o.ackTimeoutMs * 3,
      );
      const r = ev.response as { output?: { content?: unknown }[] };
      const text = contentText(r.output?.[0]?.content).text;
      if (!text) throw new Error('the out-of-band summary response had no text');
      return text;
    },
  };
}
