import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, RawClient } from '../harness/raw-client.js';
import { loadConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';
import { canonicalForm, channelVenue, dmVenue, kidOf, messageEvent, verifySigTag } from '../../src/keys/chat-signature.js';
import { ed25519Signer, loginWithDidKey } from './sasl-helpers.js';

// Message signing (reference §1.8): the server signs each PRIVMSG/NOTICE it relays for a
// logged-in user with msg-signing-key.secret, tag +freeq.at/sig, verifiable with the public key of
// GET /api/v1/signing-key (ServerContext.signing.signingKeyInfo()).


function publicKeyOf(srv: TestServer): Buffer {
  return Buffer.from(srv.server.context.signing.signingKeyInfo().public_key, 'base64url');
}

describe('signing: relayed messages carry +freeq.at/sig', () => {
  let srv: TestServer;
  const alice = ed25519Signer();
  const bob = ed25519Signer();
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('a channel PRIVMSG from a logged-in user verifies against the published key', async () => {
    const a = await loginWithDidKey(srv, 'sigA', alice);
    const b = await loginWithDidKey(srv, 'sigB', bob);
    a.send('JOIN #Sig');
    await a.expect(/ 366 /);
    b.send('JOIN #sig');
    await b.expect(/ 366 /);
    a.send('PRIVMSG #Sig :hello signed world');
    const line = await b.expect(/PRIVMSG #Sig :hello signed world$/);
    const msg = parse(line);
    const tag = msg.tags.get('+freeq.at/sig');
    assert.ok(tag, `no signature: ${line}`);
    const pub = publicKeyOf(srv);
    assert.match(tag, new RegExp(`^ed25519:${kidOf(pub)}:[A-Za-z0-9_-]{86}$`));
    const msgid = msg.tags.get('msgid')!;
    const canonical = canonicalForm(messageEvent({ from: alice.did, msgid, target: channelVenue('#Sig'), body: 'hello signed world' }));
    assert.equal(canonical, `{"body":"sha256:${createHash('sha256').update('hello signed world').digest('hex')}","from":"${alice.did}","msgid":"${msgid}","target":"#sig"}`);
    assert.equal(verifySigTag(tag, canonical, (k) => (k === kidOf(pub) ? pub : undefined)), 'valid');
    // any change to the document breaks it
    const other = canonicalForm(messageEvent({ from: alice.did, msgid, target: '#sig', body: 'hello signed world!' }));
    assert.equal(verifySigTag(tag, other, () => pub), 'invalid');
    // the echo carries the same signature
    const echo = parse(await a.expect(/PRIVMSG #Sig :hello signed world$/));
    assert.equal(echo.tags.get('+freeq.at/sig'), tag);
    assert.equal(srv.server.context.signing.verify(tag, messageEvent({ from: alice.did, msgid, target: '#sig', body: 'hello signed world' })), 'valid');
    a.destroy(); b.destroy();
  });

  test('a private message between two logged-in users is signed for the dm: venue; a NOTICE too', async () => {
    const a = await loginWithDidKey(srv, 'dmA', alice);
    const b = await loginWithDidKey(srv, 'dmB', bob);
    a.send('PRIVMSG dmB :psst');
    const msg = parse(await b.expect(/PRIVMSG dmB :?psst$/));
    const pub = publicKeyOf(srv);
    const canonical = canonicalForm(messageEvent({ from: alice.did, msgid: msg.tags.get('msgid')!, target: dmVenue(bob.did, alice.did), body: 'psst' }));
    assert.equal(verifySigTag(msg.tags.get('+freeq.at/sig')!, canonical, () => pub), 'valid');
    a.send('NOTICE dmB :heads up');
    const n = parse(await b.expect(/NOTICE dmB :heads up$/));
    const nc = canonicalForm(messageEvent({ from: alice.did, msgid: n.tags.get('msgid')!, target: dmVenue(alice.did, bob.did), body: 'heads up' }));
    assert.equal(verifySigTag(n.tags.get('+freeq.at/sig')!, nc, () => pub), 'valid');
    a.destroy(); b.destroy();
  });

  test('client reply tags are covered by the signed document', async () => {
    const a = await loginWithDidKey(srv, 'rpA', alice);
    const b = await loginWithDidKey(srv, 'rpB', bob);
    a.send('@+reply=01KYVT1W2P0000000000000000 PRIVMSG rpB :answer');
    const msg = parse(await b.expect(/PRIVMSG rpB :?answer$/));
    assert.equal(msg.tags.get('+reply'), '01KYVT1W2P0000000000000000');
    const pub = publicKeyOf(srv);
    const base = { from: alice.did, msgid: msg.tags.get('msgid')!, target: dmVenue(alice.did, bob.did), body: 'answer' };
    const tag = msg.tags.get('+freeq.at/sig')!;
    assert.equal(verifySigTag(tag, canonicalForm(messageEvent({ ...base, tags: msg.tags })), () => pub), 'valid');
    assert.equal(verifySigTag(tag, canonicalForm(messageEvent(base)), () => pub), 'invalid', 'stripping the reply must break the signature');
    a.destroy(); b.destroy();
  });

  test('a guest\'s message carries no signature', async () => {
    const g = await srv.client('guestS', { caps: ['message-tags'] });
    const b = await loginWithDidKey(srv, 'gB', bob);
    g.send('JOIN #guests');
    await g.expect(/ 366 /);
    b.send('JOIN #guests');
    await b.expect(/ 366 /);
    g.send('PRIVMSG #guests :unsigned');
    const msg = parse(await b.expect(/PRIVMSG #guests :?unsigned$/));
    assert.ok(msg.tags.has('msgid'), 'message-tags recipient sees tags');
    assert.equal(msg.tags.has('+freeq.at/sig'), false);
    g.destroy(); b.destroy();
  });

  test('a client-supplied +freeq.at/sig is not relayed (guest or logged in)', async () => {
    const g = await srv.client('forger', { caps: ['message-tags'] });
    const a = await loginWithDidKey(srv, 'forgA', alice);
    const b = await loginWithDidKey(srv, 'forgB', bob);
    const forged = 'ed25519:NHUPmL1Z_PyUbaRaqr6TOw:_82Len7Z3lcnJsRKEZ9fYPfR4UqC0KhkxW01m9LTeqXN36TPPNdN-jROTIWYFvjiPyEXZUH7ZCyEJC4f0JH_BQ';
    g.send(`@+freeq.at/sig=${forged};+other=kept PRIVMSG forgB :trust me`);
    const fromGuest = parse(await b.expect(/PRIVMSG forgB :trust me$/));
    assert.equal(fromGuest.tags.has('+freeq.at/sig'), false, 'forged sig relayed for a guest');
    assert.equal(fromGuest.tags.get('+other'), 'kept', 'other client tags still relayed');
    a.send(`@+freeq.at/sig=${forged} PRIVMSG forgB :mine`);
    const fromUser = parse(await b.expect(/PRIVMSG forgB :?mine$/));
    assert.notEqual(fromUser.tags.get('+freeq.at/sig'), forged);
    assert.match(fromUser.tags.get('+freeq.at/sig')!, new RegExp(`^ed25519:${kidOf(publicKeyOf(srv))}:`), 'replaced by the server signature');
    // a TAGMSG with only a forged sig relays nothing
    g.send(`@+freeq.at/sig=${forged} TAGMSG forgB`);
    await b.expectNone(/TAGMSG/);
    g.destroy(); a.destroy(); b.destroy();
  });

  test('signingKeyInfo is exactly the documented JSON plus previous_keys', () => {
    const info = srv.server.context.signing.signingKeyInfo();
    assert.deepEqual(Object.keys(info).sort(), ['algorithm', 'canonical_form', 'encoding', 'previous_keys', 'public_key', 'sig_tag_format', 'spec', 'tag', 'usage']);
    assert.equal(info.algorithm, 'ed25519');
    assert.equal(info.encoding, 'base64url');
    assert.equal(info.usage, 'message-signing');
    assert.equal(info.canonical_form, 'jcs-per-event-kind');
    assert.equal(info.sig_tag_format, 'ed25519:<kid>:<base64url-nopad signature>');
    assert.equal(info.tag, '+freeq.at/sig');
    assert.match(info.spec, /chat-signing-vectors\.json$/);
    assert.equal(Buffer.from(info.public_key, 'base64url').length, 32);
    assert.deepEqual(info.previous_keys, []);
    const keys = srv.server.context.signing.publicKeys();
    assert.deepEqual(keys.map((k) => [k.kid, k.current]), [[kidOf(Buffer.from(info.public_key, 'base64url')), true]]);
  });
});

describe('signing: no key material in the log', () => {
  test('a start, a signed message and a restart log public ids only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-sig-log-'));
    let logged = '';
    const sink = new Writable({ write(chunk, _enc, cb) { logged += String(chunk); cb(); } });
    const config = loadConfig({ env: {}, cli: { 'listen-addr': '127.0.0.1:0', 'web-addr': '127.0.0.1:0', 'data-dir': dir, 'server-name': 'irc.test' } });
    const server = await startServer(config, { logger: pino({ level: 'trace' }, sink) });
    try {
      const a = await loginWithDidKey({ connect: () => RawClient.connect({ port: server.addresses.irc.port }) }, 'logA', ed25519Signer());
      a.send('JOIN #log', 'TOPIC #log :secret topic', 'PRIVMSG #log :logged?');
      await a.expect(/PRIVMSG #log :?logged\?$/);
      a.destroy();
    } finally {
      await server.stop();
    }
    try {
      assert.match(logged, /keys loaded/);
      assert.match(logged, new RegExp(server.context.signing.kid), 'the kid (public) is logged');
      for (const f of ['msg-signing-key.secret', 'db-encryption-key.secret', 'iroh-key.secret']) {
        const hex = readFileSync(join(dir, f), 'utf8').trim();
        assert.match(hex, /^[0-9a-f]{64}$/);
        for (const form of [hex, hex.toUpperCase(), Buffer.from(hex, 'hex').toString('base64'), Buffer.from(hex, 'hex').toString('base64url')]) {
          assert.ok(!logged.includes(form), `log contains ${f}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
