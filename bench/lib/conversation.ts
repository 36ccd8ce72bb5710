// A scripted voice conversation driven through the engine at fast pacing: user turns of 4 to 8 s of
// speech-like audio (sent as 40 ms chunks, transcript hint queued for the emulator), manual commit,
// the scripted assistant reply (25 to 50 words = 10 to 20 s of audio at the emulator's 400 ms a word),
// then wait until the engine is idle (any summary finished) before the next turn, as a real 20 s turn
// would allow. Simulated time = the audio time of both sides.
import type { RealtimeAgent, WindowEvent } from '../../src/types.js';
import { CHUNK_BYTES, reply, speechPcm, utterance } from './audio.js';
import { prng } from './stats.js';

export const MS_PER_WORD = 400;

/** The assistant script for the emulator (`--script`): the same for every session and policy. */
export function assistantScript(seed: number, turns: number): string[] {
  const rand = prng(seed * 7919 + 1);
  const out: string[] = [];
  for (let i = 0; i < turns; i++) out.push(reply(rand, 25 + Math.floor(rand() * 26)));
  return out;
}

export interface TurnRecord {
  turn: number;
  /** Simulated minutes at the end of the turn. */
  atMin: number;
  userMs: number;
  assistantMs: number;
  /** Window (total tokens) of the turn's response; only numbers are kept, so the driver holds no engine objects. */
  tokens: number;
}

export interface ConversationDriver {
  /** Every turn's record (empty when keepTurns is false). */
  turns: TurnRecord[];
  count(): number;
  simulatedMs(): number;
  /** Plays one user turn and waits for the reply and an idle engine. */
  turn(): Promise<TurnRecord>;
}

export async function hint(httpUrl: string, apiKey: string, sessionId: string, text: string): Promise<void> {
  const r = await fetch(new URL('/emulator/hints', httpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ text, session_id: sessionId }),
  });
  if (!r.ok) throw new Error(`hint: HTTP ${r.status} ${await r.text()}`);
}

export function driveConversation(o: { agent: RealtimeAgent; sessionId: () => string; httpUrl: string; apiKey: string; seed: number; script: string[]; keepTurns?: boolean }): ConversationDriver {
  const rand = prng(o.seed);
  const pcmCache = new Map<number, Buffer>();
  const turns: TurnRecord[] = [];
  let simulated = 0;
  let count = 0;
  let lastTokens = 0;
  let responses = 0;
  o.agent.on('window', (w: WindowEvent) => {
    lastTokens = w.tokens;
  });
  o.agent.on('response.done', () => {
    responses++;
  });
  return {
    turns,
    count: () => count,
    simulatedMs: () => simulated,
    async turn() {
      const i = count++;
      const userMs = 4000 + Math.round((rand() * 4000) / 40) * 40;
      const text = utterance(rand, userMs);
      await hint(o.httpUrl, o.apiKey, o.sessionId(), text);
      let pcm = pcmCache.get(userMs);
      if (!pcm) pcmCache.set(userMs, (pcm = speechPcm(userMs, 150 + (userMs % 7) * 10)));
      for (let off = 0; off < pcm.length; off += CHUNK_BYTES) o.agent.appendAudio(pcm.subarray(off, off + CHUNK_BYTES));
      const before = responses;
      lastTokens = 0;
      o.agent.commitAudio();
      await until(() => responses > before, 30_000, `response to turn ${i}`);
      await o.agent.idle();
      const words = (o.script[i] ?? '').split(/\s+/).filter(Boolean).length;
      const assistantMs = words * MS_PER_WORD;
      simulated += userMs + assistantMs;
      const rec: TurnRecord = { turn: i, atMin: simulated / 60_000, userMs, assistantMs, tokens: lastTokens };
      if (o.keepTurns !== false) turns.push(rec);
      return rec;
    },
  };
}

export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
