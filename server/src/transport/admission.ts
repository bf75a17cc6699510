import type { Config } from '../config/schema.js';
import type { Clock } from '../limits/clock.js';
import { CidrSet } from '../limits/cidr.js';
import { ConcurrentLimiter } from '../limits/concurrent.js';
import { ipKey } from '../limits/ip-key.js';
import { WindowThrottle } from '../limits/throttle.js';
import type { Logger } from '../observability/log.js';
import type { TransportKind } from './conn.js';

/**
 * Admission (hardening A1–A3, A7, I3): every new connection on every transport asks here, with
 * the *resolved* client address (after PROXY / X-Forwarded-For from a trusted proxy), before the
 * TLS handshake or the WebSocket upgrade. One counter per IP key across TCP, TLS and WebSocket.
 */

export type RefusalKind = 'banned' | 'lockdown' | 'global' | 'per-ip' | 'throttle';
export type LockdownLevel = 'off' | 'sasl-only' | 'closed';

/** the IRC `ERROR :<text>` (TCP/TLS) and the HTTP status (WebSocket) of each refusal */
export const REFUSAL: Record<RefusalKind, { text: string; status: number; reason: string }> = {
  // the ban's reason is shown at registration for mask bans; an IP ban is refused before any protocol
  banned: { text: 'You are banned from this server', status: 403, reason: 'Forbidden' },
  lockdown: { text: 'This server is temporarily closed to new connections', status: 503, reason: 'Service Unavailable' },
  global: { text: 'Server is full', status: 503, reason: 'Service Unavailable' },
  'per-ip': { text: 'Too many connections from your IP', status: 429, reason: 'Too Many Requests' },
  throttle: { text: 'You have attempted to connect too many times within a short duration. Wait a while, and you will be able to connect.', status: 429, reason: 'Too Many Requests' },
};

const LOG_TEXT: Record<RefusalKind, string> = {
  banned: 'connection refused: server ban',
  lockdown: 'connection refused: lockdown closed',
  global: 'server full: max-connections reached',
  'per-ip': 'per-IP limit reached',
  throttle: 'connection throttle reached',
};

/** one warn line per (refusal, IP key) per minute: an attack must not become a log flood */
const LOG_EVERY_MS = 60_000;

export type AdmissionConfig = Pick<Config, 'maxConnectionsPerIp' | 'connectionThrottle' | 'connectionThrottleWindow' | 'maxConnections' | 'limitExempt' | 'throttleExempt' | 'trustedProxies' | 'tlsHandshakeTimeout'>;

export interface AdmissionDeps {
  config: AdmissionConfig;
  clock: Clock;
  /** the run-time lockdown level (ServerContext.runtime.lockdown, changed by LOCKDOWN) */
  lockdown(): LockdownLevel;
  /** metrics.limitHit */
  limitHit(kind: string): void;
  /** UBAN: the reason if this IP is banned (IP/CIDR bans), checked before TLS or the WebSocket upgrade */
  isIpBanned?(ip: string): string | undefined;
  log: Logger;
}

/** A counted connection; `release` when its socket closes (idempotent). */
export interface Ticket {
  readonly ip: string;
  readonly key: string;
  release(): void;
}

export class Admission {
  readonly trustedProxies: CidrSet;
  readonly limitExempt: CidrSet;
  readonly throttleExempt: CidrSet;
  readonly handshakeTimeoutMs: number;
  private readonly perIp: ConcurrentLimiter;
  private readonly throttle: WindowThrottle;
  private total = 0;
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly d: AdmissionDeps) {
    const c = d.config;
    this.trustedProxies = new CidrSet(c.trustedProxies);
    this.limitExempt = new CidrSet(c.limitExempt);
    this.throttleExempt = new CidrSet(c.throttleExempt);
    this.handshakeTimeoutMs = c.tlsHandshakeTimeout;
    this.perIp = new ConcurrentLimiter(c.maxConnectionsPerIp);
    this.throttle = new WindowThrottle(c.connectionThrottle, c.connectionThrottleWindow, d.clock);
  }

  isTrustedProxy(ip: string): boolean { return this.trustedProxies.has(ip); }

  /** connections admitted and not yet closed, all transports */
  get open(): number { return this.total; }

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

  /** a TLS client did not finish the handshake in time */
  handshakeTimedOut(ip: string): void {
    this.d.limitHit('tls-handshake');
    this.d.log.debug({ ip }, 'TLS handshake timed out');
  }

  /** a trusted proxy sent a bad or late PROXY header */
  badProxyHeader(peerIp: string, reason: string): void {
    this.d.log.warn({ proxy: peerIp, reason }, 'bad PROXY header from a trusted proxy');
  }

  private refuse(kind: RefusalKind, key: string, ip: string, transport: TransportKind): RefusalKind {
    this.d.limitHit(kind);
    const now = this.d.clock.now();
    const logKey = kind === 'global' ? kind : `${kind} ${key}`;
    const prev = this.logged.get(logKey);
    if (prev && now - prev.at < LOG_EVERY_MS) { prev.suppressed++; return kind; }
    if (this.logged.size > 10_000) {
      for (const [k, v] of this.logged) if (now - v.at >= LOG_EVERY_MS) this.logged.delete(k);
    }
    this.logged.set(logKey, { at: now, suppressed: 0 });
    const fields = { ipKey: key, ip, transport, ...(prev?.suppressed ? { suppressed: prev.suppressed } : {}) };
    if (kind === 'lockdown' || kind === 'banned') this.d.log.info(fields, LOG_TEXT[kind]);
    else this.d.log.warn(fields, LOG_TEXT[kind]);
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
