// The summariser's model call: chat completions through the official `openai` SDK (any baseURL:
// OpenAI, Azure's v1 endpoint, a local OpenAI-compatible server, or the emulator). The SDK retries
// 408/409/429/5xx with back-off and honours retry-after; a malformed reply is an error, never a summary.
import OpenAI from 'openai';
import type { ChatMessage } from '../src/conversation/summary-prompt.js';
import { redact } from '../src/errors.js';

export interface ChatSummariserOptions {
  apiKey?: string;
  baseURL?: string;
  model?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface SummaryResult {
  text: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function createChatSummariser(o: ChatSummariserOptions) {
  const client = new OpenAI({
    apiKey: o.apiKey ?? 'not-needed',
    baseURL: o.baseURL,
    timeout: o.timeoutMs ?? 30_000,
    maxRetries: o.maxRetries ?? 3,
  });
  const model = o.model ?? 'gpt-4o-mini';
  return async function summarise(messages: ChatMessage[], signal?: AbortSignal): Promise<SummaryResult> {
    let res: OpenAI.Chat.Completions.ChatCompletion;
    try {
      res = await client.chat.completions.create({ model, temperature: 0, messages }, { signal });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`the summary model (${model}) failed: ${redact(msg, [o.apiKey])}`);
    }
    const text = res?.choices?.[0]?.message?.content;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new Error(`the summary model (${model}) returned no text`);
    }
    return { text: text.trim(), usage: res.usage ?? undefined };
  };
}
