import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { b64url, readChallenge, responseLines, startSasl } from './sasl-helpers.js';

// The PDS-backed paths of SASL (pds-session, pds-oauth with the DPoP nonce round trip, PLAIN)
// against a small stand-in for a PDS + did:web host on localhost. It checks *our* side: which
// requests are made (or not), what the client sees, how retries and failures are counted. The
// end-to-end runs against a real @atproto/pds live in the identity tests.

const OTHER_DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';

interface Stub {
  port: number;
  did: string;
  pds: string;
  requests: Array<{ path: string; auth?: string; dpop?: string; body?: string }>;
  /** DPoP proofs containing this string are accepted; others get use_dpop_nonce */
  acceptNonce: string;
  close(): Promise<void>;
}

async function startStub(): Promise<Stub> {
  const stub = { requests: [] as Stub['requests'], acceptNonce: 'nonce-1' } as Stub;
  let nonceCounter = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      stub.requests.push({ path, auth: req.headers.authorization, dpop: req.headers.dpop as string | undefined, body });
      const json = (status: number, v: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(v));
      };
      switch (path) {
        case '/.well-known/did.json':
          return json(200, {
            '@context': ['https://www.w3.org/ns/did/v1'],
            id: stub.did,
            alsoKnownAs: ['at://alice.test'],
            verificationMethod: [],
            service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: stub.pds }],
          });
        case '/xrpc/com.atproto.identity.resolveHandle':
          return json(200, { did: stub.did });
        case '/xrpc/com.atproto.server.getSession': {
          const auth = req.headers.authorization ?? '';
          if (auth === 'Bearer good-token') return json(200, { did: stub.did, handle: 'alice.test' });
          if (auth === 'Bearer hang') return; // never answers
          if (auth === 'Bearer other-token') return json(200, { did: OTHER_DID, handle: 'mallory.test' });
          if (auth === 'DPoP oauth-token') {
            if (String(req.headers.dpop ?? '').includes(stub.acceptNonce)) return json(200, { did: stub.did, handle: 'alice.test' });
            return json(401, { error: 'use_dpop_nonce', message: 'Authorization server requires nonce in DPoP proof' }, { 'dpop-nonce': `nonce-${++nonceCounter}` });
          }
          return json(401, { error: 'InvalidToken', message: 'Bad token' });
        }
        case '/xrpc/com.atproto.server.createSession': {
          const b = JSON.parse(body) as { identifier: string; password: string };
          if (b.identifier === stub.did && b.password === 'good-app-pass') return json(200, { did: stub.did, handle: 'alice.test', accessJwt: 'access-1', refreshJwt: 'refresh-1' });
          return json(401, { error: 'AuthenticationRequired', message: 'Invalid identifier or password' });
        }
        case '/xrpc/com.atproto.server.deleteSession':
          res.writeHead(200);
          return res.end();
        default:
          return json(404, { error: 'NotFound' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, r));
  stub.port = (server.address() as AddressInfo).port;
  stub.did = `did:web:localhost%3A${stub.port}`;
  stub.pds = `http://localhost:${stub.port}`;
  stub.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  return stub;
}

describe('SASL against a PDS (stub)', () => {
  let srv: TestServer;
  let stub: Stub;
  before(async () => {
    stub = await startStub();
    srv = await bootServer({ 'ssrf-allow-loopback': true, 'handle-resolver-url': stub.pds, 'did-cache-ttl': '1h' });
  });
  after(async () => { await srv.stop(); await stub.close(); });
  beforeEach(() => { stub.requests.length = 0; stub.acceptNonce = 'nonce-1'; });

  const sessionCalls = () => stub.requests.filter((r) => r.path === '/xrpc/com.atproto.server.getSession');

  async function challenge(c: RawClient): Promise<{ nonce: string }> {
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    return JSON.parse((await readChallenge(c)).toString('utf8')) as { nonce: string };
  }
  const respond = (c: RawClient, v: Record<string, unknown>) => c.send(...responseLines(b64url(JSON.stringify(v))));

  test('pds-session: getSession on the PDS of the DID document; 900 shows the handle', async () => {
    const c = await srv.connect();
    await startSasl(c, 'alice');
    const ch = await challenge(c);
    respond(c, { did: stub.did, method: 'pds-session', signature: 'good-token', challenge_nonce: ch.nonce, pds_url: `${stub.pds}/` });
    assert.match(await c.expect('900'), new RegExp(`^:irc\\.test 900 alice alice!\\S+@\\S+ ${stub.did} :You are now logged in as alice\\.test$`));
    await c.expect('903');
    assert.deepEqual(sessionCalls().map((r) => r.auth), ['Bearer good-token']);
  });

  test('pds-session: a pds_url other than the document\'s fails before any request', async () => {
    const c = await srv.connect();
    await startSasl(c, 'ssrf');
    const ch = await challenge(c);
    respond(c, { did: stub.did, method: 'pds-session', signature: 'good-token', challenge_nonce: ch.nonce, pds_url: 'http://127.0.0.1:1' });
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 ssrf :SASL authentication failed');
    assert.equal(sessionCalls().length, 0);
  });

  test('pds-session: wrong challenge_nonce → 904 without a request; getSession for another DID → 904', async () => {
    const c = await srv.connect();
    await startSasl(c, 'mixup');
    await challenge(c);
    respond(c, { did: stub.did, method: 'pds-session', signature: 'good-token', challenge_nonce: 'not-the-nonce' });
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 mixup :SASL authentication failed');
    assert.equal(sessionCalls().length, 0);
    const ch = await challenge(c);
    respond(c, { did: stub.did, method: 'pds-session', signature: 'other-token', challenge_nonce: ch.nonce });
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 mixup :SASL authentication failed');
    assert.equal(sessionCalls().length, 1);
  });

  test('pds-oauth: DPOP_NONCE notice and a fresh challenge; the answer with the nonce logs in', async () => {
    const c = await srv.connect();
    await startSasl(c, 'oauth');
    const ch1 = await challenge(c);
    respond(c, { did: stub.did, method: 'pds-oauth', signature: 'oauth-token', dpop_proof: 'proof-without-nonce', challenge_nonce: ch1.nonce });
    assert.equal(await c.expect('NOTICE'), ':irc.test NOTICE oauth :DPOP_NONCE nonce-1');
    const ch2 = JSON.parse((await readChallenge(c)).toString('utf8')) as { nonce: string };
    assert.notEqual(ch2.nonce, ch1.nonce, 'a fresh challenge');
    // the old challenge is gone: answering with its nonce fails… so answer the new one
    respond(c, { did: stub.did, method: 'pds-oauth', signature: 'oauth-token', dpop_proof: 'proof-with-nonce-1', challenge_nonce: ch2.nonce });
    await c.expect('903');
    assert.deepEqual(sessionCalls().map((r) => r.dpop), ['proof-without-nonce', 'proof-with-nonce-1'], 'each proof used once');
  });

  test('pds-oauth: three nonce round trips at most, the fourth is one failure (904)', async () => {
    stub.acceptNonce = 'never';
    const c = await srv.connect();
    await startSasl(c, 'noncey');
    let ch = await challenge(c);
    for (let i = 1; i <= 3; i++) {
      respond(c, { did: stub.did, method: 'pds-oauth', signature: 'oauth-token', dpop_proof: `proof-${i}`, challenge_nonce: ch.nonce });
      assert.match(await c.expect(/ (NOTICE|90\d) /), /NOTICE noncey :DPOP_NONCE nonce-\d+$/);
      ch = JSON.parse((await readChallenge(c)).toString('utf8')) as { nonce: string };
    }
    respond(c, { did: stub.did, method: 'pds-oauth', signature: 'oauth-token', dpop_proof: 'proof-4', challenge_nonce: ch.nonce });
    assert.equal(await c.expect(/ (NOTICE|90\d) /), ':irc.test 904 noncey :SASL authentication failed');
    await c.expectNone('AUTHENTICATE', 150);
    assert.equal(sessionCalls().length, 4);
    // one failure, not four: two more are needed to be disconnected
    for (let i = 0; i < 2; i++) {
      await challenge(c);
      c.send('AUTHENTICATE QUFBQQ');
      await c.expect('904');
    }
    assert.equal(await c.expect('ERROR'), 'ERROR :Too many SASL failures');
  });

  test('pds-oauth without dpop_proof → 904 without a request', async () => {
    const c = await srv.connect();
    await startSasl(c, 'noproof');
    const ch = await challenge(c);
    respond(c, { did: stub.did, method: 'pds-oauth', signature: 'oauth-token', challenge_nonce: ch.nonce });
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 noproof :SASL authentication failed');
    assert.equal(sessionCalls().length, 0);
  });

  test('PLAIN with a handle and an app password: createSession, then deleteSession at once', async () => {
    const c = await srv.connect();
    await startSasl(c, 'plain');
    c.send('AUTHENTICATE PLAIN');
    await c.expect('AUTHENTICATE');
    c.send(`AUTHENTICATE ${Buffer.from('\0Alice.Test\0good-app-pass').toString('base64')}`);
    assert.match(await c.expect('900'), new RegExp(` ${stub.did} :You are now logged in as alice\\.test$`));
    await c.expect('903');
    const create = stub.requests.find((r) => r.path === '/xrpc/com.atproto.server.createSession');
    assert.deepEqual(JSON.parse(create!.body!), { identifier: stub.did, password: 'good-app-pass' });
    // best effort and not awaited by the login: give it a moment
    for (let i = 0; i < 50 && !stub.requests.some((r) => r.path === '/xrpc/com.atproto.server.deleteSession'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(stub.requests.find((r) => r.path === '/xrpc/com.atproto.server.deleteSession')?.auth, 'Bearer refresh-1');
  });

  test('PLAIN with a DID and a wrong password → 904', async () => {
    const c = await srv.connect();
    await startSasl(c, 'badpass');
    c.send('AUTHENTICATE PLAIN');
    await c.expect('AUTHENTICATE');
    c.send(`AUTHENTICATE ${Buffer.from(`${stub.did}\0${stub.did}\0wrong`).toString('base64')}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 badpass :SASL authentication failed');
    assert.equal(stub.requests.filter((r) => r.path === '/xrpc/com.atproto.server.createSession').length, 1);
  });

  test('PLAIN: an authzid naming someone else → 904 without any request', async () => {
    const c = await srv.connect();
    await startSasl(c, 'authz');
    c.send('AUTHENTICATE PLAIN');
    await c.expect('AUTHENTICATE');
    c.send(`AUTHENTICATE ${Buffer.from(`${OTHER_DID}\0${stub.did}\0good-app-pass`).toString('base64')}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 authz :SASL authentication failed');
    assert.equal(stub.requests.length, 0);
  });
});

describe('SASL verification time is bounded by the registration timeout', () => {
  let srv: TestServer;
  let stub: Stub;
  before(async () => {
    stub = await startStub();
    srv = await bootServer({ 'ssrf-allow-loopback': true, 'registration-timeout': '1s', 'http-timeout': '20s', 'ping-interval': '30s', 'ping-timeout': '60s' });
  });
  after(async () => { await srv.stop(); await stub.close(); });

  test('before registration: a PDS that never answers does not keep the client past the timeout', async () => {
    const c = await srv.connect();
    await startSasl(c, 'hanging');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = JSON.parse((await readChallenge(c)).toString('utf8')) as { nonce: string };
    const t0 = Date.now();
    c.send(...responseLines(b64url(JSON.stringify({ did: stub.did, method: 'pds-session', signature: 'hang', challenge_nonce: ch.nonce }))));
    assert.equal(await c.expect('ERROR', 4000), 'ERROR :Registration timed out');
    await c.waitClosed();
    assert.ok(Date.now() - t0 < 2500);
  });

  test('after registration: the verification gives up after the registration timeout with 904', async () => {
    const c = await srv.client('latehang', { caps: ['sasl'] });
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = JSON.parse((await readChallenge(c)).toString('utf8')) as { nonce: string };
    const t0 = Date.now();
    c.send(...responseLines(b64url(JSON.stringify({ did: stub.did, method: 'pds-session', signature: 'hang', challenge_nonce: ch.nonce }))));
    assert.equal(await c.expect(/ 90\d /, 4000), ':irc.test 904 latehang :SASL authentication failed');
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 2500, `took ${took} ms`);
    await c.sync(); // input resumes
  });
});
