// The device probe must never crash the calling process, whatever the sound setup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudioDevices } from '../../adapters/audio-devices.js';
import { audioSkipReason, SHARED_AUDIO, startAudio, type AudioEnv } from '../helpers/audio-env.js';

const skip = audioSkipReason();
if (skip) console.warn(`[audio-devices] real-device case skipped: ${skip}`);

describe('audio device probe', () => {
  it('reports no devices, with a reason, when no sound server is reachable (speaker would abort)', async () => {
    const env = {
      ...process.env,
      ALSA_CONFIG_PATH: `${SHARED_AUDIO}/asound-pulse-only.conf`,
      PULSE_SERVER: 'unix:/nonexistent/pulse/native',
      PULSE_RUNTIME_PATH: '/nonexistent/pulse',
    };
    const t0 = Date.now();
    const p = await probeAudioDevices({ env });
    expect(p.mic).toBe(false);
    expect(p.speaker).toBe(false);
    expect(p.reason).toMatch(/no audio device|speaker|naudiodon/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  describe.skipIf(!!skip)(skip ? `with a private PulseAudio: SKIPPED, ${skip}` : 'with a private PulseAudio', () => {
    let audio: AudioEnv;
    beforeAll(() => {
      audio = startAudio('probe');
    });
    afterAll(() => audio?.stop());
    it('finds the microphone and the speaker', async () => {
      const p = await probeAudioDevices({ env: audio.env });
      expect(p).toMatchObject({ mic: true, speaker: true, reason: '' });
      expect(p.devices.join(' ')).toContain('default');
    });
  });
});
