import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

describe('registration', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('welcome burst 001-005, LUSERS and the default MOTD without a motd-file (#16)', async () => {
    const c = await srv.connect();
    c.send('NICK alice', 'USER alice 0 * :Alice Liddell');
    const lines = await c.collectUntil(/ 376 /);
    const cmds = lines.map((l) => parse(l).command);
    for (const n of ['001', '002', '003', '004', '005', '251', '252', '253', '254', '255', '265', '266', '375', '372', '376']) assert.ok(cmds.includes(n), `missing ${n}`);
    assert.equal(lines[0], `:irc.test 001 alice :Welcome to the freeq IRC Network alice!alice@${G}`);
    const isupport = lines.filter((l) => parse(l).command === '005').flatMap((l) => parse(l).params.slice(1, -1));
    for (const tok of ['CASEMAPPING=rfc1459', 'NICKLEN=64', 'CHANNELLEN=64', 'TOPICLEN=390', 'UTF8ONLY', 'PREFIX=(ov)@+', 'CHANMODES=beI,k,l,imnpst', 'MODES=20', 'WHOX', 'BOT=B']) {
      assert.ok(isupport.includes(tok), `005 lacks ${tok}`);
    }
    for (const l of lines.filter((x) => parse(x).command === '005')) assert.ok(parse(l).params.length - 2 <= 13, 'at most 13 tokens per 005');
  });

  test('MOTD with an empty or spaced target: 402 with *, never an internal error (found by the live-session fuzz: "@ MOTD :")', async () => {
    const c = await srv.client('motdfuzz');
    c.sendRaw('@ MOTD :\r\n');
    assert.equal(await c.expect(' 402 '), ':irc.test 402 motdfuzz * :No such server');
    c.send('MOTD :two words');
    assert.equal(await c.expect(' 402 '), ':irc.test 402 motdfuzz * :No such server');
    c.send('MOTD other.server');
    assert.equal(await c.expect(' 402 '), ':irc.test 402 motdfuzz other.server :No such server');
    assert.ok(!c.received.some((l) => l.includes('Internal error')));
  });

    test('commands before registration get 451, PING works before registration', async () => {
    const c = await srv.connect();
    c.send('JOIN #x');
    assert.equal(await c.expect('451'), ':irc.test 451 * :You have not registered');
    c.send('PING abc');
    assert.equal(await c.expect('PONG'), ':irc.test PONG irc.test abc');
  });

  test('NICK errors: 431, 432, 433', async () => {
    const a = await srv.client('taken1');
    const c = await srv.connect();
    c.send('NICK');
    assert.equal(await c.expect('431'), ':irc.test 431 * :No nickname given');
    c.send('NICK 1bad');
    assert.equal(await c.expect('432'), ':irc.test 432 * 1bad :Erroneous nickname');
    // a nick that cannot be a middle parameter (a space; found by the live-session property test)
    // is echoed as `*`, never as a broken line
    c.send('NICK : ');
    assert.equal(await c.expect('432'), ':irc.test 432 * * :Erroneous nickname');
    c.send('NICK ::x');
    assert.equal(await c.expect('432'), ':irc.test 432 * * :Erroneous nickname');
    c.send('NICK ' + 'a'.repeat(65));
    await c.expect('432');
    c.send('NICK TAKEN1');
    assert.equal(await c.expect('433'), ':irc.test 433 * TAKEN1 :Nickname is already in use');
    c.send('NICK ' + 'a'.repeat(64), 'USER u 0 * :r');
    await c.expect('001');
    a.destroy();
  });

  test('USER after registration gets 462; too few params get 461', async () => {
    const c = await srv.client('reuser');
    c.send('USER a b c d');
    assert.equal(await c.expect('462'), ':irc.test 462 reuser :You may not reregister');
    c.send('USER a');
    // after registration USER is 462 regardless; check 461 with another command
    c.send('PART');
    assert.equal(await c.expect('461'), ':irc.test 461 reuser PART :Not enough parameters');
  });

  test('unknown command gets 421 with a safe parameter', async () => {
    const c = await srv.client('unk');
    c.send('FROBNICATE x');
    assert.equal(await c.expect('421'), ':irc.test 421 unk FROBNICATE :Unknown command');
  });
});

describe('server password', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'server-password': 'sesame-street' }); });
  after(async () => { await srv.stop(); });

  test('wrong PASS: 464 then ERROR and close', async () => {
    const c = await srv.connect();
    c.send('PASS nope', 'NICK p1', 'USER p 0 * :p');
    assert.equal(await c.expect('464'), ':irc.test 464 p1 :Password incorrect');
    await c.expect('ERROR');
    await c.waitClosed();
  });

  test('no PASS: refused', async () => {
    const c = await srv.connect();
    c.send('NICK p2', 'USER p 0 * :p');
    await c.expect('464');
    await c.waitClosed();
  });

  test('right PASS registers', async () => {
    const c = await srv.connect();
    c.send('PASS sesame-street', 'NICK p3', 'USER p 0 * :p');
    await c.expect('001');
  });
});
