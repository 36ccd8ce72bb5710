// One WebSocket connection, part 4: model-initiated function calls (README "Function calling").
import type {
RealtimeResponseStatus
} from 'openai/resources/realtime/realtime';
import { type StoredItem } from './conversation-store.js';
import { lastUserIndex,lastUserText } from './model.js';
import { argumentDeltas,decideToolCalls,type PlannedCall } from './tools.js';
import {
type ResponseParams
} from './session-config.js';
import {
buildUsage,textTokens
} from './usage.js';
import { Items } from './session-items.js';
import { type ActiveResponse } from './session-core.js';

export abstract class ToolCalls extends Items {
  // ------------------------------------------------------------------ function calls

  protected planToolCalls(items: readonly StoredItem[], p: ResponseParams, inBand: boolean): PlannedCall[] {
    const at = lastUserIndex(items);
    const answered = items.slice(at + 1).some((s) => s.item.type === 'function_call');
    const scripted = inBand ? (this.scriptedCalls.shift() ?? this.globalToolCalls.shift()) : undefined;
    return decideToolCalls({
      tools: p.tools ?? this.cfg.tools,
      toolChoice: p.tool_choice ?? this.cfg.tool_choice,
      userText: lastUserText(items),
      hinted: at >= 0 ? items[at].toolCalls : undefined,
      scripted,
      answered,
    });
  }

  protected startToolCalls(r: ActiveResponse, calls: PlannedCall[]): void {
    r.calls = calls.map((c) => ({ ...c, itemId: this.ids.item(), callId: this.ids.call() }));
    const start = () => this.streamToolCalls(r);
    if (this.opts.latencyMs > 0) r.timer = setTimeout(start, this.opts.latencyMs);
    else r.immediate = setImmediate(start);
  }

  /** Streams every call as the service does: item added, argument deltas, done; then response.done. */
  protected streamToolCalls(r: ActiveResponse): void {
    r.timer = undefined;
    r.immediate = undefined;
    if (r.finished || this.closed || !r.calls) return;
    r.calls.forEach((c, output_index) => {
      const base = { id: c.itemId, object: 'realtime.item' as const, type: 'function_call' as const, call_id: c.callId, name: c.name };
      const added = { ...base, status: 'in_progress' as const, arguments: '' };
      c.stored = this.makeStored(added);
      this.emit({ type: 'response.output_item.added', event_id: this.eid(), response_id: r.id, output_index, item: { ...added } });
      let previous: string | null = null;
      if (r.inBand) {
        previous = this.store.last()?.item.id ?? null;
        this.store.insert(c.stored);
        this.emit({ type: 'conversation.item.added', event_id: this.eid(), previous_item_id: previous, item: { ...added } });
      }
      const ids = { response_id: r.id, item_id: c.itemId, output_index, call_id: c.callId };
      for (const delta of argumentDeltas(c.arguments))
        this.emit({ type: 'response.function_call_arguments.delta', event_id: this.eid(), ...ids, delta });
      this.emit({ type: 'response.function_call_arguments.done', event_id: this.eid(), ...ids, name: c.name, arguments: c.arguments });
      const done = { ...base, status: 'completed' as const, arguments: c.arguments };
      c.stored.item = done;
      this.store.touch(c.stored);
      if (r.inBand && this.store.has(c.itemId)) this.emit({ type: 'conversation.item.done', event_id: this.eid(), previous_item_id: previous, item: { ...done } });
      this.emit({ type: 'response.output_item.done', event_id: this.eid(), response_id: r.id, output_index, item: { ...done } });
    });
    this.finishResponse(r, 'completed');
  }

  /** response.done of a function-call response: its output is the calls streamed so far. */
  protected finishToolResponse(r: ActiveResponse, status: 'completed' | 'cancelled' | 'incomplete', reason?: 'turn_detected' | 'client_cancelled' | 'max_output_tokens'): void {
    const output = (r.calls ?? []).filter((c) => c.stored && (c.stored.item as { status?: string }).status === 'completed').map((c) => c.stored!.item);
    let outText = 0;
    for (const c of r.calls ?? []) if (c.stored) outText += textTokens(c.name) + textTokens(c.arguments);
    const usage = buildUsage(r.inputBlocks, r.cache, { text: outText, audio: 0 });
    this.tokensUsed += usage.total_tokens ?? 0;
    const statusDetails: RealtimeResponseStatus | undefined = status === 'completed' ? undefined : { type: status, ...(reason ? { reason } : {}) };
    const resp = this.wireResponse(r, status, statusDetails);
    resp.output = output;
    resp.usage = usage;
    if (r.inBand) this.prevBlocks = [...r.inputBlocks, ...(r.calls ?? []).flatMap((c) => (c.stored ? [c.stored.block] : []))];
    this.emitResponseDone(resp);
    if (r.inBand && this.late.length) for (const l of this.late.splice(0)) l.run();
  }
}
