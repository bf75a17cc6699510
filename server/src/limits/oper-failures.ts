import type { Clock } from './clock.js';
import { CidrSet } from '../util/cidr.js';
import { ipKey } from '../util/ip-key.js';
import { RateLimiter, SlidingWindow } from './rate.js';

export interface OperFailuresConfig {
  /** failed attempts per IP key (v4 /32, v6 /64) within `windowMs` */
  perIp: number;
  /** failed attempts server-wide within `windowMs` */
  global: number;
  windowMs: number;
  /**
   * IPs/CIDRs (limit-exempt) outside the server-wide budget: never refused by it, and their
   * failures do not count toward it, so one attacker who spends it cannot lock them out. Their
   * per-IP budget still applies.
   */
  exempt?: readonly string[];
}

/** which budget refuses an attempt (or was just filled by a failure) */
export type OperBudget = 'ip' | 'global';

/**
 * Failed OPER attempts across connections (#12 finding 17: the per-connection interval alone let
 * one IP guess from many connections, and many IPs guess in parallel). Sliding windows, so there
 * is no window edge at which twice the budget passes. Only checked-and-wrong attempts are
 * counted: an operator who gets in costs nothing, and a refused attempt (never checked) cannot
 * stretch its own window. Addresses in `exempt` are outside the server-wide budget.
 */
export class OperFailures {
  private readonly perIp: RateLimiter<string>;
  private readonly global: SlidingWindow;
  private exempt: CidrSet;

  constructor(cfg: OperFailuresConfig, private readonly clock: Clock) {
    this.perIp = new RateLimiter<string>(cfg.perIp, cfg.windowMs, clock);
    this.global = new SlidingWindow(cfg.global, cfg.windowMs);
    this.exempt = new CidrSet(cfg.exempt ?? []);
  }

  /** a new limit-exempt list (REHASH, #16); the counts stay */
  setExempt(exempt: readonly string[]): void {
    this.exempt = new CidrSet(exempt);
  }

  private isExempt(ip: string): boolean {
    return this.exempt.size > 0 && this.exempt.has(ip);
  }

  /** the budget that is spent for an attempt from `ip` (check before looking at the password), or undefined */
  blocked(ip: string): OperBudget | undefined {
    if (this.perIp.retryAfter(ipKey(ip)) > 0) return 'ip';
    if (!this.isExempt(ip) && this.global.retryAfter(this.clock.now()) > 0) return 'global';
    return undefined;
  }

  /** record a checked attempt that failed; returns the budgets this failure used up (to log once) */
  failed(ip: string): OperBudget[] {
    const key = ipKey(ip);
    const now = this.clock.now();
    this.perIp.take(key);
    const full: OperBudget[] = [];
    if (this.perIp.retryAfter(key) > 0) full.push('ip');
    if (this.isExempt(ip)) return full;
    this.global.take(now);
    if (this.global.retryAfter(now) > 0) full.push('global');
    return full;
  }
}
