/**
 * The real AT Protocol stack for tests: spawns atproto-stack.mjs (an in-memory PLC directory and a
 * SQLite PDS on loopback, see ../../../../shared/docs/atproto-testing.md) and offers helpers to get
 * every kind of credential a real user could present: app-password sessions, DPoP-bound OAuth
 * tokens (no browser), service-auth JWTs, a key added to a did:plc, and did:web documents.
 * One stack costs ~3 s and ~270 MiB: launch it once per test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import * as DPoP from 'dpop';
import { Secp256k1Keypair } from '@atproto/crypto';
import * as plc from '@did-plc/lib';

export interface StackAccount {
  name: string;
  did: string;
  handle: string;
  password: string;
  appPassword: string;
}

export interface AtprotoStack {
  plcUrl: string;
  /** http://localhost:<port> — the URL written into every account's DID document */
  pdsUrl: string;
  adminPassword: string;
  /** the PDS's PLC rotation key (hex): signs PLC operations for its accounts */
  plcRotationKeyHex: string;
  accounts: StackAccount[];
  account(name: string): StackAccount;
  stop(): Promise<void>;
}

const STACK_SCRIPT = fileURLToPath(new URL('./atproto-stack.mjs', import.meta.url));

/** Spawn the stack and wait for its JSON line (throws with its stderr when it does not come). */
export async function startAtprotoStack(opts: { accounts?: string[]; timeoutMs?: number } = {}): Promise<AtprotoStack> {
  const args = [STACK_SCRIPT, '--accounts', (opts.accounts ?? ['alice', 'bob']).join(',')];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_ENABLED: 'false' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = once(child, 'exit');
  const rl = createInterface({ input: child.stdout! });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let info: Omit<AtprotoStack, 'account' | 'stop'>;
  try {
    const line = await Promise.race([
      new Promise<string>((resolve) => rl.once('line', resolve)),
      exited.then(([code]) => { throw new Error(`atproto stack exited (${String(code)}) before it was ready:\n${stderr}`); }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`atproto stack not ready in ${timeoutMs} ms:\n${stderr}`)), timeoutMs); }),
    ]);
    info = JSON.parse(line) as typeof info;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  rl.close();
  child.stdout!.resume();
  let stopped: Promise<void> | undefined;
  return {
    ...info,
    account(name) {
      const a = info.accounts.find((x) => x.name === name);
      if (!a) throw new Error(`no stack account ${name}`);
      return a;
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(t);
      })();
      return stopped;
    },
  };
}

async function xrpc<T>(pdsUrl: string, method: 'GET' | 'POST', nsid: string, opts: { body?: unknown; query?: Record<string, string>; token?: string } = {}): Promise<T> {
  const q = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
  const res = await fetch(`${pdsUrl}/xrpc/${nsid}${q}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface PdsSession { did: string; handle: string; accessJwt: string; refreshJwt: string }

/** createSession with the account's app password (scope com.atproto.appPass). */
export function createAppPasswordSession(stack: AtprotoStack, account: StackAccount): Promise<PdsSession> {
  return xrpc<PdsSession>(stack.pdsUrl, 'POST', 'com.atproto.server.createSession', { body: { identifier: account.handle, password: account.appPassword } });
}

/** createSession with the account's main password (full access; needed for service-auth of privileged methods). */
export function createPasswordSession(stack: AtprotoStack, account: StackAccount): Promise<PdsSession> {
  return xrpc<PdsSession>(stack.pdsUrl, 'POST', 'com.atproto.server.createSession', { body: { identifier: account.handle, password: account.password } });
}

/**
 * com.atproto.server.getServiceAuth: a JWT signed by the account's #atproto key (held by the PDS),
 * `iss` = the DID, `aud` = the IRC server's DID (e.g. did:web:irc.test).
 */
export async function getServiceAuth(stack: AtprotoStack, accessJwt: string, aud: string, opts: { exp?: number; lxm?: string } = {}): Promise<string> {
  const query: Record<string, string> = { aud };
  if (opts.exp !== undefined) query.exp = String(opts.exp);
  if (opts.lxm !== undefined) query.lxm = opts.lxm;
  const { token } = await xrpc<{ token: string }>(stack.pdsUrl, 'GET', 'com.atproto.server.getServiceAuth', { query, token: accessJwt });
  return token;
}

export interface OAuthToken {
  accessToken: string;
  sub: string;
  dpopKey: DPoP.KeyPair;
  /** the nonce the PDS handed out last (during the token request) */
  nonce: string | undefined;
  /** the getSession URL the proofs are made for (`htu`) */
  getSessionUrl: string;
  /** a fresh DPoP proof for GET <pds>/xrpc/com.atproto.server.getSession bound to the token */
  proof(nonce?: string, opts?: { htu?: string; key?: DPoP.KeyPair }): Promise<string>;
}

// fetch() forces `sec-fetch-mode: cors`, which the authorize UI rejects; node:http for browser-like calls
function rawHttp(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; setCookie: string[]; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let d = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { d += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [], text: d }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const b64u = (b: Buffer | Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * A real DPoP-bound OAuth access token without a browser (atproto-testing.md Appendix B): PAR with
 * PKCE and DPoP (nonce dance), the provider's sign-in + consent API as a browser would call it,
 * then the token endpoint. oauth-provider 0.15 (PDS 0.4.x) shape.
 */
export async function getOAuthToken(stack: AtprotoStack, account: StackAccount, scope = 'atproto'): Promise<OAuthToken> {
  const pdsUrl = stack.pdsUrl;
  const meta = (await fetch(`${pdsUrl}/.well-known/oauth-authorization-server`).then((r) => r.json())) as Record<string, string>;
  const dpopKey = await DPoP.generateKeyPair('ES256', { extractable: true });
  const redirectUri = 'http://127.0.0.1/callback';
  const clientId = `http://localhost?${new URLSearchParams({ redirect_uri: redirectUri, scope }).toString()}`; // loopback client
  let nonce: string | undefined;
  const dpopPost = async (url: string, form: Record<string, string>): Promise<Record<string, string>> => {
    for (let i = 0; ; i++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: await DPoP.generateProof(dpopKey, url, 'POST', nonce) },
        body: new URLSearchParams(form),
      });
      nonce = res.headers.get('dpop-nonce') ?? nonce;
      const json = (await res.json()) as Record<string, string>;
      if (json.error === 'use_dpop_nonce' && i === 0) continue;
      if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    }
  };
  const verifier = b64u(randomBytes(32));
  const par = await dpopPost(meta.pushed_authorization_request_endpoint!, {
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, login_hint: account.handle,
    code_challenge: b64u(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  const authUrl = `${meta.authorization_endpoint}?${new URLSearchParams({ client_id: clientId, request_uri: par.request_uri! }).toString()}`;
  const url = await approveAtPds(authUrl, account);
  const code = new URL(url).searchParams.get('code');
  if (!code) throw new Error(`no code in the consent redirect ${url}`);
  const token = await dpopPost(meta.token_endpoint!, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId });
  const getSessionUrl = `${pdsUrl}/xrpc/com.atproto.server.getSession`;
  return {
    accessToken: token.access_token!, sub: token.sub!, dpopKey, nonce, getSessionUrl,
    proof: (n, o = {}) => DPoP.generateProof(o.key ?? dpopKey, o.htu ?? getSessionUrl, 'GET', n, token.access_token),
  };
}

/**
 * What a user does at their PDS's authorization page, without a browser (atproto-testing.md §d):
 * open it, sign in with the account's main password, consent. Returns the URL the PDS then sends
 * the browser to (its /oauth/authorize/redirect, whose query carries iss, state and code for the
 * client's redirect_uri). oauth-provider 0.15 (PDS 0.4.x) shape.
 */
export async function approveAtPds(authUrl: string, account: StackAccount): Promise<string> {
  const issuer = new URL(authUrl).origin;
  const jar = new Map<string, string>();
  const keep = (res: { setCookie: string[] }): void => {
    for (const c of res.setCookie) {
      const [kv = ''] = c.split(';');
      const i = kv.indexOf('=');
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
  };
  keep(await rawHttp('GET', authUrl, { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }));
  const api = async (endpoint: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await rawHttp('POST', `${issuer}/@atproto/oauth-provider/~api${endpoint}`, {
      'content-type': 'application/json', origin: issuer, referer: authUrl, 'sec-fetch-mode': 'same-origin', 'sec-fetch-site': 'same-origin',
      'x-csrf-token': jar.get('csrf-token') ?? '', cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    }, JSON.stringify(body));
    keep(res);
    if (res.status !== 200) throw new Error(`${endpoint}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as Record<string, unknown>;
  };
  const { account: acct } = (await api('/sign-in', { locale: 'en', username: account.handle, password: account.password, remember: true })) as { account: { sub?: string; did?: string } };
  const { url } = (await api('/consent', acct.sub ? { sub: acct.sub } : { did: acct.did })) as { url: string };
  return url;
}

/**
 * Add a verification method (default `#irc`) holding `didKey` (secp256k1 or P-256 did:key; PLC
 * refuses ed25519) to a PDS account's did:plc, with a PLC operation signed by the PDS rotation key
 * (atproto-testing.md §F1). The `#atproto` key and the PDS service stay as they are.
 */
export async function addPlcKey(stack: AtprotoStack, did: string, didKey: string, fragment = 'irc'): Promise<void> {
  const rotation = await Secp256k1Keypair.import(stack.plcRotationKeyHex);
  const client = new plc.Client(stack.plcUrl);
  await client.updateData(did, rotation, (last) => ({ ...last, verificationMethods: { ...last.verificationMethods, [fragment]: didKey } }));
}

/** The DID document as the PLC directory serves it. */
export async function fetchPlcDocument(stack: AtprotoStack, did: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.plcUrl}/${did}`);
  if (!res.ok) throw new Error(`PLC ${did}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

export interface DidWebServer {
  port: number;
  /** `did:web:localhost%3A<port>` (no path: /.well-known/did.json) or with a path (…:u:alice → /u/alice/did.json) */
  did(path?: string): string;
  /** serve `doc` for `did`; pass undefined to 404 it */
  set(did: string, doc: unknown): void;
  /** request paths served so far */
  readonly requests: string[];
  close(): Promise<void>;
}

/** A did:web document host on http://localhost:<port> (did:web over http is allowed for `localhost` only). */
export async function startDidWebServer(): Promise<DidWebServer> {
  const docs = new Map<string, unknown>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const doc = docs.get(req.url ?? '');
    if (doc === undefined) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}'); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const pathOf = (did: string): string => {
    const parts = did.split(':').slice(2);
    return parts.length === 1 ? '/.well-known/did.json' : `/${parts.slice(1).map(decodeURIComponent).join('/')}/did.json`;
  };
  return {
    port, requests,
    did: (path) => `did:web:localhost%3A${port}${path ? `:${path.split('/').join(':')}` : ''}`,
    set(did, doc) {
      if (doc === undefined) docs.delete(pathOf(did));
      else docs.set(pathOf(did), doc);
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A DID document with one Multikey verification method referenced from `authentication`. */
export function didWebDocument(did: string, multikey: string, opts: { pdsUrl?: string; handle?: string; relative?: boolean; list?: 'authentication' | 'assertionMethod' } = {}): Record<string, unknown> {
  const vmId = `${did}#key-1`;
  const doc: Record<string, unknown> = {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{ id: vmId, type: 'Multikey', controller: did, publicKeyMultibase: multikey }],
    [opts.list ?? 'authentication']: [opts.relative ? '#key-1' : vmId],
  };
  if (opts.handle) doc.alsoKnownAs = [`at://${opts.handle}`];
  if (opts.pdsUrl) doc.service = [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: opts.pdsUrl }];
  return doc;
}

/**
 * A TCP listener that records every connection (and optionally never answers). Used as an SSRF
 * sentinel (any connection = the server reached an address it must not) and as a PDS that hangs.
 */
export async function startSentinel(host = '127.0.0.1'): Promise<{ port: number; connections: number; open: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume(); // read (and drop) what arrives, so the peer's close is seen
  });
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get connections() { return state.connections; },
    /** connections still open (the server gives up on one at its http-timeout) */
    get open() { return sockets.size; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}
