import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { b64url, cryptoResponse, ed25519Signer, readChallenge, responseLines, secp256k1Signer, startSasl, type Signer } from './sasl-helpers.js';

// IRCv3 SASL 3.1/3.2 + ATPROTO-CHALLENGE (DESIGN.md §6, hardening.md D1–D3). did:key identities
// resolve locally, so the crypto method runs end to end without any network.

const LOGGED_IN = (nick: string, did: string, as = did) => new RegExp(`^:irc\\.test 900 ${nick} ${nick}!\\S+@\\S+ ${did.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} :You are now logged in as ${as.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

describe('SASL: CAP and framing', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('CAP LS 302 advertises sasl with the mechanism list; older LS a bare sasl', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    const ls302 = await c.expect(' LS ');
    assert.match(ls302, / multi-prefix sasl=ATPROTO-CHALLENGE,PLAIN server-time /);
    c.send('CAP LS');
    const ls = await c.expect(' LS ');
    assert.match(ls, / multi-prefix sasl server-time /);
    c.send('CAP REQ :sasl');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * ACK sasl');
  });

  test('AUTHENTICATE without the sasl capability → 904', async () => {
    const c = await srv.connect();
    c.send('NICK nocap', 'USER u 0 * :r');
    await c.expect(/ (376|422) /);
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    assert.equal(await c.expect('904'), ':irc.test 904 nocap :SASL authentication failed');
    await c.expectNone('AUTHENTICATE', 200);
  });

  test('unknown mechanism → 908 with the list, then 904; not counted as a failure', async () => {
    const c = await srv.connect();
    await startSasl(c, 'mechs');
    for (let i = 0; i < 4; i++) {
      c.send('AUTHENTICATE EXTERNAL');
      assert.equal(await c.expect('908'), ':irc.test 908 mechs ATPROTO-CHALLENGE,PLAIN :are available SASL mechanisms');
      assert.equal(await c.expect('904'), ':irc.test 904 mechs :SASL authentication failed');
    }
    await c.sync(); // still connected after four
  });

  test('the challenge: base64url-nopad JSON {session_id, nonce (32 bytes), timestamp}', async () => {
    const c = await srv.connect();
    await startSasl(c, 'chal');
    c.send('authenticate atproto-challenge');
    const line = await c.expect(/^AUTHENTICATE /);
    assert.match(line, /^AUTHENTICATE [A-Za-z0-9_-]+$/, 'unprefixed, base64url without padding');
    const json = Buffer.from(line.slice(13), 'base64url').toString('utf8');
    assert.match(json, /^\{"session_id":"[^"]{16,}","nonce":"[A-Za-z0-9_-]{43}","timestamp":\d+\}$/);
    const ch = JSON.parse(json) as { timestamp: number; nonce: string };
    assert.ok(Math.abs(ch.timestamp - Date.now() / 1000) < 5);
    assert.equal(Buffer.from(ch.nonce, 'base64url').length, 32);
  });

  test('AUTHENTICATE * → 906; a fresh exchange then works', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'aborter');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(c);
    c.send('AUTHENTICATE *');
    assert.equal(await c.expect('906'), ':irc.test 906 aborter :SASL authentication aborted');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    c.send(...responseLines(await cryptoResponse(s, ch)));
    assert.match(await c.expect('900'), LOGGED_IN('aborter', s.did));
    assert.equal(await c.expect('903'), ':irc.test 903 aborter :SASL authentication successful');
  });

  test('a chunk over 400 bytes → 905 and the exchange ends (not counted)', async () => {
    const c = await srv.connect();
    await startSasl(c, 'toolong');
    for (let i = 0; i < 3; i++) {
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      await readChallenge(c);
      c.send(`AUTHENTICATE ${'A'.repeat(401)}`);
      assert.equal(await c.expect(/ 90\d /), ':irc.test 905 toolong :SASL message too long');
    }
    // the exchange is over: data is now read as a mechanism name
    c.send('AUTHENTICATE QUFB');
    await c.expect('908');
    await c.expect('904');
    await c.sync();
  });

  test('a response that decodes to more than sasl-max-bytes (28 × 400) → 904', async () => {
    const c = await srv.connect();
    await startSasl(c, 'toobig');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(c);
    for (let i = 0; i < 27; i++) c.send(`AUTHENTICATE ${'A'.repeat(400)}`);
    await c.expectNone(/ 90\d /, 200);
    c.send(`AUTHENTICATE ${'A'.repeat(400)}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 toobig :SASL authentication failed');
  });

  test('three failures → three 904, then ERROR :Too many SASL failures and close', async () => {
    const c = await srv.connect();
    await startSasl(c, 'loser');
    for (let i = 0; i < 3; i++) {
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      await readChallenge(c);
      c.send(`AUTHENTICATE ${b64url(JSON.stringify({ did: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', signature: b64url('x'.repeat(64)) }))}`);
      assert.equal(await c.expect(/ 90\d /), ':irc.test 904 loser :SASL authentication failed');
    }
    assert.equal(await c.expect('ERROR'), 'ERROR :Too many SASL failures');
    await c.waitClosed();
  });

  test('malformed responses → 904: not base64, not JSON, missing fields, empty', async () => {
    for (const bad of ['!!!!', b64url('not json'), b64url(JSON.stringify({ signature: 'AA' })), b64url(JSON.stringify({ did: 'did:key:zabc' })), '+']) {
      const c = await srv.connect();
      await startSasl(c, 'malformed');
      c.send('AUTHENTICATE ATPROTO-CHALLENGE');
      await readChallenge(c);
      c.send(`AUTHENTICATE ${bad}`);
      assert.equal(await c.expect(/ 90\d /), ':irc.test 904 malformed :SASL authentication failed', `for ${bad}`);
      c.destroy();
    }
  });
});

describe('SASL ATPROTO-CHALLENGE crypto with did:key', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  async function login(nick: string, s: Signer): Promise<void> {
    const c = await srv.connect();
    await startSasl(c, nick);
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    c.send(...responseLines(await cryptoResponse(s, ch)));
    assert.match(await c.expect('900'), LOGGED_IN(nick, s.did));
    assert.equal(await c.expect('903'), `:irc.test 903 ${nick} :SASL authentication successful`);
    // registration waited for CAP END
    await c.expectNone('001', 100);
    c.send('CAP END');
    await c.expect('001');
    c.send(`WHOIS ${nick}`);
    await c.expect(new RegExp(` 330 ${nick} ${nick} ${s.did} `));
    c.destroy();
  }

  test('ed25519 did:key: 900, 903, registration after CAP END, WHOIS shows the account', async () => {
    await login('edkey', ed25519Signer());
  });

  test('secp256k1 did:key (ECDSA/SHA-256, compact low-S)', async () => {
    await login('k1key', await secp256k1Signer());
  });

  test('method absent means crypto; padded base64 is accepted', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'nomethod');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    const sig = Buffer.from(await s.sign(new Uint8Array(ch))).toString('base64');
    const resp = Buffer.from(JSON.stringify({ did: s.did, signature: sig })).toString('base64');
    c.send(`AUTHENTICATE ${resp}`);
    await c.expect('903');
  });

  test('a signature chunked over several AUTHENTICATE lines, ending in + at an exact multiple of 400', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'chunky');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    // pad with an unknown field (ignored) so the JSON is 600 bytes: exactly 800 base64url bytes
    const sig = b64url(await s.sign(new Uint8Array(ch)));
    const base = JSON.stringify({ did: s.did, method: 'crypto', signature: sig, pad: '' });
    const enc = b64url(JSON.stringify({ did: s.did, method: 'crypto', signature: sig, pad: 'x'.repeat(600 - base.length) }));
    assert.equal(enc.length, 800);
    const lines = responseLines(enc);
    assert.deepEqual(lines.map((l) => l.length), [413, 413, 14], '400, 400, then +');
    for (const l of lines.slice(0, -1)) { c.send(l); }
    await c.expectNone(/ 90\d /, 150);
    c.send(lines.at(-1)!);
    await c.expect('903');
  });

  test('a wrong signature → 904; the same key then succeeds on a new challenge', async () => {
    const s = ed25519Signer(), other = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'wrongsig');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    const sig = await other.sign(new Uint8Array(ch));
    c.send(`AUTHENTICATE ${b64url(JSON.stringify({ did: s.did, signature: b64url(sig) }))}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 wrongsig :SASL authentication failed');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
    await c.expect('903');
  });

  test('a second AUTHENTICATE ATPROTO-CHALLENGE invalidates the first challenge; stale responses fail', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'replacer');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const first = await cryptoResponse(s, await readChallenge(c));
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(c);
    c.send(...responseLines(first));
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 replacer :SASL authentication failed');
    // replaying it again on yet another challenge fails as well
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const third = await readChallenge(c);
    c.send(...responseLines(first));
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 replacer :SASL authentication failed');
    // and the challenge answered with the stale response is gone too (single use)
    c.send(...responseLines(await cryptoResponse(s, third)));
    await c.expect('908');
    await c.expect('904');
    // (read as a mechanism name: not counted, two failures so far) a fresh exchange still works
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
    await c.expect('903');
  });

  test('replaying a used response on another connection → 904; a challenge from another connection is useless', async () => {
    const s = ed25519Signer();
    const a = await srv.connect();
    await startSasl(a, 'owner');
    a.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const resp = await cryptoResponse(s, await readChallenge(a));
    // b answers its own challenge with a's response before a uses it
    const b = await srv.connect();
    await startSasl(b, 'thief');
    b.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(b);
    b.send(...responseLines(resp));
    assert.equal(await b.expect(/ 90\d /), ':irc.test 904 thief :SASL authentication failed');
    // the rightful connection still succeeds
    a.send(...responseLines(resp));
    await a.expect('903');
    // and replaying it after use on a third connection fails
    const d = await srv.connect();
    await startSasl(d, 'replayer');
    d.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(d);
    d.send(...responseLines(resp));
    assert.equal(await d.expect(/ 90\d /), ':irc.test 904 replayer :SASL authentication failed');
  });

  test('already logged in → 907; the DID never changes on a connection', async () => {
    const s = ed25519Signer(), s2 = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'twice');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
    await c.expect('903');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    assert.equal(await c.expect(/ 90\d /), ':irc.test 907 twice :You have already authenticated using SASL');
    await c.expectNone('AUTHENTICATE', 150);
    c.send('CAP END');
    await c.expect('001');
    c.send('WHOIS twice');
    await c.expect(new RegExp(` 330 twice twice ${s.did} `));
    assert.notEqual(s.did, s2.did);
  });

  test('SASL after registration for a user not logged in', async () => {
    const s = await secp256k1Signer();
    const c = await srv.client('late', { caps: ['sasl'] });
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
    assert.match(await c.expect('900'), LOGGED_IN('late', s.did));
    await c.expect('903');
    c.send('AUTHENTICATE PLAIN');
    await c.expect('907');
  });

  test('CAP END during an exchange aborts it (906) and registers without a login', async () => {
    const c = await srv.connect();
    await startSasl(c, 'impatient');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(c);
    await c.expectNone('001', 100);
    c.send('CAP END');
    assert.equal(await c.expect(/ (906|001) /), ':irc.test 906 impatient :SASL authentication aborted');
    await c.expect('001');
    c.send('WHOIS impatient');
    await c.expectNone(' 330 ', 200);
  });

  test('pds-session against a did:key (no PDS in its document) → 904', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'nopds');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = JSON.parse((await readChallenge(c)).toString()) as { nonce: string };
    c.send(`AUTHENTICATE ${b64url(JSON.stringify({ did: s.did, method: 'pds-session', signature: 'token', challenge_nonce: ch.nonce }))}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 nopds :SASL authentication failed');
  });

  test('PLAIN: AUTHENTICATE + prompt; a did:key has no PDS → 904; malformed payload → 904', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'plainer');
    c.send('AUTHENTICATE PLAIN');
    assert.equal(await c.expect('AUTHENTICATE'), 'AUTHENTICATE +');
    c.send(`AUTHENTICATE ${Buffer.from(`\0${s.did}\0app-pass-word`).toString('base64')}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 plainer :SASL authentication failed');
    c.send('AUTHENTICATE PLAIN');
    await c.expect('AUTHENTICATE');
    c.send(`AUTHENTICATE ${Buffer.from('only-one-part').toString('base64')}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 plainer :SASL authentication failed');
  });
});

describe('SASL with a restricted configuration', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'sasl-mechanisms': 'ATPROTO-CHALLENGE', 'atproto-methods': 'service-auth', 'sasl-max-bytes': 6000 }); });
  after(async () => { await srv.stop(); });

  test('the cap value and 908 list follow sasl-mechanisms', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    assert.match(await c.expect(' LS '), / sasl=ATPROTO-CHALLENGE /);
    await startSasl(c, 'restricted');
    c.send('AUTHENTICATE PLAIN');
    assert.equal(await c.expect('908'), ':irc.test 908 restricted ATPROTO-CHALLENGE :are available SASL mechanisms');
    await c.expect('904');
  });

  test('a method not in atproto-methods → 904 even with a valid signature', async () => {
    const s = ed25519Signer();
    const c = await srv.connect();
    await startSasl(c, 'nocrypto');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(s, await readChallenge(c))));
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 nocrypto :SASL authentication failed');
  });

  test('21 × 400-byte chunks cross sasl-max-bytes 6000 → 904 on the 21st', async () => {
    const c = await srv.connect();
    await startSasl(c, 'chunks21');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    await readChallenge(c);
    for (let i = 0; i < 20; i++) c.send(`AUTHENTICATE ${'A'.repeat(400)}`);
    await c.expectNone(/ 90\d /, 200);
    c.send(`AUTHENTICATE ${'A'.repeat(400)}`);
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 chunks21 :SASL authentication failed');
  });
});

describe('SASL disabled', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'sasl-mechanisms': '' }); });
  after(async () => { await srv.stop(); });

  test('no sasl cap; CAP REQ sasl → NAK; AUTHENTICATE → 904', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    assert.doesNotMatch(await c.expect(' LS '), /sasl/);
    c.send('CAP REQ :sasl');
    assert.equal(await c.expect('CAP'), ':irc.test CAP * NAK sasl');
    c.send('AUTHENTICATE PLAIN');
    assert.equal(await c.expect('904'), ':irc.test 904 * :SASL authentication failed');
  });
});

