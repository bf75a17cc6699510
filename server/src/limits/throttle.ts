import type { Clock } from './clock.js';

interface Window { start: number; count: number }

/**
 * At most `max` events per key within a fixed window of `windowMs` that starts at the key's first
 * event (Ergo's connection throttle, ergo:irc/connection_limits/throttler.go). Refused attempts are
 * not counted, so a client that waits out the window gets in again.
 */
export class WindowThrottle {
  private readonly windows = new Map<string, Window>();
  private touches = 0;

  constructor(private max: number, private windowMs: number, private readonly clock: Clock) {}

  /** new limits (REHASH); the windows already open keep their start and count */
  setLimits(max: number, windowMs: number): void {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** record one event for `key`; false when the key is over its budget (nothing recorded) */
  touch(key: string): boolean {
    const now = this.clock.now();
    if (++this.touches % 1024 === 0) this.sweep(now);
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.set(key, { start: now, count: 1 });
      return true;
    }
    if (w.count >= this.max) return false;
    w.count++;
    return true;
  }

  /** ms until `key` may try again (0 when it may now) */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (!w || w.count < this.max) return 0;
    return Math.max(0, w.start + this.windowMs - this.clock.now());
  }

  /** forget expired windows (memory stays proportional to recently active keys) */
  sweep(now = this.clock.now()): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }

  get keys(): number { return this.windows.size; }
}
