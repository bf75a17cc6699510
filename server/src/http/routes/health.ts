import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';

/** GET /api/v1/health: public liveness and a few counters (no secrets, no per-user data). */
export function healthRoutes(app: FastifyInstance, d: ApiDeps): void {
  app.get('/api/v1/health', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
    return d.health();
  });
}
