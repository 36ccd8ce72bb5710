// What one client may cost the proxy: its send queue (SendBudget), its event rate (ClientRate) and
// its silence (IdleWatch). Each is a small state machine the connection feeds; the limits come from
// limits.ts and the decisions (pause the upstream, refuse a frame, close) go back through callbacks.
import { TokenBucket, type ProxyLimits } from './limits.js';

const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);

export interface SendBudgetHooks {
  /** Bytes queued for the client and not yet written to its socket. */
  buffered(): number;
  /** Stop reading the upstream of this connection (its frames would only queue for the client). */
  pauseUpstream(): void;
  resumeUpstream(): void;
  /** The client is past the hard limit (or stalled past the soft one): close it with this reason. */
  overflow(reason: string): void;
}

/**
 * The client's send queue: past the soft limit the upstream is paused until the client reads the
 * queue under the low-water mark; past the hard limit, or paused longer than the stall timeout, the
 * client is closed. So a client that stops reading holds at most the hard limit (plus one frame).
 */
export class SendBudget {
  private paused = false;
  private pausedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private over = false;

  constructor(
    private readonly limits: Pick<ProxyLimits, 'clientSoftLimitBytes' | 'clientLowWaterBytes' | 'clientHardLimitBytes' | 'clientStallTimeoutMs'>,
    private readonly hooks: SendBudgetHooks,
  ) {}

  get upstreamPaused(): boolean {
    return this.paused;
  }

  /** After every frame queued for the client. */
  check(): void {
    if (this.over) return;
    const queued = this.hooks.buffered();
    if (queued > this.limits.clientHardLimitBytes) {
      this.fail(`client not reading: ${mib(queued)} MiB unsent, limit ${mib(this.limits.clientHardLimitBytes)} MiB`);
      return;
    }
    if (!this.paused && queued > this.limits.clientSoftLimitBytes) {
      this.paused = true;
      this.pausedAt = Date.now();
      this.hooks.pauseUpstream();
      // ws has no 'drain' for its queue: look at it until the client has read it down.
      this.timer = setInterval(() => this.poll(), 20);
      this.timer.unref();
    }
  }

  private poll(): void {
    const queued = this.hooks.buffered();
    if (queued <= this.limits.clientLowWaterBytes) {
      this.stopPolling();
      this.paused = false;
      this.hooks.resumeUpstream();
      return;
    }
    const stalled = Date.now() - this.pausedAt;
    if (this.limits.clientStallTimeoutMs > 0 && stalled >= this.limits.clientStallTimeoutMs) {
      this.fail(`client not reading: ${mib(queued)} MiB unsent for ${Math.round(stalled / 1000)} s`);
    }
  }

  private fail(reason: string): void {
    this.over = true;
    this.stop();
    this.hooks.overflow(reason);
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  stop(): void {
    this.stopPolling();
  }
}

export type RateVerdict = 'ok' | 'refused' | 'abusive';

/** Client events per second (token bucket); persistent excess makes the connection abusive. */
export class ClientRate {
  private readonly bucket: TokenBucket;
  private refusedInWindow = 0;
  private windowStart = Date.now();
  /** Every refused event, for the closed line. */
  refused = 0;

  constructor(private readonly limits: Pick<ProxyLimits, 'clientEventsPerSecond' | 'clientEventBurst' | 'clientAbuseRefusals'>) {
    this.bucket = new TokenBucket(limits.clientEventsPerSecond, limits.clientEventBurst);
  }

  admit(): RateVerdict {
    if (this.bucket.take()) return 'ok';
    this.refused++;
    const now = Date.now();
    if (now - this.windowStart > 10_000) {
      this.windowStart = now;
      this.refusedInWindow = 0;
    }
    this.refusedInWindow++;
    return this.limits.clientAbuseRefusals > 0 && this.refusedInWindow > this.limits.clientAbuseRefusals ? 'abusive' : 'refused';
  }

  /** The error event the service's shape gives a refused client event (realtime-protocol.md 6.1). */
  errorFrame(eventId: string | null, n: number): string {
    return JSON.stringify({
      type: 'error',
      event_id: `event_proxy_rl_${n}`,
      error: {
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        message: `Rate limit reached: more than ${this.limits.clientEventsPerSecond} client events per second (burst ${this.limits.clientEventBurst}) on this connection; this event was not processed. Slow down and send it again.`,
        param: null,
        event_id: eventId,
      },
    });
  }
}

/** Calls `onIdle` once no frame has been seen (`touch`) for `idleMs`; 0 = never. One timer, no per-frame rescheduling. */
export class IdleWatch {
  private last = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: (idleMs: number) => void,
  ) {
    if (idleMs > 0) this.arm(idleMs);
  }

  touch(): void {
    this.last = Date.now();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const quiet = Date.now() - this.last;
      if (quiet >= this.idleMs) this.onIdle(quiet);
      else this.arm(this.idleMs - quiet);
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
