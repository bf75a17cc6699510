/**
 * The identity port: everything the SASL mechanisms need from the AT Protocol world. Implemented
 * by identity/service.ts (resolvers, key parsing, signature checks, PDS calls); SASL code only
 * sees this interface.
 */

export type KeyType = 'secp256k1' | 'p256' | 'ed25519';

export interface VerificationKey {
  /** verification method id as written in the document, made absolute (`did:…#frag`) */
  id: string;
  type: KeyType;
  /** raw public key: 33-byte compressed SEC1 for secp256k1/p256, 32 bytes for ed25519 */
  publicKey: Uint8Array;
}

/** A DID document as fetched (validated: `id` equals the DID asked for). */
export interface DidDocument {
  id: string;
  alsoKnownAs?: string[];
  verificationMethod?: unknown[];
  authentication?: unknown[];
  assertionMethod?: unknown[];
  service?: unknown[];
  [k: string]: unknown;
}

/** Why an identity operation failed. `message` is safe to log; never contains tokens. */
export class IdentityError extends Error {
  constructor(readonly code: IdentityErrorCode, message: string) {
    super(message);
  }
}

export type IdentityErrorCode =
  | 'bad-did'          // not a DID we can resolve (syntax / method)
  | 'not-found'        // resolver answered 404 / no such handle
  | 'bad-document'     // document malformed, id mismatch, oversized
  | 'forbidden-host'   // SSRF guard refused the address
  | 'network'          // timeout, connection refused, redirect, bad status
  | 'bad-token'        // JWT / session token rejected
  | 'mismatch'         // DID in the answer differs from the one claimed
  | 'busy';            // refused before any request: lookup quotas, or the host timed out recently (#12)

export type PdsSessionResult =
  | { ok: true; did: string; handle?: string }
  /** `dpopNonce` set when the PDS asked for a DPoP nonce (use_dpop_nonce + DPoP-Nonce header) */
  | { ok: false; reason: string; dpopNonce?: string };

/** The client a login's lookups are made for (#12 finding 6: per-connection and per-IP quotas). */
export interface LookupClient {
  /** session id */
  conn: number;
  /** IP key (util/ip-key.ts) */
  ip: string;
}

/** A DID document as the cache keeps it. */
export interface CachedDidDoc {
  /** the document as JSON text */
  doc: string;
  /** ms since the epoch (the identity service's clock) */
  fetchedAt: number;
}

/**
 * The persistent DID-document cache port (did-resolver.ts): implemented by
 * storage/repos/did-cache.ts (SQLite), wired in server.ts.
 */
export interface DidCacheStore {
  get(did: string): CachedDidDoc | undefined;
  put(did: string, doc: string, fetchedAt: number): void;
  /** Drop entries fetched before `before`; returns how many. */
  prune(before: number): number;
}

export interface IdentityService {
  /**
   * The same service, with every outbound request it makes counted against `client`'s quotas
   * (identity/lookup-limits.ts). Only requests to plc-url / handle-resolver-url and refreshes of
   * a cached DID document may use the reserved share of the slots, whoever they are made for.
   */
  forClient(client: LookupClient): IdentityService;
  /**
   * The handle to show for `did` (#12 finding 5): the first `at://` alias of its document, only
   * if that handle resolves back to `did` (handle-resolver-url, or DNS TXT then
   * https://<handle>/.well-known/atproto-did); otherwise undefined and the DID is shown. Results
   * are cached (verified: did-cache-ttl; refuted: 60 s). Never throws, and answers within
   * http-timeout: a check still running then is finished in the background for the next login.
   */
  verifiedHandle(did: string, doc: DidDocument): Promise<string | undefined>;
  /** Resolve did:key (locally), did:plc (PLC directory) or did:web; cached. Throws IdentityError. */
  resolveDid(did: string): Promise<DidDocument>;
  /**
   * Keys the `crypto` method accepts: `authentication`, then `assertionMethod` (string references
   * resolved against `verificationMethod`, relative `#frag` too), and for did:plc also every
   * `verificationMethod` that is not `#atproto` (PLC documents carry no authentication list).
   * Multikey and legacy (EcdsaSecp256k1VerificationKey2019 / …r1… / Ed25519VerificationKey2020) encodings.
   */
  challengeKeys(doc: DidDocument): VerificationKey[];
  /** the `#atproto` signing key (service-auth) */
  atprotoKey(doc: DidDocument): VerificationKey | undefined;
  /**
   * Signature check over raw bytes: secp256k1 and p256 = ECDSA/SHA-256, 64-byte compact r‖s,
   * low-S only (DER and high-S rejected); ed25519 = 64-byte RFC 8032 signature.
   */
  verifySignature(key: VerificationKey, data: Uint8Array, sig: Uint8Array): Promise<boolean>;
  /** `#atproto_pds` AtprotoPersonalDataServer endpoint, without a trailing slash */
  pdsEndpoint(doc: DidDocument): string | undefined;
  /** handle → DID, confirmed by the DID document listing `at://<handle>`. Throws IdentityError. */
  resolveHandle(handle: string): Promise<string>;
  /**
   * GET <pds>/xrpc/com.atproto.server.getSession. Never retries (DPoP proofs are single-use).
   * `did`: whose PDS this is; a did:plc's PDS (named by the PLC directory) may use the reserved
   * lookup slots (#12 finding 6: "a reserved share for DIDs … on the PLC directory").
   */
  getSession(pdsUrl: string, auth: { scheme: 'Bearer' | 'DPoP'; token: string; dpopProof?: string }, did: string): Promise<PdsSessionResult>;
  /** POST createSession; throws IdentityError('bad-token') on wrong credentials. `did` as for getSession. */
  createSession(pdsUrl: string, identifier: string, password: string, did: string): Promise<{ did: string; handle?: string; accessJwt: string; refreshJwt: string }>;
  /** POST deleteSession with the refresh token (best effort) */
  deleteSession(pdsUrl: string, refreshJwt: string): Promise<void>;
  /**
   * Verify an AT Protocol service-auth JWT: ES256K/ES256 signed by the issuer's `#atproto` key,
   * `aud` = `audience`, `iss` = `did` (the DID the client claims; checked before anything is
   * resolved), unexpired, lifetime ≤ 5 min, `jti` present and never seen before.
   * Returns the issuer DID. Throws IdentityError.
   */
  verifyServiceAuth(jwt: string, audience: string, did: string): Promise<{ did: string }>;
}
