// Fault injection and transcription behaviour: configuration plus the seeded dice.
import type { Rng } from './rng.js';

export interface TranscriptionOptions {
  /** Delay between commit and the first transcription event (ms). Default 150. */
  delayMs?: number;
  /** Probability that transcription fails (`...input_audio_transcription.failed`). Default 0. */
  failProbability?: number;
  /** Probability that no transcription event ever arrives. Default 0. */
  neverProbability?: number;
  /** Probability that transcription completes only after the next in-band response.done. Default 0. */
  lateProbability?: number;
}

export interface FaultOptions {
  /** Terminate each session's socket (no close frame) after it has sent this many server events. */
  dropAfterEvents?: number;
  /** Fail `conversation.item.delete`: true = every delete, or only these item ids. */
  failDeletes?: boolean | string[];
  /** The first N responses of each session fail with a rate-limit `status: "failed"`. */
  rateLimitResponses?: number;
}

export type TranscriptionOutcome = 'complete' | 'late' | 'fail' | 'never';

export const DEFAULT_TRANSCRIPTION_DELAY_MS = 150;

/** Decides the fate of one transcription; the order of the dice is fixed for reproducibility. */
export function transcriptionOutcome(rng: Rng, o: TranscriptionOptions): TranscriptionOutcome {
  const roll = rng.next();
  const never = o.neverProbability ?? 0;
  const fail = o.failProbability ?? 0;
  const late = o.lateProbability ?? 0;
  if (roll < never) return 'never';
  if (roll < never + fail) return 'fail';
  if (roll < never + fail + late) return 'late';
  return 'complete';
}

export function deleteShouldFail(f: FaultOptions | undefined, id: string): boolean {
  if (!f?.failDeletes) return false;
  return f.failDeletes === true || f.failDeletes.includes(id);
}

export function rateLimitMessage(model: string): string {
  return `Rate limit reached for ${model} in organization org-emulator on tokens per min (TPM): Limit 40000, Used 40000, Requested 1200. Please try again in 1.8s. (injected fault)`;
}
