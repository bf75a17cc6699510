import type { Config } from '../config/schema.js';
import type { Clock } from '../limits/clock.js';
import { CidrSet } from '../util/cidr.js';
import { ConcurrentLimiter } from '../limits/concurrent.js';
import { ipKey } from '../util/ip-key.js';
import { WindowThrottle } from '../limits/throttle.js';
import type { Logger } from '../observability/log.js';
import type { TransportKind } from './conn.js';

/**
 * Admission (hardening A1–A3, A7, I3): every new connection on every transport asks here, with
 * the *resolved* client address (after PROXY / X-Forwarded-For from a trusted proxy), before the
 * TLS handshake or the WebSocket upgrade. One counter per IP key across TCP, TLS and WebSocket.
 *
 * The HTTP port (#12 finding 4) asks too, at accept time, with the TCP peer's address
 * (`admitHttp`): an HTTP connection takes a slot of the same per-IP counter (an IP's HTTP plus
 * IRC connections are bounded together by max-connections-per-ip), and of its own per-IP and
 * server-wide HTTP counters. A connection from a trusted proxy is not counted per IP (it carries
 * many clients; their requests are limited by their forwarded address). A WebSocket that
 * upgrades gives its HTTP ticket back before it is admitted as an IRC connection, so it is
 * never counted twice.
 */

export type RefusalKind = 'banned' | 'lockdown' | 'global' | 'per-ip' | 'throttle' | HttpRefusalKind;
/** refusals only the HTTP port's accept-time check gives */
export type HttpRefusalKind = 'http-per-ip' | 'http-global' | 'fd-reserve';
export type LockdownLevel = 'off' | 'sasl-only' | 'closed';

/** the IRC `ERROR :<text>` (TCP/TLS) and the HTTP status (WebSocket) of each refusal */
export const REFUSAL: Record<RefusalKind, { text: string; status: number; reason: string }> = {
  // the ban's reason is shown at registration for mask bans; an IP ban is refused before any protocol
  banned: { text: 'You are banned from this server', status: 403, reason: 'Forbidden' },
  lockdown: { text: 'This server is temporarily closed to new connections', status: 503, reason: 'Service Unavailable' },
  global: { text: 'Server is full', status: 503, reason: 'Service Unavailable' },
  'per-ip': { text: 'Too many connections from your IP', status: 429, reason: 'Too Many Requests' },
  throttle: { text: 'You have attempted to connect too many times within a short duration. Wait a while, and you will be able to connect.', status: 429, reason: 'Too Many Requests' },
  'http-per-ip': { text: 'Too many HTTP connections from your IP', status: 429, reason: 'Too Many Requests' },
  'http-global': { text: 'Too many HTTP connections', status: 503, reason: 'Service Unavailable' },
  'fd-reserve': { text: 'Server is busy', status: 503, reason: 'Service Unavailable' },
};

const LOG_TEXT: Record<RefusalKind, string> = {
  banned: 'connection refused: server ban',
  lockdown: 'connection refused: lockdown closed',
  global: 'server full: max-connections reached',
  'per-ip': 'per-IP limit reached',
  throttle: 'connection throttle reached',
  'http-per-ip': 'HTTP per-IP connection limit reached',
  'http-global': 'HTTP connections limit reached: http-max-connections',
  'fd-reserve': 'HTTP connection refused: open file descriptors within http-fd-reserve of the limit',
};

/** refusals that are about the whole server, not one address: one log line per minute in all */
const SERVER_WIDE = new Set<RefusalKind>(['global', 'http-global', 'fd-reserve']);

/** one warn line per (refusal, IP key) per minute: an attack must not become a log flood */
const LOG_EVERY_MS = 60_000;

export type AdmissionConfig = Pick<Config, 'maxConnectionsPerIp' | 'connectionThrottle' | 'connectionThrottleWindow' | 'maxConnections' | 'limitExempt' | 'throttleExempt' | 'trustedProxies' | 'tlsHandshakeTimeout'>
  // absent: no HTTP-specific cap (the IRC-only unit tests)
  & Partial<Pick<Config, 'httpMaxConnectionsPerIp' | 'httpMaxConnections' | 'httpFdReserve'>>;

/**
 * The descriptor budget the HTTP port must leave to IRC (#12 finding 4): `limit` is the soft
 * RLIMIT_NOFILE, `baseline` the descriptors open at start-up (database, listeners, threads).
 */
export interface DescriptorBudget { limit: number; baseline: number }

export interface AdmissionDeps {
  config: AdmissionConfig;
  clock: Clock;
  /** the run-time lockdown level (World.lockdown, changed by Ops.setLockdown: LOCKDOWN, the admin API) */
  lockdown(): LockdownLevel;
  /** metrics.limitHit */
  limitHit(kind: string): void;
  /** UBAN: the reason if this IP is banned (IP/CIDR bans), checked before TLS or the WebSocket upgrade */
  isIpBanned?(ip: string): string | undefined;
  /** absent or an infinite limit: no descriptor reserve */
  descriptors?: DescriptorBudget;
  log: Logger;
  /** a refusal that was logged (at most one per refusal kind and IP key per minute): the server notices (#16) */
  refused?(kind: RefusalKind, ip: string, transport: TransportKind | 'http', text: string): void;
}

/** A counted connection; `release` when its socket closes (idempotent). */
export interface Ticket {
  readonly ip: string;
  readonly key: string;
  release(): void;
}

export class Admission {
  readonly trustedProxies: CidrSet;
  limitExempt: CidrSet;
  throttleExempt: CidrSet;
  readonly handshakeTimeoutMs: number;
  private readonly perIp: ConcurrentLimiter;
  private readonly httpPerIp: ConcurrentLimiter;
  private readonly throttle: WindowThrottle;
  private total = 0;
  private httpTotal = 0;
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly d: AdmissionDeps) {
    const c = d.config;
    this.trustedProxies = new CidrSet(c.trustedProxies);
    this.limitExempt = new CidrSet(c.limitExempt);
    this.throttleExempt = new CidrSet(c.throttleExempt);
    this.handshakeTimeoutMs = c.tlsHandshakeTimeout;
    this.perIp = new ConcurrentLimiter(c.maxConnectionsPerIp);
    this.httpPerIp = new ConcurrentLimiter(c.httpMaxConnectionsPerIp ?? Infinity);
    this.throttle = new WindowThrottle(c.connectionThrottle, c.connectionThrottleWindow, d.clock);
  }

  isTrustedProxy(ip: string): boolean { return this.trustedProxies.has(ip); }

  /**
   * REHASH (#16): the limits and exempt lists of `config` from now on. Connections already
   * admitted stay counted (an IP over a lowered limit keeps them; it gets no new one until it is
   * under). trusted-proxies and tls-handshake-timeout need a restart (config/reload.ts).
   */
  reconfigure(config: AdmissionConfig): void {
    this.d.config = config;
    this.limitExempt = new CidrSet(config.limitExempt);
    this.throttleExempt = new CidrSet(config.throttleExempt);
    this.perIp.setMax(config.maxConnectionsPerIp);
    this.httpPerIp.setMax(config.httpMaxConnectionsPerIp ?? Infinity);
    this.throttle.setLimits(config.connectionThrottle, config.connectionThrottleWindow);
  }

  /** connections admitted and not yet closed, all transports */
  get open(): number { return this.total; }

  /** HTTP connections admitted by `admitHttp` and not yet closed or upgraded */
  get httpOpen(): number { return this.httpTotal; }

  /** connections currently counted for `ip`'s key */
  countFor(ip: string): number { return this.perIp.count(ipKey(ip)); }

  /**
   * Order: lockdown `closed` (limit-exempt passes), server-wide cap (nobody passes), per-IP
   * concurrent, then the throttle (limit-exempt and throttle-exempt pass). A refused attempt
   * counts nowhere, so it cannot extend its own throttle window.
   */
  admit(ip: string, transport: TransportKind): Ticket | RefusalKind {
    const key = ipKey(ip);
    const exempt = this.limitExempt.size > 0 && this.limitExempt.has(ip);
    if (this.d.isIpBanned?.(ip) !== undefined) return this.refuse('banned', key, ip, transport);
    if (this.d.lockdown() === 'closed' && !exempt) return this.refuse('lockdown', key, ip, transport);
    if (this.total >= this.d.config.maxConnections) return this.refuse('global', key, ip, transport);
    if (exempt) {
      this.perIp.add(key);
    } else {
      if (!this.perIp.tryAdd(key)) return this.refuse('per-ip', key, ip, transport);
      if (!this.throttleExempt.has(ip) && !this.throttle.touch(key)) {
        this.perIp.remove(key);
        return this.refuse('throttle', key, ip, transport);
      }
    }
    this.total++;
    return new AdmissionTicket(ip, key, this);
  }

  /** @internal AdmissionTicket.release */
  released(key: string): void {
    this.total--;
    this.perIp.remove(key);
  }

  /**
   * An HTTP connection at accept time (#12 finding 4), by its TCP peer address. Order: the
   * descriptor reserve (`lingering`: refused sockets not yet closed, which hold descriptors too),
   * the server-wide HTTP cap, then — unless the peer is a trusted proxy or limit-exempt — the HTTP
   * per-IP cap and the shared per-IP counter (whose refusal is the ordinary `per-ip`). No throttle
   * and no lockdown here: API clients reconnect often, and lockdown is about IRC users (the
   * WebSocket upgrade still passes `admit`).
   */
  admitHttp(peerIp: string, lingering = 0): Ticket | HttpRefusalKind | 'per-ip' {
    const key = ipKey(peerIp);
    const c = this.d.config;
    const fd = this.d.descriptors;
    if (fd && fd.limit !== Infinity && fd.baseline + this.total + this.httpTotal + lingering >= fd.limit - (c.httpFdReserve ?? 0)) {
      return this.refuse('fd-reserve', key, peerIp, 'http') as 'fd-reserve';
    }
    if (this.httpTotal >= (c.httpMaxConnections ?? Infinity)) return this.refuse('http-global', key, peerIp, 'http') as 'http-global';
    const counted = !this.trustedProxies.has(peerIp) && !(this.limitExempt.size > 0 && this.limitExempt.has(peerIp));
    if (counted) {
      if (!this.httpPerIp.tryAdd(key)) return this.refuse('http-per-ip', key, peerIp, 'http') as 'http-per-ip';
      if (!this.perIp.tryAdd(key)) {
        this.httpPerIp.remove(key);
        return this.refuse('per-ip', key, peerIp, 'http') as 'per-ip';
      }
    }
    this.httpTotal++;
    return new HttpTicket(peerIp, key, counted, this);
  }

  /** @internal HttpTicket.release */
  httpReleased(key: string, counted: boolean): void {
    this.httpTotal--;
    if (!counted) return;
    this.httpPerIp.remove(key);
    this.perIp.remove(key);
  }

  /** a TLS client did not finish the handshake in time */
  handshakeTimedOut(ip: string): void {
    this.d.limitHit('tls-handshake');
    this.d.log.debug({ ip }, 'TLS handshake timed out');
  }

  /** a trusted proxy sent a bad or late PROXY header */
  badProxyHeader(peerIp: string, reason: string): void {
    this.d.log.warn({ proxy: peerIp, reason }, 'bad PROXY header from a trusted proxy');
  }

  private refuse(kind: RefusalKind, key: string, ip: string, transport: TransportKind | 'http'): RefusalKind {
    this.d.limitHit(kind);
    const now = this.d.clock.now();
    const logKey = SERVER_WIDE.has(kind) ? kind : `${kind} ${key}`;
    const prev = this.logged.get(logKey);
    if (prev && now - prev.at < LOG_EVERY_MS) { prev.suppressed++; return kind; }
    if (this.logged.size > 10_000) {
      for (const [k, v] of this.logged) if (now - v.at >= LOG_EVERY_MS) this.logged.delete(k);
    }
    this.logged.set(logKey, { at: now, suppressed: 0 });
    const fields = { ipKey: key, ip, transport, ...(prev?.suppressed ? { suppressed: prev.suppressed } : {}) };
    if (kind === 'lockdown' || kind === 'banned') this.d.log.info(fields, LOG_TEXT[kind]);
    else this.d.log.warn(fields, LOG_TEXT[kind]);
    this.d.refused?.(kind, ip, transport, LOG_TEXT[kind] + (prev?.suppressed ? ` (${prev.suppressed} more since the last notice)` : ''));
    return kind;
  }
}

/** A class, not an object with a closure: one lives as long as its connection. */
class AdmissionTicket implements Ticket {
  private done = false;
  constructor(readonly ip: string, readonly key: string, private readonly owner: Admission) {}
  release(): void {
    if (this.done) return;
    this.done = true;
    this.owner.released(this.key);
  }
}

/** An HTTP connection's slot (admitHttp); `release` when it closes or upgrades (idempotent). */
class HttpTicket implements Ticket {
  private done = false;
  constructor(readonly ip: string, readonly key: string, private readonly counted: boolean, private readonly owner: Admission) {}
  release(): void {
    if (this.done) return;
    this.done = true;
    this.owner.httpReleased(this.key, this.counted);
  }
}

/** The line a refused IRC client gets before EOF (TCP and TLS, before any handshake). */
export function refusalLine(kind: RefusalKind): string {
  return `ERROR :${REFUSAL[kind].text}\r\n`;
}

/** The raw HTTP response for a refused WebSocket upgrade. */
export function httpRefusal(kind: RefusalKind, retryAfterSecs?: number): string {
  const r = REFUSAL[kind];
  const body = `${r.text}\n`;
  return `HTTP/1.1 ${r.status} ${r.reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n`
    + (retryAfterSecs ? `Retry-After: ${retryAfterSecs}\r\n` : '')
    + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
