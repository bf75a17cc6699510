import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { ServerContext } from '../context.js';
import type { Logger } from '../observability/log.js';
import { ApiKeys, AuthFailures } from './auth.js';
import { gateHttpConnections } from './connection-gate.js';
import { adminRoutes } from './routes/admin.js';
import { channelRoutes } from './routes/channels.js';
import { healthRoutes } from './routes/health.js';
import { meRoutes } from './routes/me.js';
import { metricsRoutes } from './routes/metrics.js';
import { signingKeyRoutes } from './routes/signing-key.js';
import { serverDidRoutes } from './routes/server-did.js';
import { webClientRoutes } from './routes/web-client.js';
import { webLoginRoutes } from './routes/web-login.js';
import { attachIrcUpgrade, type IrcUpgradeDeps } from './ws-upgrade.js';

/** config, accept and admission: what the `/irc` upgrade needs (http/ws-upgrade.ts) */
export interface HttpDeps extends IrcUpgradeDeps {
  health: () => Record<string, unknown>;
  /** accept() failed on the HTTP port (EMFILE, ENFILE): logged and counted, the listener goes on */
  acceptFailed?: (err: Error, listener: 'http') => void;
  /** world, metrics, runtime settings, API tokens: what the API routes read and change */
  context: ServerContext;
  /** this server's did:web document (s2s-did), served at /.well-known/did.json (routes/server-did.ts) */
  serverDid?: Record<string, unknown>;
}

/** What every route group gets (http/routes/*.ts). */
export interface ApiDeps {
  context: ServerContext;
  keys: ApiKeys;
  /** failed key/token checks per IP (F2: 30 / 5 min, then 429) */
  authFailures: AuthFailures;
  log: Logger;
  health: () => Record<string, unknown>;
  /** web-addr is a loopback address: /metrics may be scraped without a key (routes/metrics.ts) */
  loopbackBind: boolean;
  serverDid?: Record<string, unknown>;
}

/** hardening.md F1 */
export const HTTP_LIMITS = {
  bodyLimit: 64 * 1024,
  requestTimeout: 30_000,
  headersTimeout: 10_000,
  /**
   * #12 finding 4: an idle keep-alive connection holds a descriptor; fastify's 72 s (sized for
   * cloud load balancers with a 60 s idle timeout) let one IP park thousands. 5 s is Node's own
   * default: enough for a browser's or script's next request, and a reverse proxy that reuses
   * upstream connections must then idle them out sooner (operator guide).
   */
  keepAliveTimeout: 5_000,
  /**
   * how often Node checks the two timeouts above (its default, 30 s, would stretch 10 s to 40 s).
   * Node starts them at a request's first byte: a connection that never sends one is closed by
   * http-idle-timeout instead (fastify connectionTimeout, the socket's inactivity timeout).
   */
  connectionsCheckingInterval: 1_000,
} as const;

const HSTS_MAX_AGE = 63_072_000; // 2 years

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: the configured bind host, not the peer address */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/** Origins compare as serialized by browsers: lower-case scheme and host, no trailing slash. */
function normalizeOrigin(o: string): string {
  return o.trim().replace(/\/+$/, '').toLowerCase();
}

/** 'Payload Too Large' → 'PayloadTooLarge' */
function errorName(status: number): string {
  return (STATUS_CODES[status] ?? 'Error').replace(/[^A-Za-z]/g, '');
}

/**
 * Responses after which the connection is closed (#12 finding 4): a client refused for its rate
 * or its credentials must not keep a descriptor in keep-alive.
 */
const CLOSE_AFTER = new Set([401, 403, 429]);

/**
 * What Node's HTTP parser rejects before fastify sees a request (a header block over 16 KiB →
 * 431, a timeout → 408, anything malformed → 400): the generic error body, never fastify's
 * (#12: the 414/431 bodies named internals), then close.
 */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  // Node's own guard: never a raw answer into a response already being sent
  const sending = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
  if (socket.writable && (!sending || !sending._headerSent)) {
    const body = JSON.stringify({ error: errorName(status) });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * web-tls (#16 REHASH): a new certificate and key for the HTTPS listener, read now; new connections
 * use them. false when the listener serves plain HTTP; throws (keeping the old ones) when they
 * cannot be read or do not match.
 */
export function reloadWebTls(app: FastifyInstance, certFile: string, keyFile: string): boolean {
  const server = app.server as unknown as { setSecureContext?: (o: { cert: Buffer; key: Buffer }) => void };
  if (typeof server.setSecureContext !== 'function') return false;
  server.setSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
  return true;
}

/**
 * The HTTP port (web-addr): `/irc` (IRCv3 WebSocket, http/ws-upgrade.ts) and the HTTP API
 * (hardening.md F1–F4): health, metrics, admin, signing key, user tokens. Plain HTTP unless
 * web-tls is on and tls-cert/tls-key are set.
 */
export function createHttpApp(d: HttpDeps): FastifyInstance {
  const { config } = d;
  const log = d.context.log.child({ sub: 'http' });
  const tls = config.webTls && config.tlsCert !== undefined && config.tlsKey !== undefined;
  if (config.webTls && !tls) log.warn('web-tls is on but tls-cert/tls-key are not set: the HTTP listener stays plain HTTP');
  const nodeServerOptions = { headersTimeout: HTTP_LIMITS.headersTimeout, connectionsCheckingInterval: HTTP_LIMITS.connectionsCheckingInterval };
  // web-tls: a socket that never finishes the handshake is closed as on the IRC TLS port (Node's default is 120 s)
  const tlsOptions = { handshakeTimeout: config.tlsHandshakeTimeout };
  const base: FastifyServerOptions = {
    logger: false,
    bodyLimit: HTTP_LIMITS.bodyLimit,
    requestTimeout: HTTP_LIMITS.requestTimeout,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeout,
    // a socket with no traffic for http-idle-timeout is destroyed, one that never sent a byte too
    // (headersTimeout starts at a request's first byte): silent sockets held their HTTP slots for
    // good. The /irc upgrade clears it (ws: socket.setTimeout(0)); WebSockets have their pings.
    connectionTimeout: config.httpIdleTimeout,
    // X-Forwarded-For only from the configured reverse proxies (none by default, #12 finding 7).
    // With a list, fastify (proxy-addr) walks the header from the right and stops at the first
    // address that is not a trusted proxy: request.ip is that hop, never a client-written one.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    return503OnClosing: true,
    clientErrorHandler,
    // the router's own refusals (a path parameter over 100 characters → 414, a malformed URL
    // → 400): the generic error body, not fastify's (which names its FST_ error code)
    frameworkErrors: (err, _req, res) => {
      const reply = res as unknown as FastifyReply;
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      void reply.code(status).header('connection', 'close').send({ error: errorName(status) });
    },
  };
  const opts = tls
    ? { ...base, https: { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!), ...tlsOptions, ...nodeServerOptions } }
    : { ...base, http: nodeServerOptions };
  // https changes only the type of app.server (an https.Server is an http.Server for our use)
  const app = Fastify(opts as FastifyServerOptions) as unknown as FastifyInstance;
  app.server.headersTimeout = HTTP_LIMITS.headersTimeout;
  // #12 finding 4: per-IP and server-wide caps and the descriptor reserve, before any HTTP parsing
  if (d.admission) gateHttpConnections(app.server, d.admission, !tls);
  // after listening, a failed accept (EMFILE) is an 'error' event: it must not stop the process
  app.server.once('listening', () => app.server.on('error', (e: Error) => d.acceptFailed?.(e, 'http')));

  // first, so every reply (404, errors, rate limit, auth) passes it
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (CLOSE_AFTER.has(reply.statusCode)) void reply.header('connection', 'close');
    done(null, payload);
  });

  // generic 5xx bodies (F3): the details go to the log only
  app.setErrorHandler((err: { statusCode?: number; validation?: unknown; message?: string }, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      log.error({ err, method: req.method, route: req.routeOptions.url }, 'HTTP handler failed');
      return reply.code(500).send({ error: 'InternalServerError' });
    }
    // client errors: a validation message describes the request, never the server
    return reply.code(status).send(err.validation ? { error: errorName(status), message: err.message } : { error: errorName(status) });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'NotFound' }));

  void app.register(helmet, {
    global: true,
    // a JSON API: nothing may load or frame it
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: tls ? { maxAge: HSTS_MAX_AGE, includeSubDomains: true, preload: false } : false,
  });
  const origins = new Set(config.corsOrigins.map(normalizeOrigin));
  void app.register(cors, {
    // exact allowlist; other origins get no Access-Control-Allow-Origin at all (never *)
    origin: (origin, cb) => cb(null, origin !== undefined && origins.has(normalizeOrigin(origin))),
    methods: ['GET', 'HEAD'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    credentials: false,
    maxAge: 600,
    strictPreflight: true,
  });
  void app.register(rateLimit, {
    global: true,
    max: config.httpRateLimit,
    timeWindow: 60_000,
    keyGenerator: (req) => req.ip,
    errorResponseBuilder: (_req, ctx) => ({ statusCode: ctx.statusCode, error: 'TooManyRequests', message: `retry in ${ctx.after}` }),
    onExceeded: (req) => { d.context.metrics.limitHit('http-rate'); log.debug({ ip: req.ip }, 'HTTP rate limit'); },
  });

  // metrics.limitHit('http-auth') + a debug line, when an IP is refused for too many failures
  function authBlocked(ip: string): void {
    d.context.metrics.limitHit('http-auth');
    log.debug({ ip }, 'HTTP auth failures limit');
  }
  const deps: ApiDeps = {
    context: d.context, keys: new ApiKeys(config.apiKeys), log, health: d.health, loopbackBind: isLoopbackHost(config.webAddr.host),
    authFailures: new AuthFailures(() => d.context.clock.now(), undefined, undefined, authBlocked),
    ...(d.serverDid ? { serverDid: d.serverDid } : {}),
  };
  // registered after the plugins above, so their hooks (rate limit, headers, CORS) cover every route
  void app.register(async (api) => {
    healthRoutes(api, deps);
    await webClientRoutes(api, config.webClientDir, log);
    await webLoginRoutes(api, deps);
    metricsRoutes(api, deps);
    signingKeyRoutes(api, deps);
    serverDidRoutes(api, deps);
    meRoutes(api, deps);
    channelRoutes(api, deps);
    await api.register(async (admin) => adminRoutes(admin, deps), { prefix: '/api/v1/admin' });
  });

  attachIrcUpgrade(app.server, d); // /irc WebSocket upgrade, admission first
  return app;
}
