// SASL under attack, against a REAL AT Protocol stack (in-memory PLC + SQLite PDS): replays,
// wrong DIDs and keys, malleable and DER signatures, framing abuse, failure limits, PDS URL
// mismatches, SSRF (sentinel listeners prove no connection was made), a PDS that never answers.
// An observer in #watch checks after every test that other clients were not affected.
// One stack per file (~3 s, ~270 MiB).
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import {
  createAppPasswordSession, didWebDocument, getOAuthToken, getServiceAuth, startAtprotoStack, startDidWebServer, startSentinel,
  type AtprotoStack, type DidWebServer,
} from '../harness/atproto.js';
import { b64url, rawAnswer, rawReadChallenge, rawSendPayload, rawStartAtproto, sdkLogin } from '../harness/sasl-helpers.js';
import {
  base64UrlEncode, ed25519Signer, generateSecretKey, multikeyFromPublicKey, secp256k1Signer, type AtprotoChallenge, type AtprotoResponse, type Signer,
} from '../../../sdk/src/index.js';

const SERVER_DID = 'did:web:irc.test';
const FAIL = / 904 \S+ :SASL authentication failed$/;
const OK = / 903 \S+ :SASL authentication successful$/;

const cryptoAnswer = (signer: Signer, ch: AtprotoChallenge, over: Partial<AtprotoResponse> = {}): AtprotoResponse =>
  ({ did: signer.did, method: 'crypto', signature: base64UrlEncode(signer(ch.bytes)), challenge_nonce: ch.nonce, ...over });

describe('SASL adversarial, real PLC + PDS', () => {
  let stack: AtprotoStack;
  let web: DidWebServer;
  let srv: TestServer;
  let strict: TestServer;
  let observer: RawClient;
  let talker: RawClient;
  let seq = 0;
  let nickSeq = 0;
  const nick = (): string => `adv${++nickSeq}`;

  before(async () => {
    stack = await startAtprotoStack({ accounts: ['alice', 'bob'] });
    web = await startDidWebServer();
    // these tests keep dozens of connections from 127.0.0.1 open; the per-IP limit (A1, 20) is
    // tested in admission.test.ts
    const base = { 'plc-url': stack.plcUrl, 'handle-resolver-url': stack.pdsUrl, 'server-name': 'irc.test', 'http-timeout': '1s', 'max-connections-per-ip': 1000 };
    srv = await bootServer({ ...base, 'ssrf-allow-loopback': 'true' });
    strict = await bootServer({ ...base, 'ssrf-allow-loopback': 'false' });
    observer = await srv.client('observer');
    talker = await srv.client('talker');
    observer.send('JOIN #watch');
    talker.send('JOIN #watch');
    await observer.expect(/ JOIN :?#watch/);
    await observer.expect(/talker!\S+ JOIN :?#watch/);
  });
  after(async () => {
    await strict?.stop();
    await srv?.stop();
    await web?.close();
    await stack?.stop();
  });
  // other clients unaffected: the observer still gets channel traffic and answers promptly
  afterEach(async () => {
    const text = `still-here-${++seq}`;
    talker.send(`PRIVMSG #watch :${text}`);
    const t0 = Date.now();
    await observer.expect(new RegExp(`^:talker!\\S+ PRIVMSG #watch :?${text}$`), 2000);
    await observer.sync();
    assert.ok(Date.now() - t0 < 1500, 'observer answered promptly');
    assert.equal(observer.ended, false);
  });

  /** a fresh connection with a challenge in hand */
  async function fresh(s: TestServer = srv): Promise<{ c: RawClient; ch: AtprotoChallenge }> {
    const c = await s.connect();
    const ch = await rawStartAtproto(c, nick());
    return { c, ch };
  }

  describe('replay', () => {
    test('a used crypto response replayed on another connection → 904', async () => {
      const signer = ed25519Signer(generateSecretKey('ed25519'));
      const a = await fresh();
      const answer = cryptoAnswer(signer, a.ch);
      rawAnswer(a.c, answer);
      await a.c.expect(OK);
      const b = await fresh();
      rawAnswer(b.c, answer);
      await b.c.expect(FAIL);
      // the same response again on the first connection: no challenge there any more → 907 (already logged in)
      a.c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      await a.c.expect(/ 907 /);
    });

    test('a second answer to the same challenge (challenges are single-use) → 904', async () => {
      const signer = ed25519Signer(generateSecretKey('ed25519'));
      const { c, ch } = await fresh();
      rawAnswer(c, cryptoAnswer(signer, ch, { signature: b64url(new Uint8Array(64)) }));
      await c.expect(FAIL);
      // the valid answer to the already-consumed challenge is refused
      rawAnswer(c, cryptoAnswer(signer, ch));
      await c.expect(/ 90[48] /);
      await c.expectNone(OK, 200);
    });

    test('a service-auth JWT works once; replayed on another connection → 904', async () => {
      const alice = stack.account('alice');
      const s = await createAppPasswordSession(stack, alice);
      const jwt = await getServiceAuth(stack, s.accessJwt, SERVER_DID);
      const a = await fresh();
      rawAnswer(a.c, { did: alice.did, method: 'service-auth', signature: jwt, challenge_nonce: a.ch.nonce });
      await a.c.expect(OK, 5000);
      const b = await fresh();
      rawAnswer(b.c, { did: alice.did, method: 'service-auth', signature: jwt, challenge_nonce: b.ch.nonce });
      await b.c.expect(FAIL, 5000);
    });

    test('a service-auth JWT for another audience → 904', async () => {
      const alice = stack.account('alice');
      const s = await createAppPasswordSession(stack, alice);
      const jwt = await getServiceAuth(stack, s.accessJwt, 'did:web:other.example');
      const { c, ch } = await fresh();
      rawAnswer(c, { did: alice.did, method: 'service-auth', signature: jwt, challenge_nonce: ch.nonce });
      await c.expect(FAIL, 5000);
    });
  });

  describe('wrong identity or key', () => {
    test('signature by key A claiming the did:key of key B → 904', async () => {
      const a = ed25519Signer(generateSecretKey('ed25519'));
      const b = ed25519Signer(generateSecretKey('ed25519'));
      const { c, ch } = await fresh();
      rawAnswer(c, cryptoAnswer(a, ch, { did: b.did }));
      await c.expect(FAIL);
    });

    test('did:web document lists key A, the client signs with key B → 904 (and with A → 903)', async () => {
      const a = ed25519Signer(generateSecretKey('ed25519'));
      const b = ed25519Signer(generateSecretKey('ed25519'));
      const did = web.did('wrongkey');
      web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', a.publicKey)));
      const x = await fresh();
      rawAnswer(x.c, cryptoAnswer(b, x.ch, { did }));
      await x.c.expect(FAIL);
      const y = await fresh();
      rawAnswer(y.c, cryptoAnswer(a, y.ch, { did }));
      await y.c.expect(OK);
    });

    test('did:plc without a user key signed by a random key, and an unknown did:plc → 904', async () => {
      const bob = stack.account('bob');
      const k = secp256k1Signer(generateSecretKey('secp256k1'));
      const { c, ch } = await fresh();
      rawAnswer(c, cryptoAnswer(k, ch, { did: bob.did }));
      await c.expect(FAIL);
      const unknown = await fresh();
      rawAnswer(unknown.c, cryptoAnswer(k, unknown.ch, { did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }));
      await unknown.c.expect(FAIL);
    });

    test('pds-session: bob\'s real token claiming alice\'s DID → 904; a wrong challenge_nonce → 904', async () => {
      const alice = stack.account('alice');
      const bob = stack.account('bob');
      const bs = await createAppPasswordSession(stack, bob);
      const x = await fresh();
      rawAnswer(x.c, { did: alice.did, method: 'pds-session', signature: bs.accessJwt, pds_url: stack.pdsUrl, challenge_nonce: x.ch.nonce });
      await x.c.expect(FAIL, 5000);
      const y = await fresh();
      rawAnswer(y.c, { did: bob.did, method: 'pds-session', signature: bs.accessJwt, pds_url: stack.pdsUrl, challenge_nonce: 'not-the-nonce' });
      await y.c.expect(FAIL, 5000);
      // control: the same token, honestly presented, works
      const z = await fresh();
      rawAnswer(z.c, { did: bob.did, method: 'pds-session', signature: bs.accessJwt, pds_url: stack.pdsUrl, challenge_nonce: z.ch.nonce });
      await z.c.expect(OK, 5000);
    });
  });

  describe('signature encodings', () => {
    test('high-S secp256k1 (valid but malleable) → 904', async () => {
      const k = secp256k1Signer(generateSecretKey('secp256k1'));
      const { c, ch } = await fresh();
      const low = secp256k1.Signature.fromBytes(k(ch.bytes), 'compact');
      const high = new secp256k1.Signature(low.r, secp256k1.Point.CURVE().n - low.s).toBytes('compact');
      // mathematically valid ECDSA: only a low-S rule rejects it
      assert.equal(secp256k1.verify(high, ch.bytes, k.publicKey, { lowS: false }), true);
      rawAnswer(c, cryptoAnswer(k, ch, { signature: b64url(high) }));
      await c.expect(FAIL);
    });

    test('DER-encoded secp256k1 → 904', async () => {
      const k = secp256k1Signer(generateSecretKey('secp256k1'));
      const { c, ch } = await fresh();
      const der = secp256k1.Signature.fromBytes(k(ch.bytes), 'compact').toBytes('der');
      assert.equal(secp256k1.verify(der, ch.bytes, k.publicKey, { format: 'der' }), true);
      rawAnswer(c, cryptoAnswer(k, ch, { signature: b64url(der) }));
      await c.expect(FAIL);
    });

    test('a truncated ed25519 signature → 904', async () => {
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const { c, ch } = await fresh();
      rawAnswer(c, cryptoAnswer(k, ch, { signature: b64url(k(ch.bytes).slice(0, 63)) }));
      await c.expect(FAIL);
    });
  });

  describe('framing and failure limits', () => {
    test('bad base64, then bad JSON (two counted failures), then a valid answer still logs in', async () => {
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const { c } = await fresh();
      c.send('AUTHENTICATE !!!!');
      await c.expect(FAIL);
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      await rawReadChallenge(c);
      rawSendPayload(c, b64url('{"did":"did:key:z6Mk","signature":'));
      await c.expect(FAIL);
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      const ch = await rawReadChallenge(c);
      rawAnswer(c, cryptoAnswer(k, ch));
      await c.expect(OK);
      assert.equal(c.ended, false);
    });

    test('a response decoding to ≤ 8192 bytes is read; one decoding to > 8192 bytes → 904', async () => {
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const padded = (ch: AtprotoChallenge, total: number): string => {
        const base = { ...cryptoAnswer(k, ch), pad: '' };
        base.pad = 'x'.repeat(total - JSON.stringify(base).length);
        const json = JSON.stringify(base);
        assert.equal(Buffer.byteLength(json), total);
        return b64url(json);
      };
      const ok = await fresh();
      rawSendPayload(ok.c, padded(ok.ch, 8100));
      await ok.c.expect(OK);
      const big = await fresh();
      rawSendPayload(big.c, padded(big.ch, 8300));
      await big.c.expect(FAIL);
      await big.c.expectNone(/ 90[0-9] /, 200);
      // a single line over 400 bytes → 905
      const long = await fresh();
      long.c.send(`AUTHENTICATE ${'A'.repeat(401)}`);
      await long.c.expect(/ 905 \S+ :SASL message too long$/);
    });

    test('AUTHENTICATE * aborts (906), also mid-response; a new exchange then works', async () => {
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const { c } = await fresh();
      c.send('AUTHENTICATE *');
      await c.expect(/ 906 \S+ :SASL authentication aborted$/);
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      await rawReadChallenge(c);
      c.send(`AUTHENTICATE ${'A'.repeat(400)}`, 'AUTHENTICATE *');
      await c.expect(/ 906 /);
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      const ch = await rawReadChallenge(c);
      rawAnswer(c, cryptoAnswer(k, ch));
      await c.expect(OK);
    });

    test('three failures → ERROR :Too many SASL failures and the connection is closed', async () => {
      const { c } = await fresh();
      for (let i = 0; i < 3; i++) {
        if (i > 0) {
          c.send('AUTHENTICATE ATPROTO-CHALLENGE');
          await rawReadChallenge(c);
        }
        rawSendPayload(c, b64url('{}'));
        await c.expect(FAIL);
      }
      assert.equal(await c.expect(/^ERROR /), 'ERROR :Too many SASL failures');
      await c.waitClosed();
    });
  });

  describe('PDS URL and SSRF', () => {
    test('pds_url different from the DID document → 904 without contacting it', async () => {
      const alice = stack.account('alice');
      const s = await createAppPasswordSession(stack, alice);
      const sentinel = await startSentinel();
      try {
        for (const pdsUrl of [`http://127.0.0.1:${sentinel.port}`, `http://localhost:${sentinel.port}`]) {
          const { c, ch } = await fresh();
          rawAnswer(c, { did: alice.did, method: 'pds-session', signature: s.accessJwt, pds_url: pdsUrl, challenge_nonce: ch.nonce });
          await c.expect(FAIL, 5000);
        }
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(sentinel.connections, 0, 'the claimed PDS was never contacted');
      } finally {
        await sentinel.close();
      }
    });

    test('ssrf-allow-loopback=false: did:web on localhost / 127.0.0.1 is refused before any connection', async () => {
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const sentinel = await startSentinel();
      try {
        const did = web.did('strict');
        web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', k.publicKey)));
        const before = web.requests.length;
        const a = await fresh(strict);
        rawAnswer(a.c, cryptoAnswer(k, a.ch, { did }));
        await a.c.expect(FAIL, 5000);
        const b = await fresh(strict);
        rawAnswer(b.c, cryptoAnswer(k, b.ch, { did: `did:web:127.0.0.1%3A${sentinel.port}` }));
        await b.c.expect(FAIL, 5000);
        // a pds_url on loopback is never fetched either
        const p = await fresh(strict);
        rawAnswer(p.c, { did: k.did, method: 'pds-session', signature: 'token', pds_url: `http://127.0.0.1:${sentinel.port}`, challenge_nonce: p.ch.nonce });
        await p.c.expect(FAIL, 5000);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(web.requests.length, before, 'the did:web host was never contacted');
        assert.equal(sentinel.connections, 0);
        // control: the same did:web document is accepted where loopback is allowed
        const ok = await fresh(srv);
        rawAnswer(ok.c, cryptoAnswer(k, ok.ch, { did }));
        await ok.c.expect(OK, 5000);
      } finally {
        await sentinel.close();
      }
    });

    test('even with loopback allowed, private / unspecified / link-local PDS endpoints and did:web hosts are refused', async () => {
      const alice = stack.account('alice');
      const s = await createAppPasswordSession(stack, alice);
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const sentinel = await startSentinel();
      try {
        const endpoints = [`http://0.0.0.0:${sentinel.port}`, 'http://10.0.0.1', 'http://169.254.169.254', 'http://192.168.0.1:8080', `http://[::ffff:10.0.0.1]:${sentinel.port}`];
        for (const [i, endpoint] of endpoints.entries()) {
          const did = web.did(`priv:p${i}`);
          web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', k.publicKey), { pdsUrl: endpoint }));
          const { c, ch } = await fresh();
          const t0 = Date.now();
          rawAnswer(c, { did, method: 'pds-session', signature: s.accessJwt, pds_url: endpoint, challenge_nonce: ch.nonce });
          await c.expect(FAIL, 5000);
          assert.ok(Date.now() - t0 < 900, `${endpoint}: refused up front, not after a timeout`);
        }
        const d = await fresh();
        rawAnswer(d.c, cryptoAnswer(k, d.ch, { did: `did:web:0.0.0.0%3A${sentinel.port}` }));
        await d.c.expect(FAIL, 5000);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(sentinel.connections, 0, 'no connection reached the sentinel');
      } finally {
        await sentinel.close();
      }
    });

    test('a PDS that accepts and never answers → 904 within a few seconds (http-timeout 1s); others unaffected meanwhile', async () => {
      const alice = stack.account('alice');
      const s = await createAppPasswordSession(stack, alice);
      const k = ed25519Signer(generateSecretKey('ed25519'));
      const hang = await startSentinel();
      try {
        const pdsUrl = `http://127.0.0.1:${hang.port}`;
        const did = web.did('hang');
        web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', k.publicKey), { pdsUrl }));
        const { c, ch } = await fresh();
        const t0 = Date.now();
        rawAnswer(c, { did, method: 'pds-session', signature: s.accessJwt, pds_url: pdsUrl, challenge_nonce: ch.nonce });
        // while the login hangs, another client is served at once
        await new Promise((r) => setTimeout(r, 300));
        const p0 = Date.now();
        await observer.sync();
        assert.ok(Date.now() - p0 < 300, 'the observer is served while a login waits on a PDS');
        await c.expect(FAIL, 6000);
        const took = Date.now() - t0;
        assert.ok(took >= 900 && took < 5000, `904 after ${took} ms`);
        assert.ok(hang.connections >= 1, 'the server did contact the (silent) PDS');
      } finally {
        await hang.close();
      }
    });
  });

  describe('pds-oauth abuse (SDK with knobs)', () => {
    test('a client that never uses the relayed nonce: 3 DPOP_NONCE rounds, then 904', async () => {
      const bob = stack.account('bob');
      const tok = await getOAuthToken(stack, bob);
      const l = await sdkLogin(srv, nick(), {
        mechanism: 'ATPROTO-CHALLENGE', did: bob.did, method: 'pds-oauth', accessToken: tok.accessToken, pdsUrl: stack.pdsUrl,
        dpopProof: () => tok.proof(undefined),
      });
      assert.deepEqual(l.failed, ['904', 'SASL authentication failed']);
      assert.equal(l.lines.filter((x) => / NOTICE \S+ :DPOP_NONCE \S+$/.test(x)).length, 3, l.lines.join('\n'));
      await l.client.quit();
    });

    test('a proof from another key, an OAuth token presented as pds-session, a replayed proof → 904', async () => {
      const bob = stack.account('bob');
      const tok = await getOAuthToken(stack, bob);
      const other = await getOAuthToken(stack, stack.account('alice'));
      const wrongKey = await sdkLogin(srv, nick(), {
        mechanism: 'ATPROTO-CHALLENGE', did: bob.did, method: 'pds-oauth', accessToken: tok.accessToken, pdsUrl: stack.pdsUrl,
        dpopProof: (n) => tok.proof(n, { key: other.dpopKey }),
      });
      assert.deepEqual(wrongKey.failed, ['904', 'SASL authentication failed']);
      await wrongKey.client.quit();

      const asSession = await sdkLogin(srv, nick(), { mechanism: 'ATPROTO-CHALLENGE', did: bob.did, method: 'pds-session', accessJwt: tok.accessToken, pdsUrl: stack.pdsUrl });
      assert.deepEqual(asSession.failed, ['904', 'SASL authentication failed']);
      await asSession.client.quit();

      // a proof that worked once is single-use at the PDS
      const proofs: string[] = [];
      const first = await sdkLogin(srv, nick(), {
        mechanism: 'ATPROTO-CHALLENGE', did: bob.did, method: 'pds-oauth', accessToken: tok.accessToken, pdsUrl: stack.pdsUrl,
        dpopProof: async (n) => { const p = await tok.proof(n); proofs.push(p); return p; },
      });
      assert.equal(first.did, bob.did);
      await first.client.quit();
      const replay = await sdkLogin(srv, nick(), {
        mechanism: 'ATPROTO-CHALLENGE', did: bob.did, method: 'pds-oauth', accessToken: tok.accessToken, pdsUrl: stack.pdsUrl,
        dpopProof: () => proofs[proofs.length - 1]!,
      });
      assert.equal(replay.did, undefined);
      assert.equal(replay.failed?.[0], '904');
      await replay.client.quit();
    });
  });
});
