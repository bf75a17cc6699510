import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthFailureCode } from '../../identity/oauth.js';
import { nickFromHandle } from '../../protocol/validate.js';
import type { ApiDeps } from '../app.js';

/**
 * Bluesky login for the web client (#15; docs/identity.md "Bluesky login in the web client"):
 *
 * 1. `POST /auth/login {handle}` → `{url}`: the user's authorization page at their PDS (this server
 *    is the OAuth client, identity/oauth.ts). A `freeq_oauth` cookie ties the login to this browser.
 * 2. The PDS sends the browser to `GET /auth/callback`: the DID is proven, the PDS tokens are
 *    revoked at once, and the browser gets a `freeq_session` cookie (HttpOnly, SameSite=Strict,
 *    web-session-ttl) before going back to `/#login=ok`.
 * 3. `POST /auth/token` → `{token, did, handle, nick}`: a single-use IRC login token (60 s) that the
 *    page spends in SASL ATPROTO-CHALLENGE with method `web-token`. Every (re)connection asks again.
 * 4. `POST /auth/logout` forgets the session.
 * Nothing a script could read is long-lived: the session cookie is HttpOnly, a login token lives a
 * minute and is single-use. With public-url, `/oauth/client-metadata.json` is the client's metadata.
 */

const OAUTH_COOKIE = 'freeq_oauth';
const SESSION_COOKIE = 'freeq_session';
/** the time a user has at their PDS to say yes */
const OAUTH_COOKIE_MAX_AGE_S = 600;
/** longest handle (253) or DID we accept in /auth/login */
const MAX_INPUT = 2048;

/** what the web client shows for each refusal (no internals: those go to the debug log) */
const MESSAGES: Record<OAuthFailureCode | 'WRONG_BROWSER', string> = {
  HANDLE_NOT_FOUND: 'That handle was not found. Check the spelling (for example alice.bsky.social).',
  PDS_UNREACHABLE: 'Your Bluesky server could not be reached. Try again in a moment.',
  ADDRESS_REFUSED: 'This server does not contact that address (a private network or plain http).',
  DENIED: 'The login was cancelled or refused at your Bluesky server.',
  EXPIRED: 'That login expired or was already used. Please log in again.',
  BUSY: 'Too many logins in progress. Try again in a moment.',
  WRONG_BROWSER: 'That login was started in another browser or tab. Please log in again.',
};

const STATUS: Record<OAuthFailureCode, number> = {
  HANDLE_NOT_FOUND: 400, PDS_UNREACHABLE: 502, ADDRESS_REFUSED: 400, DENIED: 403, EXPIRED: 400, BUSY: 503,
};

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64url');

/**
 * The two cookies this file sets, read from the Cookie header. Hand-written: two fixed names
 * with base64url values, not worth a cookie-parsing plugin.
 */
function cookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

export async function webLoginRoutes(app: FastifyInstance, d: ApiDeps): Promise<void> {
  const { context } = d;
  const { config, oauth } = context;
  const log = d.log.child({ sub: 'web-login' });
  const secure = (config.publicUrl?.startsWith('https:') ?? false) || (config.webTls && config.tlsCert !== undefined);
  const setCookie = (reply: FastifyReply, name: string, value: string, maxAgeS: number, sameSite: 'Lax' | 'Strict'): void => {
    const attrs = [`${name}=${value}`, 'Path=/auth', 'HttpOnly', `SameSite=${sameSite}`, `Max-Age=${maxAgeS}`, ...(secure ? ['Secure'] : [])];
    const prev = reply.getHeader('set-cookie');
    reply.header('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), attrs.join('; ')]);
  };

  /**
   * A browser's POST must come from this server's own pages: its Origin names the host it was
   * sent to (or public-url). Cookies are SameSite as well; this also covers old browsers.
   */
  const sameOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin;
    if (!origin) return false;
    try {
      const host = new URL(origin).host.toLowerCase();
      return host === (req.headers.host ?? '').toLowerCase() || (config.publicUrl !== undefined && host === new URL(config.publicUrl).host.toLowerCase());
    } catch {
      return false;
    }
  };

  app.post('/auth/login', { config: { rateLimit: { max: 20, timeWindow: 60_000 } } }, async (req, reply) => {
    if (!sameOrigin(req)) return reply.code(403).send({ error: 'FORBIDDEN', message: 'cross-site request' });
    const handle = (req.body as { handle?: unknown } | undefined)?.handle;
    if (typeof handle !== 'string' || handle.trim() === '' || handle.length > MAX_INPUT) {
      return reply.code(400).send({ error: 'HANDLE_NOT_FOUND', message: MESSAGES.HANDLE_NOT_FOUND });
    }
    // the PDS sends the browser back to oauth.origin(): the login cookie must be set there
    const home = new URL(oauth.origin());
    if ((req.headers.host ?? '').toLowerCase() !== home.host.toLowerCase()) {
      return reply.code(400).send({ error: 'WRONG_ADDRESS', message: `Bluesky login works at ${home.origin}/ — open it there.`, url: `${home.origin}/` });
    }
    const binding = randomBytes(32).toString('base64url');
    const r = await oauth.start(handle, sha256(binding));
    if (!r.ok) {
      log.info({ code: r.code, detail: r.detail }, 'web login refused at its start');
      return reply.code(STATUS[r.code]).send({ error: r.code, message: MESSAGES[r.code] });
    }
    setCookie(reply, OAUTH_COOKIE, binding, OAUTH_COOKIE_MAX_AGE_S, 'Lax');
    return { url: r.url };
  });

  app.get('/auth/callback', async (req, reply) => {
    const query = req.raw.url?.split('?')[1] ?? '';
    const binding = cookie(req, OAUTH_COOKIE);
    setCookie(reply, OAUTH_COOKIE, '', 0, 'Lax');
    const r = await oauth.finish(new URLSearchParams(query));
    let code: OAuthFailureCode | 'WRONG_BROWSER';
    if (!r.ok) {
      code = r.code;
      log.info({ code, detail: r.detail }, 'web login refused at the callback');
    } else if (binding === undefined || r.binding !== sha256(binding)) {
      // a login someone else started (login CSRF) or one from another browser: its DID is not taken
      code = 'WRONG_BROWSER';
      log.info({ code, did: r.did }, 'web login refused at the callback');
    } else {
      const { token } = context.webSessions.issue(r.did);
      setCookie(reply, SESSION_COOKIE, token, Math.floor(config.webSessionTtl / 1000), 'Strict');
      log.info({ did: r.did, handle: r.handle }, 'web login');
      // the page then asks /auth/token (the fragment never reaches a server or a log)
      return reply.code(303).header('location', '/#login=ok').header('cache-control', 'no-store').send();
    }
    return reply.code(303).header('location', `/#login-error=${code}`).header('cache-control', 'no-store').send();
  });

  app.post('/auth/token', async (req, reply) => {
    if (!sameOrigin(req)) return reply.code(403).send({ error: 'FORBIDDEN', message: 'cross-site request' });
    const owner = context.webSessions.verify(cookie(req, SESSION_COOKIE));
    if (!owner) return reply.code(401).header('cache-control', 'no-store').send({ error: 'NOT_LOGGED_IN', message: 'not logged in with Bluesky' });
    let handle = owner.handle;
    try {
      handle = (await context.identity.verifiedHandle(owner.did, await context.identity.resolveDid(owner.did))) ?? handle;
    } catch {
      // display only: the DID is shown
    }
    const token = context.loginTokens.issue({ did: owner.did, ...(handle ? { handle } : {}) });
    // the nick this DID owns here, else one made from the handle (the server may still refuse it)
    const nick = context.world.accountNicks.get(owner.did)?.nick ?? nickFromHandle(handle, context.config.nickLen); // live: REHASH may change nick-len (#16)
    return reply.header('cache-control', 'no-store').send({ token, did: owner.did, ...(handle ? { handle } : {}), nick });
  });

  app.post('/auth/logout', async (req, reply) => {
    if (!sameOrigin(req)) return reply.code(403).send({ error: 'FORBIDDEN', message: 'cross-site request' });
    context.webSessions.revoke(cookie(req, SESSION_COOKIE));
    setCookie(reply, SESSION_COOKIE, '', 0, 'Strict');
    return reply.code(204).send();
  });

  app.get('/oauth/client-metadata.json', async (_req, reply) => {
    const meta = oauth.publicMetadata;
    if (!meta) return reply.code(404).send({ error: 'NotFound', message: 'no public-url: this server is a loopback OAuth client' });
    return reply.header('cache-control', 'public, max-age=600').send(meta);
  });
}
