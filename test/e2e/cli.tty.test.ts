// Text mode in a real terminal, tested as a person would use it: tmux runs the real CLI (on the
// embedded emulator) in a pseudo-terminal, keys are typed with send-keys and the screen is read with
// capture-pane. Issue 10: typed text used to land on the status line and stay there; now it is on
// its own prompt line below the status line, and the echoed line is replaced by the turn itself.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliCommand } from '../helpers/cli-run.js';

const tmuxVersion = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
const skipReason = tmuxVersion.status === 0 ? '' : 'tmux is not installed (apt-get install tmux; .ci/run installs it)';
if (skipReason) console.log(`[cli.tty] skipped: ${skipReason}`);

const SOCKET = `rc-tty-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8', env: cleanEnv() });
const screen = (): string[] => tmux('capture-pane', '-p', '-t', 'cli').stdout.split('\n').map((l) => l.trimEnd());
const nonEmpty = () => screen().filter((l) => l !== '');
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function until(what: string, ok: (lines: string[]) => boolean, ms = 20_000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const lines = nonEmpty();
    if (ok(lines)) return lines;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The live status line ends with the agent's public state (agent.state) once it is known.
const STATUS = /^window [≈\d,]+ \/ 500 \[[#.]{20}\] \d+% · cost \$\d+\.\d{4}( · (listening|thinking|speaking|summarising))?$/;

describe.skipIf(!!skipReason)('text mode in a terminal (tmux)', () => {
  afterAll(() => {
    tmux('kill-server');
  });

  it('typed text is on the prompt line below the status line, never on the status line', async () => {
    const cmd = [...cliCommand(), '--input', 'text', '--output', 'text', '--no-journal', '--no-color', '--trigger', '500', '--target', '100'].map(sh).join(' ');
    const started = tmux('new-session', '-d', '-s', 'cli', '-x', '160', '-y', '40', `${cmd}; echo "exited with $?"; sleep 60`);
    expect(started.status, started.stderr).toBe(0);
    await until('the prompt', (l) => l.at(-1) === 'you>');

    tmux('send-keys', '-t', 'cli', '-l', 'Hello there');
    tmux('send-keys', '-t', 'cli', 'Enter');
    let lines = await until('the first reply and the status line', (l) => l.some((x) => x.startsWith('assistant: You said: Hello there')) && STATUS.test(l.at(-2) ?? '') && l.at(-1) === 'you>');
    // The echoed "you> Hello there" was replaced by the turn as the view prints it.
    expect(lines.filter((l) => l.includes('Hello there') && l.startsWith('you'))).toEqual(['you: Hello there']);

    // Typed, not sent: on the prompt line; the status line above it is untouched.
    tmux('send-keys', '-t', 'cli', '-l', 'Tell me a joke');
    lines = await until('the typed text on the prompt line', (l) => l.at(-1) === 'you> Tell me a joke');
    expect(lines.at(-2)).toMatch(STATUS);
    expect(lines.filter((l) => l.includes('Tell me a joke'))).toEqual(['you> Tell me a joke']);

    // Sent: the turn is printed once, the reply follows, the status line and an empty prompt return.
    tmux('send-keys', '-t', 'cli', 'Enter');
    lines = await until('the second reply', (l) => l.some((x) => x.startsWith('assistant: You said: Tell me a joke')) && l.at(-1) === 'you>' && STATUS.test(l.at(-2) ?? ''));
    expect(lines.filter((l) => l.includes('Tell me a joke') && l.startsWith('you'))).toEqual(['you: Tell me a joke']);
    expect(lines.filter((l) => STATUS.test(l))).toHaveLength(1);

    // A command: its output goes above the status line; the prompt stays the last line.
    tmux('send-keys', '-t', 'cli', '-l', '/summarise');
    tmux('send-keys', '-t', 'cli', 'Enter');
    lines = await until('the summary line', (l) => l.some((x) => x.startsWith('-- summarised ')) && l.at(-1) === 'you>');
    expect(lines.at(-2)).toMatch(/^window ≈[\d,]+ \/ 500 /); // after a summary the window is an estimate

    // Ctrl-C ends the session cleanly (status 0) and the prompt line is gone.
    tmux('send-keys', '-t', 'cli', 'C-c');
    lines = await until('the exit', (l) => l.some((x) => x.startsWith('exited with')));
    expect(lines.at(-1)).toBe('exited with 0');
    expect(lines).not.toContain('you>');
  }, 60_000);
});
