// Seeded PRNG and id generation: every random choice of the emulator is reproducible from `seed`.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** mulberry32: tiny, fast, good enough for ids and fault dice. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = (seed >>> 0) || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** True with probability p. */
  chance(p: number | undefined): boolean {
    if (!p || p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }
  base62(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += BASE62[Math.floor(this.next() * 62)];
    return s;
  }
  /** Derive an independent generator (e.g. one per session) deterministically. */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
}

/** Id factory with the real service's prefixes and lengths (`item_` + 21 chars = 26). */
export class Ids {
  constructor(private readonly rng: Rng) {}
  item(): string {
    return `item_${this.rng.base62(21)}`;
  }
  response(): string {
    return `resp_${this.rng.base62(21)}`;
  }
  session(): string {
    return `sess_${this.rng.base62(21)}`;
  }
  conversation(): string {
    return `conv_${this.rng.base62(21)}`;
  }
  event(): string {
    return `event_${this.rng.base62(21)}`;
  }
  chat(): string {
    return `chatcmpl-${this.rng.base62(29)}`;
  }
  call(): string {
    return `call_${this.rng.base62(16)}`;
  }
}
