// Responses of one emulated session: response.create (input, context truncation, faults), one
// in-band response at a time plus out-of-band ones, cancel, and response.done with usage, cache
// accounting and the rate_limits.updated that follows it. The reply itself streams from
// session-reply.ts, function calls from session-tools.ts.
import type { ConversationItem, RealtimeResponse, RealtimeResponseStatus } from 'openai/resources/realtime/realtime';
import type { WireEvent } from '../protocol/events.js';
import { durationMs } from './audio.js';
import type { StoredItem } from './conversation-store.js';
import { E } from './errors.js';
import { rateLimitMessage } from './faults.js';
import { validateItem } from './items.js';
import { generateReply } from './model.js';
import { isErr, type ResponseParams } from './session-config.js';
import { makeStored, type ActiveResponse, type FinishReason, type FinishStatus, type SessionContext } from './session-context.js';
import { HINT_FIELD, isObj } from './session-protocol.js';
import { Replies } from './session-reply.js';
import { ToolCalls } from './session-tools.js';
import type { ToolCallScript } from './tools.js';
import { buildUsage, cachedTokens, outputAudioTokens, planTruncation, textTokens, type TokenBlock } from './usage.js';

type Failure = { code: string; message: string; type: string };

export class Responses {
  /** Whether an in-band response has produced output audio (session.update may no longer change the voice). */
  hasAudioOutput = false;
  private active: ActiveResponse | undefined;
  private readonly oob = new Set<ActiveResponse>();
  private prevBlocks: TokenBlock[] | undefined;
  private instrKey = '';
  private instrBlock: TokenBlock = { key: '', text: 0, audio: 0 };
  private scriptIndex = 0;
  private contextEcho: boolean;
  private rateLimited: number;
  private tokensUsed = 0;
  private readonly tools: ToolCalls;
  private readonly replies: Replies;

  constructor(
    private readonly ctx: SessionContext,
    globalToolCalls: ToolCallScript[][],
    /** An in-band response is done (late input transcripts may follow). */
    private readonly onInBandDone: () => void,
  ) {
    this.contextEcho = ctx.opts.contextEcho;
    this.rateLimited = ctx.opts.faults.rateLimitResponses ?? 0;
    this.tools = new ToolCalls(ctx, globalToolCalls, (r) => this.finish(r, 'completed'));
    this.replies = new Replies(ctx, (r) => this.finish(r, r.limited ? 'incomplete' : 'completed', r.limited ? 'max_output_tokens' : undefined));
  }

  setContextEcho(on: boolean): void {
    this.contextEcho = on;
  }
  failNext(n: number): void {
    this.rateLimited = n;
  }
  scriptToolCalls(calls: ToolCallScript[]): void {
    this.tools.script(calls);
  }

  /** Server VAD heard speech: cancel the in-band response. */
  interrupt(): void {
    if (this.active) this.finish(this.active, 'cancelled', 'turn_detected');
  }

  /** Server VAD committed a turn: answer it unless a response is running (never in a transcription session). */
  respondToTurn(): void {
    // A transcription session never responds (captured: no response events, no rate_limits).
    if (!this.active && this.ctx.kind === 'realtime') this.start({ conversation: 'auto' }, null);
  }

  start(p: ResponseParams, eventId: string | null): void {
    const inBand = p.conversation !== 'none';
    if (inBand && this.active) return this.ctx.out.error(E.activeResponse(this.active.id), eventId);
    const given = p.input !== undefined ? this.resolveInput(p.input, eventId) : this.contextItems();
    if (!given) return;
    const { items, blocks, failure } = this.planContext(p, inBand, given);
    const r = this.open(p, inBand, blocks);
    if (failure) return this.fail(r, failure);
    const calls = this.tools.plan(items, p, inBand);
    if (calls.length) return this.tools.start(r, calls);
    let scripted: string | undefined;
    const script = this.ctx.opts.script;
    if (inBand && script && this.scriptIndex < script.length) scripted = script[this.scriptIndex++];
    const text = generateReply({ items, contextEcho: this.contextEcho, replyWords: this.ctx.opts.replyWords, scripted });
    this.replies.start(r, text);
  }

  onCancel(ev: WireEvent, eventId: string | null): void {
    let r: ActiveResponse | undefined;
    if (typeof ev.response_id === 'string' && ev.response_id) {
      if (this.active?.id === ev.response_id) r = this.active;
      else for (const o of this.oob) if (o.id === ev.response_id) r = o;
    } else r = this.active;
    if (!r || r.finished) return this.ctx.out.error(E.cancelNotActive(), eventId);
    this.finish(r, 'cancelled', 'client_cancelled');
  }

  /** The session closed: stop every stream. */
  dispose(): void {
    for (const r of [this.active, ...this.oob]) {
      if (!r) continue;
      if (r.timer) clearTimeout(r.timer);
      if (r.immediate) clearImmediate(r.immediate);
    }
  }

  private finish(r: ActiveResponse, status: FinishStatus, reason?: FinishReason): void {
    if (r.finished) return;
    r.finished = true;
    this.cleanup(r);
    let output: ConversationItem[];
    let outTokens: { text: number; audio: number };
    let blocksAfter: TokenBlock[];
    if (r.calls) {
      const done = this.tools.result(r);
      output = done.output;
      outTokens = { text: done.outText, audio: 0 };
      blocksAfter = done.blocksAfter;
    } else {
      const done = this.replies.finish(r, status);
      if (r.inBand && done.audioMs > 0) this.hasAudioOutput = true;
      output = [done.item];
      outTokens = { text: textTokens(done.text), audio: outputAudioTokens(done.audioMs) };
      blocksAfter = [...r.inputBlocks, r.stored.block];
    }
    const usage = buildUsage(r.inputBlocks, r.cache, outTokens);
    this.tokensUsed += usage.total_tokens ?? 0;
    const statusDetails: RealtimeResponseStatus | undefined = status === 'completed' ? undefined : { type: status, ...(reason ? { reason } : {}) };
    const resp = this.wire(r, status, statusDetails);
    resp.output = output;
    resp.usage = usage;
    if (r.inBand) this.prevBlocks = blocksAfter;
    this.emitDone(resp);
    if (r.inBand) this.onInBandDone();
  }

  private instructionsBlock(instructions: string, tools: unknown[]): TokenBlock {
    const toolsJson = tools.length ? JSON.stringify(tools) : '';
    const key = `I:${instructions}\u0000${toolsJson}`;
    if (key !== this.instrKey) {
      this.instrKey = key;
      this.instrBlock = { key, text: textTokens(instructions) + textTokens(toolsJson), audio: 0 };
    }
    return this.instrBlock;
  }

  private contextItems(): StoredItem[] {
    const { store, excluded } = this.ctx;
    const all = store.all();
    if (!excluded.size) return all.slice();
    return all.filter((s) => !excluded.has(s.item.id));
  }

  /** `response.input`: item references and inline items (validated), or undefined after an error event. */
  private resolveInput(input: unknown[], eventId: string | null): StoredItem[] | undefined {
    const { out, store, ids, dialect, cfg } = this.ctx;
    const resolved: StoredItem[] = [];
    for (let i = 0; i < input.length; i++) {
      const x = input[i];
      if (isObj(x) && x.type === 'item_reference') {
        const s = typeof x.id === 'string' ? store.get(x.id) : undefined;
        if (!s) {
          out.error(E.itemReferenceMissing(String(x.id), `response.input[${i}].id`), eventId);
          return undefined;
        }
        resolved.push(s);
        continue;
      }
      const v = validateItem(x, dialect, `response.input[${i}]`);
      if (isErr(v)) {
        out.error(v, eventId);
        return undefined;
      }
      const id = v.item.id ?? ids.item();
      resolved.push(
        makeStored({ ...v.item, id } as ConversationItem & { id: string }, {
          audioMs: v.audio ? durationMs(v.audio.length, cfg.input_format) : 0,
          heard: isObj(x) && typeof x[HINT_FIELD] === 'string' ? (x[HINT_FIELD] as string) : undefined,
        }),
      );
    }
    return resolved;
  }

  /** The model input: server-side truncation of the in-band context, and why the response must fail (if it must). */
  private planContext(p: ResponseParams, inBand: boolean, given: StoredItem[]): { items: StoredItem[]; blocks: TokenBlock[]; failure?: Failure } {
    const { cfg, model, excluded, opts } = this.ctx;
    let items = given;
    const instr = this.instructionsBlock(p.instructions ?? cfg.instructions, p.tools ?? cfg.tools);
    let blocks = [instr, ...items.map((s) => s.block)];
    let failure: Failure | undefined;
    if (inBand && p.input === undefined) {
      const plan = planTruncation(blocks, model, cfg.truncation);
      if (plan.drop > 0) {
        for (const s of items.slice(0, plan.drop)) excluded.add(s.item.id);
        opts.log(`session ${this.ctx.id}: truncation dropped ${plan.drop} oldest item(s) from the model context`);
        items = items.slice(plan.drop);
        blocks = [instr, ...items.map((s) => s.block)];
      }
      if (plan.overflow) {
        failure = {
          type: 'invalid_request_error',
          code: 'context_length_exceeded',
          message: `The conversation has ${plan.overflow.inputTokens} input tokens, more than the ${plan.overflow.limit} allowed for ${model} with truncation disabled.`,
        };
      }
    }
    if (!failure && this.rateLimited > 0) {
      this.rateLimited--;
      failure = { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: rateLimitMessage(model) };
    }
    return { items, blocks, failure };
  }

  /** Creates the response, makes it the active (or an out-of-band) one and sends response.created. */
  private open(p: ResponseParams, inBand: boolean, blocks: TokenBlock[]): ActiveResponse {
    const { cfg, out } = this.ctx;
    const r: ActiveResponse = {
      id: this.ctx.ids.response(),
      inBand,
      modality: (p.output_modalities ?? cfg.output_modalities)[0] ?? 'audio',
      format: p.output_format ?? cfg.output_format,
      voice: p.voice ?? cfg.voice,
      maxTokens: p.max_output_tokens ?? cfg.max_output_tokens,
      metadata: p.metadata ?? null,
      conversationId: inBand ? this.ctx.conversationId : undefined,
      stored: undefined as unknown as StoredItem,
      words: [],
      sentWords: 0,
      chunks: 0,
      sentChunks: 0,
      textDeltas: [],
      sentTextDeltas: 0,
      inputBlocks: blocks,
      cache: cachedTokens(this.prevBlocks, blocks),
      limited: false,
      finished: false,
    };
    if (inBand) this.active = r;
    else this.oob.add(r);
    out.emit({ type: 'response.created', event_id: out.eid(), response: this.wire(r, 'in_progress') });
    return r;
  }

  /** A response that fails before any output: response.done with status `failed` and zero usage. */
  private fail(r: ActiveResponse, failure: Failure): void {
    r.finished = true;
    this.cleanup(r);
    const status: RealtimeResponseStatus = { type: 'failed', error: failure };
    const resp = this.wire(r, 'failed', status);
    resp.output = [];
    resp.usage = buildUsage([], { cached: 0, cachedText: 0, cachedAudio: 0 }, { text: 0, audio: 0 });
    this.emitDone(resp);
  }

  private cleanup(r: ActiveResponse): void {
    if (r.timer) clearTimeout(r.timer);
    if (r.immediate) clearImmediate(r.immediate);
    r.timer = undefined;
    r.immediate = undefined;
    if (this.active === r) this.active = undefined;
    this.oob.delete(r);
  }

  private wire(r: ActiveResponse, status: NonNullable<RealtimeResponse['status']>, details?: RealtimeResponseStatus): RealtimeResponse {
    // conversation_id, status_details and usage are null on the wire when absent (captured: null
    // conversation_id out of band, null usage on response.created); the SDK types them as optional
    // non-nullable, hence the casts.
    const resp: RealtimeResponse = {
      object: 'realtime.response',
      id: r.id,
      status,
      output: [],
      output_modalities: [r.modality],
      max_output_tokens: r.maxTokens,
      audio: { output: { format: (r.format === 'audio/pcm' ? { type: 'audio/pcm', rate: 24000 } : { type: r.format }) as never, voice: r.voice as never } },
      metadata: r.metadata,
    };
    resp.conversation_id = r.conversationId ?? (null as unknown as string);
    resp.status_details = details ?? (null as unknown as RealtimeResponseStatus);
    resp.usage = null as unknown as RealtimeResponse['usage'];
    return resp;
  }

  /** response.done, then rate_limits.updated about 40 ms later (captured), one `tokens` entry. */
  private emitDone(resp: RealtimeResponse): void {
    const { out, opts } = this.ctx;
    out.emit({ type: 'response.done', event_id: out.eid(), response: resp });
    out.later(opts.rateLimitsDelayMs, () => {
      const limit = 15_000_000; // the tier-5 TPM of gpt-realtime-mini (model page)
      out.emit({
        type: 'rate_limits.updated',
        event_id: out.eid(),
        rate_limits: [{ name: 'tokens', limit, remaining: Math.max(0, limit - this.tokensUsed), reset_seconds: Math.round((this.tokensUsed / limit) * 60 * 1000) / 1000 }],
      });
    });
  }
}
