// Everything one emulated session sends: server events typed against the SDK's GA union
// (translated to beta at the edge), the `obfuscation` padding of deltas, the drop-after-N-events
// fault, error events, and the session's timers (which stop when the session closes).
import type { WebSocket } from 'ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { serverEventToBeta } from '../protocol/dialect.js';
import type { WireEvent } from '../protocol/events.js';
import type { StoredItem } from './conversation-store.js';
import type { EmulatorError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { Rng, type Ids } from './rng.js';

/** Delta events that carry `obfuscation` (text captured; transcript and arguments deltas assumed alike). */
const OBFUSCATED: ReadonlySet<string> = new Set(['response.output_text.delta', 'response.output_audio_transcript.delta', 'response.function_call_arguments.delta']);

export class Outbox {
  /** Set once the session is over: nothing more is sent and no timer fires. */
  closed = false;
  private sent = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly obfuscationRng: Rng;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: ResolvedOptions,
    private readonly ids: Ids,
    private readonly sessionId: string,
    private readonly dialect: 'ga' | 'beta',
    /** Called when the drop-after-events fault terminates the socket. */
    private readonly onFaultDrop: () => void,
  ) {
    this.obfuscationRng = new Rng((opts.seed ^ 0x5bd1e995) >>> 0);
  }

  eid(): string {
    return this.ids.event();
  }

  /** Every server event goes through here: typed against the SDK's GA union, serialised once. */
  emit(ev: RealtimeServerEvent): void {
    if (this.closed) return;
    if (OBFUSCATED.has(ev.type)) {
      // The service pads streamed deltas with a random `obfuscation` string (captured on text deltas)
      // so that frame sizes do not leak token lengths. Its own PRNG: ids and fault dice stay put.
      const delta = (ev as { delta?: string }).delta ?? '';
      (ev as { obfuscation?: string }).obfuscation = this.obfuscationRng.base62(1 + ((16 - (delta.length % 16)) % 16));
    }
    if (this.dialect === 'beta') {
      for (const b of serverEventToBeta(ev as unknown as WireEvent)) this.sendRaw(JSON.stringify(b));
    } else this.sendRaw(JSON.stringify(ev));
  }

  private sendRaw(frame: string): void {
    if (this.closed) return;
    this.ws.send(frame);
    this.sent++;
    const limit = this.opts.faults.dropAfterEvents;
    if (limit !== undefined && this.sent >= limit) {
      this.opts.log(`session ${this.sessionId}: dropping socket after ${this.sent} events (fault)`);
      this.ws.terminate();
      this.onFaultDrop();
    }
  }

  error(e: EmulatorError, clientEventId: string | null): void {
    this.emit({
      type: 'error',
      event_id: this.eid(),
      error: { type: e.type, code: e.code, message: e.message, param: e.param, event_id: clientEventId },
    });
  }

  itemAddedDone(s: StoredItem, previous: string | null): void {
    this.emit({ type: 'conversation.item.added', event_id: this.eid(), previous_item_id: previous, item: s.item });
    this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: previous, item: s.item });
  }

  /** Runs `fn` after `ms` unless the session has closed by then. */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Marks the session closed and stops every pending timer. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
