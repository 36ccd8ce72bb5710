// Model-initiated function calls of one emulated session (README "Function calling"): which calls
// a response makes (scripted, hinted or decided from the tools), and how they stream.
import type { ConversationItem } from 'openai/resources/realtime/realtime';
import type { StoredItem } from './conversation-store.js';
import { lastUserIndex, lastUserText } from './model.js';
import type { ResponseParams } from './session-config.js';
import { makeStored, scheduleStart, type ActiveResponse, type SessionContext } from './session-context.js';
import { argumentDeltas, decideToolCalls, type PlannedCall, type ToolCallScript } from './tools.js';
import { textTokens, type TokenBlock } from './usage.js';

export class ToolCalls {
  private readonly scripted: ToolCallScript[][] = [];

  constructor(
    private readonly ctx: SessionContext,
    /** Server-wide FIFO of scripted calls (Emulator.toolCalls), shared by every session. */
    private readonly globalToolCalls: ToolCallScript[][],
    /** Every call of a response has streamed. */
    private readonly onStreamed: (r: ActiveResponse) => void,
  ) {}

  /** Script the function calls of this session's next in-band response. */
  script(calls: ToolCallScript[]): void {
    this.scripted.push(calls);
  }

  plan(items: readonly StoredItem[], p: ResponseParams, inBand: boolean): PlannedCall[] {
    const at = lastUserIndex(items);
    const answered = items.slice(at + 1).some((s) => s.item.type === 'function_call');
    const scripted = inBand ? (this.scripted.shift() ?? this.globalToolCalls.shift()) : undefined;
    return decideToolCalls({
      tools: p.tools ?? this.ctx.cfg.tools,
      toolChoice: p.tool_choice ?? this.ctx.cfg.tool_choice,
      userText: lastUserText(items),
      hinted: at >= 0 ? items[at].toolCalls : undefined,
      scripted,
      answered,
    });
  }

  start(r: ActiveResponse, calls: PlannedCall[]): void {
    r.calls = calls.map((c) => ({ ...c, itemId: this.ctx.ids.item(), callId: this.ctx.ids.call() }));
    scheduleStart(r, this.ctx.opts.latencyMs, () => this.stream(r));
  }

  /** The output of a function-call response: the calls streamed so far, their tokens, the context after it. */
  result(r: ActiveResponse): { output: ConversationItem[]; outText: number; blocksAfter: TokenBlock[] } {
    const calls = r.calls ?? [];
    const output = calls.filter((c) => c.stored && (c.stored.item as { status?: string }).status === 'completed').map((c) => c.stored!.item);
    let outText = 0;
    for (const c of calls) if (c.stored) outText += textTokens(c.name) + textTokens(c.arguments);
    const blocksAfter = [...r.inputBlocks, ...calls.flatMap((c) => (c.stored ? [c.stored.block] : []))];
    return { output, outText, blocksAfter };
  }

  /** Streams every call as the service does: item added, argument deltas, done; then response.done. */
  private stream(r: ActiveResponse): void {
    const { out, store } = this.ctx;
    r.timer = undefined;
    r.immediate = undefined;
    if (r.finished || out.closed || !r.calls) return;
    r.calls.forEach((c, output_index) => {
      const base = { id: c.itemId, object: 'realtime.item' as const, type: 'function_call' as const, call_id: c.callId, name: c.name };
      const added = { ...base, status: 'in_progress' as const, arguments: '' };
      c.stored = makeStored(added);
      out.emit({ type: 'response.output_item.added', event_id: out.eid(), response_id: r.id, output_index, item: { ...added } });
      let previous: string | null = null;
      if (r.inBand) {
        previous = store.last()?.item.id ?? null;
        store.insert(c.stored);
        out.emit({ type: 'conversation.item.added', event_id: out.eid(), previous_item_id: previous, item: { ...added } });
      }
      const ids = { response_id: r.id, item_id: c.itemId, output_index, call_id: c.callId };
      for (const delta of argumentDeltas(c.arguments))
        out.emit({ type: 'response.function_call_arguments.delta', event_id: out.eid(), ...ids, delta });
      out.emit({ type: 'response.function_call_arguments.done', event_id: out.eid(), ...ids, name: c.name, arguments: c.arguments });
      const done = { ...base, status: 'completed' as const, arguments: c.arguments };
      c.stored.item = done;
      store.touch(c.stored);
      if (r.inBand && store.has(c.itemId)) out.emit({ type: 'conversation.item.done', event_id: out.eid(), previous_item_id: previous, item: { ...done } });
      out.emit({ type: 'response.output_item.done', event_id: out.eid(), response_id: r.id, output_index, item: { ...done } });
    });
    this.onStreamed(r);
  }
}
