/**
 * AT Protocol service-auth JWTs (atproto.com/specs/xrpc#inter-service-authentication-jwt):
 * ES256K / ES256, signed by the issuer's `#atproto` key over ASCII `header.payload`, `aud` = this
 * server's DID, short-lived, single use (`jti` remembered until the token expires).
 */
import { atprotoKey } from './did-doc.js';
import type { DidResolver } from './did-resolver.js';
import { verifySignature } from './keys.js';
import type { LookupRequester } from './lookup-limits.js';
import { isValidDid } from './syntax.js';
import { IdentityError, type KeyType } from './types.js';

export const MAX_LIFETIME_SECS = 300;
export const CLOCK_SKEW_SECS = 30;
const MAX_JWT_BYTES = 8192;
const MAX_REPLAY_ENTRIES = 100_000;
/** A cached document is refetched after a bad signature (key rotation) only if at least this old. */
const REFRESH_AFTER_MS = 60_000;

const ALGS: Record<string, KeyType> = { ES256K: 'secp256k1', ES256: 'p256' };
const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJson(part: string, what: string): Record<string, unknown> {
  if (!B64URL.test(part)) throw new IdentityError('bad-token', `malformed JWT ${what}`);
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new IdentityError('bad-token', `malformed JWT ${what}`);
}

export class ServiceAuthVerifier {
  /** `${iss} ${jti}` → expiry (ms) */
  private readonly seen = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly o: { dids: DidResolver; now: () => number }) {}

  /**
   * `expectedIss`: the DID the client claims. A token from any other issuer is refused before its
   * DID is resolved, so a login never makes the server look up a DID it does not claim.
   */
  async verify(jwt: string, audience: string, expectedIss: string, requester?: LookupRequester): Promise<{ did: string }> {
    if (typeof jwt !== 'string' || jwt.length > MAX_JWT_BYTES) throw new IdentityError('bad-token', 'malformed JWT');
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new IdentityError('bad-token', 'malformed JWT');
    const [h, p, s] = parts as [string, string, string];
    const header = decodeJson(h, 'header');
    const payload = decodeJson(p, 'payload');
    const keyType = typeof header.alg === 'string' ? ALGS[header.alg] : undefined;
    if (!keyType) throw new IdentityError('bad-token', 'unsupported JWT alg');
    if (header.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) {
      throw new IdentityError('bad-token', 'wrong JWT typ');
    }
    if (!B64URL.test(s)) throw new IdentityError('bad-token', 'malformed JWT signature');
    const sig = new Uint8Array(Buffer.from(s, 'base64url'));
    if (sig.length !== 64) throw new IdentityError('bad-token', 'JWT signature is not 64-byte compact');

    const { iss, aud, exp, iat, jti } = payload;
    if (typeof iss !== 'string' || !isValidDid(iss)) throw new IdentityError('bad-token', 'JWT iss is not a DID');
    if (iss !== expectedIss) throw new IdentityError('bad-token', 'JWT iss is not the claimed DID');
    if (aud !== audience) throw new IdentityError('bad-token', 'JWT aud is not this server');
    const now = Math.floor(this.o.now() / 1000);
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new IdentityError('bad-token', 'JWT without exp');
    if (exp <= now) throw new IdentityError('bad-token', 'JWT expired');
    if (exp > now + MAX_LIFETIME_SECS + CLOCK_SKEW_SECS) throw new IdentityError('bad-token', 'JWT expiry too far in the future');
    if (iat !== undefined) {
      if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new IdentityError('bad-token', 'malformed JWT iat');
      if (iat > now + CLOCK_SKEW_SECS) throw new IdentityError('bad-token', 'JWT issued in the future');
      if (exp - iat > MAX_LIFETIME_SECS) throw new IdentityError('bad-token', 'JWT lifetime too long');
    }
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new IdentityError('bad-token', 'JWT without jti');
    const replayKey = `${iss} ${jti}`;
    this.prune();
    if (this.seen.has(replayKey)) throw new IdentityError('bad-token', 'JWT replayed');

    const data = new TextEncoder().encode(`${h}.${p}`);
    let resolved = await this.o.dids.resolve(iss, { requester });
    let ok = this.check(resolved.doc, keyType, data, sig);
    if (!ok && resolved.cached && this.o.now() - resolved.fetchedAt >= REFRESH_AFTER_MS) {
      resolved = await this.o.dids.resolve(iss, { forceRefresh: true, requester }); // the key may have rotated
      ok = this.check(resolved.doc, keyType, data, sig);
    }
    if (!ok) throw new IdentityError('bad-token', 'JWT signature does not verify');

    // recorded only after the signature checks, so nobody can burn someone else's jti
    if (this.seen.has(replayKey)) throw new IdentityError('bad-token', 'JWT replayed');
    if (this.seen.size >= MAX_REPLAY_ENTRIES) throw new IdentityError('bad-token', 'too many service-auth tokens in flight');
    this.seen.set(replayKey, exp * 1000);
    return { did: iss };
  }

  private check(doc: Parameters<typeof atprotoKey>[0], keyType: KeyType, data: Uint8Array, sig: Uint8Array): boolean {
    const key = atprotoKey(doc);
    return !!key && key.type === keyType && verifySignature(key, data, sig);
  }

  private prune(): void {
    const now = this.o.now();
    if (now - this.lastPrune < 10_000 && this.seen.size < MAX_REPLAY_ENTRIES) return;
    this.lastPrune = now;
    for (const [k, expMs] of this.seen) if (expMs <= now) this.seen.delete(k);
  }
}
