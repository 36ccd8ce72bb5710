// Shared helpers for engine tests: a real emulator, a real agent, and waits driven by events.
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { createRealtimeAgent } from '../../src/agent.js';
import type { AgentEventName, AgentEvents, AgentOptions, RealtimeAgent } from '../../src/types.js';
import { speechPcm } from '../../bench/lib/audio.js';

export const TEST_KEY = 'sk-test-engine-0123456789abcdef';

export interface Rig {
  emu: Emulator;
  agent: RealtimeAgent;
  events: { name: AgentEventName; payload: unknown }[];
  close(): Promise<void>;
}

const ALL: AgentEventName[] = ['session', 'turn', 'transcript', 'window', 'summary', 'error', 'state', 'response.created', 'response.done', 'closed', 'speech.started', 'audio.done'];

export async function rig(emuOptions: EmulatorOptions = {}, agentOptions: AgentOptions = {}): Promise<Rig> {
  const emu = await startEmulator({ audioPacing: 'fast', ...emuOptions });
  const agent = createRealtimeAgent({
    ...agentOptions,
    connection: { url: emu.url, apiKey: TEST_KEY, ...(agentOptions.connection ?? {}) },
    session: { turnDetection: null, ...(agentOptions.session ?? {}) },
  });
  const events: Rig['events'] = [];
  for (const name of ALL) agent.on(name, (payload) => events.push({ name, payload }));
  return {
    emu,
    agent,
    events,
    async close() {
      await agent.stop();
      await emu.close();
    },
  };
}

/** Resolves with the first payload of `name` that satisfies `pred` (already seen ones count). */
export function next<K extends AgentEventName>(r: Rig, name: K, pred: (p: AgentEvents[K]) => boolean = () => true, timeoutMs = 10_000): Promise<AgentEvents[K]> {
  const seen = r.events.find((e) => e.name === name && pred(e.payload as AgentEvents[K]));
  if (seen) return Promise.resolve(seen.payload as AgentEvents[K]);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${name}`));
    }, timeoutMs);
    const off = r.agent.on(name, (p) => {
      if (pred(p)) {
        clearTimeout(t);
        off();
        resolve(p);
      }
    });
  });
}

/** A user text turn, then wait until the response is done and the engine is idle. */
export async function say(r: Rig, text: string): Promise<void> {
  const before = r.events.filter((e) => e.name === 'response.done').length;
  r.agent.sendText(text);
  await waitUntil(() => r.events.filter((e) => e.name === 'response.done').length > before);
  await r.agent.idle();
}

/** Speech-like pcm16 (a voiced tone with an envelope): the same generator the benchmarks use. */
export { speechPcm } from '../../bench/lib/audio.js';

/** A user audio turn with a manual commit; the emulator transcribes it as `hint`. */
export async function speak(r: Rig, hint: string, ms = 1500): Promise<void> {
  const before = r.events.filter((e) => e.name === 'response.done').length;
  r.emu.hint(hint);
  const pcm = speechPcm(ms);
  for (let i = 0; i < pcm.length; i += 1920) r.agent.appendAudio(pcm.subarray(i, i + 1920));
  r.agent.commitAudio();
  await waitUntil(() => r.events.filter((e) => e.name === 'response.done').length > before);
}

export async function waitUntil(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function serverIds(r: Rig): string[] {
  const s = r.emu.sessions().at(-1)!;
  return s.items().map((i) => (i as { id: string }).id);
}

export function mirrorIds(r: Rig): string[] {
  return r.agent.history().map((t) => t.id);
}
