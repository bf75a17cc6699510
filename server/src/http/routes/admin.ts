import type { FastifyInstance } from 'fastify';
import type { LockdownLevel } from '../../state/world.js';
import type { ApiDeps } from '../app.js';
import { requireApiKey } from '../auth.js';

const LEVELS = ['off', 'sasl-only', 'closed'] as const satisfies readonly LockdownLevel[];
type Level = (typeof LEVELS)[number];

/**
 * /api/v1/admin/* behind X-API-Key (hardening.md F3/F4). Registered with the prefix in app.ts;
 * the key check is a hook on this whole plugin, so a route added here cannot forget it.
 */
export function adminRoutes(app: FastifyInstance, d: ApiDeps): void {
  const { context: ctx, log } = d;
  app.addHook('preParsing', requireApiKey(d.keys, d.authFailures, 'admin endpoints are disabled: no api-keys configured'));
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get('/status', async () => ({
    connections: ctx.stats.connections,
    users: ctx.world.registeredCount,
    channels: ctx.world.channels.size,
    lockdown: ctx.world.lockdown,
    uptime_secs: Math.floor((ctx.clock.now() - ctx.startedAt) / 1000),
  }));

  app.put<{ Body: { level: Level } }>('/lockdown', {
    schema: {
      body: {
        type: 'object',
        required: ['level'],
        additionalProperties: false,
        properties: { level: { type: 'string', enum: [...LEVELS] } },
      },
    },
  }, async (req) => {
    const to = req.body.level;
    // who: the key's fingerprint, never the key; operators are told by the lockdown event (WALLOPS)
    const from = ctx.ops.setLockdown({ kind: 'operator', name: req.apiKeyFingerprint ?? 'unknown key' }, to);
    log.warn({ key: req.apiKeyFingerprint, ip: req.ip, from, to }, 'lockdown changed via HTTP API');
    return { lockdown: to, previous: from };
  });

  app.get<{ Querystring: { limit?: number } }>('/connections-by-ip', {
    schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } } } },
  }, async (req) => {
    const counts = new Map<string, number>();
    for (const u of ctx.world.users.values()) counts.set(u.ip, (counts.get(u.ip) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, req.query.limit ?? 20);
    return { total_ips: counts.size, top: top.map(([ip, connections]) => ({ ip, connections })) };
  });
}
