import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import type { Db } from '../storage/db.js';
import { DidCacheRepo } from '../storage/repos/did-cache.js';
import { atprotoKey, challengeKeys, handleOf, pdsEndpoint } from './did-doc.js';
import { DidResolver } from './did-resolver.js';
import { HandleResolver } from './handle.js';
import { HttpClient } from './http.js';
import { verifySignatureAsync } from './keys.js';
import { createSession, deleteSession, getSession } from './pds.js';
import { ServiceAuthVerifier } from './service-auth.js';
import type { IdentityService } from './types.js';
import type { SignatureVerifier } from './verifier.js';

export interface IdentityDeps {
  config: Config;
  db: Db;
  log: Logger;
  now: () => number;
  /** DNS servers for handle TXT lookups (tests); default: the system's resolvers */
  dnsServers?: string[];
  /** the signature thread (server.ts owns and closes it); without it, checks run on libuv's pool */
  verifier?: SignatureVerifier;
}

/**
 * The identity service: SSRF-guarded HTTP, DID resolution with a SQLite-backed cache, key parsing,
 * signature checks, handle resolution, PDS calls and service-auth verification. `now` is the clock
 * for cache ages and JWT times.
 */
export function createIdentityService(d: IdentityDeps): IdentityService {
  const { config, now } = d;
  const http = new HttpClient({ timeoutMs: config.httpTimeout, allowLoopback: config.ssrfAllowLoopback });
  const dids = new DidResolver({
    http, now, log: d.log,
    plcUrl: config.plcUrl,
    allowLoopback: config.ssrfAllowLoopback,
    ttlMs: config.didCacheTtl,
    repo: new DidCacheRepo(d.db),
  });
  const handles = new HandleResolver({
    http, dids, timeoutMs: config.httpTimeout,
    ...(config.handleResolverUrl ? { resolverUrl: config.handleResolverUrl } : {}),
    ...(d.dnsServers ? { dnsServers: d.dnsServers } : {}),
  });
  const serviceAuth = new ServiceAuthVerifier({ dids, now });

  return {
    resolveDid: async (did) => (await dids.resolve(did)).doc,
    challengeKeys,
    atprotoKey,
    verifySignature: d.verifier ? (key, data, sig) => d.verifier!.verify(key, data, sig) : verifySignatureAsync,
    pdsEndpoint,
    handleOf,
    resolveHandle: (handle) => handles.resolve(handle),
    getSession: (pdsUrl, auth) => getSession(http, pdsUrl, auth),
    createSession: (pdsUrl, identifier, password) => createSession(http, pdsUrl, identifier, password),
    deleteSession: (pdsUrl, refreshJwt) => deleteSession(http, pdsUrl, refreshJwt),
    verifyServiceAuth: (jwt, audience) => serviceAuth.verify(jwt, audience),
  };
}
