import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A short, non-secret name for a key in logs: `sha256:` + the first 12 hex digits of its digest. */
export function keyFingerprint(key: string): string {
  return 'sha256:' + sha256(key).toString('hex').slice(0, 12);
}

/**
 * The configured API keys (hardening.md F3). A presented key is hashed and its SHA-256 digest is
 * compared with `timingSafeEqual` against the digest of EVERY configured key (no early exit), so
 * neither the key's length nor which key matched shows in the timing. Several keys at once allow
 * rotation: add the new key, move the clients over, remove the old one.
 */
export class ApiKeys {
  private readonly digests: Buffer[];
  private readonly fingerprints: string[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(sha256);
    this.fingerprints = keys.map(keyFingerprint);
  }

  get configured(): boolean {
    return this.digests.length > 0;
  }

  /** the fingerprint of the key that matches, or undefined */
  match(presented: string | undefined): string | undefined {
    const d = sha256(presented ?? '');
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      const eq = timingSafeEqual(d, this.digests[i]!);
      if (eq && found < 0) found = i;
    }
    // an empty or missing header never matches (configured keys are at least 32 characters anyway)
    if (!presented) return undefined;
    return found < 0 ? undefined : this.fingerprints[found];
  }
}

/** the X-API-Key header (a repeated header is joined with ", " by Node and so never matches) */
export function presentedKey(req: FastifyRequest): string | undefined {
  const h = req.headers['x-api-key'];
  return typeof h === 'string' ? h : undefined;
}

/** failed authentications allowed per IP and window before 429 (hardening.md F2: 30 / 5 min on auth routes) */
export const AUTH_FAILURES = { max: 30, windowMs: 5 * 60_000 } as const;
const MAX_TRACKED = 10_000;

/**
 * Failed authentications (bad API key, bad bearer token) per client IP, fixed window. Only
 * failures count, so a Prometheus scraper or a web client with a good credential never hits it.
 * Over the limit an IP's *wrong* credentials get 429 instead of 401; a right one still works
 * (#12 finding 16: the lockout must not let a stranger on the same address, or one who can make
 * requests appear to come from it, lock the operator out).
 * Bounded: beyond 10,000 tracked addresses the expired ones, then the oldest, are dropped.
 */
export class AuthFailures {
  private readonly byIp = new Map<string, { n: number; resetAt: number }>();
  constructor(
    private readonly now: () => number,
    private readonly max: number = AUTH_FAILURES.max,
    private readonly windowMs: number = AUTH_FAILURES.windowMs,
    /** metric and log line when a locked-out IP is refused */
    readonly onBlocked: (ip: string) => void = () => {},
  ) {}

  /** seconds until `ip` may try again, or 0 */
  retryAfter(ip: string): number {
    const e = this.byIp.get(ip);
    if (!e) return 0;
    const now = this.now();
    if (now >= e.resetAt) { this.byIp.delete(ip); return 0; }
    return e.n >= this.max ? Math.max(1, Math.ceil((e.resetAt - now) / 1000)) : 0;
  }

  fail(ip: string): void {
    const now = this.now();
    const e = this.byIp.get(ip);
    if (e && now < e.resetAt) { e.n++; return; }
    if (this.byIp.size >= MAX_TRACKED) {
      for (const [k, v] of this.byIp) if (now >= v.resetAt) this.byIp.delete(k);
      if (this.byIp.size >= MAX_TRACKED) this.byIp.delete(this.byIp.keys().next().value!);
    }
    this.byIp.set(ip, { n: 1, resetAt: now + this.windowMs });
  }
}

function tooManyFailures(failures: AuthFailures, req: FastifyRequest, reply: FastifyReply, wait: number): FastifyReply {
  failures.onBlocked(req.ip);
  return reply.code(429).header('retry-after', String(wait)).send({ error: 'TooManyRequests' });
}

/**
 * A bad credential: 401, counted against the client IP; once the IP is over the failure limit,
 * 429 + Retry-After instead (not counted again). The answer to a wrong credential never depends
 * on anything but the IP's failure count, and a right one is never refused (#12 finding 16).
 */
export function unauthorized(failures: AuthFailures, req: FastifyRequest, reply: FastifyReply, scheme: string): FastifyReply {
  const wait = failures.retryAfter(req.ip);
  if (wait > 0) return tooManyFailures(failures, req, reply, wait);
  failures.fail(req.ip);
  return reply.code(401).header('www-authenticate', scheme).send({ error: 'Unauthorized' });
}

/**
 * The X-API-Key check of /metrics and the admin routes. 403 when no key is configured (the
 * feature is off), 401 without a key or with a wrong one, 429 instead of 401 once this IP has
 * failed too often. A right key is accepted whatever the IP's failure count (#12 finding 16): the
 * key is compared first, in constant time (ApiKeys.match), and only the outcome of a wrong key
 * depends on the lockout. Returns the key's fingerprint, or undefined when a refusal was sent.
 */
export function checkApiKey(keys: ApiKeys, failures: AuthFailures, req: FastifyRequest, reply: FastifyReply, disabledHint: string, presented = presentedKey(req)): string | undefined {
  if (!keys.configured) {
    void reply.code(403).send({ error: 'Forbidden', message: disabledHint });
    return undefined;
  }
  const fp = keys.match(presented);
  if (fp === undefined) void unauthorized(failures, req, reply, 'ApiKey');
  return fp;
}

/**
 * As a `preParsing` hook (admin routes): it runs after the general rate limit (an onRequest hook)
 * and before the body is read, so nobody without a key gets a body parsed. On success the key's
 * fingerprint is on `req.apiKeyFingerprint`.
 */
export function requireApiKey(keys: ApiKeys, failures: AuthFailures, disabledHint: string): preParsingHookHandler {
  return (req, reply, payload, done) => {
    const fp = checkApiKey(keys, failures, req, reply, disabledHint);
    if (fp === undefined) return;
    req.apiKeyFingerprint = fp;
    done(null, payload);
  };
}

/** `Authorization: Bearer <token>` → the token, or undefined */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer ([^\s]+)$/i.exec(h.trim());
  return m?.[1];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set by requireApiKey: which configured key was used (never the key itself) */
    apiKeyFingerprint?: string;
  }
}
