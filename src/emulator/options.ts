// Emulator options: the public shape (index.ts re-exports it) and the resolved defaults.
import type { FaultOptions, TranscriptionOptions } from './faults.js';
import { loadScript } from './model.js';

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** Serve TLS: true = self-signed certificate made at start; or your own PEM cert/key. */
  tls?: boolean | { cert: string; key: string };
  /** Accept only this API key (Bearer or `api-key` header); default any non-empty key. */
  apiKey?: string;
  /**
   * Accept the beta dialect (`OpenAI-Beta: realtime=v1`), for clients of third-party servers still on
   * the beta shape. Default false: like OpenAI now, a beta client gets an error event and close 4000.
   */
  allowBeta?: boolean;
  /** WebSocket ping interval in ms (the service pings every ~20 s); 0 = never. Default 20,000. */
  pingIntervalMs?: number;
  /** Delay between response.done and rate_limits.updated (ms; the service: ~40). Default 40. */
  rateLimitsDelayMs?: number;
  /** Session length before session_expired (ms); default 60 minutes. */
  maxSessionMs?: number;
  /** 'fast' (library default) streams output as fast as possible; 'realtime' paces audio at 1x. */
  audioPacing?: 'realtime' | 'fast';
  /** Minimum reply length in words (default 24). */
  replyWords?: number;
  /** Replies list the items in the model context (default false). */
  contextEcho?: boolean;
  /** Scripted replies, in order, for in-band responses: an array or a JSON/text file path. */
  script?: string[] | string;
  /** Delay before the first output delta of each response (ms, default 0). */
  latencyMs?: number;
  /** Keep user input audio bytes for conversation.item.retrieve (default true). */
  retainAudio?: boolean;
  transcription?: TranscriptionOptions;
  faults?: FaultOptions;
  /** PRNG seed: ids and every random choice are reproducible (default 1). */
  seed?: number;
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  tls: boolean | { cert: string; key: string };
  apiKey?: string;
  allowBeta: boolean;
  pingIntervalMs: number;
  rateLimitsDelayMs: number;
  maxSessionMs: number;
  audioPacing: 'realtime' | 'fast';
  replyWords: number;
  contextEcho: boolean;
  script?: string[];
  latencyMs: number;
  retainAudio: boolean;
  transcription: TranscriptionOptions;
  faults: FaultOptions;
  seed: number;
  log: (line: string) => void;
}

export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  return {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    tls: o.tls ?? false,
    apiKey: o.apiKey,
    allowBeta: o.allowBeta ?? false,
    pingIntervalMs: o.pingIntervalMs ?? 20_000,
    rateLimitsDelayMs: o.rateLimitsDelayMs ?? 40,
    maxSessionMs: o.maxSessionMs ?? 60 * 60_000,
    audioPacing: o.audioPacing ?? 'fast',
    replyWords: o.replyWords ?? 24,
    contextEcho: o.contextEcho ?? false,
    script: loadScript(o.script),
    latencyMs: o.latencyMs ?? 0,
    retainAudio: o.retainAudio ?? true,
    transcription: { ...(o.transcription ?? {}) },
    faults: { ...(o.faults ?? {}) },
    seed: o.seed ?? 1,
    log: o.log ?? (() => undefined),
  };
}
