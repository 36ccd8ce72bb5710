// Text mode: each stdin line is a user turn, handled one at a time (the next line waits until the
// agent is idle, so piped scripts never collide with a response in flight). Commands: /summarise,
// /history, /quit.
import { createInterface } from 'node:readline';
import type { RealtimeAgent } from '../types.js';
import { nextResponseDone } from './wait.js';

export interface TextInputOptions {
  input: NodeJS.ReadableStream;
  showHistory(): void;
  info(line: string): void;
}

/** Resolves when stdin ends or /quit is typed, after the last turn's response has finished. */
export function runTextInput(agent: RealtimeAgent, o: TextInputOptions): { done: Promise<void>; close(): void } {
  const rl = createInterface({ input: o.input, terminal: false });
  const lines: string[] = [];
  let ended = false;
  let quit = false;
  let wake: (() => void) | null = null;
  rl.on('line', (l) => {
    lines.push(l);
    wake?.();
  });
  rl.on('close', () => {
    ended = true;
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
