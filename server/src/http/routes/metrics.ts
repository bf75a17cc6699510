import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../app.js';
import { bearerToken, checkApiKey, presentedKey } from '../auth.js';

/** a request that came through a reverse proxy is not a local scrape, whatever the bind address */
function proxied(req: FastifyRequest): boolean {
  const h = req.headers;
  return h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined;
}

/**
 * GET /metrics: Prometheus text (observability/metrics.ts). hardening.md F4: never open on a
 * public port. Without a key only when web-addr is a loopback address (decided from the
 * configured bind host, not the peer address, because behind a local reverse proxy every peer is
 * 127.0.0.1) and the request carries no proxy header. Otherwise an API key is required, in
 * X-API-Key or as `Authorization: Bearer <key>` (what Prometheus sends natively): 401
 * without it or with a wrong one, 403 when no api-keys are configured at all, 429 after 30 failed
 * keys from one IP within 5 minutes.
 */
export function metricsRoutes(app: FastifyInstance, d: ApiDeps): void {
  const { metrics } = d.context;
  app.get('/metrics', async (req, reply) => {
    const open = d.loopbackBind && !proxied(req);
    if (!open) {
      const hint = '/metrics needs an API key when web-addr is not a loopback address: set api-keys and send X-API-Key, or bind web-addr to 127.0.0.1';
      // X-API-Key, or the key as a bearer token (Prometheus' own `authorization: credentials_file`)
      const presented = presentedKey(req) ?? bearerToken(req);
      if (checkApiKey(d.keys, d.authFailures, req, reply, hint, presented) === undefined) return reply;
    }
    const text = await metrics.text();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
