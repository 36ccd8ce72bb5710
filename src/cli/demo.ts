// `npm start`: the seed notebook's session, scripted, on the built-in emulator with the seed-demo
// preset. Three user turns are sent as audio with transcript hints (so the transcript path is the
// real one), the history is printed after each response like the notebook's print_history, the
// summary (in French) happens after the second answer, and the third turn asks about its language.
import { CHUNK_BYTES } from '../../adapters/microphone.js';
import type { RealtimeAgent } from '../types.js';
import type { EmulatorHandle } from './backend.js';
import { historyText, n, summaryText } from './format.js';
import { pcmMs, speechLikePcm } from './synth.js';
import { nextResponseDone } from './wait.js';

export const DEMO_TURNS = [
  'Can you tell me a quick story?',
  'Can you tell me three extremely funny stories?',
  'What language was the first summary you gave me?',
] as const;

/** The notebook's own assistant replies to the first two turns, scripted into the emulator so the
 * window grows like the notebook's (979 -> 2,755 tokens) and the seed-demo trigger (2,000) fires. */
export const NOTEBOOK_REPLIES = [
  'Once upon a time, in a cozy little village, there was a cat named Whiskers who was always getting into trouble. One sunny day, Whiskers found a mysterious glowing stone in the garden. Curious, he pawed at it, and poof! The stone granted him the ability to talk to birds. Whiskers and his new bird friends had grand adventures, solving mysteries and exploring the village. And from that day on, Whiskers was known as the most adventurous cat in the village. The end.',
  "Sure, let's dive into some giggle-worthy tales: **Story One:** There was a forgetful baker named Benny who baked a hundred cakes for a big wedding. But on the big day, he forgot where he put them! The entire town joined in to find the missing cakes, only to discover Benny had stored them in his neighbor's garage, thinking it was his pantry. The wedding turned into a town-wide cake feast! **Story Two:** A mischievous dog named Sparky loved to play pranks. One day, he swapped his owner's phone with a squeaky toy, causing a hilarious mix-up of barks, squeaks, and confused calls. Sparky's owner ended up having a full conversation with the mailman, all in squeaks! **Story Three:** In a small town, a parrot named Polly became a local celebrity for reciting tongue twisters. One day, Polly challenged the mayor to a tongue twister duel. The mayor, tongue-tied and laughing, declared Polly the official town jester. Polly squawked with pride, and the town rang with laughter for days.",
];

export interface DemoOptions {
  agent: RealtimeAgent;
  emulator: EmulatorHandle;
  /** Prints one line (or block) of the notebook-style output; silent in --json mode. */
  print(text: string): void;
}

export interface DemoResult {
  answer: string;
  summaries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until every user turn has its transcript, so the history shows what was said. */
async function transcriptsIn(agent: RealtimeAgent, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until && agent.history().some((t) => t.role === 'user' && t.textState === 'pending')) await sleep(25);
}

export async function runDemo({ agent, emulator, print }: DemoOptions): Promise<DemoResult> {
  let trigger = 0;
  let lastWindow = 0;
  // Summary output is held back until the turn that caused it has been printed (notebook order).
  const summaryBlocks: string[] = [];
  let summaries = 0;
  const offs = [
    agent.on('window', (w) => {
      trigger = w.trigger;
      lastWindow = w.tokens;
    }),
    agent.on('summary', (s) => {
      summaries++;
      summaryBlocks.push(`${historyText(agent.history())}\n✅ Summary inserted (${s.id}): ${summaryText(s)}`);
    }),
  ];
  const flushSummaries = () => {
    for (const b of summaryBlocks.splice(0)) print(b);
  };
  try {
    print('session.created ✅');
    print('(window figures: N = the server\'s usage of the last response; ≈N = an estimate, until the next response reports usage)');
    for (let i = 0; i < DEMO_TURNS.length; i++) {
      const text = DEMO_TURNS[i];
      if (i === 2 && summaries === 0) {
        // The notebook's point is the summary; if the window stayed under the trigger, ask for it
        // explicitly and say so rather than pretend.
        print(`(window ${n(lastWindow)} < trigger ${n(trigger)}: summarising now, as the notebook did)`);
        const got = new Promise<void>((r) => {
          const off = agent.on('summary', () => (off(), r()));
        });
        agent.summariseNow();
        await Promise.race([got, sleep(10_000)]);
        await agent.idle();
        flushSummaries();
      }
      const pcm = speechLikePcm(text);
      print(`🎙️ user speaks (${(pcmMs(pcm) / 1000).toFixed(1)} s of audio): "${text}"`);
      // The emulator transcribes the next committed audio with this hint (a real server would listen).
      emulator.hint(text);
      const done = nextResponseDone(agent);
      for (let off = 0; off < pcm.length; off += CHUNK_BYTES) agent.appendAudio(pcm.subarray(off, off + CHUNK_BYTES));
      agent.commitAudio();
      const status = await done;
      if (status === 'error' || status === 'closed') throw new Error(`the session ended during turn ${i + 1}`);
      await transcriptsIn(agent, 3000);
      print(`—— response.done (window ${n(lastWindow)} tokens, server usage) ——`);
      print(historyText(agent.history()));
      if (trigger && lastWindow >= trigger) print(`⚠️ Token window ${n(lastWindow)} ≥ ${n(trigger)}. Summarising…`);
      await sleep(20);
      await agent.idle();
      flushSummaries();
    }
  } finally {
    offs.forEach((f) => f());
  }
  const last = [...agent.history()].reverse().find((t) => t.role === 'assistant');
  const answer = last?.text ?? '';
  print(`\nThe model's answer to "${DEMO_TURNS[2]}":\n  ${answer}`);
  return { answer, summaries };
}
