// Store faults: PostgreSQL stopped and started again in the middle of a conversation (a real server:
// a throw-away cluster of this test's own, made with initdb and driven with pg_ctl, never the
// machine's shared one that other test files use). The conversation goes on while the store is down (replies keep coming),
// exactly one warning says so, and once the server is back every entry reaches the store: nothing
// lost, nothing twice, nothing left in the spill file.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../adapters/store-postgres.js';
import { createRealtimeAgent } from '../../src/agent.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { AgentError } from '../../src/errors.js';
import { openConversation } from '../../src/store/open.js';
import type { RealtimeAgent } from '../../src/types.js';
import { throwawayCluster, waitPgAt, type ThrowawayCluster } from '../helpers/pg.js';

// Skipped only when this machine has no initdb (CI has it); a cluster that cannot be made fails the file.
const made = await throwawayCluster();
const skip = typeof made === 'string' ? made : null;
const cluster = typeof made === 'string' ? null : (made as ThrowawayCluster);
if (skip) process.stderr.write(`store.pg-restart.test: skipped: ${skip}\n`);

const KEY = 'sk-store-fault-0123456789';

async function turn(agent: RealtimeAgent, text: string): Promise<string> {
  const reply = new Promise<string>((resolve) => {
    const off = agent.on('turn', (t) => {
      if (t.role === 'assistant' && t.textState === 'final') {
        off();
        resolve(t.text ?? '');
      }
    });
  });
  agent.sendText(text);
  const r = await reply;
  await agent.idle();
  return r;
}

describe.skipIf(!!skip)(`PostgreSQL stopped and started during a conversation${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const url = `${cluster?.url}?schema=rtc_restart`;
  const dir = mkdtempSync(join(tmpdir(), 'rtc-pgfault-'));
  afterAll(async () => {
    cluster?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nothing lost, nothing twice, exactly one warning', async () => {
    const emu = await startEmulator({ apiKey: KEY, audioPacing: 'fast' });
    const spill = join(dir, 'spill.jsonl');
    const errors: AgentError[] = [];
    let agent: RealtimeAgent | null = null;
    try {
      const conversation = await openConversation({ store: url });
      agent = createRealtimeAgent({
        connection: { url: emu.url, apiKey: KEY },
        session: { turnDetection: null, outputModalities: ['text'] },
        conversation,
        storeSpillPath: spill,
        storeCloseTimeoutMs: 30_000,
      });
      agent.on('error', (e) => errors.push(e));
      await agent.start();
      const said = ['before the outage'];
      expect(await turn(agent, said[0])).toContain(`You said: ${said[0]}`);

      cluster!.stop();
      try {
        // The conversation goes on with the store down.
        for (const t of ['while it is down, one', 'while it is down, two']) {
          said.push(t);
          expect(await turn(agent, t)).toContain(`You said: ${t}`);
        }
        expect(errors.map((e) => e.code)).toEqual(['store_unavailable']);
        expect(errors[0].message).toMatch(/^conversation store postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres \(schema rtc_restart\) is unavailable \(.+\); the conversation goes on/);
      } finally {
        cluster!.start();
      }
      await waitPgAt(cluster!.url);
      said.push('after it came back');
      expect(await turn(agent, said[3])).toContain(`You said: ${said[3]}`);
      await agent.stop();
      agent = null;

      expect(errors.map((e) => e.code)).toEqual(['store_unavailable']);
      expect(existsSync(spill)).toBe(false);
      const store = new PostgresStore({ url });
      try {
        const lines = (await store.read(conversation.id)) as { type: string; id?: string; role?: string; text?: string }[];
        const turns = lines.filter((l) => l.type === 'turn');
        expect(turns.map((t) => t.id).length).toBe(new Set(turns.map((t) => t.id)).size);
        expect(turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual(said);
        expect(turns.filter((t) => t.role === 'assistant')).toHaveLength(said.length);
        expect(lines.at(-1)?.type).toBe('end');
        expect((await store.list()).find((c) => c.id === conversation.id)).toMatchObject({ turns: 8, holder: null });
      } finally {
        await store.close();
      }
    } finally {
      cluster!.start();
      await agent?.stop().catch(() => undefined);
      await emu.close();
    }
  }, 120_000);
});
