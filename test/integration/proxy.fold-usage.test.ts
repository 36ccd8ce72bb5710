// Issue 27 item 14 (second half): with input transcription off no transcript will come, so the engine
// must fold on the server's usage alone instead of waiting for transcripts that never arrive (it let
// the window overshoot the trigger by about 60%). A raw client speaks audio turns through the real
// proxy to the emulator with `transcription: null`; the oracle is the usage the service reports in
// each response.done (input_tokens, the window that response saw), as the client receives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, audioTurn, type Ev } from '../helpers/emulator-client.js';
import { proxyOnEmulator, type ProxyRig } from '../helpers/proxy-rig.js';

const TRIGGER = 1_500;
const TARGET = 700;
const TURNS = Number(process.env.FOLD_TURNS ?? 40);
// The policy's transcript wait (the default policy waits 3,000 ms; 500 keeps the test short).
const WAIT_MS = Number(process.env.FOLD_WAIT_MS ?? 500);

let rig: ProxyRig;
const events: Record<string, unknown>[] = [];

beforeAll(async () => {
  rig = await proxyOnEmulator(
    { seed: 14, replyWords: 30 },
    {
      engine: { policy: { triggerTokens: TRIGGER, targetTokens: TARGET, keepLastTurns: 2, transcriptWaitMs: WAIT_MS }, reconnect: false },
      onEvent: (e) => events.push(e),
    },
  );
});

afterAll(async () => {
  await rig?.close();
});

describe('transcription off: the window folds on usage alone', () => {
  it(`the window stays within the trigger plus one turn over ${TURNS} audio turns`, async () => {
    const c = await RawClient.connect(rig.proxy.url, { key: 'anything' });
    await c.waitFor('session.created');
    const updated = await c.request(
      { type: 'session.update', session: { type: 'realtime', output_modalities: ['text'], audio: { input: { transcription: null, turn_detection: null } } } },
      (e) => e.type === 'session.updated' || e.type === 'error',
    );
    expect(updated.type).toBe('session.updated');
    const windows: number[] = [];
    if (process.env.FOLD_DEBUG) {
      const cn = rig.proxy.connections()[0];
      cn.agent.actor.on('summariser', (e) => console.log(Date.now() % 100000, 'summariser', e.state, 'turn', windows.length, 'transcribing', (cn.agent.actor.getSnapshot().context as { transcribing?: boolean }).transcribing));
    }
    for (let t = 1; t <= TURNS; t++) {
      const { done } = await audioTurn(c, `turn ${t}: tell me something about the number ${t} and why it matters`, 1_500);
      expect((done as Ev).response.status).toBe('completed');
      windows.push(done.response.usage.input_tokens as number);
      // The pace of a fast talker: a second of silence between turns, not a flood.
      await new Promise((r) => setTimeout(r, 100));
    }
    const conn = rig.proxy.connections()[0];
    await conn.agent.idle();
    // No transcript event reached the client: it turned transcription off.
    expect(c.events.some((e) => e.type.startsWith('conversation.item.input_audio_transcription'))).toBe(false);
    const summaries = events.filter((e) => e.type === 'summary').length;
    expect(summaries).toBeGreaterThanOrEqual(1);
    // A turn's weight is what it added to the next response's input; the largest is the tolerance.
    const turnTokens = windows.slice(1).map((w, i) => w - windows[i]).filter((d) => d > 0);
    const maxWindow = Math.max(...windows);
    const tolerance = TRIGGER + Math.max(...turnTokens);
    if (process.env.FOLD_DEBUG) console.log(windows.join(" "));
    console.log(`transcription off: max window ${maxWindow} / trigger ${TRIGGER} = ${(maxWindow / TRIGGER).toFixed(2)} (overshoot ${Math.round((maxWindow / TRIGGER - 1) * 100)}%), one turn ${Math.max(...turnTokens)}, summaries ${summaries}`);
    expect(maxWindow).toBeLessThanOrEqual(tolerance);
    c.close();
  }, 120_000);
});
