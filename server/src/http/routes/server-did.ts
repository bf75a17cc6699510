import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';

/**
 * GET /.well-known/did.json: this server's did:web document (#14, s2s-did; identity/server-did.ts):
 * its federation key and where to dial it, for peers that name it by did:web. Public (public keys
 * only) and cacheable for a short while; 404 when the server publishes none.
 */
export function serverDidRoutes(app: FastifyInstance, d: ApiDeps): void {
  app.get('/.well-known/did.json', async (_req, reply) => {
    if (!d.serverDid) return reply.code(404).send({ error: 'NotFound' });
    return reply.header('cache-control', 'public, max-age=300').type('application/did+json').send(JSON.stringify(d.serverDid));
  });
}
