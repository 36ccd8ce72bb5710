// A pass-through HTTP proxy for the summariser's chat completions: forwards to the emulator and
// records each call's token usage and duration (so the summariser's own cost and model time are
// known without touching the engine).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ChatCall {
  start: number;
  durationMs: number;
  promptTokens: number;
  completionTokens: number;
}

export interface ChatProxy {
  baseURL: string;
  calls: ChatCall[];
  close(): Promise<void>;
}

/** gpt-4o-mini list prices (USD per 1M tokens), the summariser's default model. */
export const SUMMARISER_PRICES = { input: 0.15, output: 0.6 };

export function chatCost(calls: readonly ChatCall[]): number {
  let c = 0;
  for (const x of calls) c += x.promptTokens * SUMMARISER_PRICES.input + x.completionTokens * SUMMARISER_PRICES.output;
  return c / 1e6;
}

export async function startChatProxy(upstreamHttpUrl: string): Promise<ChatProxy> {
  const up = new URL(upstreamHttpUrl);
  const calls: ChatCall[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const headers = { ...req.headers, host: up.host };
      const out = request({ hostname: up.hostname, port: up.port, path: `${up.pathname.replace(/\/$/, '')}${(req.url ?? '').replace(/^\/v1/, '')}`, method: req.method, headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const text = Buffer.concat(chunks);
          try {
            const j = JSON.parse(text.toString()) as { usage?: { prompt_tokens?: number; completion_tokens?: number } };
            if (j.usage) calls.push({ start, durationMs: performance.now() - start, promptTokens: j.usage.prompt_tokens ?? 0, completionTokens: j.usage.completion_tokens ?? 0 });
          } catch {
            // not JSON (stream or error): not counted
          }
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.end(text);
        });
      });
      out.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      out.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
