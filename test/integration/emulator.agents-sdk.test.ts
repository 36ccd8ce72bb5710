// The OpenAI Agents SDK (@openai/agents-realtime RealtimeSession over its WebSocket transport) completes
// conversations against the emulator with no protocol error — including a tool call the model makes by
// the emulator's keyword rule, which the SDK executes and answers by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpenAIRealtimeWebSocket, RealtimeAgent, RealtimeSession, tool } from '@openai/agents-realtime';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ audioPacing: 'fast', seed: 5 });
});
afterAll(async () => {
  await emu.close();
});

interface Run {
  session: RealtimeSession;
  errors: unknown[];
  serverErrors: unknown[];
  turns(): Promise<void>;
}

async function open(agent: RealtimeAgent): Promise<Run> {
  const transport = new OpenAIRealtimeWebSocket({ url: `${emu.url}?model=gpt-realtime` });
  const session = new RealtimeSession(agent, { transport, model: 'gpt-realtime', config: { outputModalities: ['text'] } });
  const errors: unknown[] = [];
  const serverErrors: unknown[] = [];
  session.on('error', (e) => errors.push(e.error));
  transport.on('*', (e: { type?: string }) => {
    if (e?.type === 'error') serverErrors.push(e);
  });
  await session.connect({ apiKey: 'sk-agents-sdk-test' });
  let pending: (() => void) | null = null;
  transport.on('turn_done', () => pending?.());
  return {
    session,
    errors,
    serverErrors,
    turns: () => new Promise<void>((resolve) => (pending = resolve)),
  };
}

function assistantTexts(session: RealtimeSession): string[] {
  return session.history
    .filter((i) => i.type === 'message' && i.role === 'assistant')
    .map((i) => ((i as { content: Array<{ text?: string; transcript?: string | null }> }).content ?? []).map((c) => c.text ?? c.transcript ?? '').join(''));
}

describe('@openai/agents-realtime RealtimeSession against the emulator', () => {
  it('a text conversation completes: two turns, replies in the history, no error', async () => {
    const run = await open(new RealtimeAgent({ name: 'plain', instructions: 'Be brief.' }));
    try {
      let t = run.turns();
      run.session.sendMessage('Hello from the Agents SDK');
      await t;
      t = run.turns();
      run.session.sendMessage('And a second turn');
      await t;
      const replies = assistantTexts(run.session);
      expect(replies).toHaveLength(2);
      expect(replies[0]).toContain('You said: Hello from the Agents SDK');
      expect(run.errors).toEqual([]);
      expect(run.serverErrors).toEqual([]);
    } finally {
      run.session.close();
    }
  });

  it('a function tool: the model calls it (keyword rule), the SDK runs it and the reply carries its result', async () => {
    const calls: string[] = [];
    const getTime = tool({
      name: 'get_time',
      description: 'The current time in a city',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        calls.push(city);
        return `It is 09:41 in ${city}`;
      },
    });
    const run = await open(new RealtimeAgent({ name: 'clock', instructions: 'Use tools.', tools: [getTime] }));
    try {
      const toolDone = new Promise<string>((resolve) => run.session.on('agent_tool_end', (_c, _a, _t, result) => resolve(result)));
      const reply = new Promise<void>((resolve) => {
        run.session.on('history_updated', (h) => {
          if (h.some((i) => i.type === 'message' && i.role === 'assistant' && JSON.stringify(i).includes('09:41'))) resolve();
        });
      });
      run.session.sendMessage('What time is it in Tokyo?');
      expect(await toolDone).toBe('It is 09:41 in Tokyo');
      await reply;
      expect(calls).toEqual(['Tokyo']);
      expect(assistantTexts(run.session).join(' ')).toContain('get_time returned It is 09:41 in Tokyo');
      expect(run.errors).toEqual([]);
      expect(run.serverErrors).toEqual([]);
    } finally {
      run.session.close();
    }
  });
});
