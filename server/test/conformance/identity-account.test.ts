import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generate } from 'selfsigned';
import { didCloak, guestCloak } from '../harness/cloaks.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { body, connectLoggedIn, DID_A, DID_B, joined, login } from './identity-helpers.js';

// Login = account = DID: cloak, CHGHOST, account-notify, extended-join, account-tag, WHO/WHOIS,
// the federation peer ID (MAP), --oper-dids and --require-sasl. Users are logged in through
// ops.login, the op the SASL code calls (see identity-helpers.ts).

describe('identity: login effects', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('login after registration: ACCOUNT (account-notify only), CHGHOST to the cloak, WHOIS 311/330/671', async () => {
    const alice = await srv.client('alice', { caps: ['chghost'] });
    const notify = await srv.client('obsN', { caps: ['account-notify', 'chghost'] });
    const plain = await srv.client('obsP');
    for (const c of [alice, notify, plain]) await joined(c, '#acct');
    for (const c of [alice, notify, plain]) await c.sync();

    const G = guestCloak(srv);
    const CA = didCloak(srv, DID_A);
    login(srv, 'alice', DID_A, 'alice.test');
    assert.equal(body(await notify.expect('ACCOUNT')), `:alice!alice@${G} ACCOUNT ${DID_A}`);
    assert.equal(body(await notify.expect('CHGHOST')), `:alice!alice@${G} CHGHOST alice ${CA}`);
    assert.equal(body(await alice.expect('CHGHOST')), `:alice!alice@${G} CHGHOST alice ${CA}`);
    // no chghost: QUIT + JOIN + MODE; no account-notify: no ACCOUNT
    assert.equal(await plain.expect('QUIT'), `:alice!alice@${G} QUIT :Changing host`);
    assert.equal(await plain.expect('JOIN'), `:alice!alice@${CA} JOIN #acct`);
    await plain.sync();
    assert.ok(!plain.received.some((l) => l.includes(' ACCOUNT ')), 'no ACCOUNT without account-notify');
    await alice.sync();
    assert.ok(!alice.received.some((l) => l.includes(' ACCOUNT ')), 'the user itself gets 900 from SASL, not ACCOUNT');

    plain.send('WHOIS alice');
    const lines = await plain.collectUntil('318');
    assert.equal(lines.find((l) => l.includes(' 311 ')), `:irc.test 311 obsP alice alice ${CA} * :alice Real`);
    assert.ok(lines.includes(`:irc.test 330 obsP alice ${DID_A} :is logged in as`), lines.join('\n'));
    assert.ok(lines.includes(':irc.test 671 obsP alice :is using AT Protocol handle alice.test'), lines.join('\n'));
    // no 672: it is for clients connected over iroh only (#16), not the server's peer id
    assert.ok(!lines.some((l) => / 672 /.test(l)), lines.join('\n'));
    // a guest has no 330 / 671
    alice.send('WHOIS obsP');
    const g = await alice.collectUntil('318');
    assert.ok(!g.some((l) => / (330|671) /.test(l)), g.join('\n'));
    for (const c of [alice, notify, plain]) c.destroy();
  });

  test('extended-join and account-tag carry the DID; a guest shows *', async () => {
    const obs = await srv.client('xObs', { caps: ['extended-join', 'account-tag'] });
    await joined(obs, '#xj');
    const a = await connectLoggedIn(srv, 'xAlice', DID_B);
    assert.equal(a.nick, 'xAlice');
    await joined(a, '#xj');
    assert.equal(body(await obs.expect('JOIN')), `:xAlice!xalice@${didCloak(srv, DID_B)} JOIN #xj ${DID_B} :xAlice Real`);
    const guest = await srv.client('xGuest');
    await joined(guest, '#xj');
    assert.equal(body(await obs.expect('JOIN')), `:xGuest!xguest@${guestCloak(srv)} JOIN #xj * :xGuest Real`);
    a.send('PRIVMSG #xj :signed in');
    const line = await obs.expect('PRIVMSG');
    assert.equal(parse(line).tags.get('account'), DID_B);
    guest.send('PRIVMSG #xj :guest');
    const gl = await obs.expect('PRIVMSG');
    assert.equal(parse(gl).tags.get('account'), undefined);
    for (const c of [obs, a, guest]) c.destroy();
  });

  test('WHO: WHOX a field is the DID (0 for a guest); host is the cloak', async () => {
    const a = await connectLoggedIn(srv, 'wxA', DID_A);
    const g = await srv.client('wxG');
    await joined(a, '#wx');
    await joined(g, '#wx');
    g.send('WHO #wx %nah');
    const lines = await g.collectUntil('315');
    assert.ok(lines.includes(`:irc.test 354 wxG ${didCloak(srv, DID_A)} wxA ${DID_A}`), lines.join('\n'));
    assert.ok(lines.includes(`:irc.test 354 wxG ${guestCloak(srv)} wxG 0`), lines.join('\n'));
    a.destroy(); g.destroy();
  });
});

describe('identity: federation peer ID (iroh-key.secret)', () => {
  test('created 0600 on first start, MAP shows its ed25519 public key, stable across restart', async () => {
    let srv = await bootServer();
    try {
      const file = join(srv.dataDir, 'iroh-key.secret');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const hex = readFileSync(file, 'utf8').trim();
      assert.match(hex, /^[0-9a-f]{64}$/);
      const expected = Buffer.from(ed25519.getPublicKey(Buffer.from(hex, 'hex'))).toString('hex');
      assert.equal(srv.server.context.peerId, expected);
      const c = await srv.client('peerq');
      c.send('MAP');
      assert.equal(await c.expect('006'), `:irc.test 006 peerq :irc.test [${expected.slice(0, 16)}] 1 users (100.0%)`);
      srv = await srv.restart();
      assert.equal(srv.server.context.peerId, expected, 'same key after restart');
    } finally {
      await srv.stop();
      rmSync(srv.dataDir, { recursive: true, force: true });
    }
  });

  test('refuses to start when the key file is readable by group/others, or malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-key-'));
    try {
      const file = join(dir, 'iroh-key.secret');
      writeFileSync(file, 'ab'.repeat(32) + '\n', { mode: 0o600 });
      chmodSync(file, 0o644);
      await assert.rejects(bootServer({}, dir), /iroh-key\.secret is accessible by group\/others/);
      chmodSync(file, 0o600);
      writeFileSync(file, 'not hex');
      await assert.rejects(bootServer({}, dir), /not 64 hex characters/);
      writeFileSync(file, 'ab'.repeat(32));
      const srv = await bootServer({}, dir);
      assert.equal(srv.server.context.peerId, Buffer.from(ed25519.getPublicKey(Buffer.from('ab'.repeat(32), 'hex'))).toString('hex'));
      await srv.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('identity: WHOIS over TLS', () => {
  let srv: TestServer;
  let certDir: string;
  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'freeq-tls-'));
    const pems = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    writeFileSync(join(certDir, 'cert.pem'), pems.cert);
    writeFileSync(join(certDir, 'key.pem'), pems.private, { mode: 0o600 });
    srv = await bootServer({ 'tls-cert': join(certDir, 'cert.pem'), 'tls-key': join(certDir, 'key.pem') });
  });
  after(async () => {
    await srv.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('671 twice when both apply: the AT Protocol handle and the secure connection', async () => {
    const a = await connectLoggedIn(srv, 'tlsA', DID_A, { tls: true, port: srv.tlsPort, handle: 'alice.example' });
    a.send('WHOIS tlsA');
    const lines = (await a.collectUntil('318')).filter((l) => l.includes(' 671 '));
    assert.deepEqual(lines, [
      ':irc.test 671 tlsA tlsA :is using AT Protocol handle alice.example',
      ':irc.test 671 tlsA tlsA :is using a secure connection',
    ]);
    a.destroy();
  });
});

describe('identity: --oper-dids', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'oper-dids': `${DID_A},did:web:ops.example` }); });
  after(async () => { await srv.stop(); });

  test('a listed DID becomes an admin operator on login (before or after registration); others do not', async () => {
    const pre = await connectLoggedIn(srv, 'opPre', DID_A);
    assert.equal(await pre.expect('MODE'), ':opPre MODE opPre +o');
    const post = await srv.client('opPost');
    login(srv, 'opPost', 'did:web:ops.example');
    assert.equal(await post.expect('MODE'), ':opPost MODE opPost +o');
    const not = await srv.client('opNot');
    login(srv, 'opNot', DID_B);
    not.send('WHOIS opPre');
    const lines = await not.collectUntil('318');
    assert.ok(lines.includes(':irc.test 313 opNot opPre :is an IRC operator'), lines.join('\n'));
    not.send('WHOIS opNot');
    const self = await not.collectUntil('318');
    assert.ok(!self.some((l) => l.includes(' 313 ')), 'an unlisted DID is no operator');
    assert.ok(self.includes(':irc.test 379 opNot opNot :is using modes +'), self.join('\n'));
    for (const c of [pre, post, not]) c.destroy();
  });
});

describe('identity: --require-sasl', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'require-sasl': true }); });
  after(async () => { await srv.stop(); });

  test('a guest is refused at registration with ERROR and EOF; a logged-in client registers', async () => {
    const g = await srv.connect();
    g.send('NICK rsGuest', 'USER g 0 * :g');
    assert.equal(await g.expect('ERROR'), 'ERROR :This server currently requires SASL');
    await g.waitClosed();
    assert.ok(!g.received.some((l) => l.includes(' 001 ')), 'no welcome for a guest');
    const a = await connectLoggedIn(srv, 'rsUser', DID_A);
    assert.equal(a.nick, 'rsUser');
    a.send('PING x');
    assert.equal(await a.expect('PONG'), ':irc.test PONG irc.test x');
    a.destroy();
  });
});
