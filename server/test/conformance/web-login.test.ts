// Bluesky login for the web client (#15) against a REAL AT Protocol stack (in-memory PLC +
// SQLite PDS, test/harness/atproto.ts): the server is the OAuth client; a user approves at the
// real PDS (its sign-in and consent API, as a browser would call it), the callback gives the
// browser an HttpOnly session cookie, and the page trades it for single-use IRC login tokens that
// log in with SASL ATPROTO-CHALLENGE method web-token. Then every refusal.
// The browser version of the same flow is in test/browser/web-login.test.ts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { approveAtPds, startAtprotoStack, type AtprotoStack, type StackAccount } from '../harness/atproto.js';
import { rawAnswer, rawStartAtproto } from '../harness/sasl-helpers.js';
import { freeTcpPort } from '../harness/federation.js';

interface HttpAnswer { status: number; body: Record<string, unknown>; cookies: Map<string, string>; setCookie: string[]; location: string | null }

/** a browser's request to the server: Origin and cookies as the page would send them */
async function call(base: string, method: 'GET' | 'POST', path: string, opts: { body?: unknown; cookies?: Map<string, string>; origin?: string | null } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (opts.origin !== null) headers.origin = opts.origin ?? base;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.cookies?.size) headers.cookie = [...opts.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(`${base}${path}`, { method, headers, redirect: 'manual', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const setCookie = res.headers.getSetCookie();
  const cookies = new Map(opts.cookies);
  for (const c of setCookie) {
    const [kv = ''] = c.split(';');
    const i = kv.indexOf('=');
    const value = kv.slice(i + 1);
    if (value === '' || /Max-Age=0/.test(c)) cookies.delete(kv.slice(0, i)); else cookies.set(kv.slice(0, i), value);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try { body = text ? JSON.parse(text) as Record<string, unknown> : {}; } catch { body = { text }; }
  return { status: res.status, body, cookies, setCookie, location: res.headers.get('location') };
}

/** the callback URL the PDS sends the browser to after consent (its redirect page, resolved) */
function callbackPath(consentUrl: string): string {
  const u = new URL(consentUrl);
  const redirect = new URL(u.searchParams.get('redirect_uri')!);
  const q = new URLSearchParams();
  for (const k of ['iss', 'state', 'code']) if (u.searchParams.has(k)) q.set(k, u.searchParams.get(k)!);
  return `${redirect.pathname}?${q.toString()}`;
}

/** SASL ATPROTO-CHALLENGE web-token on a raw client; returns the SASL result line */
async function ircLogin(srv: TestServer, nick: string, did: string, token: string): Promise<{ result: string; done?: string }> {
  const c = await srv.connect();
  try {
    await rawStartAtproto(c, nick);
    rawAnswer(c, { did, method: 'web-token', signature: token });
    const result = await c.expect(/ 90[0234] /, 10_000);
    return / 900 /.test(result) ? { result, done: await c.expect(/ 90[34] /) } : { result };
  } finally {
    c.destroy();
  }
}

describe('Bluesky login for the web client, with a real PLC + PDS', () => {
  let stack: AtprotoStack;
  let srv: TestServer;
  let base: string;
  let alice: StackAccount;

  before(async () => {
    stack = await startAtprotoStack({ accounts: ['alice', 'bob'] });
    alice = stack.account('alice');
    const port = await freeTcpPort();
    srv = await bootServer({
      'plc-url': stack.plcUrl, 'ssrf-allow-loopback': 'true', 'handle-resolver-url': stack.pdsUrl, 'web-addr': `127.0.0.1:${port}`,
    }, undefined, undefined, { captureLogs: true });
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await srv?.stop();
    await stack?.stop();
  });

  /** the whole browser side up to the session cookie */
  async function logInWithBluesky(account: StackAccount): Promise<Map<string, string>> {
    const start = await call(base, 'POST', '/auth/login', { body: { handle: `@${account.handle}` } });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const url = new URL(String(start.body.url));
    assert.equal(url.origin, stack.pdsUrl, 'the user is sent to their own PDS');
    assert.ok(start.cookies.has('freeq_oauth'), 'the login is tied to this browser');
    assert.match(start.setCookie.join('\n'), /freeq_oauth=[^;]+; Path=\/auth; HttpOnly; SameSite=Lax; Max-Age=600/);
    const consent = await approveAtPds(url.toString(), account);
    const back = await call(base, 'GET', callbackPath(consent), { cookies: start.cookies, origin: null });
    assert.equal(back.status, 303);
    assert.equal(back.location, '/#login=ok');
    assert.match(back.setCookie.join('\n'), /freeq_session=[A-Za-z0-9_-]{43}; Path=\/auth; HttpOnly; SameSite=Strict; Max-Age=604800/);
    assert.ok(!back.cookies.has('freeq_oauth'), 'the login cookie is cleared');
    return back.cookies;
  }

  test('log in at the PDS, get a login token for the session cookie, and log IRC in with it (once)', async () => {
    const cookies = await logInWithBluesky(alice);
    const t = await call(base, 'POST', '/auth/token', { cookies });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(t.body.did, alice.did);
    assert.equal(t.body.handle, 'alice.test');
    assert.equal(t.body.nick, 'alice');
    assert.match(String(t.body.token), /^[A-Za-z0-9_-]{43}$/);
    const ok = await ircLogin(srv, 'alice', alice.did, String(t.body.token));
    assert.match(ok.result, new RegExp(` 900 alice \\S+ ${alice.did} :You are now logged in as alice.test`));
    assert.match(ok.done ?? '', / 903 alice :SASL authentication successful/);
    // single use: the same token again is refused
    const again = await ircLogin(srv, 'alice2', alice.did, String(t.body.token));
    assert.match(again.result, / 904 /);
    // every connection asks for a fresh one; the session cookie stays good
    const t2 = await call(base, 'POST', '/auth/token', { cookies });
    assert.equal(t2.status, 200);
    assert.notEqual(t2.body.token, t.body.token);
    // another DID cannot spend alice's token
    const bob = stack.account('bob');
    assert.match((await ircLogin(srv, 'bob', bob.did, String(t2.body.token))).result, / 904 /);
    // nothing secret in the log: no token, no cookie
    const logged = JSON.stringify(srv.logs);
    for (const secret of [String(t.body.token), String(t2.body.token), cookies.get('freeq_session')!]) assert.ok(!logged.includes(secret));
    assert.ok(srv.logs.some((r) => r.msg === 'web login' && r.did === alice.did), 'the login is logged with its DID');
  });

  test('a callback cannot be replayed, nor finished in another browser (login CSRF)', async () => {
    const start = await call(base, 'POST', '/auth/login', { body: { handle: 'alice.test' } });
    const consent = await approveAtPds(String(start.body.url), alice);
    // the attacker's browser (without the login cookie) lands on the callback: no session for it
    const csrf = await call(base, 'GET', callbackPath(consent), { origin: null });
    assert.equal(csrf.status, 303);
    assert.equal(csrf.location, '/#login-error=WRONG_BROWSER');
    assert.ok(!csrf.cookies.has('freeq_session'));
    // and the code is used up: the right browser coming later gets EXPIRED, not a session
    const late = await call(base, 'GET', callbackPath(consent), { cookies: start.cookies, origin: null });
    assert.equal(late.location, '/#login-error=EXPIRED');
    assert.ok(!late.cookies.has('freeq_session'));
    // a made-up callback
    const bogus = await call(base, 'GET', '/auth/callback?state=nope&code=nope&iss=x', { cookies: start.cookies, origin: null });
    assert.equal(bogus.location, '/#login-error=EXPIRED');
    // the user said no at the PDS
    const denied = await call(base, 'GET', '/auth/callback?error=access_denied&state=x', { origin: null });
    assert.equal(denied.location, '/#login-error=DENIED');
  });

  test('refusals: unknown handle, bad input, cross-site requests, no session, the wrong address; logout ends the session', async () => {
    const unknown = await call(base, 'POST', '/auth/login', { body: { handle: 'nobody.test' } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'HANDLE_NOT_FOUND');
    assert.ok(!unknown.cookies.has('freeq_oauth'));
    for (const body of [{}, { handle: 5 }, { handle: '' }, { handle: 'not a handle' }, { handle: 'x'.repeat(3000) }]) {
      const r = await call(base, 'POST', '/auth/login', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'HANDLE_NOT_FOUND');
    }
    // another site's page cannot start a login, get a token or log the user out
    for (const path of ['/auth/login', '/auth/token', '/auth/logout']) {
      assert.equal((await call(base, 'POST', path, { body: { handle: 'alice.test' }, origin: 'https://evil.example' })).status, 403, path);
      assert.equal((await call(base, 'POST', path, { body: { handle: 'alice.test' }, origin: null })).status, 403, path);
    }
    assert.equal((await call(base, 'POST', '/auth/token')).status, 401);
    assert.equal((await call(base, 'POST', '/auth/token', { cookies: new Map([['freeq_session', 'x'.repeat(43)]]) })).status, 401);
    // the loopback client's redirect goes to 127.0.0.1: a page opened as localhost is told where to go
    const port = new URL(base).port;
    const wrong = await call(`http://localhost:${port}`, 'POST', '/auth/login', { body: { handle: 'alice.test' } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'WRONG_ADDRESS');
    assert.equal(wrong.body.url, `${base}/`);
    // logout
    const cookies = await logInWithBluesky(alice);
    assert.equal((await call(base, 'POST', '/auth/token', { cookies })).status, 200);
    const out = await call(base, 'POST', '/auth/logout', { cookies });
    assert.equal(out.status, 204);
    assert.equal((await call(base, 'POST', '/auth/token', { cookies })).status, 401, 'the old cookie is dead');
    // a loopback client has no metadata document
    assert.equal((await call(base, 'GET', '/oauth/client-metadata.json')).status, 404);
  });

  test('without ssrf-allow-loopback the PDS on 127.0.0.1 is refused, and the user is told so', async () => {
    const port = await freeTcpPort();
    const guarded = await bootServer({ 'plc-url': stack.plcUrl, 'handle-resolver-url': stack.pdsUrl, 'web-addr': `127.0.0.1:${port}` });
    try {
      const r = await call(`http://127.0.0.1:${port}`, 'POST', '/auth/login', { body: { handle: 'alice.test' } });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'ADDRESS_REFUSED');
    } finally {
      await guarded.stop();
    }
  });

  test('with public-url: the client metadata document a PDS fetches', async () => {
    const pub = await bootServer({ 'public-url': 'https://chat.example.com', 'web-session-ttl': '1d' });
    try {
      const r = await call(`http://127.0.0.1:${pub.webPort}`, 'GET', '/oauth/client-metadata.json');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, {
        client_id: 'https://chat.example.com/oauth/client-metadata.json', client_name: 'freeq', client_uri: 'https://chat.example.com',
        redirect_uris: ['https://chat.example.com/auth/callback'], scope: 'atproto', response_types: ['code'], grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none', application_type: 'web', dpop_bound_access_tokens: true,
      });
    } finally {
      await pub.stop();
    }
  });
});
