// HTTP(S) server: WebSocket upgrade for /v1/realtime, chat completions and the control endpoints.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { selfSignedPem } from '../net/tls.js';
import { requestKey } from '../net/request-key.js';
import { handleChatCompletion } from './chat-completions.js';
import { E, type EmulatorError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { RealtimeSession } from './realtime-session.js';
import { Ids, Rng } from './rng.js';
import { parseToolCallHint, type ToolCallScript } from './tools.js';

// Where they lived first: kept for importers of this module.
export { selfSignedPem, requestKey };

const REALTIME_PATHS = new Set(['/v1/realtime', '/openai/v1/realtime', '/openai/realtime', '/realtime']);
const DEFAULT_MODEL = 'gpt-realtime';
const TRANSCRIPTION_SESSION_MODEL = 'gpt-realtime';

/** Models the service accepts in realtime mode (realtime-protocol.md 7.1); others get `invalid_model`. */
export function isRealtimeModel(model: string): boolean {
  return /^(gpt-realtime|gpt-4o-realtime-preview|gpt-4o-mini-realtime-preview)([-.][A-Za-z0-9.-]+)?$/.test(model);
}
const MAX_BODY = 8 * 1024 * 1024;

export interface TlsMaterial {
  cert: string;
  key: string;
  path?: string;
  dir?: string;
}

/** The emulator's certificate, also written to a temp file clients can trust (`path`). */
export async function makeSelfSigned(host: string): Promise<TlsMaterial> {
  const pem = await selfSignedPem(host);
  const dir = mkdtempSync(join(tmpdir(), 'realtime-emulator-'));
  const path = join(dir, 'certificate.pem');
  writeFileSync(path, pem.cert);
  return { ...pem, path, dir };
}

function isBeta(req: IncomingMessage): boolean {
  const h = req.headers['openai-beta'];
  const values = Array.isArray(h) ? h : typeof h === 'string' ? [h] : [];
  if (values.some((v) => v.split(',').some((x) => x.trim() === 'realtime=v1'))) return true;
  const proto = req.headers['sec-websocket-protocol'];
  return typeof proto === 'string' && proto.split(',').some((p) => p.trim() === 'openai-beta.realtime-v1');
}

export class EmulatorServer {
  readonly sessions: RealtimeSession[] = [];
  readonly globalHints: string[] = [];
  /** Scripted function calls: each entry is the calls of one future in-band response (any session). */
  readonly globalToolCalls: ToolCallScript[][] = [];
  private readonly rng: Rng;
  private readonly ids: Ids;
  private server!: Server;
  private wss!: WebSocketServer;
  private sockets = new Set<Duplex>();
  tls?: TlsMaterial;
  port = 0;

  constructor(private readonly opts: ResolvedOptions) {
    this.rng = new Rng(opts.seed);
    this.ids = new Ids(this.rng.fork());
  }

  get scheme(): 'http' | 'https' {
    return this.tls ? 'https' : 'http';
  }

  async listen(): Promise<void> {
    const o = this.opts;
    if (o.tls === true) this.tls = await makeSelfSigned(o.host);
    else if (o.tls) this.tls = { cert: o.tls.cert, key: o.tls.key };
    const handler = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res);
    this.server = this.tls ? createHttpsServer({ cert: this.tls.cert, key: this.tls.key }, handler) : createHttpServer(handler);
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(o.port, o.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : o.port;
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.drop(1001, 'server shutting down');
    for (const c of this.wss?.clients ?? []) c.terminate();
    await new Promise<void>((resolve) => {
      if (!this.server?.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
      for (const s of this.sockets) s.destroy();
    });
    this.wss?.close();
    if (this.tls?.dir) rmSync(this.tls.dir, { recursive: true, force: true });
  }

  private authorised(req: IncomingMessage): boolean {
    const key = requestKey(req);
    if (!key) return false;
    return this.opts.apiKey === undefined || key === this.opts.apiKey;
  }

  /**
   * Why the service would refuse this upgrade, or undefined. The service upgrades (101) first and
   * then sends one `error` event and closes with `<type>.<code>` (realtime-captures.md). The order of
   * the checks when several fail at once was not captured: key, then model, then dialect here.
   */
  private refusal(req: IncomingMessage, url: URL, beta: boolean): { error: EmulatorError; close: number } | undefined {
    const key = requestKey(req);
    if (!key) return { error: E.missingAuth(), close: 3000 };
    if (this.opts.apiKey !== undefined && key !== this.opts.apiKey) return { error: E.invalidApiKey(key), close: 3000 };
    // Azure paths carry deployment names (any name); OpenAI's path needs a realtime model, unless the
    // session is a transcription session (`?intent=transcription`) or a call's sideband (`?call_id=`).
    const azure = url.pathname.startsWith('/openai/');
    const model = url.searchParams.get('model') ?? url.searchParams.get('deployment');
    if (!azure && !url.searchParams.has('intent') && !url.searchParams.has('call_id')) {
      if (model === null || model === '') return { error: E.missingModel(), close: 4000 };
      if (!isRealtimeModel(model)) return { error: E.invalidModel(model), close: 4000 };
    }
    if (beta && !this.opts.allowBeta) return { error: E.betaDisabled(), close: 4000 };
    return undefined;
  }

  // ---------------------------------------------------------------- WebSocket

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const reject = (status: number, text: string, body = '') => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      socket.destroy();
    };
    if (!REALTIME_PATHS.has(url.pathname.replace(/\/+$/, ''))) return reject(404, 'Not Found');
    const beta = isBeta(req);
    const refused = this.refusal(req, url, beta);
    const transcription = url.searchParams.get('intent') === 'transcription';
    const model = url.searchParams.get('model') ?? url.searchParams.get('deployment') ?? (transcription ? TRANSCRIPTION_SESSION_MODEL : DEFAULT_MODEL);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (refused) return this.refuse(ws, refused.error, refused.close);
      this.onConnection(ws, model, beta, transcription);
    });
  }

  /** One `error` event and a close whose reason is `<type>.<code>`, in the same tick (as captured). */
  private refuse(ws: WebSocket, e: EmulatorError, code: number): void {
    ws.send(JSON.stringify({ type: 'error', event_id: this.ids.event(), error: { ...e, event_id: null } }));
    ws.close(code, e.code ? `${e.type}.${e.code}` : e.type);
    this.opts.log(`connection refused: ${code} ${e.code ?? e.type}`);
  }

  private onConnection(ws: WebSocket, model: string, beta: boolean, transcription: boolean): void {
    const session = new RealtimeSession(ws, this.opts, this.ids, this.rng.fork(), this.globalHints, {
      model,
      dialect: beta ? 'beta' : 'ga',
      transcription,
      globalToolCalls: this.globalToolCalls,
      onClose: (s) => {
        const i = this.sessions.indexOf(s as RealtimeSession);
        if (i >= 0) this.sessions.splice(i, 1);
        this.opts.log(`session ${s.id} closed`);
      },
    });
    this.sessions.push(session);
    this.opts.log(`session ${session.id} opened (${beta ? 'beta' : 'ga'}, ${model})`);
  }

  // ---------------------------------------------------------------- HTTP

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/+$/, '');
    const json = (status: number, body: unknown) => {
      const s = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
      res.end(s);
    };
    if (path === '/healthz') return json(200, { ok: true });
    if (!this.authorised(req)) {
      // The same refusal as the WebSocket's (realtime-captures.md): the masked key and where to find yours.
      const key = requestKey(req);
      const e = key ? E.invalidApiKey(key) : E.missingAuth();
      return json(401, { error: { message: e.message, type: e.type, param: e.param, code: e.code } });
    }
    const known =
      path === '/v1/chat/completions' ||
      path === '/openai/v1/chat/completions' ||
      path === '/emulator/hints' ||
      path === '/emulator/tool-calls' ||
      path === '/emulator/sessions' ||
      path.startsWith('/emulator/sessions/');
    if (!known) return json(404, { error: { message: `Unknown path ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    if (path === '/emulator/sessions' && req.method === 'GET') {
      return json(200, {
        sessions: this.sessions.map((s) => ({ id: s.id, dialect: s.dialect, model: s.model, items: s.items() })),
      });
    }
    if (req.method !== 'POST') return json(405, { error: { message: 'Method not allowed', type: 'invalid_request_error', param: null, code: null } });
    this.readBody(req, (err, body) => {
      if (err) return json(400, { error: { message: err, type: 'invalid_request_error', param: null, code: 'invalid_json' } });
      if (path.endsWith('/chat/completions')) {
        const r = handleChatCompletion(body, this.ids.chat(), Date.now());
        if (r.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          for (const c of r.stream) res.write(c);
          res.end();
          return;
        }
        return json(r.status, r.body);
      }
      const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
      if (path === '/emulator/hints') {
        if (typeof b.text !== 'string') return json(400, { error: { message: "Missing required parameter: 'text'.", type: 'invalid_request_error', param: 'text', code: 'missing_required_parameter' } });
        if (typeof b.session_id === 'string') {
          const s = this.sessions.find((x) => x.id === b.session_id);
          if (!s) return json(404, { error: { message: `No live session ${b.session_id}`, type: 'invalid_request_error', param: 'session_id', code: 'not_found' } });
          s.hint(b.text);
        } else this.globalHints.push(b.text);
        return json(200, { queued: true, pending: this.globalHints.length });
      }
      if (path === '/emulator/tool-calls') {
        const calls = parseToolCallHint(b.calls);
        if (!calls)
          return json(400, { error: { message: "Invalid 'calls': expected {name, arguments?} or a non-empty array of them.", type: 'invalid_request_error', param: 'calls', code: 'invalid_value' } });
        if (typeof b.session_id === 'string') {
          const s = this.sessions.find((x) => x.id === b.session_id);
          if (!s) return json(404, { error: { message: `No live session ${b.session_id}`, type: 'invalid_request_error', param: 'session_id', code: 'not_found' } });
          s.scriptToolCalls(calls);
        } else this.globalToolCalls.push(calls);
        return json(200, { queued: true, pending: this.globalToolCalls.length });
      }
      const m = /^\/emulator\/sessions\/([^/]+)\/(context-echo|drop|expire)$/.exec(path);
      const s = m ? this.sessions.find((x) => x.id === m[1]) : undefined;
      if (!m || !s) return json(404, { error: { message: `Unknown session or action: ${path}`, type: 'invalid_request_error', param: null, code: 'not_found' } });
      if (m[2] === 'context-echo') s.setContextEcho(b.enabled !== false);
      else if (m[2] === 'drop') s.drop(typeof b.code === 'number' ? b.code : undefined);
      else s.expire();
      return json(200, { ok: true });
    });
  }

  private readBody(req: IncomingMessage, done: (err: string | undefined, body: unknown) => void): void {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) parts.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return done('Request body too large.', undefined);
      const text = Buffer.concat(parts).toString('utf8');
      if (!text) return done(undefined, {});
      try {
        done(undefined, JSON.parse(text));
      } catch {
        done('We could not parse the JSON body of your request.', undefined);
      }
    });
  }
}
