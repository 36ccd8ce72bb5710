// WebSocket factory for @openai/agents-realtime against the emulator: a plain `ws` socket with the
// Bearer header (the transport's default factory targets browsers and api.openai.com).
import WebSocket from 'ws';

export function emulatorCompatibleWebSocket(apiKey: string) {
  return async ({ url }: { url: string }) =>
    new WebSocket(url, { headers: { Authorization: `Bearer ${apiKey}` }, perMessageDeflate: false }) as never;
}
