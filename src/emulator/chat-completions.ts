// POST /v1/chat/completions: a deterministic extractive summariser with real token usage.
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { textTokens } from './usage.js';

const LANGUAGES = [
  'English', 'French', 'Spanish', 'German', 'Italian', 'Portuguese', 'Dutch', 'Japanese', 'Chinese', 'Korean',
  'Russian', 'Arabic', 'Hindi', 'Polish', 'Swedish', 'Turkish', 'Greek', 'Czech', 'Danish', 'Finnish', 'Norwegian',
];
const FRAMING: Record<string, string> = {
  French: 'Résumé :',
  Spanish: 'Resumen:',
  German: 'Zusammenfassung:',
  Italian: 'Riassunto:',
  Portuguese: 'Resumo:',
};
const MAX_SUMMARY_WORDS = 120;

type Msg = { role?: unknown; content?: unknown };

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join(' ');
  return '';
}

/** The language the system prompt asks for ("... in French ..."), if any. */
export function requestedLanguage(system: string): string | undefined {
  for (const lang of LANGUAGES) if (new RegExp(`\\bin ${lang}\\b`, 'i').test(system)) return lang;
  return undefined;
}

/**
 * Extractive summary: the first sentence of every non-empty input line, capped at 120 words,
 * prefixed by the language marker `[Summary in <Language>]` (plus a short native framing word for
 * French, Spanish, German, Italian, Portuguese) or `[Summary]` when no language was asked for.
 */
export function summarise(system: string, user: string): string {
  const lang = requestedLanguage(system);
  const parts: string[] = [];
  for (const line of user.split(/\r?\n/)) {
    const t = line.trim();
    if (!t) continue;
    const m = /^(.*?[.!?])(\s|$)/.exec(t);
    parts.push(m ? m[1] : t);
  }
  let words = parts.join(' ').split(/\s+/).filter(Boolean);
  if (words.length > MAX_SUMMARY_WORDS) words = [...words.slice(0, MAX_SUMMARY_WORDS), '...'];
  const body = words.length ? words.join(' ') : '(nothing to summarise)';
  if (!lang) return `[Summary] ${body}`;
  const framing = FRAMING[lang];
  return `[Summary in ${lang}] ${framing ? `${framing} ` : ''}${body}`;
}

export interface ChatRequestResult {
  status: number;
  body?: unknown;
  /** SSE chunks when `stream: true`. */
  stream?: string[];
}

export function handleChatCompletion(req: unknown, id: string, now: number): ChatRequestResult {
  if (!req || typeof req !== 'object') return badRequest('Invalid body: expected a JSON object.', null);
  const r = req as { model?: unknown; messages?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
  if (typeof r.model !== 'string' || !r.model) return badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (!Array.isArray(r.messages) || r.messages.length === 0)
    return badRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  const messages = r.messages as Msg[];
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => contentText(m.content)).join('\n');
  const user = messages.filter((m) => m.role === 'user').map((m) => contentText(m.content)).join('\n');
  const content = summarise(system, user);
  let prompt = 3;
  for (const m of messages) prompt += 4 + textTokens(contentText(m.content));
  const completion = textTokens(content);
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const created = Math.floor(now / 1000);
  if (r.stream === true) {
    const base = { id, object: 'chat.completion.chunk' as const, created, model: r.model };
    const chunks: ChatCompletionChunk[] = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ];
    if (r.stream_options?.include_usage === true) chunks.push({ ...base, choices: [], usage });
    return { status: 200, stream: chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).concat('data: [DONE]\n\n') };
  }
  const body: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model: r.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage,
  };
  return { status: 200, body };
}

function badRequest(message: string, param: string | null, code: string | null = null): ChatRequestResult {
  return { status: 400, body: { error: { message, type: 'invalid_request_error', param, code } } };
}
