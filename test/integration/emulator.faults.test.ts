// Fault injection, asynchronous transcription fates, session expiry and the session handle.
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { RawClient, audioTurn, b64, tone } from '../helpers/emulator-client.js';

async function manual(url: string, transcription = true): Promise<RawClient> {
  const c = await RawClient.connect(url);
  await c.waitFor('session.created');
  const m = c.mark();
  c.send({
    type: 'session.update',
    session: { type: 'realtime', audio: { input: { turn_detection: null, ...(transcription ? { transcription: { model: 'gpt-4o-transcribe' } } : {}) } } },
  });
  await c.waitFor('session.updated', m);
  return c;
}

describe('faults', () => {
  it('dropAfterEvents: the socket is terminated without a close frame after N server events', async () => {
    const emu = await startEmulator({ faults: { dropAfterEvents: 3 } });
    try {
      const c = await RawClient.connect(emu.url);
      c.send({ type: 'session.update', session: { type: 'realtime' } });
      c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }] } });
      const closed = await c.closed;
      expect(closed.code).toBe(1006);
      expect(c.events).toHaveLength(3);
      expect(emu.sessions()).toHaveLength(0);
    } finally {
      await emu.close();
    }
  });

  it('failDeletes (list of ids): that delete fails with an error, the item stays; others succeed', async () => {
    const emu = await startEmulator({ faults: { failDeletes: ['keep_me'] } });
    try {
      const c = await manual(emu.url, false);
      for (const id of ['keep_me', 'go_away']) {
        const m = c.mark();
        c.send({ type: 'conversation.item.create', item: { id, type: 'message', role: 'user', content: [{ type: 'input_text', text: id }] } });
        await c.waitFor('conversation.item.added', m);
      }
      let m = c.mark();
      c.send({ type: 'conversation.item.delete', item_id: 'keep_me', event_id: 'd1' });
      const e = await c.waitFor('error', m);
      expect(e.error.event_id).toBe('d1');
      expect(e.error.type).toBe('server_error');
      m = c.mark();
      c.send({ type: 'conversation.item.delete', item_id: 'go_away' });
      await c.waitFor('conversation.item.deleted', m);
      expect(emu.sessions()[0].items().map((i: any) => i.id)).toEqual(['keep_me']);
      c.close();
    } finally {
      await emu.close();
    }
  });

  it('rateLimitResponses: the first response fails with a rate-limit status, the next one completes', async () => {
    const emu = await startEmulator({ faults: { rateLimitResponses: 1 } });
    try {
      const c = await manual(emu.url, false);
      let m = c.mark();
      c.send({ type: 'response.create' });
      const failed = await c.waitFor('response.done', m);
      expect(failed.response.status).toBe('failed');
      expect(failed.response.status_details.error.code).toBe('rate_limit_exceeded');
      expect(failed.response.status_details.error.message).toMatch(/^Rate limit reached for gpt-realtime/);
      expect(c.typesSince(m).slice(0, 2)).toEqual(['response.created', 'response.done']);
      m = c.mark();
      c.send({ type: 'response.create' });
      expect((await c.waitFor('response.done', m)).response.status).toBe('completed');
      emu.sessions()[0].failNextResponses(1);
      m = c.mark();
      c.send({ type: 'response.create' });
      expect((await c.waitFor('response.done', m)).response.status).toBe('failed');
      c.close();
    } finally {
      await emu.close();
    }
  });
});

describe('transcription fates', () => {
  it('failProbability 1: ...input_audio_transcription.failed; the item keeps no transcript', async () => {
    const emu = await startEmulator({ transcription: { failProbability: 1, delayMs: 5 } });
    try {
      const c = await manual(emu.url);
      const t = await audioTurn(c, 'lost words');
      const f = await c.waitFor('conversation.item.input_audio_transcription.failed');
      expect(f.item_id).toBe(t.itemId);
      expect(f.content_index).toBe(0);
      const m = c.mark();
      c.send({ type: 'conversation.item.retrieve', item_id: t.itemId });
      expect((await c.waitFor('conversation.item.retrieved', m)).item.content[0].transcript).toBeNull(); // as on the wire: "transcript": null
      expect(c.typesSince(0)).not.toContain('conversation.item.input_audio_transcription.completed');
      c.close();
    } finally {
      await emu.close();
    }
  });

  it('lateProbability 1: the transcript only arrives after the next response.done', async () => {
    const emu = await startEmulator({ transcription: { lateProbability: 1, delayMs: 1 } });
    try {
      const c = await manual(emu.url);
      const t = await audioTurn(c, 'late words');
      const completed = await c.waitFor('conversation.item.input_audio_transcription.completed');
      const iDone = c.events.indexOf(t.done);
      expect(c.events.indexOf(completed)).toBeGreaterThan(iDone);
      expect(completed.transcript).toBe('late words');
      c.close();
    } finally {
      await emu.close();
    }
  });

  it('neverProbability 1: no transcription event; retrieve keeps returning no transcript', async () => {
    const emu = await startEmulator({ transcription: { neverProbability: 1, delayMs: 1 } });
    try {
      const c = await manual(emu.url);
      const t = await audioTurn(c, 'nobody hears this');
      for (let i = 0; i < 3; i++) {
        await audioTurn(c, `filler ${i}`);
        const m = c.mark();
        c.send({ type: 'conversation.item.retrieve', item_id: t.itemId });
        expect((await c.waitFor('conversation.item.retrieved', m)).item.content[0].transcript).toBeNull();
      }
      expect(c.typesSince(0).some((x) => x.startsWith('conversation.item.input_audio_transcription'))).toBe(false);
      c.close();
    } finally {
      await emu.close();
    }
  });

  it('no hint: the transcript is [unintelligible]; seeded fates are reproducible', async () => {
    const fates = async () => {
      const emu = await startEmulator({ seed: 5, transcription: { failProbability: 0.5, delayMs: 1 } });
      try {
        const c = await manual(emu.url);
        const out: string[] = [];
        for (let i = 0; i < 6; i++) {
          const m = c.mark();
          c.send({ type: 'input_audio_buffer.append', audio: b64(tone(200)) });
          c.send({ type: 'input_audio_buffer.commit' });
          const ev = await c.waitFor((e) => e.type.endsWith('transcription.completed') || e.type.endsWith('transcription.failed'), m);
          out.push(ev.type.endsWith('failed') ? 'failed' : ev.transcript);
        }
        c.close();
        return out;
      } finally {
        await emu.close();
      }
    };
    const a = await fates();
    expect(a).toEqual(await fates());
    expect(a).toContain('[unintelligible]');
    expect(a).toContain('failed');
  });
});

describe('session expiry and handle controls', () => {
  it('session_expired at expires_at (maxSessionMs) with close 1001', async () => {
    const emu = await startEmulator({ maxSessionMs: 300 });
    try {
      const c = await RawClient.connect(emu.url);
      const created = await c.waitFor('session.created');
      expect(created.session.expires_at - Date.now() / 1000).toBeLessThan(2);
      const e = await c.waitFor('error');
      expect(e.error.code).toBe('session_expired');
      expect(e.error.message).toBe('Your session hit the maximum duration of 0.005 minutes.');
      expect((await c.closed).code).toBe(1001);
    } finally {
      await emu.close();
    }
  });

  it('handle: expire(), inject(), drop(code), hint() per session, sessions() newest last', async () => {
    const emu = await startEmulator();
    try {
      const a = await RawClient.connect(emu.url);
      await a.waitFor('session.created');
      const b = await manual(emu.url, false);
      const [ha, hb] = emu.sessions();
      expect(ha.id).toBe(a.events[0].session.id);
      expect(hb.dialect).toBe('ga');
      ha.inject({ type: 'response.output_audio.delta', event_id: 'x', garbage: true });
      ha.inject('{"broken":');
      await a.waitFor((e) => e.type === 'response.output_audio.delta' && e.garbage === true);
      await a.waitFor((e) => e.type === '__unparseable__' && e.raw === '{"broken":');
      ha.expire();
      expect((await a.waitFor('error')).error.message).toBe('Your session hit the maximum duration of 60 minutes.');
      expect((await a.closed).code).toBe(1001);
      hb.hint('per-session hint');
      const t = await audioTurn(b, undefined as unknown as string);
      expect(t.done.response.output[0].content[0].transcript.startsWith('You said: per-session hint.')).toBe(true);
      emu.hint('global hint');
      const t2 = await audioTurn(b, undefined as unknown as string);
      expect(t2.done.response.output[0].content[0].transcript.startsWith('You said: global hint.')).toBe(true);
      hb.drop(4001, 'test');
      expect((await b.closed).code).toBe(4001);
    } finally {
      await emu.close();
    }
  });
});
