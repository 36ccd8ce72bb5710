# Source this in every shell or test process that talks to the private test sound server:
#   . test/audio-kit/audio-env.sh
# AUDIO_DIR holds the daemon's socket, pid file, cookie and logs; override it to run several at once.
export AUDIO_DIR="${AUDIO_DIR:-${TMPDIR:-/tmp}/rt-audio}"
export PULSE_RUNTIME_PATH="$AUDIO_DIR/pulse"
export PULSE_STATE_PATH="$AUDIO_DIR/pulse/state"
export PULSE_COOKIE="$AUDIO_DIR/pulse/cookie"
export PULSE_SERVER="unix:$AUDIO_DIR/pulse/native"
# ALSA "default" and "pulse" both go to PulseAudio, and nothing else is probed.
export ALSA_CONFIG_PATH="$(cd "$(dirname "${BASH_SOURCE:-$0}")" 2>/dev/null && pwd)/asound-pulse-only.conf"
