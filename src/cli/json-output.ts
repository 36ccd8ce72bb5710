// --json: one JSON object per line on stdout, for scripts. Types: session, turn, transcript, window,
// summary, summary.skipped, reconnect, tool.call, tool, inspector, error. Every line passes through redact(), so a key can never leak into a pipeline.
import type { AgentError } from '../errors.js';
import type { RealtimeAgent, SessionInfo } from '../types.js';

export type JsonType = 'session' | 'turn' | 'transcript' | 'window' | 'summary' | 'summary.skipped' | 'reconnect' | 'tool.call' | 'tool' | 'inspector' | 'error';

export class JsonOutput {
  private readonly seen = new WeakSet<object>();
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly redact: (s: string) => string,
  ) {}

  emit(type: JsonType, payload: object): void {
    this.out.write(this.redact(JSON.stringify({ type, ...payload })) + '\n');
  }

  session(info: SessionInfo, extra: { backend: string; input: string; output: string }): void {
    this.emit('session', { ...info, url: stripQuery(info.url), ...extra });
  }

  error(e: { code?: string; message: string; fatal?: boolean }): void {
    this.emit('error', { code: e.code ?? 'error', message: e.message, fatal: e.fatal ?? false });
  }

  /** True when this error object was already printed as an `error` line (no duplicate at exit). */
  reported(e: unknown): boolean {
    return typeof e === 'object' && e !== null && this.seen.has(e);
  }

  attach(agent: RealtimeAgent): () => void {
    const offs = [
      agent.on('turn', (t) => this.emit('turn', t)),
      agent.on('transcript', (e) => this.emit('transcript', e)),
      agent.on('window', (e) => this.emit('window', e)),
      agent.on('summary', (e) => this.emit('summary', e)),
      agent.on('summary.skipped', (e) => this.emit('summary.skipped', e)),
      agent.on('reconnect', (e) => this.emit('reconnect', e)),
      // A call starting, then one `tool` line per settled call: name, arguments, output or error, durationMs.
      agent.on('tool.call', (e) => this.emit('tool.call', e)),
      agent.on('tool.result', (e) => this.emit('tool', e)),
      agent.on('error', (e: AgentError) => {
        this.seen.add(e);
        this.error({ code: e.code, message: e.message, fatal: e.fatal });
      }),
    ];
    return () => offs.forEach((f) => f());
  }
}

function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q) + url.slice(q).replace(/(api[-_]?key|key|token)=[^&]*/gi, '$1=[redacted]');
}
