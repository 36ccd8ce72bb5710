// Real audio end to end: a private PulseAudio with two null sinks stands in for the sound card.
// espeak-ng speech is played into the microphone sink, the real CLI captures it with naudiodon and
// streams it to the emulator (the test queues the transcript hint), and the assistant's audio is
// recorded from the speaker sink's monitor. Barge-in: speech during playback must stop the speaker
// within 200 ms, and the truncate on the wire must carry the milliseconds actually heard.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { audioSkipReason, makeSpeech, playIntoMic, SpeakerRecorder, startAudio, type AudioEnv } from '../helpers/audio-env.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/audio-proxy.js';
import { cleanEnv, spawnCli, type CliProcess } from '../helpers/cli-run.js';

const skip = audioSkipReason();
if (skip) console.warn(`[audio.e2e] skipped: ${skip}`);

const KEY = 'audio-test-key-1234';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!!skip)(skip ? `real audio devices (PulseAudio null sinks): SKIPPED, ${skip}` : 'real audio devices (PulseAudio null sinks)', () => {
  let audio: AudioEnv;
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let proxy: RecordingProxy;
  const dir = mkdtempSync(join(tmpdir(), 'audio-e2e-'));
  const speech: Record<string, { path: string; ms: number; text: string }> = {};

  beforeAll(async () => {
    audio = startAudio('e2e');
    emu = await startEmulator({ port: 0, host: '127.0.0.1', apiKey: KEY, audioPacing: 'realtime', replyWords: 18 });
    proxy = await startRecordingProxy(emu.url);
    for (const [name, text] of [
      ['book', 'Please book a table for two at seven tonight.'],
      ['stop', 'Stop, wait a moment please.'],
    ] as const) {
      const path = join(dir, `${name}.wav`);
      speech[name] = { path, text, ms: makeSpeech(text, path) };
    }
  }, 30_000);

  afterAll(async () => {
    await proxy?.close();
    await emu?.close();
    audio?.stop();
  });

  async function startAgent(extra: string[]): Promise<{ cli: CliProcess; rec: SpeakerRecorder; since: number }> {
    const rec = new SpeakerRecorder(audio.env);
    await rec.ready; // an idle null sink's monitor starts late: record before anything plays
    const since = performance.now();
    const cli = spawnCli(['--url', proxy.url, '--api-key', KEY, '--input', 'mic', '--output', 'speaker', '--json', '--no-journal', '--debug', ...extra], {
      env: cleanEnv(audio.env),
      stdin: 'pipe',
    });
    await cli.waitText(/listening: speak now/, 20_000);
    return { cli, rec, since };
  }

  async function stopAgent(cli: CliProcess): Promise<void> {
    const t0 = Date.now();
    cli.proc.kill('SIGINT');
    const r = await cli.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000); // devices released and socket closed within 2 s
  }

  const audioMs = (responseId: string) =>
    proxy.find('server', 'response.output_audio.delta').filter((r) => r.event.response_id === responseId).reduce((a, r) => a + (r.event.delta as number), 0) / 48;

  it('streams microphone speech to the server and plays the whole reply on the speaker (half duplex: no self-interruption)', async () => {
    const { cli, rec, since } = await startAgent([]); // mic + speaker: half duplex by default
    try {
      emu.hint(speech.book.text);
      await playIntoMic(audio.env, speech.book.path);
      const transcript = await cli.waitJson((e) => e.type === 'transcript' && e.final === true, 15_000);
      expect(transcript.text).toBe(speech.book.text);
      const appended = proxy.find('client', 'input_audio_buffer.append').filter((r) => r.at >= since);
      const sentMs = appended.reduce((a, r) => a + (r.event.audio as number), 0) / 48;
      expect(appended.every((r) => r.event.audio === 1920)).toBe(true); // 40 ms chunks
      expect(sentMs).toBeGreaterThan(speech.book.ms * 0.9);
      // Half duplex: speech while the assistant talks is not heard (the mic sends silence), so no barge-in.
      const firstDelta = await proxy.waitFor('server', 'response.output_audio.delta', 20_000, since);
      await sleep(800);
      await playIntoMic(audio.env, speech.stop.path);
      const done = await proxy.waitFor('server', 'response.done', 20_000, since);
      expect(proxy.find('server', 'input_audio_buffer.speech_started').filter((r) => r.at > firstDelta.at)).toEqual([]);
      expect((done.event.response as { status: string }).status).toBe('completed');
      const resp = (done.event.response as { id: string }).id;
      const expectMs = audioMs(resp);
      expect(expectMs).toBeGreaterThan(2000);
      // Let playback finish (it started as deltas arrived, so it ends soon after response.done).
      await sleep(1200);
      const segs = rec.segments();
      expect(segs.length, JSON.stringify(segs)).toBeGreaterThan(0);
      const played = segs.at(-1)!.endMs - segs[0].startMs;
      console.log(`[audio.e2e] reply: sent ${Math.round(expectMs)} ms, recorded ${played} ms from the speaker sink`);
      expect(Math.abs(played - expectMs)).toBeLessThan(400);
      // Streamed, not played after response.done: the first sound came well before the end of the response.
      const firstSound = rec.wallAt(segs[0].startMs * 48);
      expect(firstSound).toBeLessThan(done.at - 1000);
    } finally {
      await stopAgent(cli);
      rec.stop();
    }
  }, 60_000);

  it('barge-in: speech during playback stops it within 200 ms and truncates at the played milliseconds', async () => {
    const { cli, rec, since } = await startAgent(['--headphones']); // full duplex, so speech can interrupt
    try {
      emu.hint(speech.book.text);
      await playIntoMic(audio.env, speech.book.path);
      await proxy.waitFor('server', 'response.output_audio.delta', 20_000, since);
      await sleep(1800); // the assistant is speaking
      emu.hint(speech.stop.text);
      const playing = playIntoMic(audio.env, speech.stop.path);
      const started = await proxy.waitFor('server', 'input_audio_buffer.speech_started', 10_000, performance.now());
      const truncate = await proxy.waitFor('client', 'conversation.item.truncate', 5_000, started.at);
      await playing;
      await sleep(800);
      const segs = rec.segments();
      expect(segs.length, JSON.stringify(segs)).toBeGreaterThan(0);
      const reply = segs[0];
      const stopLagMs = reply.endWall - started.at;
      const heardMs = reply.endMs - reply.startMs;
      const truncMs = truncate.event.audio_end_ms as number;
      console.log(`[audio.e2e] barge-in: playback stopped ${Math.round(stopLagMs)} ms after speech_started; recorded ${heardMs} ms, truncate audio_end_ms ${truncMs}`);
      // Playback was still going when speech started (not a reply that had simply ended), and stopped within 200 ms.
      expect(stopLagMs).toBeGreaterThan(-150); // measurement jitter of the monitor stream
      expect(stopLagMs).toBeLessThan(200);
      const resp = truncate.event.item_id ? proxy.find('server', 'response.output_audio.delta').find((r) => r.event.item_id === truncate.event.item_id) : undefined;
      expect(resp).toBeDefined();
      // The reply was cut mid-stream: its response ends cancelled, not completed.
      const cutDone = await proxy.waitFor('server', 'response.done', 5_000, started.at);
      expect((cutDone.event.response as { id: string; status: string })).toMatchObject({ id: resp!.event.response_id, status: 'cancelled' });
      expect(Number.isInteger(truncMs)).toBe(true);
      expect(Math.abs(truncMs - heardMs)).toBeLessThan(100);
      // Nothing of the cut reply plays afterwards (later segments would be a new reply, after the user's turn).
      const later = segs.slice(1).filter((s) => rec.wallAt(s.startMs * 48) < started.at + 1000);
      expect(later).toEqual([]);
      const item = truncate.event.item_id as string;
      const turn = await cli.waitJson((e) => e.type === 'turn' && e.id === item && typeof e.heardMs === 'number', 5_000);
      expect(turn.heardMs).toBe(truncMs);
    } finally {
      await stopAgent(cli);
      rec.stop();
    }
  }, 60_000);
});
