// Every time-based limit, over real sockets through startServer with a shiftable clock
// (admission-helpers): the real session code runs and the test advances the server's clock
// instead of sleeping. Production defaults throughout (registration 60 s, PING after 90 s idle,
// closed after 150 s, one OPER check per 10 s, SASL challenges valid 60 s); the only real waiting
// is for the once-a-second session sweep to notice.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootAdmission, type AdmissionServer } from './admission-helpers.js';
import { cryptoResponse, ed25519Signer, readChallenge, responseLines, startSasl } from './sasl-helpers.js';

/** longer than one sweep tick (1 s with the defaults) */
const TICK = 1300;

describe('registration timeout (A4), fake clock', () => {
  let s: AdmissionServer;
  before(async () => { s = await bootAdmission({ fakelag: false }); });
  after(async () => { await s.stop(); });

  test('an unregistered connection is closed after 60 s, not before; registered ones stay', async () => {
    assert.equal(s.server.context.config.registrationTimeout, 60_000);
    const done = await s.client('regdone');
    const c = await s.connect();
    c.send('NICK slowpoke');
    await c.sync(); // the server has accepted the connection (its clock starts there)
    s.advance(55_000);
    await c.expectNone('ERROR', TICK);
    assert.ok(!c.ended);
    s.advance(6_000);
    assert.equal(await c.expect('ERROR', 3000), 'ERROR :Registration timed out');
    await c.waitClosed();
    await done.expectNone('ERROR', 10);
    await done.sync();
  });
});

describe('PING interval and ping timeout (A6), fake clock', () => {
  let s: AdmissionServer;
  before(async () => { s = await bootAdmission({ fakelag: false }); });
  after(async () => { await s.stop(); });

  test('PING after 90 s idle, closed after 150 s; a client that answers stays', async () => {
    const cfg = s.server.context.config;
    assert.deepEqual([cfg.pingInterval, cfg.pingTimeout], [90_000, 150_000]);
    const silent = await s.client('silent');
    const answers = await s.client('answers');
    s.advance(86_000);
    await silent.expectNone('PING', TICK);
    s.advance(5_000);
    assert.equal(await silent.expect('PING', 3000), 'PING irc.test');
    assert.equal(await answers.expect('PING', 3000), 'PING irc.test');
    answers.send('PONG irc.test');
    await answers.sync();
    // one PING per idle period, not one per sweep
    s.advance(46_000);
    await silent.expectNone(/^PING|^ERROR/, TICK);
    assert.ok(!silent.ended, 'not closed before ping-timeout');
    s.advance(10_000);
    assert.equal(await silent.expect('ERROR', 3000), 'ERROR :Ping timeout: 150 seconds');
    await silent.waitClosed();
    await answers.expectNone(/^PING|^ERROR/, 10);
    await answers.sync();
    assert.ok(!answers.ended);
  });
});

describe('OPER attempt interval (D2), fake clock', () => {
  const PW = 'clock oper password';
  let s: AdmissionServer;
  before(async () => { s = await bootAdmission({ fakelag: false, 'oper-password': PW }); });
  after(async () => { await s.stop(); });

  test('one password check per 10 s: refused unchecked (263) at 9 s, checked at 10 s', async () => {
    assert.equal(s.server.context.config.operAttemptInterval, 10_000);
    const c = await s.client('operclock');
    const hits = await s.limitHits('oper-rate');
    c.send('OPER x wrong-password');
    assert.equal(await c.expect(/ (381|464) /), ':irc.test 464 operclock :Password incorrect');
    // a throttled attempt gets its own reply, never 464 (#12 finding 17), and its password is not checked
    c.send(`OPER x :${PW}`);
    assert.equal(await c.expect(/ (381|464|263) /), ':irc.test 263 operclock OPER :Please wait a while and try again.');
    s.advance(9_000);
    c.send(`OPER x :${PW}`);
    assert.equal(await c.expect(/ (381|464|263) /), ':irc.test 263 operclock OPER :Please wait a while and try again.');
    assert.equal(await s.limitHits('oper-rate'), hits + 2);
    s.advance(1_000);
    c.send(`OPER x :${PW}`);
    assert.equal(await c.expect(/ (381|464) /), ':irc.test 381 operclock :You are now an IRC operator');
  });
});

describe('UBAN expiry (I3), fake clock', () => {
  const PW = 'clock uban password';
  let s: AdmissionServer;
  before(async () => { s = await bootAdmission({ fakelag: false, 'oper-password': PW }); });
  after(async () => { await s.stop(); });

  async function banned(ip: string, nick: string): Promise<boolean> {
    const c = await s.connect({ localAddress: ip });
    c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
    const lines = await c.collectUntil(/ (001|465) |^ERROR :You are banned from this server/);
    c.destroy();
    return !/ 001 /.test(lines.at(-1)!);
  }

  test('a 1-minute ban refuses the address until the minute is over, then is gone from LIST', async () => {
    const op = await s.client('clockop');
    op.send(`OPER x :${PW}`);
    await op.expect(/ 381 /);
    op.send('UBAN ADD 127.0.0.10 1m :one minute');
    assert.match(await op.expect(/ NOTICE /), /^:irc\.test NOTICE clockop :Added ban: 127\.0\.0\.10 \(ip\) set by clockop at \S+, expires \S+: one minute; 0 user\(s\) disconnected$/);
    assert.equal(await banned('127.0.0.10', 'ten1'), true);
    s.advance(58_000);
    assert.equal(await banned('127.0.0.10', 'ten2'), true, 'still banned before the minute is over');
    s.advance(2_001);
    assert.equal(await banned('127.0.0.10', 'ten3'), false, 'expired');
    op.send('UBAN LIST');
    assert.equal(await op.expect(/End of UBAN LIST/), ':irc.test NOTICE clockop :End of UBAN LIST (0 bans)');
  });
});

describe('SASL ATPROTO-CHALLENGE validity (D1), fake clock', () => {
  let s: AdmissionServer;
  // the registration timeout (60 s) would otherwise close the unregistered client first
  before(async () => { s = await bootAdmission({ fakelag: false, 'registration-timeout': '10m' }); });
  after(async () => { await s.stop(); });

  test('a correctly signed answer after 61 s → 904; one after 58 s → 903', async () => {
    assert.equal(s.server.context.config.challengeTimeoutSecs, 60);
    const signer = ed25519Signer();
    const c = await s.connect();
    await startSasl(c, 'slowsasl');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const stale = await cryptoResponse(signer, await readChallenge(c));
    s.advance(61_000);
    c.send(...responseLines(stale));
    assert.equal(await c.expect(/ 90\d /), ':irc.test 904 slowsasl :SASL authentication failed');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const fresh = await cryptoResponse(signer, await readChallenge(c));
    s.advance(58_000);
    c.send(...responseLines(fresh));
    assert.equal(await c.expect(/ 90[2-9] /), ':irc.test 903 slowsasl :SASL authentication successful');
  });
});
