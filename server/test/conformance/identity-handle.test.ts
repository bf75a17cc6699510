// #12 finding 5: a handle is shown (900, WHOIS 671, GET /api/v1/me) only after the bidirectional
// check — the handle a DID document claims must resolve back to that DID. Against the REAL local
// PLC directory + PDS (handle-resolver-url = the PDS) and did:web documents served by the test.
// One stack per file (~3 s, ~270 MiB).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Secp256k1Keypair } from '@atproto/crypto';
import * as plc from '@did-plc/lib';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import {
  createAppPasswordSession, didWebDocument, startAtprotoStack, startDidWebServer, type AtprotoStack, type DidWebServer,
} from '../harness/atproto.js';
import { b64url, rawAnswer, rawStartAtproto, whois } from '../harness/sasl-helpers.js';
import { ed25519Signer, generateSecretKey, multikeyFromPublicKey } from '../../../sdk/src/index.js';
import { apiToken } from './identity-helpers.js';

describe('handles are shown only when they resolve back to the DID (#12)', () => {
  let stack: AtprotoStack;
  let web: DidWebServer;
  let srv: TestServer;

  before(async () => {
    stack = await startAtprotoStack({ accounts: ['alice', 'carol'] });
    web = await startDidWebServer();
    // did-cache-ttl 1s: the last test changes a DID document and logs in again after it expired
    srv = await bootServer({
      'plc-url': stack.plcUrl, 'ssrf-allow-loopback': 'true', 'handle-resolver-url': stack.pdsUrl, 'did-cache-ttl': '1s',
    });
  });
  after(async () => {
    await srv?.stop();
    await web?.close();
    await stack?.stop();
  });

  /** The login's 900 line; the client is registered (001) afterwards. */
  async function login(c: RawClient, nick: string, answer: (ch: { bytes: Uint8Array; nonce: string }) => Parameters<typeof rawAnswer>[1]): Promise<string> {
    const ch = await rawStartAtproto(c, nick);
    rawAnswer(c, answer(ch));
    const l900 = await c.expect(/ 90\d /, 10_000);
    assert.equal(await c.expect(/ 90\d /), `:irc.test 903 ${nick} :SASL authentication successful`);
    c.send('CAP END');
    await c.expect(/ 001 /);
    return l900;
  }

  async function didWebLogin(nick: string, claimedHandle: string): Promise<{ c: RawClient; did: string; l900: string }> {
    const key = ed25519Signer(generateSecretKey('ed25519'));
    const did = web.did(`u/${nick}`);
    web.set(did, didWebDocument(did, multikeyFromPublicKey('ed25519', key.publicKey), { handle: claimedHandle }));
    const c = await srv.connect();
    const l900 = await login(c, nick, (ch) => ({ did, method: 'crypto', signature: b64url(key(ch.bytes)), challenge_nonce: ch.nonce }));
    return { c, did, l900 };
  }

  async function pdsLogin(nick: string, name: string): Promise<{ c: RawClient; did: string; l900: string }> {
    const acct = stack.account(name);
    const s = await createAppPasswordSession(stack, acct);
    const c = await srv.connect();
    const l900 = await login(c, nick, (ch) => ({ did: acct.did, method: 'pds-session', signature: s.accessJwt, pds_url: stack.pdsUrl, challenge_nonce: ch.nonce }));
    return { c, did: acct.did, l900 };
  }

  async function me(token: string): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return res.json();
  }

  /** WHOIS as a guest: the 330 line must be there; returns whether a 671 line is. */
  async function whoisHandleLine(nick: string, did: string): Promise<string | undefined> {
    const obs = await srv.client(`obs${Math.floor(Math.random() * 1e6)}`);
    const w = await whois(obs, nick);
    assert.ok(w.includes(`:irc.test 330 ${obs.nick} ${nick} ${did} :is logged in as`), w.join('\n'));
    obs.destroy();
    return w.find((l) => l.split(' ')[1] === '671');
  }

  test('a PDS account whose handle resolves back: 900, WHOIS 671 and /api/v1/me show the handle', async () => {
    const { c, did, l900 } = await pdsLogin('alice', 'alice');
    assert.match(l900, new RegExp(`^:irc\\.test 900 alice alice!alice@\\S+ ${did} :You are now logged in as alice\\.test$`));
    assert.match((await whoisHandleLine('alice', did))!, /^:irc\.test 671 obs\d+ alice :is using AT Protocol handle alice\.test$/);
    assert.deepEqual(await me(await apiToken(c)), { did, handle: 'alice.test' });
    c.send('QUIT');
  });

  test('a did:web claiming a handle that resolves to another DID (alice.test): the DID is shown everywhere', async () => {
    const { c, did, l900 } = await didWebLogin('mallory', 'alice.test');
    assert.match(l900, new RegExp(`^:irc\\.test 900 mallory mallory!mallory@\\S+ ${did} :You are now logged in as ${did}$`));
    assert.equal(await whoisHandleLine('mallory', did), undefined, 'no 671');
    assert.deepEqual(await me(await apiToken(c)), { did });
    c.send('QUIT');
  });

  test('a did:web claiming a handle nobody has: logged in (the DID is the identity), the DID is shown', async () => {
    const { c, did, l900 } = await didWebLogin('nobody', 'nobody-here.test');
    assert.match(l900, new RegExp(`^:irc\\.test 900 nobody nobody!nobody@\\S+ ${did} :You are now logged in as ${did}$`));
    assert.equal(await whoisHandleLine('nobody', did), undefined, 'no 671');
    assert.deepEqual(await me(await apiToken(c)), { did });
    c.send('QUIT');
  });

  test('a document that stops being backed by its handle: the next login shows the DID and the stored handle is cleared', async () => {
    const first = await pdsLogin('carol', 'carol');
    assert.match(first.l900, / :You are now logged in as carol\.test$/);
    const token = await apiToken(first.c);
    assert.deepEqual(await me(token), { did: first.did, handle: 'carol.test' });
    first.c.send('QUIT');
    await first.c.expect(/^ERROR /);

    // carol's document now claims alice.test (which resolves to alice's DID)
    const rotation = await Secp256k1Keypair.import(stack.plcRotationKeyHex);
    await new plc.Client(stack.plcUrl).updateData(first.did, rotation, (last) => ({ ...last, alsoKnownAs: ['at://alice.test'] }));
    await new Promise((r) => setTimeout(r, 1100)); // did-cache-ttl

    const again = await pdsLogin('carol', 'carol');
    assert.match(again.l900, new RegExp(`^:irc\\.test 900 carol carol!carol@\\S+ ${first.did} :You are now logged in as ${first.did}$`));
    assert.equal(await whoisHandleLine('carol', first.did), undefined, 'no 671');
    assert.deepEqual(await me(token), { did: first.did }, 'the token issued earlier no longer shows the old handle');
    again.c.send('QUIT');
  });
});
