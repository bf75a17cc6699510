// #12 finding 9: cloaks are keyed hashes — of the guest's address (v4 /32, v6 /64) or of the whole
// DID — never a prefix of the identity, so a cloak ban hits one identity. Templates guest-cloak /
// did-cloak; WHO, WHOIS, WHOWAS, USERHOST, +b and UBAN all see the same cloak.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runMain } from '../harness/child-server.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { ConfigError } from '../../src/config/load.js';
import type { RawClient } from '../harness/raw-client.js';
import { body, connectLoggedIn } from './identity-helpers.js';
import { cryptoResponse, ed25519Signer, loginWithDidKey, readChallenge, responseLines } from './sasl-helpers.js';

const HASH = '[a-z2-7]{16}'; // 80 bits of HMAC-SHA-256 in base32
const PW = 'cloak oper password';

/** the host part of a user's WHOIS 311, asked by `asker` */
async function whoisHost(asker: RawClient, nick: string): Promise<string> {
  asker.send(`WHOIS ${nick}`);
  const lines = await asker.collectUntil(/ 318 /);
  const l = lines.find((x) => x.includes(' 311 '));
  assert.ok(l, lines.join('\n'));
  return l.split(' ')[5]!;
}

describe('cloaks: guests', () => {
  let srv: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'freeq-cloak-'));
  before(async () => { srv = await bootServer({ 'oper-password': PW }, dir); });
  after(async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); });

  test('one cloak per address: different for 127.0.0.2 and 127.0.0.3, the same for two connections from one, the address not shown', async () => {
    const obs = await srv.client('gObs');
    const a = await srv.client('gA', { localAddress: '127.0.0.2' });
    const a2 = await srv.client('gA2', { localAddress: '127.0.0.2' });
    const b = await srv.client('gB', { localAddress: '127.0.0.3' });
    const ha = await whoisHost(obs, 'gA');
    const hb = await whoisHost(obs, 'gB');
    assert.match(ha, new RegExp(`^freeq/guest/${HASH}$`));
    assert.match(hb, new RegExp(`^freeq/guest/${HASH}$`));
    assert.notEqual(ha, hb);
    assert.equal(await whoisHost(obs, 'gA2'), ha);
    obs.send('WHOIS gA');
    assert.equal(await obs.expect(/ 311 /), `:irc.test 311 gObs gA ga ${ha} * :gA Real`);
    // the same cloak in WHO, USERHOST (to others) and the message source
    obs.send('WHO gB');
    assert.equal(await obs.expect(/ 352 /), `:irc.test 352 gObs * gb ${hb} irc.test gB H :0 gB Real`);
    obs.send('USERHOST gA gB');
    assert.equal(await obs.expect(/ 302 /), `:irc.test 302 gObs :gA=+ga@${ha} gB=+gb@${hb}`);
    a.send('PRIVMSG gObs :hi');
    assert.equal(await obs.expect('PRIVMSG'), `:gA!ga@${ha} PRIVMSG gObs hi`);
    // WHOWAS keeps the cloak the user had
    b.send('QUIT :bye');
    await b.waitClosed();
    obs.send('WHOWAS gB');
    assert.equal(await obs.expect(/ 314 /), `:irc.test 314 gObs gB gb ${hb} * :gB Real`);
    for (const c of [obs, a, a2]) c.destroy();
  });

  test('+b *!*@<cloak of A> keeps A out and lets B (another address) in', async () => {
    const op = await srv.client('bOp');
    const a = await srv.client('bA', { localAddress: '127.0.0.2' });
    const b = await srv.client('bB', { localAddress: '127.0.0.3' });
    const ha = await whoisHost(op, 'bA');
    op.send('JOIN #cloakban');
    await op.expect(/ 366 /);
    op.send(`MODE #cloakban +b *!*@${ha}`);
    assert.equal(await op.expect('MODE'), `:bOp!bop@${await whoisHost(op, 'bOp')} MODE #cloakban +b *!*@${ha}`);
    a.send('JOIN #cloakban');
    assert.equal(await a.expect(/ 474 /), ':irc.test 474 bA #cloakban :Cannot join channel (+b)');
    b.send('JOIN #cloakban');
    assert.equal(body(await b.expect('JOIN')), `:bB!bb@${await whoisHost(op, 'bB')} JOIN #cloakban`);
    for (const c of [op, a, b]) c.destroy();
  });

  test('UBAN on a guest cloak disconnects that guest only', async () => {
    const op = await srv.client('uOp');
    op.send(`OPER uOp :${PW}`);
    await op.expect(/ 381 /);
    const a = await srv.client('uA', { localAddress: '127.0.0.4' });
    const b = await srv.client('uB', { localAddress: '127.0.0.5' });
    const ha = await whoisHost(op, 'uA');
    op.send(`UBAN ADD *!*@${ha} 1h :cloak ban`);
    assert.match(await op.expect(/Added ban/), /; 1 user\(s\) disconnected$/);
    await a.waitClosed();
    b.send('PING still');
    assert.equal(await b.expect('PONG'), ':irc.test PONG irc.test still');
    op.send(`UBAN DEL *!*@${ha}`);
    await op.expect(/Removed ban/);
    for (const c of [op, b]) c.destroy();
  });

  test('the cloak of an address survives a restart (cloak-key.secret)', async () => {
    const obs = await srv.client('rObs');
    await srv.client('rA', { localAddress: '127.0.0.2' });
    const before = await whoisHost(obs, 'rA');
    srv = await srv.restart();
    const obs2 = await srv.client('rObs');
    await srv.client('rA', { localAddress: '127.0.0.2' });
    assert.equal(await whoisHost(obs2, 'rA'), before);
  });
});

describe('cloaks: DID logins', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('SASL did:key login: 900, WHOIS and WHO show freeq/key/<80-bit hash>, unrelated to the DID', async () => {
    const signer = ed25519Signer();
    const c = await srv.connect();
    c.send('CAP LS 302', 'NICK dk', 'USER dk 0 * :dk', 'CAP REQ :sasl');
    await c.expect(/ CAP \S+ ACK :?sasl$/);
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    c.send(...responseLines(await cryptoResponse(signer, await readChallenge(c))));
    const l900 = await c.expect(/ 900 /);
    const m = new RegExp(`^:irc\\.test 900 dk dk!dk@freeq/key/(${HASH}) ${signer.did} :`).exec(l900);
    assert.ok(m, l900);
    const hash = m[1]!;
    // not the old cloak (the first 8 characters of the DID's id, which anyone could mine for)
    assert.equal(hash.startsWith(signer.did.slice('did:key:'.length, 'did:key:'.length + 8).toLowerCase()), false);
    c.send('CAP END');
    await c.expect(/ (376|422) /);
    const obs = await srv.client('dkObs');
    obs.send('WHOIS dk');
    assert.equal(await obs.expect(/ 311 /), `:irc.test 311 dkObs dk dk freeq/key/${hash} * dk`);
    obs.send('WHO dk');
    assert.equal(await obs.expect(/ 352 /), `:irc.test 352 dkObs * dk freeq/key/${hash} irc.test dk H :0 dk`);
    // the same DID again (another connection) gets the same cloak
    const again = await loginWithDidKey(srv, 'dk2', signer);
    assert.equal(await whoisHost(obs, 'dk2'), `freeq/key/${hash}`);
    for (const x of [c, obs, again]) x.destroy();
  });

  test('two DIDs sharing their first 8 characters (the old cloak) get different cloaks', async () => {
    const obs = await srv.client('pObs');
    const x = await connectLoggedIn(srv, 'pX', 'did:plc:abcdefghxxxxxxxxxxxxxxxx');
    const y = await connectLoggedIn(srv, 'pY', 'did:plc:abcdefghyyyyyyyyyyyyyyyy');
    const hx = await whoisHost(obs, 'pX');
    const hy = await whoisHost(obs, 'pY');
    assert.match(hx, new RegExp(`^freeq/plc/${HASH}$`));
    assert.match(hy, new RegExp(`^freeq/plc/${HASH}$`));
    assert.notEqual(hx, hy);
    assert.notEqual(hx, 'freeq/plc/abcdefgh');
    for (const c of [obs, x, y]) c.destroy();
  });
});

describe('cloaks: templates', () => {
  test('guest-cloak {hash}.guest.example and did-cloak {hash}.{method}.users.example show in WHOIS and WHO', async () => {
    const srv = await bootServer({ 'guest-cloak': '{hash}.guest.example', 'did-cloak': '{hash}.{method}.users.example' });
    try {
      const obs = await srv.client('tObs');
      await srv.client('tG', { localAddress: '127.0.0.2' });
      await connectLoggedIn(srv, 'tD', 'did:plc:templatetemplatetemp');
      const hg = await whoisHost(obs, 'tG');
      assert.match(hg, new RegExp(`^${HASH}\\.guest\\.example$`));
      obs.send('WHO tG');
      assert.equal(await obs.expect(/ 352 /), `:irc.test 352 tObs * tg ${hg} irc.test tG H :0 tG Real`);
      const hd = await whoisHost(obs, 'tD');
      assert.match(hd, new RegExp(`^${HASH}\\.plc\\.users\\.example$`));
      obs.send('WHO tD');
      assert.equal(await obs.expect(/ 352 /), `:irc.test 352 tObs * td ${hd} irc.test tD H :0 tD Real`);
    } finally {
      await srv.stop();
    }
  });

  const bad: Array<[string, string, string]> = [
    ['guest-cloak', 'freeq/guest', 'must contain {hash}'],
    ['guest-cloak', 'guest/{method}/{hash}', 'unknown placeholder {method} (allowed: {hash})'],
    ['did-cloak', 'freeq/{methd}/{hash}', 'unknown placeholder {methd} (allowed: {hash} {method})'],
    ['did-cloak', '{hash}!user@host', 'must expand to a host part of letters, digits, ".", "/" and "-" that starts with a letter or digit, at most 63 characters (with a 16-character {hash} and a method of up to 16: "xxxxxxxxxxxxxxxx!user@host")'],
  ];
  for (const [name, value, why] of bad) {
    test(`${name} ${value}: a configuration error (exit 2), nothing created`, async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'freeq-cloak-bad-')), 'data');
      try {
        const msg = `${name} ${JSON.stringify(value)}: ${why}`;
        // refused by loadConfig with the other configuration problems (also for `config print`)
        await assert.rejects(bootServer({ [name]: value }, dir), (e: Error) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.deepEqual(e.problems, [msg]);
          return true;
        });
        assert.equal(existsSync(dir), false, 'the data directory was created');
        const r = runMain(['--data-dir', dir, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0', `--${name}`, value]);
        assert.equal(r.code, 2);
        assert.equal(r.stderr.trim(), `freeq-server: invalid configuration:\n  - ${msg}`);
      } finally {
        rmSync(resolve(dir, '..'), { recursive: true, force: true });
      }
    });
  }
});
