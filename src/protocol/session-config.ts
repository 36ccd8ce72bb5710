// SessionSettings -> the GA `session.update` payload (beta is derived from it at the edge).
import type { FunctionDeclaration, ToolChoice } from '../tools/types.js';
import { PCM_SAMPLE_RATE } from './constants.js';

export type TurnDetection = 'server_vad' | 'semantic_vad' | null | Record<string, unknown>;

export interface SessionSettings {
  instructions?: string;
  voice?: string;
  /** Input transcription model; null disables transcription. */
  transcriptionModel?: string | null;
  turnDetection?: TurnDetection;
  outputModalities?: ['audio'] | ['text'];
  /** Server-side safety net (GA only): 'auto' | 'disabled' | { retentionRatio } */
  truncation?: 'auto' | 'disabled' | { retentionRatio: number; postInstructionsTokens?: number };
  /** Anything else to merge into the GA session.update (advanced). */
  extra?: Record<string, unknown>;
}

/** Tools for session.update: declarations and tool_choice (default "auto"). */
export interface SessionTools {
  declarations: readonly FunctionDeclaration[];
  toolChoice?: ToolChoice;
}

export const DEFAULT_INSTRUCTIONS =
  'You are a helpful voice assistant. Keep answers short and natural. A system message at the start of the conversation may summarise earlier turns: treat it as what was said before, do not greet again.';

export function buildSessionConfig(s: SessionSettings = {}, tools?: SessionTools): Record<string, unknown> {
  const turnDetection =
    s.turnDetection === undefined || s.turnDetection === 'server_vad'
      ? { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true }
      : s.turnDetection === 'semantic_vad'
        ? { type: 'semantic_vad', eagerness: 'auto', create_response: true, interrupt_response: true }
        : s.turnDetection;
  const transcription = s.transcriptionModel === null ? null : { model: s.transcriptionModel ?? 'gpt-4o-mini-transcribe' };
  const session: Record<string, unknown> = {
    type: 'realtime',
    instructions: s.instructions ?? DEFAULT_INSTRUCTIONS,
    output_modalities: s.outputModalities ?? ['audio'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: PCM_SAMPLE_RATE },
        transcription,
        turn_detection: turnDetection,
      },
      output: {
        format: { type: 'audio/pcm', rate: PCM_SAMPLE_RATE },
        voice: s.voice ?? 'marin',
      },
    },
  };
  if (s.truncation !== undefined) {
    session.truncation =
      typeof s.truncation === 'string'
        ? s.truncation
        : {
            type: 'retention_ratio',
            retention_ratio: s.truncation.retentionRatio,
            ...(s.truncation.postInstructionsTokens ? { token_limits: { post_instructions: s.truncation.postInstructionsTokens } } : {}),
          };
  }
  if (tools && tools.declarations.length > 0) {
    session.tools = tools.declarations.map((d) => ({ ...d }));
    session.tool_choice = tools.toolChoice ?? 'auto';
  }
  return { ...session, ...(s.extra ?? {}) };
}
