// Text mode: each stdin line is a user turn, handled one at a time (the next line waits until the
// agent is idle, so piped scripts never collide with a response in flight). Commands: /summarise,
// /history, /quit. On a terminal the input has its own prompt line (`you> `) at the bottom, below
// the view's status line, as readline-based REPLs do: the view clears and redraws both around
// everything it prints, so typed text never lands on the status line.
import { createInterface } from 'node:readline';
import type { RealtimeAgent } from '../types.js';
import { nextResponseDone } from './wait.js';

/** The prompt line as the view sees it: erase it before printing, redraw it (with what is typed) after. */
export interface PromptLine {
  /** Erases the prompt line; the cursor is left at its start. */
  clear(): void;
  /** Redraws the prompt and the text typed so far on the current line. */
  redraw(): void;
  /** While a reply streams: no echo of keystrokes (they are kept and shown when the prompt returns). */
  hold(): void;
}

export const PROMPT = 'you> ';

export interface TextInputOptions {
  input: NodeJS.ReadableStream;
  showHistory(): void;
  info(line: string): void;
  /** A terminal: read with a prompt line on this output and hand the prompt to the view. */
  terminal?: { output: NodeJS.WritableStream; attach(prompt: PromptLine | null): void };
}

/** Resolves when stdin ends or /quit is typed, after the last turn's response has finished. */
export function runTextInput(agent: RealtimeAgent, o: TextInputOptions): { done: Promise<void>; close(): void } {
  const term = o.terminal;
  const rl = term
    ? createInterface({ input: o.input, output: term.output, terminal: true, prompt: PROMPT, historySize: 100 })
    : createInterface({ input: o.input, terminal: false });
  const lines: string[] = [];
  let ended = false;
  let quit = false;
  let wake: (() => void) | null = null;
  let held = false;
  if (term) {
    term.attach({
      clear: () => term.output.write('\r\x1b[K'),
      redraw: () => {
        if (ended) return;
        if (held) {
          held = false;
          rl.resume();
        }
        rl.prompt(true);
      },
      hold: () => {
        held = true;
        rl.pause();
      },
    });
    // Raw mode swallows Ctrl-C: hand it to the process's own SIGINT handling (a clean stop).
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
    rl.prompt();
  }
  rl.on('line', (l) => {
    // The line readline echoed (and the newline after it) is erased: the view prints the turn itself.
    if (term) term.output.write('\x1b[1A\r\x1b[K');
    lines.push(l);
    wake?.();
    if (term) rl.prompt(true);
  });
  rl.on('close', () => {
    ended = true;
    if (term) {
      term.output.write('\r\x1b[K');
      term.attach(null);
    }
    wake?.();
  });
  const done = (async () => {
    for (;;) {
      if (lines.length === 0) {
        if (ended || quit) break;
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      const line = lines.shift()!.trim();
      if (!line) continue;
      if (line.startsWith('/')) {
        const cmd = line.toLowerCase();
        if (cmd === '/quit' || cmd === '/exit') {
          quit = true;
          break;
        }
        await agent.idle();
        if (cmd === '/summarise' || cmd === '/summarize') {
          o.info('summarising now…');
          agent.summariseNow();
          await settle();
          await agent.idle();
        } else if (cmd === '/history') {
          o.showHistory();
        } else {
          o.info(`unknown command ${line.split(/\s/)[0]} (try /summarise, /history, /quit)`);
        }
        continue;
      }
      await agent.idle();
      const done = nextResponseDone(agent);
      agent.sendText(line);
      await done;
      await settle();
      await agent.idle();
    }
    rl.close();
  })();
  return { done, close: () => rl.close() };
}

const settle = () => new Promise<void>((r) => setTimeout(r, 20));
