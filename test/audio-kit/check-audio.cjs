'use strict';
// Safe pre-flight checks for "is there a usable audio device?" that never crash the calling process.
// usage: node check-audio.js     -> prints JSON, exit 0 if capture+playback look usable, 1 otherwise
// or:    const { checkAudio } = require('./test/audio-kit/check-audio.cjs'); run from the project root (it loads naudiodon and speaker from there)
const { spawnSync } = require('child_process');

function checkAudio({ probeSpeaker = true } = {}) {
  const res = {};
  // 1) PortAudio (naudiodon) enumeration, in a CHILD process. With the stock Debian ALSA config and no
  //    card / no reachable PulseAudio it just returns [] (no abort), but PortAudio 19.6's ALSA
  //    BuildDeviceList can itself abort (assert devIdx < numDeviceNames) with unusual configs, e.g. one
  //    that defines pcm.pulse but no pcm.default. 'default' with output channels > 0 means
  //    snd_pcm_open("default") works, which is exactly what `speaker` needs at require() time.
  const d = spawnSync(process.execPath, ['-e',
    "process.stdout.write(JSON.stringify(require('naudiodon').getDevices()))"], { encoding: 'utf8', timeout: 10000, cwd: process.cwd() });
  let devices = [];
  if (d.status === 0) {
    try { devices = JSON.parse(d.stdout); } catch (e) { res.naudiodonError = 'unparsable output'; }
  } else {
    res.naudiodonError = { status: d.status, signal: d.signal, stderrTail: (d.stderr || '').trim().split('\n').slice(-2) };
  }
  res.devices = devices.map((x) => `${x.id}:${x.name}(in ${x.maxInputChannels}/out ${x.maxOutputChannels})`);
  const def = devices.find((x) => x.name === 'default');
  res.defaultInput = !!(def && def.maxInputChannels > 0);
  res.defaultOutput = !!(def && def.maxOutputChannels > 0);
  // 2) Out-of-process, definitive for `speaker`: its native Init opens ALSA "default" and calls
  //    abort() (SIGABRT, exit 134) if that fails, so only ever try it in a child process.
  if (probeSpeaker) {
    const r = spawnSync(process.execPath, ['-e', "require('speaker')"], { encoding: 'utf8', timeout: 10000, cwd: process.cwd() });
    res.speakerLoads = r.status === 0;
    if (!res.speakerLoads) res.speakerProbe = { status: r.status, signal: r.signal, stderrTail: (r.stderr || '').trim().split('\n').slice(-2) };
  }
  // 3) Optional: is the PulseAudio server reachable? (pactl from pulseaudio-utils)
  const p = spawnSync('pactl', ['info'], { encoding: 'utf8', timeout: 5000 });
  res.pulse = p.error ? `pactl not available (${p.error.code})` : p.status === 0
    ? Object.fromEntries(p.stdout.split('\n').filter((l) => /^(Server String|Default Sink|Default Source):/.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]))
    : `unreachable (${(p.stderr || '').trim()})`;
  res.ok = res.defaultInput && res.defaultOutput && (!probeSpeaker || res.speakerLoads);
  return res;
}

module.exports = { checkAudio };
if (require.main === module) {
  const r = checkAudio();
  console.log(JSON.stringify(r, null, 1));
  process.exit(r.ok ? 0 : 1);
}
