// The audio plane of the CLI: microphone -> agent.appendAudio, agent audio -> speaker or WAV, and
// barge-in. Audio goes straight between adapters and the agent's socket, never through a machine;
// the agent only hears coarse facts (interrupt with the milliseconds actually played).
import { openMicrophone, CHUNK_BYTES, type Microphone } from '../../adapters/microphone.js';
import { openSpeaker, type SpeakerOut } from '../../adapters/speaker.js';
import { readWav, WavWriter } from '../../adapters/wav.js';
import { AgentError } from '../errors.js';
import { PCM_BYTES_PER_MS } from '../protocol/constants.js';
import type { RealtimeAgent } from '../types.js';
import type { OutputChoice } from './io.js';

/** After playback drains, keep the mic muted a little longer: the room (or sink) still rings. */
const ECHO_TAIL_MS = 250;

export interface OutputPlane {
  speaker: SpeakerOut | null;
  /** Hook for half duplex: called with true when playback starts and false when it has drained. */
  onPlaying(fn: (playing: boolean) => void): void;
  close(): Promise<void>;
}

export interface PlaneOptions {
  log: (line: string) => void;
  onFatal: (e: AgentError) => void;
}

export async function startOutput(agent: RealtimeAgent, choice: OutputChoice, o: PlaneOptions): Promise<OutputPlane> {
  const listeners: Array<(p: boolean) => void> = [];
  const notify = (p: boolean) => listeners.forEach((f) => f(p));
  if (choice.kind === 'text') {
    return { speaker: null, onPlaying: () => undefined, close: async () => undefined };
  }
  if (choice.kind === 'wav') {
    let wav: WavWriter;
    try {
      wav = new WavWriter(choice.path);
    } catch (e) {
      throw new AgentError('bad_input', `--output ${describePath(choice.path)}: ${(e as Error).message}`, true);
    }
    const off = agent.on('audio', (a) => wav.write(a.pcm));
    return {
      speaker: null,
      onPlaying: () => undefined,
      close: async () => {
        off();
        wav.close();
      },
    };
  }
  let playing = false;
  const speaker = await openSpeaker({
    onDrained: () => {
      playing = false;
      notify(false);
    },
    onError: (e) => o.onFatal(new AgentError('device_missing', `speaker: ${e.message}`, true)),
  });
  // Items cut by a barge-in: their late deltas must not start playing again.
  const cut = new Set<string>();
  const offs = [
    agent.on('audio', (a) => {
      if (cut.has(a.itemId)) return;
      speaker.write(a.pcm, a.itemId);
      if (!playing) {
        playing = true;
        notify(true);
      }
    }),
    agent.on('speech.started', () => {
      if (!speaker.playing()) return;
      const r = speaker.stop();
      if (!r.itemId) return;
      cut.add(r.itemId);
      o.log(`barge-in: stopped ${r.itemId} after ${r.playedMs} ms`);
      agent.interrupt({ itemId: r.itemId, playedMs: r.playedMs });
    }),
  ];
  return {
    speaker,
    onPlaying: (fn) => listeners.push(fn),
    close: async () => {
      offs.forEach((f) => f());
      await speaker.close();
    },
  };
}

export async function startMic(agent: RealtimeAgent, out: OutputPlane, halfDuplex: boolean, o: PlaneOptions): Promise<Microphone> {
  let mic: Microphone;
  try {
    mic = await openMicrophone({
      onChunk: (pcm) => agent.appendAudio(pcm),
      onError: (e) => o.onFatal(new AgentError('device_missing', e.message, true)),
      log: o.log,
    });
  } catch (e) {
    throw new AgentError('device_missing', (e as Error).message, true);
  }
  if (halfDuplex) {
    let tail: NodeJS.Timeout | null = null;
    out.onPlaying((p) => {
      if (tail) clearTimeout(tail);
      tail = null;
      if (p) mic.muted = true;
      else tail = setTimeout(() => (mic.muted = false), ECHO_TAIL_MS);
    });
  }
  return mic;
}

/** One user turn from a WAV file: converted to 24 kHz mono pcm16, appended in 40 ms chunks, committed. */
export function sendWavTurn(agent: RealtimeAgent, path: string, log: (l: string) => void): number {
  let pcm: Buffer;
  try {
    const w = readWav(path);
    if (w.converted) {
      log(`${path}: converted ${w.info.sampleRate} Hz, ${w.info.channels} channel(s), ${w.info.bitsPerSample}-bit to 24 kHz mono pcm16`);
    }
    pcm = w.pcm;
  } catch (e) {
    const msg = (e as Error).message;
    const own = msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg.startsWith(`${path} `) ? `the file ${msg.slice(path.length + 1)}` : msg;
    throw new AgentError('bad_input', `--input wav:${path}: ${own}`, true);
  }
  if (pcm.length < 4800) throw new AgentError('bad_input', `--input wav:${path}: shorter than 100 ms; the server needs at least 100 ms of audio`, true);
  for (let off = 0; off < pcm.length; off += CHUNK_BYTES) agent.appendAudio(pcm.subarray(off, off + CHUNK_BYTES));
  agent.commitAudio();
  return Math.round(pcm.length / PCM_BYTES_PER_MS);
}

function describePath(p: string): string {
  return `wav:${p}`;
}
