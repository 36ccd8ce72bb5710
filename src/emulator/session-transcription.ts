// Input audio transcription of one emulated session: when (and whether) a committed user audio
// item gets its transcript, per the transcription fault options; late transcripts wait for the
// next in-band response.done (or a fallback timer), as the service sometimes delivers them.
import type { StoredItem } from './conversation-store.js';
import { DEFAULT_TRANSCRIPTION_DELAY_MS, transcriptionOutcome } from './faults.js';
import { UNINTELLIGIBLE } from './model.js';
import type { SessionContext } from './session-context.js';
import { textTokens } from './usage.js';

interface LateTranscript {
  run: () => void;
  fallback: NodeJS.Timeout;
}

export class Transcriber {
  private readonly late: LateTranscript[] = [];

  constructor(private readonly ctx: SessionContext) {}

  schedule(s: StoredItem): void {
    const { out, opts } = this.ctx;
    const t = opts.transcription;
    const delay = t.delayMs ?? DEFAULT_TRANSCRIPTION_DELAY_MS;
    const outcome = transcriptionOutcome(this.ctx.rng, t);
    const text = s.heard ?? UNINTELLIGIBLE;
    if (outcome === 'never') return;
    if (outcome === 'fail') {
      out.later(delay, () =>
        out.emit({
          type: 'conversation.item.input_audio_transcription.failed',
          event_id: out.eid(),
          item_id: s.item.id,
          content_index: 0,
          error: { type: 'server_error', code: 'transcription_failed', message: 'Input transcription failed for this item (injected fault).' },
        }),
      );
      return;
    }
    if (outcome === 'late') {
      const entry: LateTranscript = {
        run: () => {
          out.cancel(entry.fallback);
          out.later(delay, () => this.emitTranscript(s, text));
        },
        fallback: out.later(Math.max(2000, delay * 10), () => {
          const i = this.late.indexOf(entry);
          if (i >= 0) this.late.splice(i, 1);
          this.emitTranscript(s, text);
        }),
      };
      this.late.push(entry);
      return;
    }
    out.later(delay, () => this.emitTranscript(s, text));
  }

  /** An in-band response finished: late transcripts may come now. */
  releaseLate(): void {
    if (this.late.length) for (const l of this.late.splice(0)) l.run();
  }

  dispose(): void {
    for (const l of this.late) clearTimeout(l.fallback);
    this.late.length = 0;
  }

  private emitTranscript(s: StoredItem, text: string): void {
    const { out, cfg } = this.ctx;
    const words = text.split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i += 3) {
      const delta = (i > 0 ? ' ' : '') + words.slice(i, i + 3).join(' ');
      out.emit({ type: 'conversation.item.input_audio_transcription.delta', event_id: out.eid(), item_id: s.item.id, content_index: 0, delta });
    }
    const part = (s.item as { content?: Array<{ transcript?: string }> }).content?.[0];
    if (part) part.transcript = text;
    const model = cfg.transcription?.model ?? 'gpt-4o-mini-transcribe';
    const audioTokens = Math.ceil(s.audioMs / 100);
    const outTokens = textTokens(text);
    out.emit({
      type: 'conversation.item.input_audio_transcription.completed',
      event_id: out.eid(),
      item_id: s.item.id,
      content_index: 0,
      transcript: text,
      usage:
        model === 'whisper-1'
          ? { type: 'duration', seconds: Math.round(s.audioMs) / 1000 }
          : {
              type: 'tokens',
              input_tokens: audioTokens,
              output_tokens: outTokens,
              total_tokens: audioTokens + outTokens,
              input_token_details: { audio_tokens: audioTokens, text_tokens: 0 },
            },
    });
  }
}
