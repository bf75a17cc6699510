import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';

/**
 * GET /api/v1/signing-key: the public key the server signs messages with, plus the keys it used
 * before a rotation (keys/signer.ts `signingKeyInfo()`; DESIGN.md §7). Public and cacheable for a
 * short while: it holds public keys only.
 */
export function signingKeyRoutes(app: FastifyInstance, d: ApiDeps): void {
  app.get('/api/v1/signing-key', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(d.context.signing.signingKeyInfo()));
}
