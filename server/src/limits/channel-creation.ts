import { CidrSet } from '../util/cidr.js';
import { ipKey } from '../util/ip-key.js';
import { RateLimiter, SlidingWindow, type Clock } from './rate.js';

export interface ChannelCreationConfig {
  /** channels one connection may create per `windowMs` */
  perConnection: number;
  /** channels one IP key (v4 /32, v6 /64) may create per `windowMs` */
  perIp: number;
  windowMs: number;
  /** IPs/CIDRs whose per-IP count is not kept (each connection still has its own) */
  exempt: readonly string[];
}

/**
 * #12 finding 8: channel creation rates per connection and per IP key. A sliding window per
 * connection (keyed by the connection's object in a WeakMap, so it lives exactly as long as the
 * connection) and one per IP key (bounded number of keys, idle ones pruned). Only creations that
 * happen are recorded: `allowed` first, then `record` once the channel exists.
 */
export class ChannelCreationThrottle {
  private readonly byConn = new WeakMap<object, SlidingWindow>();
  private readonly byIp: RateLimiter<string>;
  private readonly exempt: CidrSet;

  constructor(private readonly cfg: ChannelCreationConfig, private readonly clock: Clock) {
    this.byIp = new RateLimiter<string>(cfg.perIp, cfg.windowMs, clock);
    this.exempt = new CidrSet(cfg.exempt);
  }

  /** May this connection (from `ip`) create a channel now? */
  allowed(conn: object, ip: string): boolean {
    const w = this.byConn.get(conn);
    if (w && w.count(this.clock.now()) >= this.cfg.perConnection) return false;
    return this.exempt.has(ip) || this.byIp.retryAfter(ipKey(ip)) === 0;
  }

  /** A channel was created by this connection. */
  record(conn: object, ip: string): void {
    let w = this.byConn.get(conn);
    if (!w) { w = new SlidingWindow(this.cfg.perConnection, this.cfg.windowMs); this.byConn.set(conn, w); }
    w.take(this.clock.now());
    if (!this.exempt.has(ip)) this.byIp.take(ipKey(ip));
  }
}
