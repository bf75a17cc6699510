import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { digest, TOKEN_RE } from './api-tokens.js';

/** a login token is spent within a second of being issued; a minute covers a slow connect */
export const LOGIN_TOKEN_TTL_MS = 60_000;
/** tokens outstanding at once, server-wide (the oldest go first) */
const MAX_LOGIN_TOKENS = 10_000;

export interface LoginTokenOwner { did: string; handle?: string }

/**
 * Single-use IRC login tokens (SASL ATPROTO-CHALLENGE method `web-token`): what the web client
 * spends to log its IRC connection in after a Bluesky login (http/routes/web-login.ts). 256
 * random bits, valid LOGIN_TOKEN_TTL_MS, removed when used; memory only, kept by digest, so a
 * restart (or a heap dump) leaves nothing usable.
 */
export class LoginTokens {
  private readonly tokens = new LRUCache<string, LoginTokenOwner>({ max: MAX_LOGIN_TOKENS, ttl: LOGIN_TOKEN_TTL_MS });

  issue(owner: LoginTokenOwner): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(digest(token), owner.handle ? { did: owner.did, handle: owner.handle } : { did: owner.did });
    return token;
  }

  /** the owner of a live token, which is gone afterwards; undefined for anything else */
  take(token: string): LoginTokenOwner | undefined {
    if (!TOKEN_RE.test(token)) return undefined;
    const key = digest(token);
    const owner = this.tokens.get(key);
    this.tokens.delete(key);
    return owner;
  }
}
