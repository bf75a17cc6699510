import { challengeJson } from '@freeq/protocol';
import { pooledRandomBytes } from '../../util/random-pool.js';
import { encodeBase64Url } from './base64.js';

export interface Clock { now(): number }

/** One ATPROTO-CHALLENGE challenge as issued. `bytes` are exactly what the client signs. */
export interface IssuedChallenge {
  /** random, unguessable id of this exchange (not the connection id: nothing to enumerate) */
  sessionId: string;
  /** base64url (no padding) of 32 CSPRNG bytes; pds-* methods echo it as `challenge_nonce` */
  nonce: string;
  /** unix seconds, as written into the JSON */
  timestamp: number;
  /** clock milliseconds when issued (expiry uses this, not the rounded `timestamp`) */
  issuedAt: number;
  /** the exact serialized JSON: `{"session_id":…,"nonce":…,"timestamp":…}` */
  bytes: Buffer;
  /** base64url-nopad(bytes): what goes on the wire */
  encoded: string;
}

/**
 * The challenge of one connection (freeq-reference.md §1.4 and hardening.md D3, minus the
 * reference's flaws). One store lives in each connection's SASL state, so:
 * - a challenge can only be answered on the connection it was issued to (a response replayed on
 *   another connection finds nothing there → 904);
 * - it is discarded with the connection (the reference never pruned abandoned challenges);
 * - `issue` replaces any earlier challenge (a second `AUTHENTICATE ATPROTO-CHALLENGE`, or the
 *   fresh challenge after a DPoP nonce round trip);
 * - `take` is single-use: it removes the challenge whatever happens next, success or failure;
 * - validity is `|now − issuedAt| ≤ timeout` in both directions (a clock that steps backwards
 *   must not extend a challenge's life either).
 */
export class ChallengeStore {
  private current?: IssuedChallenge;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    // pooled CSPRNG output (randomBytes costs ~15 µs per call; bench sasl profile); each byte used once
    private readonly random: (n: number) => Buffer = pooledRandomBytes,
  ) {}

  issue(): IssuedChallenge {
    const issuedAt = this.clock.now();
    const sessionId = encodeBase64Url(this.random(16));
    const nonce = encodeBase64Url(this.random(32));
    const timestamp = Math.floor(issuedAt / 1000);
    // field order is part of the format (serde order in the reference): build the string by hand
    // the wire form both ends share (@freeq/protocol): the exact bytes the crypto method signs
    const json = challengeJson({ session_id: sessionId, nonce, timestamp });
    const bytes = Buffer.from(json, 'utf8');
    this.current = { sessionId, nonce, timestamp, issuedAt, bytes, encoded: encodeBase64Url(bytes) };
    return this.current;
  }

  /** Remove and return the challenge if it is still valid; undefined if none or expired. */
  take(): IssuedChallenge | undefined {
    const c = this.current;
    this.current = undefined;
    if (!c) return undefined;
    return Math.abs(this.clock.now() - c.issuedAt) > this.timeoutMs ? undefined : c;
  }

  /** a challenge is outstanding (it may have expired) */
  get pending(): boolean { return this.current !== undefined; }

  discard(): void { this.current = undefined; }
}
