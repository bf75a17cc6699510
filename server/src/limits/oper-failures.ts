import type { Clock } from './clock.js';
import { ipKey } from './ip-key.js';
import { RateLimiter, SlidingWindow } from './rate.js';

export interface OperFailuresConfig {
  /** failed attempts per IP key (v4 /32, v6 /64) within `windowMs` */
  perIp: number;
  /** failed attempts server-wide within `windowMs` */
  global: number;
  windowMs: number;
}

/** which budget refuses an attempt (or was just filled by a failure) */
export type OperBudget = 'ip' | 'global';

/**
 * Failed OPER attempts across connections (#12 finding 17: the per-connection interval alone let
 * one IP guess from many connections, and many IPs guess in parallel). Sliding windows, so there
 * is no window edge at which twice the budget passes. Only checked-and-wrong attempts are
 * counted: an operator who gets in costs nothing, and a refused attempt (never checked) cannot
 * stretch its own window.
 */
export class OperFailures {
  private readonly perIp: RateLimiter<string>;
  private readonly global: SlidingWindow;

  constructor(cfg: OperFailuresConfig, private readonly clock: Clock) {
    this.perIp = new RateLimiter<string>(cfg.perIp, cfg.windowMs, clock);
    this.global = new SlidingWindow(cfg.global, cfg.windowMs);
  }

  /** the budget that is spent for an attempt from `ip` (check before looking at the password), or undefined */
  blocked(ip: string): OperBudget | undefined {
    if (this.perIp.retryAfter(ipKey(ip)) > 0) return 'ip';
    if (this.global.retryAfter(this.clock.now()) > 0) return 'global';
    return undefined;
  }

  /** record a checked attempt that failed; returns the budgets this failure used up (to log once) */
  failed(ip: string): OperBudget[] {
    const key = ipKey(ip);
    const now = this.clock.now();
    this.perIp.take(key);
    this.global.take(now);
    const full: OperBudget[] = [];
    if (this.perIp.retryAfter(key) > 0) full.push('ip');
    if (this.global.retryAfter(now) > 0) full.push('global');
    return full;
  }
}
