import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';
import { bearerToken, unauthorized } from '../auth.js';

/**
 * GET /api/v1/me with `Authorization: Bearer <token>` (a token from the APITOKEN command) →
 * `{did, handle?}` (`handle` only when it resolved back to the DID at the account's last login,
 * #12); 401 for a missing, malformed, unknown, expired or revoked token; 429 after
 * 30 failures from one IP within 5 minutes.
 */
export function meRoutes(app: FastifyInstance, d: ApiDeps): void {
  app.get('/api/v1/me', async (req, reply) => {
    // no token, or a wrong one: 401, or 429 + Retry-After once this IP failed too often (auth.ts)
    const owner = d.context.apiTokens.verify(bearerToken(req));
    if (!owner) return unauthorized(d.authFailures, req, reply, 'Bearer');
    void reply.header('cache-control', 'no-store');
    return owner.handle !== undefined ? { did: owner.did, handle: owner.handle } : { did: owner.did };
  });
}
