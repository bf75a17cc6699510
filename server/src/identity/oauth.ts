/**
 * Bluesky login for the web client (#15): this server is the AT Protocol OAuth client
 * (@atproto/oauth-client-node: PAR, PKCE, DPoP, issuer checks). A login only proves which DID the
 * user is; the tokens the PDS hands out are revoked as soon as the callback has the DID
 * (`finish`), so the server never keeps a user's PDS access or refresh token, nor a DPoP key.
 *
 * Every request the OAuth client makes goes through the identity service's SSRF-guarded HTTP
 * client (identity/http.ts: no private addresses, bounded bodies, one deadline, no redirects), and
 * handles and DIDs are resolved by the identity service itself (its caches and lookup quotas).
 */
import type { NodeOAuthClient, NodeSavedSession, NodeSavedState, OAuthClientMetadataInput } from '@atproto/oauth-client-node';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import { LRUCache } from 'lru-cache';
import { HttpClient } from './http.js';
import { isValidDid, isValidHandle, normalizeHandle } from './syntax.js';
import { IdentityError, type IdentityService } from './types.js';

/** the only scope asked for: proves the DID, grants nothing we would keep */
export const OAUTH_SCOPE = 'atproto';
/** a login not finished within this is forgotten (the user has 10 minutes at the PDS) */
const PENDING_TTL_MS = 10 * 60_000;
/** logins in progress at once, server-wide: beyond, new ones are refused (BUSY) */
const MAX_PENDING = 10_000;
/** OAuth responses are JSON documents of a few kB (metadata, tokens) */
const MAX_OAUTH_RESPONSE_BYTES = 256 * 1024;

/** why a login did not work: the code the web client shows a message for */
export type OAuthFailureCode =
  | 'HANDLE_NOT_FOUND'   // not a handle, or it resolves to no DID
  | 'PDS_UNREACHABLE'    // the user's PDS / authorization server did not answer properly
  | 'ADDRESS_REFUSED'    // the SSRF guard refused the address (a private network, plain http)
  | 'DENIED'             // the user said no at their PDS, or the PDS refused
  | 'EXPIRED'            // the callback came for a login we no longer know (expired, replayed)
  | 'BUSY';              // too many logins in progress

/** a refusal: `detail` is for the log (the library's and the resolver's messages, never a token) */
export type OAuthRefusal = { ok: false; code: OAuthFailureCode; detail: string };

export interface OAuthLoginDeps {
  config: Config;
  identity: IdentityService;
  log: Logger;
  /**
   * without public-url: the origin the loopback redirect goes to, `http://127.0.0.1:<port>`
   * (asked at the first login, once the HTTP listener has its port)
   */
  loopbackOrigin: () => string;
}

/** what a finished login proved */
export interface OAuthIdentity {
  did: string;
  /** the handle, when it resolves back to the DID (display only) */
  handle?: string;
}

export class OAuthLogin {
  private client?: Promise<NodeOAuthClient>;
  private readonly http: HttpClient;
  /** state → what the OAuth client needs at the callback (PKCE verifier, DPoP key); memory only */
  private readonly pending: LRUCache<string, NodeSavedState>;
  /** the session between the token exchange and its revocation, a few ms (memory only) */
  private readonly sessions: LRUCache<string, NodeSavedSession>;

  constructor(private readonly d: OAuthLoginDeps) {
    this.http = new HttpClient({ timeoutMs: d.config.httpTimeout, allowLoopback: d.config.ssrfAllowLoopback, maxBytes: MAX_OAUTH_RESPONSE_BYTES, userAgent: 'freeq-oauth' });
    this.pending = new LRUCache({ max: MAX_PENDING, ttl: PENDING_TTL_MS });
    this.sessions = new LRUCache({ max: MAX_PENDING, ttl: PENDING_TTL_MS });
  }

  /** public-url set: the client's metadata document, served at /oauth/client-metadata.json */
  get publicMetadata(): OAuthClientMetadataInput | undefined {
    return this.d.config.publicUrl ? this.metadata() : undefined;
  }

  /** where the PDS sends the browser back to */
  get redirectUri(): string {
    return `${this.origin()}/auth/callback`;
  }

  /** the origin users must open the web client at for a login to come back to them */
  origin(): string {
    return (this.d.config.publicUrl ?? this.d.loopbackOrigin()).replace(/\/+$/, '');
  }

  /**
   * Begin a login for a handle (`alice.bsky.social`, `@alice.bsky.social`) or a DID: the URL of
   * the user's authorization page. `binding` comes back from `finish` (the caller ties it to the
   * browser that started, against login CSRF).
   */
  async start(input: string, binding: string): Promise<{ ok: true; url: string } | OAuthRefusal> {
    const id = input.trim().replace(/^@/, '');
    const target = isValidDid(id) ? id : normalizeHandle(id);
    if (!isValidDid(target) && !isValidHandle(target)) return { ok: false, code: 'HANDLE_NOT_FOUND', detail: 'not a handle or DID' };
    if (this.pending.size >= MAX_PENDING) this.pending.purgeStale();
    if (this.pending.size >= MAX_PENDING) return { ok: false, code: 'BUSY', detail: 'too many logins in progress' };
    try {
      const url = await (await this.oauth()).authorize(target, { scope: OAUTH_SCOPE, state: binding });
      return { ok: true, url: url.toString() };
    } catch (e) {
      return refusal(e);
    }
  }

  /**
   * Finish a login from the callback's query. Returns the DID the PDS vouched for (the OAuth
   * client checked that this PDS is the DID's authority) and the `binding` given to `start`.
   * The tokens are revoked here, before returning.
   */
  async finish(params: URLSearchParams): Promise<(OAuthIdentity & { ok: true; binding: string }) | OAuthRefusal> {
    if (params.has('error')) return { ok: false, code: 'DENIED', detail: `the authorization server answered ${params.get('error')?.slice(0, 64) ?? 'an error'}` };
    const state = params.get('state');
    if (!state || !this.pending.has(state)) return { ok: false, code: 'EXPIRED', detail: 'unknown or finished login' };
    let result: Awaited<ReturnType<NodeOAuthClient['callback']>>;
    try {
      result = await (await this.oauth()).callback(params);
    } catch (e) {
      return refusal(e);
    }
    const { session, state: binding } = result;
    const did = session.did;
    // nothing of the PDS session is kept: revoke it now (best effort: it also expires by itself)
    try {
      await session.signOut();
    } catch (e) {
      this.d.log.debug({ err: errorText(e) }, 'oauth: revoking the login session failed');
    } finally {
      this.sessions.delete(did);
    }
    let handle: string | undefined;
    try {
      handle = await this.d.identity.verifiedHandle(did, await this.d.identity.resolveDid(did));
    } catch {
      handle = undefined;
    }
    return { ok: true, did, ...(handle ? { handle } : {}), binding: binding ?? '' };
  }

  private metadata(): OAuthClientMetadataInput {
    const redirect = this.redirectUri;
    const base = {
      redirect_uris: [redirect] as [string],
      scope: OAUTH_SCOPE,
      response_types: ['code'] as ['code'],
      grant_types: ['authorization_code'] as ['authorization_code'],
      token_endpoint_auth_method: 'none' as const,
      application_type: 'web' as const,
      dpop_bound_access_tokens: true,
    };
    const pub = this.d.config.publicUrl?.replace(/\/+$/, '');
    if (pub) return { ...base, client_id: `${pub}/oauth/client-metadata.json`, client_name: 'freeq', client_uri: pub };
    // a loopback client (AT Protocol OAuth "localhost client"): no metadata document to host
    return { ...base, client_id: `http://localhost?${new URLSearchParams({ redirect_uri: redirect, scope: OAUTH_SCOPE }).toString()}` };
  }

  /**
   * The OAuth client, loaded at the first login: a server nobody logs in to through the web page
   * does not pay for the library (and its dependencies) in memory or start-up time. The package is
   * CommonJS: its named exports depend on Node's static analysis of its re-exports, which reads
   * more files and found none under a tight descriptor limit; then its `default` (module.exports).
   */
  private oauth(): Promise<NodeOAuthClient> {
    this.client ??= this.create().catch((e: unknown) => { this.client = undefined; throw e; });
    return this.client;
  }

  private async create(): Promise<NodeOAuthClient> {
    const mod = await import('@atproto/oauth-client-node');
    const { NodeOAuthClient, requestLocalLock } = typeof mod.NodeOAuthClient === 'function' ? mod : (mod as unknown as { default: typeof mod }).default;
    const { identity } = this.d;
    const store = <V extends object>(m: LRUCache<string, V>) => ({
      get: async (k: string) => m.get(k),
      set: async (k: string, v: V) => { m.set(k, v); },
      del: async (k: string) => { m.delete(k); },
    });
    return new NodeOAuthClient({
      clientMetadata: this.metadata(),
      stateStore: store(this.pending),
      sessionStore: store(this.sessions),
      requestLock: requestLocalLock,
      // plain http only reaches loopback test stacks, and only with ssrf-allow-loopback (identity/http.ts)
      allowHttp: this.d.config.ssrfAllowLoopback,
      fetch: (input, init) => this.fetch(input, init),
      // the identity service resolves: its SSRF guard, caches, quotas and handle checks
      identityResolver: {
        resolve: async (identifier: string) => {
          const did = isValidDid(identifier) ? identifier : await identity.resolveHandle(identifier);
          const doc = await identity.resolveDid(did);
          const handle = await identity.verifiedHandle(did, doc);
          return { did, didDoc: doc, handle: handle ?? 'handle.invalid' } as never;
        },
      },
    });
  }

  /**
   * fetch() for the OAuth client over identity/http.ts: hand-written because the library's own
   * fetch-node guard cannot share our address rules, quotas and limits.
   */
  private async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const req = new Request(input, init);
    if (req.method !== 'GET' && req.method !== 'POST') throw new TypeError(`oauth: method ${req.method} not supported`);
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => { headers[k] = v; });
    const body = req.method === 'POST' ? await req.text() : undefined;
    const res = await this.http.request(req.url, { method: req.method, headers, ...(body !== undefined ? { body } : {}) });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
    }
    const empty = res.status === 204 || res.status === 304;
    return new Response(empty ? null : new Uint8Array(res.body), { status: res.status, headers: out });
  }
}

/** the error's own message and those of its causes (never tokens: the library's and ours) */
function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, i = 0; x instanceof Error && i < 5; x = (x as { cause?: unknown }).cause, i++) parts.push(x.message);
  return parts.join(': ').slice(0, 300);
}

/** the first IdentityError in an error's cause chain */
function identityCause(e: unknown): IdentityError | undefined {
  for (let x: unknown = e, i = 0; x instanceof Error && i < 8; x = (x as { cause?: unknown }).cause, i++) if (x instanceof IdentityError) return x;
  return undefined;
}

/** which refusal an error from the OAuth client (or the resolvers under it) is */
function refusal(e: unknown): OAuthRefusal {
  const id = identityCause(e);
  const text = errorText(e);
  const code = ((): OAuthFailureCode => {
    if (id?.code === 'forbidden-host') return 'ADDRESS_REFUSED';
    if (id?.code === 'not-found' || id?.code === 'bad-did') return 'HANDLE_NOT_FOUND';
    if (id?.code === 'busy') return 'BUSY';
    if (/access_denied|denied|refused/i.test(text)) return 'DENIED';
    if (/unknown authorization session|state/i.test(text)) return 'EXPIRED';
    return 'PDS_UNREACHABLE';
  })();
  return { ok: false, code, detail: text };
}
