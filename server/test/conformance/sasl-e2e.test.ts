// SASL end to end against a REAL AT Protocol stack (in-memory PLC directory + SQLite PDS, see
// test/harness/atproto.ts), logging in through @freeq/sdk (and a raw client for PLAIN): every
// ATPROTO-CHALLENGE method with real credentials, then what a login grants (900 with the DID,
// WHOIS 330, the DID cloak, nick ownership across a restart).
// One stack per file (~3 s, ~270 MiB).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import {
  addPlcKey, createAppPasswordSession, didWebDocument, fetchPlcDocument, getOAuthToken, getServiceAuth, startAtprotoStack,
  startDidWebServer, type AtprotoStack, type DidWebServer,
} from '../harness/atproto.js';
import { didCloak, guestCloak } from '../harness/cloaks.js';
import { lineOf, rawPlain, sdkLogin, whois } from '../harness/sasl-helpers.js';
import { ed25519Signer, generateSecretKey, multikeyFromPublicKey, secp256k1Signer } from '../../../sdk/src/index.js';

/** s with RegExp specials escaped */
function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const SERVER_DID = 'did:web:irc.test';

describe('SASL end to end with a real PLC + PDS', () => {
  let stack: AtprotoStack;
  let web: DidWebServer;
  let srv: TestServer;
  let certDir: string;
  let certPem: string;
  /** the DID cloak the running server gives (#12: a keyed hash, freeq/<method>/<16 base32>) */
  const cloak = (did: string): string => didCloak(srv, did);

  before(async () => {
    stack = await startAtprotoStack({ accounts: ['alice', 'bob', 'carol', 'dave', 'erin'] });
    web = await startDidWebServer();
    certDir = mkdtempSync(join(tmpdir(), 'freeq-sasl-tls-'));
    const pems = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    certPem = pems.cert;
    writeFileSync(join(certDir, 'cert.pem'), pems.cert);
    writeFileSync(join(certDir, 'key.pem'), pems.private, { mode: 0o600 });
    srv = await bootServer({
      'plc-url': stack.plcUrl, 'ssrf-allow-loopback': 'true', 'handle-resolver-url': stack.pdsUrl, 'server-name': 'irc.test',
      'tls-cert': join(certDir, 'cert.pem'), 'tls-key': join(certDir, 'key.pem'),
    });
  });
  after(async () => {
    await srv?.stop();
    await web?.close();
    await stack?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  /** 900/903 exact, the authenticated event, WHOIS 330 (+ cloaked 311) seen by a guest */
  async function assertLoggedIn(l: Awaited<ReturnType<typeof sdkLogin>>, nick: string, did: string, handle?: string): Promise<void> {
    assert.equal(l.failed, undefined, `SASL failed: ${JSON.stringify(l.failed)}\n${l.lines.join('\n')}`);
    assert.equal(l.did, did);
    assert.equal(l.client.did, did);
    assert.equal(lineOf(l.lines, '900'), `:irc.test 900 ${nick} ${nick}!${nick}@${cloak(did)} ${did} :You are now logged in as ${handle ?? did}`);
    assert.equal(lineOf(l.lines, '903'), `:irc.test 903 ${nick} :SASL authentication successful`);
    assert.match(lineOf(l.lines, '001'), new RegExp(`^:irc\\.test 001 ${nick} :Welcome to the freeq IRC Network ${nick}!${nick}@${esc(cloak(did))}$`));
    const obs = await srv.client(`obs${Math.floor(Math.random() * 1e6)}`);
    const w = await whois(obs, nick);
    assert.ok(w.includes(`:irc.test 330 ${obs.nick} ${nick} ${did} :is logged in as`), w.join('\n'));
    const rpl311 = parse(w.find((x) => parse(x).command === '311')!);
    assert.deepEqual(rpl311.params.slice(0, 5), [obs.nick, nick, nick, cloak(did), '*'], w.join('\n'));
    if (handle) assert.ok(w.includes(`:irc.test 671 ${obs.nick} ${nick} :is using AT Protocol handle ${handle}`), w.join('\n'));
    obs.destroy();
  }

  describe('crypto', () => {
    test('did:key ed25519 (TCP)', async () => {
      const signer = ed25519Signer(generateSecretKey('ed25519'));
      const l = await sdkLogin(srv, 'edkey', { mechanism: 'ATPROTO-CHALLENGE', did: signer.did, method: 'crypto', sign: signer });
      await assertLoggedIn(l, 'edkey', signer.did);
      assert.match(cloak(signer.did), /^freeq\/key\/[a-z2-7]{16}$/);
      await l.client.quit();
    });

    test('did:key secp256k1 (WebSocket, text.ircv3.net)', async () => {
      const signer = secp256k1Signer(generateSecretKey('secp256k1'));
      const l = await sdkLogin(srv, 'k1key', { mechanism: 'ATPROTO-CHALLENGE', did: signer.did, method: 'crypto', sign: signer }, { url: `ws://127.0.0.1:${srv.webPort}/irc` });
      await assertLoggedIn(l, 'k1key', signer.did);
      await l.client.quit();
    });

    test('did:web served by the test: ed25519 in authentication (TLS), secp256k1 via a relative assertionMethod ref', async () => {
      const ed = ed25519Signer(generateSecretKey('ed25519'));
      const did = web.did();
      web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', ed.publicKey), { handle: 'webby.test' }));
      const before = web.requests.length;
      const l = await sdkLogin(srv, 'webby', { mechanism: 'ATPROTO-CHALLENGE', did, method: 'crypto', sign: ed }, { url: `ircs://127.0.0.1:${srv.tlsPort!}`, transport: { tls: { ca: certPem, servername: 'irc.test' } } });
      // the claimed handle webby.test does not resolve back to this DID: the DID is shown (#12)
      await assertLoggedIn(l, 'webby', did);
      assert.ok(web.requests.slice(before).includes('/.well-known/did.json'), 'the server fetched the did:web document');
      await l.client.quit();

      const k1 = secp256k1Signer(generateSecretKey('secp256k1'));
      const did2 = web.did('users/k1');
      web.set(did2, didWebDocument(did2, multikeyFromPublicKey('secp256k1', k1.publicKey), { relative: true, list: 'assertionMethod' }));
      const l2 = await sdkLogin(srv, 'webk1', { mechanism: 'ATPROTO-CHALLENGE', did: did2, method: 'crypto', sign: k1 });
      await assertLoggedIn(l2, 'webk1', did2);
      assert.ok(web.requests.includes('/users/k1/did.json'));
      await l2.client.quit();
    });

    test('did:plc of a PDS account with an `irc` key added by a PLC operation', async () => {
      const carol = stack.account('carol');
      const signer = secp256k1Signer(generateSecretKey('secp256k1'));
      await addPlcKey(stack, carol.did, signer.did);
      const doc = await fetchPlcDocument(stack, carol.did);
      assert.ok(JSON.stringify(doc.verificationMethod).includes('#irc'), 'the PLC document lists #irc');
      const l = await sdkLogin(srv, 'carol', { mechanism: 'ATPROTO-CHALLENGE', did: carol.did, method: 'crypto', sign: signer });
      await assertLoggedIn(l, 'carol', carol.did, 'carol.test');
      assert.match(lineOf(l.lines, '900'), / carol!carol@freeq\/plc\/[a-z2-7]{16} /);
      await l.client.quit();
    });
  });

  test('pds-session with a real app-password session', async () => {
    const alice = stack.account('alice');
    const s = await createAppPasswordSession(stack, alice);
    const l = await sdkLogin(srv, 'alicesess', { mechanism: 'ATPROTO-CHALLENGE', did: alice.did, method: 'pds-session', accessJwt: s.accessJwt, pdsUrl: stack.pdsUrl });
    await assertLoggedIn(l, 'alicesess', alice.did, 'alice.test');
    await l.client.quit();
  });

  test('pds-oauth with a real DPoP-bound token, including the DPOP_NONCE round trip', async () => {
    const bob = stack.account('bob');
    const tok = await getOAuthToken(stack, bob);
    const asked: Array<string | undefined> = [];
    const l = await sdkLogin(srv, 'bobo', {
      mechanism: 'ATPROTO-CHALLENGE', did: bob.did, method: 'pds-oauth', accessToken: tok.accessToken, pdsUrl: stack.pdsUrl,
      dpopProof: (nonce) => { asked.push(nonce); return tok.proof(nonce); },
    });
    await assertLoggedIn(l, 'bobo', bob.did, 'bob.test');
    const notices = l.lines.filter((x) => / NOTICE \S+ :DPOP_NONCE /.test(x));
    assert.equal(notices.length, 1, l.lines.join('\n'));
    const nonce = /DPOP_NONCE (\S+)$/.exec(notices[0]!)![1];
    assert.match(notices[0]!, /^:irc\.test NOTICE bobo :DPOP_NONCE \S+$/);
    assert.deepEqual(asked, [undefined, nonce], 'first proof without a nonce, the second with the relayed one');
    // two challenges were sent (the second one fresh)
    const challenges = l.lines.filter((x) => x.startsWith('AUTHENTICATE ') && x !== 'AUTHENTICATE +');
    assert.equal(new Set(challenges).size, challenges.length);
    assert.ok(challenges.length >= 2);
    await l.client.quit();
  });

  test('service-auth via com.atproto.server.getServiceAuth (aud = did:web:irc.test)', async () => {
    const dave = stack.account('dave');
    const s = await createAppPasswordSession(stack, dave);
    let calls = 0;
    const l = await sdkLogin(srv, 'dave', {
      mechanism: 'ATPROTO-CHALLENGE', did: dave.did, method: 'service-auth',
      getToken: () => { calls++; return getServiceAuth(stack, s.accessJwt, SERVER_DID); },
    });
    await assertLoggedIn(l, 'dave', dave.did, 'dave.test');
    assert.equal(calls, 1);
    await l.client.quit();
  });

  describe('PLAIN with a real app password (raw client)', () => {
    test('handle as identifier', async () => {
      const alice = stack.account('alice');
      const c = await srv.connect();
      const res = await rawPlain(c, 'aliceplain', alice.handle, alice.appPassword);
      assert.equal(res, `:irc.test 900 aliceplain aliceplain!aliceplain@${cloak(alice.did)} ${alice.did} :You are now logged in as alice.test`);
      assert.equal(await c.expect(/ 903 /), ':irc.test 903 aliceplain :SASL authentication successful');
      c.send('CAP END');
      await c.expect(/ 001 aliceplain /);
      const obs = await srv.client('plainobs');
      assert.ok((await whois(obs, 'aliceplain')).includes(`:irc.test 330 plainobs aliceplain ${alice.did} :is logged in as`));
      c.send('QUIT');
      obs.send('QUIT');
    });

    test('DID as identifier', async () => {
      const bob = stack.account('bob');
      const c = await srv.connect();
      const res = await rawPlain(c, 'bobplain', bob.did, bob.appPassword);
      assert.equal(res, `:irc.test 900 bobplain bobplain!bobplain@${cloak(bob.did)} ${bob.did} :You are now logged in as bob.test`);
      assert.equal(await c.expect(/ 903 /), ':irc.test 903 bobplain :SASL authentication successful');
      c.send('CAP END');
      await c.expect(/ 001 bobplain /);
      c.send('QUIT');
    });

    test('the SDK with PLAIN (handle + app password); a wrong app password is 904 and the client stays a guest', async () => {
      const erin = stack.account('erin');
      const l = await sdkLogin(srv, 'erin', { mechanism: 'PLAIN', identifier: erin.handle, password: erin.appPassword });
      await assertLoggedIn(l, 'erin', erin.did, 'erin.test');
      await l.client.quit();
      const bad = await sdkLogin(srv, 'erin2', { mechanism: 'PLAIN', identifier: erin.handle, password: 'aaaa-bbbb-cccc-dddd' });
      assert.deepEqual(bad.failed, ['904', 'SASL authentication failed']);
      assert.equal(bad.did, undefined);
      assert.match(lineOf(bad.lines, '001'), new RegExp(`@${esc(guestCloak(srv))}$`));
      await bad.client.quit();
    });
  });

  test('nick ownership survives a restart: a guest taking the nick is renamed, the owner gets it back', async () => {
    const alice = stack.account('alice');
    const s = await createAppPasswordSession(stack, alice);
    const sasl = { mechanism: 'ATPROTO-CHALLENGE', did: alice.did, method: 'pds-session', accessJwt: s.accessJwt, pdsUrl: stack.pdsUrl } as const;
    const l = await sdkLogin(srv, 'alice', sasl);
    assert.equal(l.did, alice.did);
    assert.equal(l.client.nick, 'alice');
    await l.client.quit();

    srv = await srv.restart();

    const guest = await srv.connect();
    guest.send('NICK alice', 'USER alice 0 * :guest');
    const welcome = await guest.expect(/ 001 /);
    const guestNick = /^:irc\.test 001 (\S+) /.exec(welcome)![1]!;
    assert.match(guestNick, /^Guest\d+$/);
    assert.ok((await guest.expect(/ NOTICE /)).endsWith(`:Nick alice is registered to another identity; you are now ${guestNick}. Log in with SASL to use it.`));
    guest.send('NICK alice');
    assert.equal(await guest.expect(/ 433 /), `:irc.test 433 ${guestNick} alice :Nickname is registered to another identity`);

    const back = await sdkLogin(srv, 'alice', sasl);
    assert.equal(back.did, alice.did);
    assert.equal(back.client.nick, 'alice');
    assert.ok(back.lines.includes(`:irc.test 900 alice alice!alice@${cloak(alice.did)} ${alice.did} :You are now logged in as alice.test`), back.lines.join('\n'));
    await back.client.quit();
  });
});
