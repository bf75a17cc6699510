import { createHash, randomBytes } from 'node:crypto';

/** 24 hours */
export const API_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** live tokens kept per account; issuing more drops the oldest */
export const API_TOKENS_PER_ACCOUNT = 10;
/** remembered web logins per account (browsers and devices); logging in on one more drops the oldest */
export const WEB_SESSIONS_PER_ACCOUNT = 20;
/** 32 random bytes, base64url without padding */
export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export interface ApiTokenOwner { did: string; handle?: string }

/**
 * The token store port (only SHA-256 digests of tokens; times in ms): implemented by
 * storage/repos/api-tokens.ts.
 */
export interface ApiTokenStore {
  insert(hash: string, did: string, createdAt: number, expiresAt: number): void;
  /** the owner of an unexpired token hash */
  lookup(hash: string, now: number): ApiTokenOwner | undefined;
  /** delete every token of a DID; returns how many */
  revokeAll(did: string): number;
  /** delete one token; true when it existed */
  delete(hash: string): boolean;
  purgeExpired(now: number): number;
  /** keep the newest `keep` tokens of a DID */
  trim(did: string, keep: number): void;
}

/** what the stores keep of a token: its SHA-256 (hex); also auth/login-tokens.ts */
export function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * User-facing bearer tokens for the HTTP API (freeq-reference.md §6: never a session id).
 * A token is 256 random bits from the CSPRNG, bound to an account (DID), valid 24 hours and
 * revocable; only its SHA-256 is stored, so a database leak reveals no usable token.
 * The web client's remembered Bluesky logins (auth/web-login.ts) are the same kind of token in
 * their own table, with their own lifetime.
 */
export class ApiTokenService {
  constructor(
    private readonly store: ApiTokenStore,
    private readonly now: () => number,
    private readonly limits: { ttlMs: number; perAccount: number } = { ttlMs: API_TOKEN_TTL_MS, perAccount: API_TOKENS_PER_ACCOUNT },
  ) {}

  issue(did: string): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + this.limits.ttlMs;
    this.store.purgeExpired(now);
    this.store.insert(digest(token), did, now, expiresAt);
    this.store.trim(did, this.limits.perAccount);
    return { token, expiresAt };
  }

  /** revoke one token (a logout); true when it was live */
  revoke(token: string | undefined): boolean {
    if (token === undefined || !TOKEN_RE.test(token)) return false;
    return this.store.delete(digest(token));
  }

  /** the account a presented token belongs to, or undefined (unknown, malformed, expired or revoked) */
  verify(token: string | undefined): ApiTokenOwner | undefined {
    if (token === undefined || !TOKEN_RE.test(token)) return undefined;
    return this.store.lookup(digest(token), this.now());
  }

  /** revoke every token of an account; returns how many were live */
  revokeAll(did: string): number {
    this.store.purgeExpired(this.now());
    return this.store.revokeAll(did);
  }
}
