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
 * - **global**, of which `reserved` slots only *priority* requests may take: those made for a
 *   did:plc / did:key identity or one whose document was already cached, and every request to a
 *   configured service (plc-url, handle-resolver-url). A flood of uncached did:web logins to dead
 *   hosts can take at most `maxInFlight − reserved` slots, so such logins keep working.
 *
 * Configured services are exempt from the per-host cap and the host-down cache: every did:plc
 * login goes to the one PLC directory, and one slow answer from it must not lock everyone out for
 * a minute (the DID resolver falls back to a cached document on network errors instead).
 * Nothing here queues: a refused request fails at once, the login gets 904 and may be retried.
 */

export interface LookupRequester {
  /** the connection (session id) the requests are made for */
  readonly conn: number;
  /** its IP key (limits/ip-key.ts) */
  readonly ip: string;
  /** may use the reserved share (set by the identity service, see above) */
  priority: boolean;
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

export class LookupLimits {
  private total = 0;
  private readonly hosts = new Map<string, number>();
  private readonly ips = new Map<string, number>();
  private readonly conns = new Map<number, number>();
  /** host → refused until (ms) */
  private readonly down = new Map<string, number>();
  private readonly trusted: ReadonlySet<string>;
  private readonly reserved: number;

  constructor(private readonly o: LookupLimitsOptions) {
    this.trusted = new Set(o.trustedHosts.map((h) => h.toLowerCase()));
    // at least one slot stays open to everyone
    this.reserved = Math.max(0, Math.min(o.reserved, o.maxInFlight - 1));
  }

  isTrusted(host: string): boolean {
    return this.trusted.has(host);
  }

  /**
   * Take a slot for one request to `host` (lower-case `host[:port]`), or say why not. On
   * success the caller must `release` with the same arguments exactly once.
   */
  tryAcquire(host: string, who: LookupRequester | undefined, priority: boolean): LookupRefusal | undefined {
    const trusted = this.trusted.has(host);
    if (!trusted) {
      const until = this.down.get(host);
      if (until !== undefined) {
        if (until > this.o.now()) return 'host-down';
        this.down.delete(host);
      }
    }
    if (who) {
      if ((this.conns.get(who.conn) ?? 0) >= this.o.perConnection) return 'connection';
      if ((this.ips.get(who.ip) ?? 0) >= this.o.perIp) return 'ip';
    }
    if (!trusted && (this.hosts.get(host) ?? 0) >= this.o.perHost) return 'host';
    if (this.total >= this.o.maxInFlight) return 'global';
    if (this.total >= this.o.maxInFlight - this.reserved && !(priority || trusted || who?.priority)) return 'reserved';
    this.total++;
    this.hosts.set(host, (this.hosts.get(host) ?? 0) + 1);
    if (who) {
      this.conns.set(who.conn, (this.conns.get(who.conn) ?? 0) + 1);
      this.ips.set(who.ip, (this.ips.get(who.ip) ?? 0) + 1);
    }
    return undefined;
  }

  release(host: string, who: LookupRequester | undefined): void {
    this.total--;
    dec(this.hosts, host);
    if (who) {
      dec(this.conns, who.conn);
      dec(this.ips, who.ip);
    }
  }

  /** A request to `host` timed out: refuse the host for the TTL (configured services excepted). */
  hostTimedOut(host: string): void {
    if (this.trusted.has(host) || this.o.hostFailureTtlMs <= 0) return;
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

function dec<K>(m: Map<K, number>, k: K): void {
  const n = (m.get(k) ?? 0) - 1;
  if (n > 0) m.set(k, n); else m.delete(k);
}
