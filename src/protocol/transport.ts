// What the agent needs from a Realtime connection. `RealtimeSocket` (adapters/) implements it over
// `ws`; a proxy or a test can supply its own through the agent's advanced `transport` option.
import type { AgentError } from '../errors.js';
import type { Dialect, WireEvent } from './events.js';

export interface AudioDelta {
  itemId: string;
  responseId: string;
  pcm: Buffer;
}

/** The events a transport emits, with their payloads. */
export interface TransportEvents {
  open: [];
  /** A known, parsed, GA-shaped server event (audio deltas excluded: they come as `audio`). */
  event: [WireEvent];
  audio: [AudioDelta];
  close: [{ code: number; reason: string }];
  /** The connection could not be made (handshake refused, unreachable, timeout). */
  failure: [AgentError];
  error: [Error];
}

export interface RealtimeTransport {
  readonly isOpen: boolean;
  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): unknown;
  removeAllListeners(): unknown;
  /** Sends a client event (GA shape); returns its event_id. */
  send(event: WireEvent): string;
  sendAudio(pcm: Buffer): void;
  /** Sends and resolves with the first matching server event; rejects on its error, a timeout or a close. */
  request(event: WireEvent, match: (e: WireEvent) => boolean, timeoutMs: number): Promise<WireEvent>;
  close(code?: number, reason?: string): void;
}

export interface TransportOptions {
  url: string;
  apiKey?: string;
  model: string;
  dialect: Dialect;
  azure?: boolean;
  ca?: string | Buffer;
  connectTimeoutMs?: number;
  keepaliveMs?: number;
  log?: (line: string) => void;
}

/** Opens a transport (advanced: the default is a `ws` socket, `RealtimeSocket`). */
export type TransportFactory = (options: TransportOptions) => RealtimeTransport;
