// Tool-call overhead (not part of `npm run bench`): `npx tsx bench/tools.ts [calls]`.
// A no-op tool against the in-process emulator, text only. Per call: the machinery's own time (the
// `tool.call` event to `tool.result`: toolCall actor spawn, validation, execute, settle) and the
// turn-around from the calls' response.done to the follow-up response.created (outputs sent,
// response.create, the emulator's answer over a real socket).
import { startEmulator } from '../src/emulator/index.js';
import { createRealtimeAgent } from '../src/agent.js';

const N = Number(process.argv[2] ?? 200);
const emu = await startEmulator({ audioPacing: 'fast' });
const agent = createRealtimeAgent({
  connection: { url: emu.url, apiKey: 'sk-bench-0000000000000000' },
  session: { turnDetection: null, outputModalities: ['text'] },
  tools: [{ name: 'get_time', parameters: { type: 'object', properties: { city: { type: 'string' } } }, execute: () => 'noon' }],
  journal: false,
  policy: { triggerTokens: 1_000_000, targetTokens: 500_000 },
});
const machinery: number[] = [];
const turnaround: number[] = [];
let callAt = 0;
let doneAt = 0;
let waitingFollowUp = false;
agent.on('tool.call', () => (callAt = performance.now()));
agent.on('tool.result', () => machinery.push(performance.now() - callAt));
agent.on('response.done', () => (doneAt = performance.now()));
agent.on('response.created', () => {
  if (waitingFollowUp) turnaround.push(performance.now() - doneAt);
  waitingFollowUp = false;
});
await agent.start();
for (let i = 0; i < N; i++) {
  agent.sendText('What time is it in Tokyo?');
  await new Promise<void>((r) => {
    const off = agent.on('tool.result', () => {
      off();
      waitingFollowUp = true;
      r();
    });
  });
  await agent.idle();
}
await agent.stop();
await emu.close();
const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))].toFixed(2);
console.log(`tool calls: ${N}`);
console.log(`machinery (tool.call -> tool.result), ms: median ${q(machinery, 0.5)}, p95 ${q(machinery, 0.95)}, max ${q(machinery, 1)}`);
console.log(`response.done -> follow-up response.created, ms: median ${q(turnaround, 0.5)}, p95 ${q(turnaround, 0.95)}, max ${q(turnaround, 1)}`);
