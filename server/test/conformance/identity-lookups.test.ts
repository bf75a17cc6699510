// #12 finding 6: identity lookups cannot be starved for everyone. Logins whose did:web host never
// answers (TCP listeners on 127.0.0.1 that accept and stay silent) come from several loopback
// addresses (127.0.x.y via localAddress); meanwhile did:plc logins — against a small PLC and PDS
// served by the test — still succeed, and the quotas (per connection, per IP, per host, the
// reserved share, the host-down cache) refuse with a quick 904.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { didWebDocument, startDidWebServer, startSentinel, type DidWebServer } from '../harness/atproto.js';
import { b64url, rawAnswer, rawReadChallenge, rawStartAtproto } from '../harness/sasl-helpers.js';
import { ed25519Signer, generateSecretKey, multikeyFromPublicKey, secp256k1Signer, type Signer } from '../../../sdk/src/index.js';

type Sentinel = Awaited<ReturnType<typeof startSentinel>>;

/** A JSON server on 127.0.0.1: `routes` maps a path to a body (404 otherwise). */
async function jsonServer(): Promise<{ url: string; routes: Map<string, (auth: string | undefined) => unknown>; hits: string[]; close(): Promise<void> }> {
  const routes = new Map<string, (auth: string | undefined) => unknown>();
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.push(path);
    const body = routes.get(path)?.(req.headers.authorization);
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'NotFound' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://localhost:${(server.address() as { port: number }).port}`, routes, hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const plcDid = (): string => `did:plc:${[...randomBytes(24)].map((b) => 'abcdefghijklmnopqrstuvwxyz234567'[b & 31]).join('')}`;

/** A did:web on a host that never answers. */
const deadDid = (s: Sentinel, name: string): string => `did:web:localhost%3A${s.port}:u:${name}`;

let nickCounter = 0;

/** CAP/NICK/USER, ATPROTO-CHALLENGE, answer with a `crypto` signature; returns without waiting for the result. */
async function startCryptoLogin(srv: TestServer, did: string, key: Signer, localAddress?: string): Promise<RawClient> {
  const c = await srv.connect(localAddress ? { localAddress } : {});
  c.nick = `u${++nickCounter}`;
  const ch = await rawStartAtproto(c, c.nick);
  rawAnswer(c, { did, method: 'crypto', signature: b64url(key(ch.bytes)), challenge_nonce: ch.nonce });
  return c;
}

const failed = (c: RawClient): string => `:irc.test 904 ${c.nick} :SASL authentication failed`;

/** The next SASL result line (900 or 904) within `ms`. */
const result = (c: RawClient, ms = 1500): Promise<string> => c.expect(/ 90[04] /, ms);

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('identity lookups cannot be starved for everyone (#12)', () => {
  let plc: Awaited<ReturnType<typeof jsonServer>>;
  let pds: Awaited<ReturnType<typeof jsonServer>>;
  let web: DidWebServer;
  const keyOf = new Map<string, Signer>();

  /** a did:plc on the test PLC with an `irc` key (and optionally a PDS and a handle) */
  function newPlcIdentity(opts: { handle?: string; token?: string } = {}): { did: string; key: Signer } {
    const did = plcDid();
    const key = secp256k1Signer(generateSecretKey('secp256k1'));
    const doc: Record<string, unknown> = {
      id: did,
      verificationMethod: [{ id: `${did}#irc`, type: 'Multikey', controller: did, publicKeyMultibase: multikeyFromPublicKey('secp256k1', key.publicKey) }],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: pds.url }],
    };
    if (opts.handle) doc.alsoKnownAs = [`at://${opts.handle}`];
    plc.routes.set(`/${did}`, () => doc);
    if (opts.token) tokens.set(`Bearer ${opts.token}`, did);
    keyOf.set(did, key);
    return { did, key };
  }
  const tokens = new Map<string, string>();

  before(async () => {
    plc = await jsonServer();
    pds = await jsonServer();
    pds.routes.set('/xrpc/com.atproto.server.getSession', (auth) => (auth && tokens.has(auth) ? { did: tokens.get(auth) } : undefined));
    web = await startDidWebServer();
  });
  after(async () => {
    await plc.close();
    await pds.close();
    await web.close();
  });

  test('70 did:web logins against a silent host (LOCKDOWN sasl-only, defaults): a did:plc login from elsewhere still succeeds', async () => {
    const dead = await startSentinel();
    const srv = await bootServer({ 'plc-url': plc.url, 'ssrf-allow-loopback': true, 'http-timeout': '5s', lockdown: 'sasl-only' });
    try {
      const flood: RawClient[] = [];
      for (let i = 0; i < 70; i++) {
        const key = ed25519Signer(generateSecretKey('ed25519'));
        flood.push(await startCryptoLogin(srv, deadDid(dead, `f${i}`), key, `127.0.2.${2 + (i >> 2)}`));
      }
      const { did, key } = newPlcIdentity();
      const c = await startCryptoLogin(srv, did, key);
      assert.match(await result(c, 3000), new RegExp(`^:irc\\.test 900 ${c.nick} ${c.nick}!${c.nick}@\\S+ ${did} :You are now logged in as ${did}$`));
      assert.equal(await c.expect(/ 90\d /), `:irc.test 903 ${c.nick} :SASL authentication successful`);
      // per host at most identity-lookups-per-host (8) reached the silent host; the other 62 were refused at once
      const refused = () => flood.filter((f) => f.received.includes(failed(f))).length;
      await until(() => refused() === 62, 3000);
      assert.equal(refused(), 62);
      assert.equal(dead.connections, 8);
      // every refusal is counted (loopback web-addr: /metrics needs no key)
      const metrics = await (await fetch(`http://127.0.0.1:${srv.webPort}/metrics`)).text();
      assert.ok(metrics.split('\n').includes('freeq_limit_hits_total{kind="identity-lookup-host"} 62'), metrics);
      c.destroy();
    } finally {
      await srv.stop();
      await dead.close();
    }
  });

  describe('layered quotas (max 10, reserved 4, per host 3, per IP 2)', () => {
    let srv: TestServer;
    let deadA: Sentinel;
    let deadB: Sentinel;
    let slowResolver: Sentinel;
    const hanging: RawClient[] = [];
    /** a did:web on the live test host, logged in once before the flood (its document is cached) */
    let regular: { did: string; key: Signer };

    before(async () => {
      deadA = await startSentinel();
      deadB = await startSentinel();
      slowResolver = await startSentinel();
      srv = await bootServer({
        'plc-url': plc.url, 'ssrf-allow-loopback': true, 'http-timeout': '4s',
        'handle-resolver-url': `http://localhost:${slowResolver.port}`,
        'identity-lookups-max': 10, 'identity-lookups-reserved': 4, 'identity-lookups-per-host': 3, 'identity-lookups-per-ip': 2,
      });
      const key = ed25519Signer(generateSecretKey('ed25519'));
      const did = web.did('u/regular');
      web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', key.publicKey), { pdsUrl: pds.url }));
      tokens.set('Bearer regular-token', did);
      regular = { did, key };
      const c = await startCryptoLogin(srv, did, key, '127.0.3.1');
      assert.match(await result(c), / 900 /);
      c.destroy();
    });
    after(async () => {
      await srv.stop();
      for (const s of [deadA, deadB, slowResolver]) await s.close();
    });

    function liveDidWeb(name: string): { did: string; key: Signer } {
      const key = ed25519Signer(generateSecretKey('ed25519'));
      const did = web.did(`u/${name}`);
      web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', key.publicKey)));
      return { did, key };
    }
    const webHits = (did: string): number => web.requests.filter((p) => p === `/${did.split(':').slice(3).join('/')}/did.json`).length;

    test('per IP: a third login from an address with two lookups in flight gets 904 at once, and nothing is fetched for it', async () => {
      for (let i = 0; i < 2; i++) hanging.push(await startCryptoLogin(srv, deadDid(deadA, `a${i}`), ed25519Signer(generateSecretKey('ed25519')), '127.0.4.1'));
      await until(() => deadA.connections === 2, 2000);
      assert.equal(deadA.connections, 2);
      const live = liveDidWeb('third');
      const c = await startCryptoLogin(srv, live.did, live.key, '127.0.4.1');
      assert.equal(await result(c), failed(c));
      assert.equal(webHits(live.did), 0);
      // another address is not affected
      const other = await startCryptoLogin(srv, live.did, live.key, '127.0.4.2');
      assert.match(await result(other), / 900 /);
      assert.equal(webHits(live.did), 1);
    });

    test('per host: a fourth lookup to the silent host gets 904 at once; the host saw three', async () => {
      hanging.push(await startCryptoLogin(srv, deadDid(deadA, 'a2'), ed25519Signer(generateSecretKey('ed25519')), '127.0.4.3'));
      await until(() => deadA.connections === 3, 2000);
      const c = await startCryptoLogin(srv, deadDid(deadA, 'a3'), ed25519Signer(generateSecretKey('ed25519')), '127.0.4.4');
      assert.equal(await result(c), failed(c));
      assert.equal(deadA.connections, 3);
    });

    test('the reserved share: unknown did:web logins and a did:web\'s PDS calls are refused; did:plc logins (crypto and PDS) and cached identities (crypto) still log in', async () => {
      for (const [i, ip] of ['127.0.4.5', '127.0.4.5', '127.0.4.6'].entries()) {
        hanging.push(await startCryptoLogin(srv, deadDid(deadB, `b${i}`), ed25519Signer(generateSecretKey('ed25519')), ip));
      }
      await until(() => deadB.connections === 3, 2000);
      assert.equal(deadB.connections, 3, '6 of 10 slots in flight: the unreserved share is full');

      const live = liveDidWeb('unknown');
      const refused = await startCryptoLogin(srv, live.did, live.key, '127.0.4.7');
      assert.equal(await result(refused), failed(refused));
      assert.equal(webHits(live.did), 0);

      // did:plc, crypto: the PLC directory is a configured service
      const p1 = newPlcIdentity();
      const c1 = await startCryptoLogin(srv, p1.did, p1.key, '127.0.4.8');
      assert.match(await result(c1), new RegExp(` 900 ${c1.nick} \\S+ ${p1.did} :You are now logged in as ${p1.did}$`));
      // did:plc, pds-session: its PDS is the one the PLC directory names, so the call may use the
      // reserve (the issue: "a reserved share for DIDs already cached or on the PLC directory")
      const p2 = newPlcIdentity({ token: 'plc-token' });
      const c2 = await srv.connect({ localAddress: '127.0.4.9' });
      c2.nick = 'plcsess';
      const ch2 = await rawStartAtproto(c2, c2.nick);
      rawAnswer(c2, { did: p2.did, method: 'pds-session', signature: 'plc-token', challenge_nonce: ch2.nonce });
      assert.match(await result(c2), new RegExp(` 900 plcsess \\S+ ${p2.did} `));
      // a did:web's PDS is whatever host its document names, and anyone can write a did:web
      // document for free: a cached one's PDS call does not take the reserve
      const pdsHits = pds.hits.length;
      const c3 = await srv.connect({ localAddress: '127.0.4.10' });
      c3.nick = 'regular';
      const ch3 = await rawStartAtproto(c3, c3.nick);
      rawAnswer(c3, { did: regular.did, method: 'pds-session', signature: 'regular-token', challenge_nonce: ch3.nonce });
      assert.equal(await result(c3), failed(c3));
      assert.equal(pds.hits.length, pdsHits, 'no PDS call from the reserve');
      // the cached did:web still logs in with crypto (its document is served from the cache)
      const c4 = await startCryptoLogin(srv, regular.did, regular.key, '127.0.4.13');
      assert.match(await result(c4), new RegExp(` 900 ${c4.nick} \\S+ ${regular.did.replace(/[%.]/g, '\\$&')} `));
    });

    test('a host that timed out is not asked again for a while: its next login gets 904 at once', async () => {
      for (const h of hanging.slice(0, 3)) assert.equal(await result(h, 6000), failed(h));
      const c = await startCryptoLogin(srv, deadDid(deadA, 'after'), ed25519Signer(generateSecretKey('ed25519')), '127.0.4.11');
      assert.equal(await result(c), failed(c));
      assert.equal(deadA.connections, 3, 'no new connection to the host that timed out');
    });

    test('a handle check that never gets an answer does not hold the login beyond http-timeout: the DID is shown', async () => {
      const p = newPlcIdentity({ handle: 'slow.test' });
      const before = slowResolver.connections;
      const c = await startCryptoLogin(srv, p.did, p.key, '127.0.4.12');
      assert.match(await result(c, 6000), new RegExp(` 900 ${c.nick} \\S+ ${p.did} :You are now logged in as ${p.did}$`));
      assert.equal(slowResolver.connections, before + 1, 'the handle was looked up');
    });
  });

  test('per connection: a login that outlived its deadline still holds the connection\'s lookup; the next attempt gets 904 at once', async () => {
    const dead = await startSentinel();
    // after registration a verification is bounded by registration-timeout (1 s), the lookup by http-timeout (2.5 s)
    const srv = await bootServer({ 'plc-url': plc.url, 'ssrf-allow-loopback': true, 'http-timeout': '2500ms', 'registration-timeout': '1s' });
    try {
      const c = await srv.connect();
      c.send('CAP LS 302', 'CAP REQ :sasl', 'NICK solo', 'USER solo 0 * :solo', 'CAP END');
      await c.expect(/ 001 /);
      c.nick = 'solo';
      const attempt = async (did: string, key: Signer): Promise<string> => {
        c.send('AUTHENTICATE ATPROTO-CHALLENGE');
        const ch = await rawReadChallenge(c);
        rawAnswer(c, { did, method: 'crypto', signature: b64url(key(ch.bytes)), challenge_nonce: ch.nonce });
        return result(c, 2000);
      };
      assert.equal(await attempt(deadDid(dead, 'x'), ed25519Signer(generateSecretKey('ed25519'))), failed(c), 'verification timed out');
      const p = newPlcIdentity();
      assert.equal(await attempt(p.did, p.key), failed(c), 'the first lookup is still in flight');
      assert.equal(plc.hits.filter((h) => h === `/${p.did}`).length, 0, 'nothing fetched');
      // the first lookup times out 2.5 s after it started: the server closes its connection
      await until(() => dead.open === 0, 5000);
      assert.equal(dead.open, 0, 'the first lookup ended');
      // the sentinel sees the close before the server has handled its own side of it (a few ms;
      // more on a loaded CI machine): give it that before the next attempt
      await new Promise((r) => setTimeout(r, 250));
      assert.match(await attempt(p.did, p.key), new RegExp(` 900 solo \\S+ ${p.did} `));
      c.destroy();
    } finally {
      await srv.stop();
      await dead.close();
    }
  });

  test('service-auth: a token whose iss is not the claimed DID gets 904 without any lookup for that issuer', async () => {
    const dead = await startSentinel();
    const srv = await bootServer({ 'plc-url': plc.url, 'ssrf-allow-loopback': true, 'http-timeout': '2s' });
    try {
      const claimed = newPlcIdentity();
      const now = Math.floor(Date.now() / 1000);
      // well-formed and for this server, signed by nobody: only the issuer differs from the claim
      const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      const payload = { iss: deadDid(dead, 'issuer'), aud: 'did:web:irc.test', iat: now, exp: now + 60, jti: randomBytes(8).toString('hex') };
      const jwt = `${part({ typ: 'JWT', alg: 'ES256K' })}.${part(payload)}.${Buffer.alloc(64, 1).toString('base64url')}`;
      const c = await srv.connect();
      c.nick = 'svcauth';
      const ch = await rawStartAtproto(c, c.nick);
      rawAnswer(c, { did: claimed.did, method: 'service-auth', signature: jwt, challenge_nonce: ch.nonce });
      assert.equal(await result(c), failed(c));
      assert.equal(dead.connections, 0, 'the issuer\'s host was never contacted');
      assert.equal(plc.hits.filter((h) => h === `/${claimed.did}`).length, 0, 'nor the claimed DID resolved');
      c.destroy();
    } finally {
      await srv.stop();
      await dead.close();
    }
  });

  test('the handle check is display only: one that hangs past the registration timeout still ends in 900 with the DID', async () => {
    const slow = await startSentinel();
    // after registration a verification is bounded by registration-timeout (1 s); the handle
    // check comes after it, bounded by http-timeout (1.5 s) alone
    const srv = await bootServer({
      'plc-url': plc.url, 'ssrf-allow-loopback': true, 'http-timeout': '1500ms', 'registration-timeout': '1s',
      'handle-resolver-url': `http://localhost:${slow.port}`,
    });
    try {
      const c = await srv.connect();
      c.send('CAP LS 302', 'CAP REQ :sasl', 'NICK late', 'USER late 0 * :late', 'CAP END');
      await c.expect(/ 001 /);
      c.nick = 'late';
      const p = newPlcIdentity({ handle: 'hangs.test' });
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      const ch = await rawReadChallenge(c);
      const started = Date.now();
      rawAnswer(c, { did: p.did, method: 'crypto', signature: b64url(p.key(ch.bytes)), challenge_nonce: ch.nonce });
      assert.match(await result(c, 4000), new RegExp(` 900 late \\S+ ${p.did} :You are now logged in as ${p.did}$`));
      assert.ok(Date.now() - started >= 1000, 'the answer waited for the handle check, past the registration timeout');
      assert.equal(slow.connections, 1, 'the handle was looked up');
      c.destroy();
    } finally {
      await srv.stop();
      await slow.close();
    }
  });
});
