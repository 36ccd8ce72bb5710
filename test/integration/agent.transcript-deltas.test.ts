// User transcription deltas are display only: the registry routes them to the agent's audio plane
// (issue 23: through the session machine each cost a full macrostep). What a listener sees must not
// change: every delta the server streams arrives as a non-final `transcript` for the user's item, in
// order, before the final transcript, and the turn's text is still the completed transcript.
import { afterEach, describe, expect, it } from 'vitest';
import type { TranscriptEvent } from '../../src/types.js';
import { next, rig, speak, type Rig } from '../helpers/engine.js';

let current: Rig | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

describe('user transcription deltas', () => {
  it('are shown as non-final transcripts of the user item, in order, then the final transcript', async () => {
    const r = (current = await rig());
    await r.agent.start();
    const heard = 'the quick brown fox jumps over the lazy dog again';
    await speak(r, heard);
    await next(r, 'transcript', (p) => p.final);
    const user = r.agent.history().find((t) => t.role === 'user')!;
    const shown = r.events.filter((e) => e.name === 'transcript').map((e) => e.payload as TranscriptEvent);
    const deltas = shown.filter((t) => !t.final);
    // The emulator streams the transcription in deltas of three words (the service streams pieces too).
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    for (const d of deltas) expect(d).toMatchObject({ itemId: user.id, final: false, source: 'event' });
    expect(deltas.map((d) => d.text).join('')).toBe(heard);
    const finalAt = shown.findIndex((t) => t.final);
    expect(shown.slice(finalAt + 1).some((t) => !t.final)).toBe(false);
    expect(shown[finalAt]).toMatchObject({ itemId: user.id, text: heard, final: true });
    expect(user).toMatchObject({ text: heard, textState: 'final' });
  });
});
