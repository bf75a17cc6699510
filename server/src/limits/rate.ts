/** Time source of every limit (style.md §4e): the server passes its clock, tests a manual one. */
export interface Clock { now(): number }

/**
 * A sliding-window log: at most `limit` accepted events in any span of `windowMs`. Only accepted
 * events are recorded, so a client that keeps hammering gets in again exactly when its oldest
 * accepted event leaves the window (no fixed-window edge where 2×limit pass). Memory is at most
 * `limit` numbers.
 */
export class SlidingWindow {
  private times: number[] = [];
  private head = 0;

  constructor(readonly limit: number, readonly windowMs: number) {}

  /** events counted at `now` */
  count(now: number): number {
    this.expire(now);
    return this.times.length - this.head;
  }

  /** Record an event at `now` if the window has room; false (nothing recorded) if not. */
  take(now: number): boolean {
    if (this.count(now) >= this.limit) return false;
    this.times.push(now);
    return true;
  }

  /** ms until `take` would succeed (0 = now) */
  retryAfter(now: number): number {
    if (this.count(now) < this.limit) return 0;
    return this.times[this.head]! + this.windowMs - now;
  }

  private expire(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) this.head++;
    if (this.head > 32 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Sliding windows keyed by anything (an identity+IP string, a user…), with a bounded number of
 * keys: idle keys are pruned as it goes, and beyond `maxKeys` the oldest key is forgotten (memory
 * stays bounded under a flood of distinct keys, at the price of that key's history).
 */
export class RateLimiter<K = string> {
  private readonly windows = new Map<K, SlidingWindow>();
  private ops = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  /** Record one event for `key`; false if `key` is over its limit (the event is not recorded). */
  take(key: K): boolean {
    const now = this.clock.now();
    if (++this.ops % 1024 === 0) this.prune(now);
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= this.maxKeys) {
        this.prune(now);
        if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as K);
      }
      w = new SlidingWindow(this.limit, this.windowMs);
      this.windows.set(key, w);
    }
    return w.take(now);
  }

  /** ms until `key` may act again (0 = now) */
  retryAfter(key: K): number {
    return this.windows.get(key)?.retryAfter(this.clock.now()) ?? 0;
  }

  /** keys currently tracked */
  get size(): number { return this.windows.size; }

  /** Forget keys without events in the window. */
  prune(now = this.clock.now()): void {
    for (const [k, w] of this.windows) if (w.count(now) === 0) this.windows.delete(k);
  }
}

/**
 * A token bucket: `rate` tokens a second, at most `burst` held (federation links, #14: 100 events/s,
 * burst 200). Hand-written: a dozen lines, and the libraries for it are built around timers or
 * promises, where a link needs a synchronous take and the time until the next token.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }

  /** take one token if there is one */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** ms until a token is there (0 = now) */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
      this.at = now;
    }
  }
}
