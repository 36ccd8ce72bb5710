// Raw WebSocket test client for the emulator: collects every event, waits on predicates.
import WebSocket from 'ws';

export type Ev = { type: string; event_id?: string; [k: string]: any };

export interface ConnectOptions {
  key?: string | null;
  beta?: boolean;
  model?: string;
  headers?: Record<string, string>;
  ca?: string;
}

export class RawClient {
  readonly events: Ev[] = [];
  private waiters: Array<{ pred: (e: Ev) => boolean; from: number; resolve: (e: Ev) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      let e: Ev;
      try {
        e = JSON.parse(data.toString()) as Ev;
      } catch {
        e = { type: '__unparseable__', raw: data.toString() };
      }
      this.events.push(e);
      const i = this.events.length - 1;
      for (const w of [...this.waiters]) {
        if (i >= w.from && w.pred(e)) {
          clearTimeout(w.timer);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
    ws.on('close', () => {
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error('socket closed while waiting'));
      }
    });
  }

  static connect(url: string, o: ConnectOptions = {}): Promise<RawClient> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.key !== null) headers.Authorization = `Bearer ${o.key ?? 'sk-test-emulator'}`;
    if (o.beta) headers['OpenAI-Beta'] = 'realtime=v1';
    const u = new URL(url);
    u.searchParams.set('model', o.model ?? 'gpt-realtime');
    const ws = new WebSocket(u, { headers, ...(o.ca ? { ca: o.ca } : {}) });
    const client = new RawClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(ev: object): void {
    this.ws.send(JSON.stringify(ev));
  }
  sendRaw(s: string): void {
    this.ws.send(s);
  }

  /** Current position: pass it to waitFor to only see later events. */
  mark(): number {
    return this.events.length;
  }

  waitFor(pred: string | ((e: Ev) => boolean), from = 0, timeoutMs = 8000): Promise<Ev> {
    const p = typeof pred === 'string' ? (e: Ev) => e.type === pred : pred;
    for (let i = from; i < this.events.length; i++) if (p(this.events[i])) return Promise.resolve(this.events[i]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.findIndex((w) => w.timer === timer), 1);
        reject(new Error(`timed out waiting for ${typeof pred === 'string' ? pred : 'predicate'}; last events: ${this.events.slice(-5).map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      this.waiters.push({ pred: p, from, resolve, reject, timer });
    });
  }

  /** Sends an event and waits for the first later event matching pred. */
  async request(ev: object, pred: string | ((e: Ev) => boolean)): Promise<Ev> {
    const m = this.mark();
    this.send(ev);
    return this.waitFor(pred, m);
  }

  typesSince(from: number): string[] {
    return this.events.slice(from).map((e) => e.type);
  }

  close(): void {
    this.ws.close();
  }
}

/** pcm16 24 kHz mono: a 440 Hz tone (speech for the VAD) or silence. */
export function tone(ms: number, amplitude = 0.3): Buffer {
  const n = Math.round(24 * ms);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / 24000) * amplitude * 32767), i * 2);
  return b;
}
export function silence(ms: number): Buffer {
  return Buffer.alloc(Math.round(24 * ms) * 2);
}
export function b64(buf: Buffer): string {
  return buf.toString('base64');
}

/** One manual user audio turn: append (with hint) + commit + response.create; resolves with response.done. */
export async function audioTurn(c: RawClient, hint: string, ms = 600): Promise<{ itemId: string; done: Ev }> {
  const m = c.mark();
  c.send({ type: 'input_audio_buffer.append', audio: b64(tone(ms)), x_transcript_hint: hint });
  c.send({ type: 'input_audio_buffer.commit' });
  const committed = await c.waitFor('input_audio_buffer.committed', m);
  c.send({ type: 'response.create' });
  const done = await c.waitFor('response.done', m);
  return { itemId: committed.item_id as string, done };
}

/** One user text turn + response; resolves with the item id and response.done. */
export async function textTurn(c: RawClient, text: string, id?: string): Promise<{ itemId: string; done: Ev }> {
  const m = c.mark();
  c.send({ type: 'conversation.item.create', item: { ...(id ? { id } : {}), type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  const added = await c.waitFor((e) => e.type === 'conversation.item.added' || e.type === 'conversation.item.created', m);
  c.send({ type: 'response.create' });
  const done = await c.waitFor('response.done', m);
  return { itemId: added.item.id as string, done };
}

export function replyText(done: Ev): string {
  const part = done.response?.output?.[0]?.content?.[0];
  return (part?.transcript ?? part?.text ?? '') as string;
}
