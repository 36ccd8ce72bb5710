// What the user says while the connection switches (reconnect, rollover) is kept, in order, and
// delivered once the new session is live: audio (bounded, oldest dropped first), commits and text.
import { PCM_BYTES_PER_MS } from '../protocol/constants.js';

export type Held = { kind: 'audio'; pcm: Buffer } | { kind: 'commit' } | { kind: 'text'; text: string };

export interface HoldBuffer {
  readonly size: number;
  /** A text or commit is held: a turn that will ask for a response once the session is live. */
  readonly turns: number;
  hold(h: Held): void;
  /** Everything held, in order; the buffer is empty afterwards. */
  drain(): Held[];
}

/** `maxAudioMs` of pcm16 24 kHz audio at most (default one minute); `onOverflow` once per overflow run. */
export function createHoldBuffer(onOverflow: () => void, maxAudioMs = 60_000): HoldBuffer {
  const maxBytes = maxAudioMs * PCM_BYTES_PER_MS;
  let held: Held[] = [];
  let bytes = 0;
  let turns = 0;
  let warned = false;
  return {
    get size() {
      return held.length;
    },
    get turns() {
      return turns;
    },
    hold(h) {
      held.push(h);
      if (h.kind !== 'audio') {
        turns++;
        return;
      }
      bytes += h.pcm.length;
      while (bytes > maxBytes) {
        const i = held.findIndex((x) => x.kind === 'audio');
        if (i < 0) break;
        bytes -= (held[i] as { pcm: Buffer }).pcm.length;
        held.splice(i, 1);
        if (!warned) onOverflow();
        warned = true;
      }
    },
    drain() {
      const items = held;
      held = [];
      bytes = 0;
      turns = 0;
      return items;
    },
  };
}
