import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../observability/log.js';

/**
 * the client built with this server: in an installed package, the copy `npm pack` put in it
 * (<package>/web-client/, scripts/pack-web-client.mjs, #16); in this repository, web/dist
 * (`npm run build`)
 */
const PACKED = fileURLToPath(new URL('../../../web-client/', import.meta.url));
const BUILT = existsSync(`${PACKED}index.html`) ? PACKED : fileURLToPath(new URL('../../../../web/dist/', import.meta.url));

/**
 * The web client's content security policy (#15): its own scripts and styles only, no inline
 * code, no eval; it talks to this server alone (its /irc WebSocket: 'self' covers ws:/wss: of the
 * same host); nothing may frame it. The API keeps helmet's `default-src 'none'`.
 */
export const WEB_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** whether GET / serves a web client with web-client-dir `dir` (the start banner and default MOTD name it) */
export function webClientServed(dir: string | undefined): boolean {
  const root = dir ?? BUILT;
  return root !== '' && existsSync(`${root}/index.html`);
}

/**
 * GET / and the client's assets (#15), from `dir` (web-client-dir; default the client built with
 * this server). The hashed assets are cached for a year (immutable), index.html revalidated on
 * every load; each file goes out as its pre-compressed .br or .gz when the browser takes it
 * (web/scripts/compress.mjs made them). Routes only for the files there at start (no wildcard:
 * every other path keeps the API's 404).
 */
export async function webClientRoutes(app: FastifyInstance, dir: string | undefined, log: Logger): Promise<void> {
  const root = dir ?? BUILT;
  if (root === '') return;
  if (!webClientServed(dir)) {
    log.warn({ dir: root }, 'web client not served: no index.html there (run npm run build, or set web-client-dir)');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    preCompressed: true,
    cacheControl: false,
    setHeaders: (res, path) => {
      res.header('content-security-policy', WEB_CSP);
      res.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
