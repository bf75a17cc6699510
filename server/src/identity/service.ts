import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import { atprotoKey, challengeKeys, pdsEndpoint } from './did-doc.js';
import { DidResolver } from './did-resolver.js';
import { HandleResolver } from './handle.js';
import { HandleCheck } from './handle-check.js';
import { HttpClient } from './http.js';
import { verifySignatureAsync } from './keys.js';
import { LookupLimits, type LookupRefusal, type LookupRequester } from './lookup-limits.js';
import { createSession, deleteSession, getSession } from './pds.js';
import { ServiceAuthVerifier } from './service-auth.js';
import { normalizeHandle } from './syntax.js';
import type { DidCacheStore, IdentityService, LookupClient } from './types.js';
import type { SignatureVerifier } from './verifier.js';

export interface IdentityDeps {
  config: Config;
  /** the persistent DID-document cache (server.ts wires the SQLite one); without it, memory only */
  didCache?: DidCacheStore;
  log: Logger;
  now: () => number;
  /** DNS servers for handle TXT lookups (tests); default: the system's resolvers */
  dnsServers?: string[];
  /** the signature thread (server.ts owns and closes it); without it, checks run on libuv's pool */
  verifier?: SignatureVerifier;
  /** metrics: counts every refused lookup as `identity-lookup-<reason>` (#12) */
  limitHit?: (kind: string) => void;
}

/** a refused-lookups summary is logged at most this often (an attack must not flood the log) */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** `host[:port]` of a configured URL, lower case (as URL.host), or undefined when unusable */
function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The identity service: SSRF-guarded HTTP with layered lookup slots, DID resolution with a
 * persistent cache (the DidCacheStore port), key parsing, signature checks, handle resolution and verification, PDS
 * calls and service-auth verification. `now` is the clock for cache ages and JWT times.
 */
export function createIdentityService(d: IdentityDeps): IdentityService {
  const { config, now } = d;
  const limits = new LookupLimits({
    maxInFlight: config.identityLookupsMax,
    reserved: config.identityLookupsReserved,
    perHost: config.identityLookupsPerHost,
    perIp: config.identityLookupsPerIp,
    perConnection: config.identityLookupsPerConnection,
    hostFailureTtlMs: config.identityHostFailureTtl,
    trustedHosts: [hostOf(config.plcUrl), hostOf(config.handleResolverUrl)].filter((h): h is string => h !== undefined),
    now,
  });
  const http = new HttpClient({
    timeoutMs: config.httpTimeout, allowLoopback: config.ssrfAllowLoopback, limits,
    onRefused: refusalReporter(d),
  });
  const dids = new DidResolver({
    http, now, log: d.log,
    plcUrl: config.plcUrl,
    allowLoopback: config.ssrfAllowLoopback,
    ttlMs: config.didCacheTtl,
    repo: d.didCache,
  });
  const handles = new HandleResolver({
    http, dids, timeoutMs: config.httpTimeout,
    ...(config.handleResolverUrl ? { resolverUrl: config.handleResolverUrl } : {}),
    ...(d.dnsServers ? { dnsServers: d.dnsServers } : {}),
  });
  const handleCheck = new HandleCheck({ handles, now, ttlMs: config.didCacheTtl, timeoutMs: config.httpTimeout, log: d.log });
  const serviceAuth = new ServiceAuthVerifier({ dids, now });
  const verifySignature = d.verifier ? d.verifier.verify.bind(d.verifier) : verifySignatureAsync;

  /**
   * The service as seen by one client's login (`requester` undefined: nobody's quota). No
   * requester gets the reserved slots as such: requests to the configured services, refreshes of
   * a cached document and a did:plc's PDS calls do (identity/lookup-limits.ts); a did:web a client
   * names never does, whatever it has cached.
   */
  /** a did:plc's PDS comes from the PLC directory: its calls may use the reserved share */
  const onPlc = (did: string): boolean => did.startsWith('did:plc:');

  function view(requester: LookupRequester | undefined): IdentityService {
    return {
      forClient: (c: LookupClient) => view({ conn: c.conn, ip: c.ip }),
      resolveDid: async (did) => (await dids.resolve(did, { requester })).doc,
      verifiedHandle: (did, doc) => handleCheck.verified(did, doc, requester),
      challengeKeys,
      atprotoKey,
      verifySignature,
      pdsEndpoint,
      resolveHandle: async (handle) => {
        const did = await handles.resolve(handle, requester);
        handleCheck.confirmed(did, normalizeHandle(handle));
        return did;
      },
      getSession: (pdsUrl, auth, did) => getSession(http, pdsUrl, auth, requester, onPlc(did)),
      createSession: (pdsUrl, identifier, password, did) => createSession(http, pdsUrl, identifier, password, requester, onPlc(did)),
      // cleanup after a login, not part of it: nobody's quota (it would block that client's next lookup)
      deleteSession: (pdsUrl, refreshJwt) => deleteSession(http, pdsUrl, refreshJwt),
      verifyServiceAuth: (jwt, audience, did) => serviceAuth.verify(jwt, audience, did, requester),
    };
  }
  return view(undefined);
}

/** metric per refusal; a warning with counts at most every REFUSAL_LOG_INTERVAL_MS */
function refusalReporter(d: IdentityDeps): (reason: LookupRefusal, host: string) => void {
  let counts = new Map<LookupRefusal, number>();
  let lastLog = -Infinity;
  return (reason, host) => {
    d.limitHit?.(`identity-lookup-${reason}`);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const t = d.now();
    if (t - lastLog < REFUSAL_LOG_INTERVAL_MS) return;
    lastLog = t;
    d.log.warn({ refused: Object.fromEntries(counts), lastHost: host }, 'identity lookups refused (quota, host cap or host down)');
    counts = new Map();
  };
}
