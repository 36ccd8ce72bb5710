// Small HTTP/SSE helpers for the inspector tests (no browser).
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Plain HTTP request to 127.0.0.1 (any method, optional Host header override). */
export function httpRequest(url: string, init: { method?: string; host?: string; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: init.method ?? 'GET',
        headers: init.host ? { host: init.host } : undefined,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

export interface SseReader {
  status: number;
  /** Raw text received so far. */
  text(): string;
  /** Parsed `data:` frames so far (the `reset` event's data excluded). */
  frames(): { k: string; [key: string]: unknown }[];
  waitFor(pred: (frames: { k: string; [key: string]: unknown }[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens an SSE stream and collects what arrives. */
export function openSse(url: string): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    let raw = '';
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c) => (raw += c));
      const frames = () => {
        const out: { k: string }[] = [];
        for (const block of raw.split('\n\n')) {
          if (/^event: /m.test(block)) continue;
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (!data) continue;
          try {
            out.push(JSON.parse(data));
          } catch {
            /* partial */
          }
        }
        return out as { k: string; [key: string]: unknown }[];
      };
      resolve({
        status: res.statusCode ?? 0,
        text: () => raw,
        frames,
        async waitFor(pred, timeoutMs = 5000) {
          const end = Date.now() + timeoutMs;
          while (!pred(frames())) {
            if (Date.now() > end) throw new Error('timed out waiting for SSE frames; got: ' + raw.slice(-2000));
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
