// Picks input and output: explicit choices are honoured (a missing device is a one-line error);
// the default is mic + speaker when the safe child-process probe finds them, else text, and the
// banner says which and why.
import { probeAudioDevices, type DeviceProbe } from '../../adapters/audio-devices.js';
import { AgentError } from '../errors.js';
import type { CliOptions } from './args.js';

export type InputChoice = { kind: 'mic' } | { kind: 'text' } | { kind: 'wav'; path: string };
export type OutputChoice = { kind: 'speaker' } | { kind: 'text' } | { kind: 'wav'; path: string };

export interface IoChoice {
  input: InputChoice;
  output: OutputChoice;
  /** Mute the mic while the assistant speaks. */
  halfDuplex: boolean;
  /** What the banner says about input/output. */
  note: string;
}

function parseIn(s: string): InputChoice {
  return s.startsWith('wav:') ? { kind: 'wav', path: s.slice(4) } : { kind: s as 'mic' | 'text' };
}
function parseOut(s: string): OutputChoice {
  return s.startsWith('wav:') ? { kind: 'wav', path: s.slice(4) } : { kind: s as 'speaker' | 'text' };
}

export function describe(c: InputChoice | OutputChoice): string {
  return c.kind === 'wav' ? `wav:${c.path}` : c.kind;
}

export async function chooseIo(o: CliOptions, probe: () => Promise<DeviceProbe> = probeAudioDevices): Promise<IoChoice> {
  const wantIn = o.input ? parseIn(o.input) : null;
  const wantOut = o.output ? parseOut(o.output) : null;
  const needProbe = !wantIn || !wantOut || wantIn.kind === 'mic' || wantOut.kind === 'speaker';
  const p = needProbe ? await probe() : { mic: false, speaker: false, reason: '', devices: [] };
  if (wantIn?.kind === 'mic' && !p.mic) {
    throw new AgentError('device_missing', `--input mic: no microphone (${p.reason || 'probe failed'}); use --input text or wav:PATH`, true);
  }
  if (wantOut?.kind === 'speaker' && !p.speaker) {
    throw new AgentError('device_missing', `--output speaker: no speaker (${p.reason || 'probe failed'}); use --output text or wav:PATH`, true);
  }
  const input: InputChoice = wantIn ?? (p.mic && p.speaker ? { kind: 'mic' } : { kind: 'text' });
  const output: OutputChoice = wantOut ?? (p.speaker && (input.kind === 'mic' || p.mic) ? { kind: 'speaker' } : { kind: 'text' });
  const notes: string[] = [`input ${describe(input)}, output ${describe(output)}`];
  if ((!wantIn && input.kind === 'text') || (!wantOut && output.kind === 'text')) {
    notes.push(`no audio devices: ${p.reason || 'not found'}`);
  } else if (!wantIn || !wantOut) {
    notes.push('audio devices found');
  }
  const duplex = input.kind === 'mic' && output.kind === 'speaker';
  const halfDuplex = duplex && !o.headphones;
  if (duplex) notes.push(halfDuplex ? 'half duplex: the mic is muted while the assistant speaks (--headphones to interrupt)' : 'full duplex (headphones): speak to interrupt');
  return { input, output, halfDuplex, note: notes.join('; ') };
}
