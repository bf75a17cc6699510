/**
 * Who may start an outbound identity request, and when not (#12 finding 6; hardening.md D4).
 *
 * A single global pool let one guest starve every login: 70 did:web logins against a host that
 * never answers held all 64 slots for the whole http-timeout, and every other login — did:plc
 * ones included, even under `LOCKDOWN sasl-only` — failed with 904. The slots are now shared out
 * in layers, each checked before a socket is opened:
 *
 * - **host down**: a host that let a request time out is refused for `hostFailureTtlMs` (a
 *   negative cache: a dead did:web host costs one timeout per TTL, not one per login);
 * - **per connection** and **per IP key** (v4 /32, v6 /64): requests a client caused, in flight;
 * - **per host**: requests to one destination (`host:port`), in flight;
 * - **global**, of which `reserved` slots only *priority* requests may take: every request to a
 *   configured service (plc-url, handle-resolver-url), the refresh of a DID document already
 *   cached, and a did:plc's PDS calls (the PLC directory names that PDS; the caller marks both).
 *   Nothing a did:web document names, because anyone can write one for free. A flood of logins to
 *   dead hosts can take at most `maxInFlight − reserved` slots, so did:plc logins and did:key
 *   crypto logins keep working.
 *
 * Configured services are exempt from the per-host cap and the host-down cache: every did:plc
 * login goes to the one PLC directory, and one slow answer from it must not lock everyone out for
 * a minute (the DID resolver falls back to a cached document on network errors instead). The
 * DNS TXT step of a handle lookup counts as a request to the pseudo-host `dns:` (DNS_HOST): the
 * per-connection, per-IP and global quotas apply, the per-host cap and the host-down cache do not
 * (it stands for the system's resolvers, not one destination).
 * Nothing here queues: a refused request fails at once, the login gets 904 and may be retried.
 */
import { ConcurrentLimiter } from '../limits/concurrent.js';

export interface LookupRequester {
  /** the connection (session id) the requests are made for */
  readonly conn: number;
  /** its IP key (util/ip-key.ts) */
  readonly ip: string;
}

export interface LookupLimitsOptions {
  maxInFlight: number;
  /** slots of `maxInFlight` only priority requests may take */
  reserved: number;
  perHost: number;
  perIp: number;
  perConnection: number;
  /** ms a host that timed out is refused */
  hostFailureTtlMs: number;
  /** `host[:port]` of the configured services (lower case, as URL.host writes it) */
  trustedHosts: readonly string[];
  now: () => number;
}

export type LookupRefusal = 'host-down' | 'connection' | 'ip' | 'host' | 'global' | 'reserved';

/** bound on the host-down cache; expired entries are dropped first, then the oldest */
const MAX_DOWN_HOSTS = 10_000;

/** the pseudo-host DNS TXT handle lookups are counted against (identity/handle.ts) */
export const DNS_HOST = 'dns:';

export class LookupLimits {
  private total = 0;
  private readonly hosts: ConcurrentLimiter<string>;
  private readonly ips: ConcurrentLimiter<string>;
  private readonly conns: ConcurrentLimiter<number>;
  /** host → refused until (ms) */
  private readonly down = new Map<string, number>();
  private readonly trusted: ReadonlySet<string>;
  private readonly reserved: number;

  constructor(private readonly o: LookupLimitsOptions) {
    this.trusted = new Set(o.trustedHosts.map((h) => h.toLowerCase()));
    // at least one slot stays open to everyone
    this.reserved = Math.max(0, Math.min(o.reserved, o.maxInFlight - 1));
    this.hosts = new ConcurrentLimiter(o.perHost);
    this.ips = new ConcurrentLimiter(o.perIp);
    this.conns = new ConcurrentLimiter(o.perConnection);
  }

  isTrusted(host: string): boolean {
    return this.trusted.has(host);
  }

  /**
   * Take a slot for one request to `host` (lower-case `host[:port]`, or DNS_HOST), or say why
   * not. `priority`: may take the reserved share (a cached document's refresh); requests to a
   * configured service always may. On success the caller must `release` with the same `host`
   * and `who` exactly once.
   */
  tryAcquire(host: string, who: LookupRequester | undefined, priority: boolean): LookupRefusal | undefined {
    const trusted = this.trusted.has(host);
    // exempt from the host-down cache and the per-host cap
    const exempt = trusted || host === DNS_HOST;
    if (!exempt) {
      const until = this.down.get(host);
      if (until !== undefined) {
        if (until > this.o.now()) return 'host-down';
        this.down.delete(host);
      }
    }
    if (who) {
      if (this.conns.full(who.conn)) return 'connection';
      if (this.ips.full(who.ip)) return 'ip';
    }
    if (!exempt && this.hosts.full(host)) return 'host';
    if (this.total >= this.o.maxInFlight) return 'global';
    if (this.total >= this.o.maxInFlight - this.reserved && !(priority || trusted)) return 'reserved';
    // every check passed: commit all counts (exempt hosts are counted too, only never refused)
    this.total++;
    this.hosts.add(host);
    if (who) {
      this.conns.add(who.conn);
      this.ips.add(who.ip);
    }
    return undefined;
  }

  release(host: string, who: LookupRequester | undefined): void {
    this.total--;
    this.hosts.remove(host);
    if (who) {
      this.conns.remove(who.conn);
      this.ips.remove(who.ip);
    }
  }

  /** A request to `host` timed out: refuse the host for the TTL (configured services excepted). */
  hostTimedOut(host: string): void {
    if (this.trusted.has(host) || host === DNS_HOST || this.o.hostFailureTtlMs <= 0) return;
    const now = this.o.now();
    if (this.down.size >= MAX_DOWN_HOSTS) {
      for (const [h, until] of this.down) if (until <= now) this.down.delete(h);
      while (this.down.size >= MAX_DOWN_HOSTS) this.down.delete(this.down.keys().next().value!);
    }
    this.down.delete(host); // re-insert at the young end
    this.down.set(host, now + this.o.hostFailureTtlMs);
  }

  /** requests in flight (tests, metrics) */
  get inFlight(): number {
    return this.total;
  }
}
