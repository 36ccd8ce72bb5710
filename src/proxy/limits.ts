// Every resource one client can make the proxy hold has a limit here, with a default that a real
// Realtime client never meets (the defaults and the memory bound they give are in docs/proxy.md,
// "Limits"). One object so the server, each connection, the CLI and the docs read the same numbers.

const MiB = 1024 * 1024;

export interface ProxyLimits {
  /** Largest client frame (ws maxPayload); a bigger one closes the client 1009. */
  maxPayloadBytes: number;
  /** Client frames held during a rollover or a summary edit: above this the client socket is paused. */
  maxHeldBytes: number;
  /** Upstream send buffer: above it the client socket is paused (resumed under upstreamLowWaterBytes). */
  upstreamHighWaterBytes: number;
  upstreamLowWaterBytes: number;
  /** Unsent bytes queued for a client: above the soft limit the proxy stops reading that connection's upstream. */
  clientSoftLimitBytes: number;
  /** ...and reads it again once the client has taken the queue under this. */
  clientLowWaterBytes: number;
  /** Unsent bytes queued for a client: above this the client is closed 1008 and its upstream ended. */
  clientHardLimitBytes: number;
  /** A client that keeps the upstream paused this long without reading is closed 1008 (0 = never). */
  clientStallTimeoutMs: number;
  /** Client events per second, sustained (token bucket refill); 0 = no rate limit. */
  clientEventsPerSecond: number;
  /** Client events accepted in a burst (token bucket size). */
  clientEventBurst: number;
  /** Refused events within one rate window (10 s) after which the connection is closed 1008. */
  clientAbuseRefusals: number;
  /** Live connections per process (plus those being admitted); over it: HTTP 503 + Retry-After. */
  maxConnections: number;
  /** From TCP accept until the client's upgrade request is complete (slowloris guard). */
  handshakeTimeoutMs: number;
  /** No frame from the client for this long: the connection is closed 1001 (0 = never). */
  idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<ProxyLimits> = Object.freeze({
  maxPayloadBytes: 16 * MiB,
  maxHeldBytes: 32 * MiB,
  upstreamHighWaterBytes: 8 * MiB,
  upstreamLowWaterBytes: 1 * MiB,
  clientSoftLimitBytes: 4 * MiB,
  clientLowWaterBytes: 1 * MiB,
  clientHardLimitBytes: 16 * MiB,
  clientStallTimeoutMs: 30_000,
  // Audio appends come 50-100 a second (10-20 ms chunks); with the odd item.create, session.update and
  // response.create a busy real client stays under 150/s. 500/s sustained and a 1,000 burst leave 3x
  // headroom, and still cut a 10,000/s flood to 5% of its rate.
  clientEventsPerSecond: 500,
  clientEventBurst: 1000,
  clientAbuseRefusals: 5000,
  maxConnections: 1000,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 10 * 60_000,
});

/** The defaults with what the caller set; inconsistent pairs are refused in one line. */
export function resolveLimits(given: Partial<ProxyLimits> | undefined): ProxyLimits {
  const l: ProxyLimits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(given ?? {})) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_LIMITS)) throw new Error(`unknown proxy limit "${k}": one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`proxy limit ${k} must be a number >= 0, got ${String(v)}`);
    (l as unknown as Record<string, number>)[k] = v;
  }
  if (l.clientLowWaterBytes > l.clientSoftLimitBytes || l.clientSoftLimitBytes > l.clientHardLimitBytes) {
    throw new Error('proxy limits: need clientLowWaterBytes <= clientSoftLimitBytes <= clientHardLimitBytes');
  }
  if (l.upstreamLowWaterBytes > l.upstreamHighWaterBytes) throw new Error('proxy limits: need upstreamLowWaterBytes <= upstreamHighWaterBytes');
  return l;
}

/** The worst-case bytes one connection can hold, from its limits (stated in docs/proxy.md). */
export function memoryBoundPerConnection(l: ProxyLimits): number {
  // Client queue up to the hard limit plus the frame that crossed it; upstream queue up to its high
  // water plus one client frame; held frames up to their limit plus one frame; one frame being parsed.
  return l.clientHardLimitBytes + l.maxPayloadBytes + l.upstreamHighWaterBytes + l.maxPayloadBytes + l.maxHeldBytes + l.maxPayloadBytes;
}

/** Token bucket: `take()` is false when the client is over its rate. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    if (this.perSecond <= 0) return true;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
