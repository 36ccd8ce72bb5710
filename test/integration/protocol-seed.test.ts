// Protocol-level replay of the seed notebook's flow (shared/seed/), raw GA client events, no
// engine: three user turns, a French summary at root, the two oldest items deleted, and the model
// in context-echo mode confirms the summary is first and the deleted turns are gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { RawClient, audioTurn, replyText, textTurn } from '../helpers/emulator-client.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 42, transcription: { delayMs: 5 } });
});
afterAll(async () => {
  await emu.close();
});

describe('seed notebook flow at protocol level', () => {
  it('summary at root + deletes are visible to the model', async () => {
    const c = await RawClient.connect(emu.url);
    await c.waitFor('session.created');
    const u = c.mark();
    c.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: null, transcription: { model: 'gpt-4o-transcribe' } } } },
    });
    await c.waitFor('session.updated', u);

    // Three user turns (two spoken with transcript hints, one typed), each answered.
    const t1 = await audioTurn(c, 'Can you tell me a quick story?');
    const a1 = t1.done.response.output[0].id as string;
    const t2 = await audioTurn(c, 'Can you tell me three extremely funny stories?');
    const t3 = await textTurn(c, 'Thanks, that was fun.');
    expect(t3.done.response.usage.total_tokens).toBeGreaterThan(t2.done.response.usage.total_tokens);

    // Transcripts arrive asynchronously; the retrieve loop finds them.
    await c.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.item_id === t1.itemId);
    const r = c.mark();
    c.send({ type: 'conversation.item.retrieve', item_id: t1.itemId });
    const got = await c.waitFor('conversation.item.retrieved', r);
    expect(got.item.content[0].transcript).toBe('Can you tell me a quick story?');

    // The summary: system item, French, at root; wait for the server's acknowledgement first.
    const summary =
      "L'utilisateur a demandé une histoire rapide, et l'assistant a raconté celle d'un chat nommé Whiskers qui a trouvé une pierre mystérieuse dans le jardin.";
    let m = c.mark();
    c.send({
      type: 'conversation.item.create',
      previous_item_id: 'root',
      item: { id: 'sum_001', type: 'message', role: 'system', content: [{ type: 'input_text', text: summary }] },
    });
    const added = await c.waitFor('conversation.item.added', m);
    expect(added.item.id).toBe('sum_001');
    expect(added.previous_item_id).toBeNull();

    // Delete the two oldest items (the first user turn and its answer), one ack each.
    for (const id of [t1.itemId, a1]) {
      m = c.mark();
      c.send({ type: 'conversation.item.delete', item_id: id, event_id: `del_${id}` });
      expect((await c.waitFor('conversation.item.deleted', m)).item_id).toBe(id);
    }

    // Turn three of the seed demo: ask about the summary language.
    const lang = await textTurn(c, 'What language was the first summary in?');
    expect(replyText(lang.done)).toBe('The first summary was in French.');

    // Context echo: the reply lists what the model currently holds.
    const handle = emu.sessions().find((s) => s.id === c.events[0].session.id)!;
    handle.setContextEcho(true);
    const echo = await textTurn(c, 'What do you have in context?');
    const text = replyText(echo.done);
    expect(text.startsWith('Context: 1. system sum_001 "L\'utilisateur a demandé une histoire rapide')).toBe(true);
    expect(text).not.toContain(t1.itemId);
    expect(text).not.toContain(a1);
    expect(text).toContain(`2. user ${t2.itemId} "Can you tell me three extremely funny stories?"`);
    const entries = text.slice('Context: '.length).split(' | ');
    expect(entries.map((e) => e.split(' ')[2])).toEqual(handle.items().map((i: any) => i.id).slice(0, entries.length));
    // the server conversation itself agrees
    expect((handle.items()[0] as { id: string }).id).toBe('sum_001');
    c.close();
  });
});
