import type { ServerContext } from '../../commands/context.js';
import { RateLimiter } from '../../limits/rate.js';

/** hardening.md D2: atproto's createSession limit is 30 per 5 min keyed `identifier-ip` */
export const SASL_IDENTITY_WINDOW_MS = 5 * 60_000;

/** one limiter per server instance (tests run several servers in one process) */
const limiters = new WeakMap<ServerContext, RateLimiter<string>>();

/**
 * Count one SASL attempt for the identity a response claims (DID, handle or PLAIN authcid) from
 * `ip`, across connections: `sasl-attempts-per-identity` per 5 minutes. False when over the limit;
 * the caller answers 904 without verifying anything (no identity lookup, no PDS call).
 */
export function allowSaslAttempt(server: ServerContext, identity: string, ip: string): boolean {
  let l = limiters.get(server);
  if (!l) {
    l = new RateLimiter<string>(server.config.saslAttemptsPerIdentity, SASL_IDENTITY_WINDOW_MS, server.clock);
    limiters.set(server, l);
  }
  // DIDs are case-sensitive in their method-specific part, but folding can only merge keys
  // (stricter), never split one identity into several
  return l.take(`${identity.toLowerCase()} ${ip}`);
}
