// The audio plane: output audio, assistant and user transcript deltas and speech start/stop go from
// the transport to the caller's listeners directly, never through a machine. The session only hears coarse facts
// (AUDIO.MS, an item's audio length, at the end of an item).
import { PCM_BYTES_PER_MS } from '../protocol/constants.js';
import { unhandled, type AudioPlaneEventType } from '../protocol/event-registry.js';
import type { AudioDelta } from '../protocol/transport.js';
import type { WireEvent } from '../protocol/events.js';
import type { AgentEvents } from './handle.js';

export interface AudioPlane {
  /** An output audio delta (the transport's fast path). */
  audio(a: AudioDelta): void;
  /** An event the registry routes to the audio plane. */
  event(ev: WireEvent & { type: AudioPlaneEventType }): void;
  /** Output audio heard so far for an item (ms), for truncation at barge-in. */
  outputMs(itemId: string): number;
  forget(itemId: string): void;
  clear(): void;
}

export function createAudioPlane(
  fire: <K extends keyof AgentEvents>(name: K, payload: AgentEvents[K]) => void,
  audioMs: (itemId: string, ms: number) => void,
): AudioPlane {
  const outputBytes = new Map<string, number>();
  const speechStart = new Map<string, number>();
  const outputMs = (itemId: string) => Math.round((outputBytes.get(itemId) ?? 0) / PCM_BYTES_PER_MS);
  return {
    audio(a) {
      outputBytes.set(a.itemId, (outputBytes.get(a.itemId) ?? 0) + a.pcm.length);
      fire('audio', a);
    },
    event(ev) {
      const itemId = typeof ev.item_id === 'string' ? ev.item_id : '';
      const responseId = typeof ev.response_id === 'string' ? ev.response_id : '';
      switch (ev.type) {
        case 'response.output_audio.delta':
          // Normally taken by the transport's fast path; a slow-path delta is still audio.
          if (typeof ev.delta === 'string') this.audio({ itemId, responseId, pcm: Buffer.from(ev.delta, 'base64') });
          break;
        case 'response.output_audio_transcript.delta':
        case 'response.output_text.delta':
          if (typeof ev.delta === 'string') fire('assistant.delta', { itemId, responseId, delta: ev.delta });
          break;
        case 'response.output_audio.done':
          // No delta seen (realtime-proxy forwards them unseen): the length is unknown, not zero; the
          // session then takes it from the response's billed audio tokens.
          if (outputBytes.has(itemId)) audioMs(itemId, outputMs(itemId));
          fire('audio.done', { itemId, responseId });
          break;
        case 'conversation.item.input_audio_transcription.delta':
          // Shown as it streams (also before its item exists); the turn's text waits for the completed
          // transcript, which the session machine mirrors. Not journaled (only final text is).
          if (itemId) fire('transcript', { itemId, text: typeof ev.delta === 'string' ? ev.delta : '', final: false, source: 'event' });
          break;
        case 'input_audio_buffer.speech_started': {
          const ms = typeof ev.audio_start_ms === 'number' ? ev.audio_start_ms : 0;
          speechStart.set(itemId, ms);
          fire('speech.started', { itemId, audioStartMs: ms });
          break;
        }
        case 'input_audio_buffer.speech_stopped': {
          const end = typeof ev.audio_end_ms === 'number' ? ev.audio_end_ms : 0;
          const start = speechStart.get(itemId) ?? end;
          speechStart.delete(itemId);
          audioMs(itemId, Math.max(0, end - start));
          fire('speech.stopped', { itemId, audioEndMs: end });
          break;
        }
        default:
          unhandled(ev.type);
      }
    },
    outputMs,
    forget(itemId) {
      outputBytes.delete(itemId);
    },
    clear() {
      outputBytes.clear();
    },
  };
}
