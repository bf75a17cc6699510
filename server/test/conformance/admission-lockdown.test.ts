import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootAdmission, expectRefused, operUp, wsOpen, wsRegister, type AdmissionServer } from './admission-helpers.js';
import { cryptoResponse, ed25519Signer, readChallenge, responseLines, startSasl } from './sasl-helpers.js';

const OPER_PW = 'lockdown-oper-pw';
const CLOSED = 'ERROR :This server is temporarily closed to new connections';
const SASL_ONLY = 'ERROR :This server currently requires SASL';

describe('I3 LOCKDOWN', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'oper-password': OPER_PW, 'limit-exempt': '127.0.0.9' }); });
  after(async () => { await srv.stop(); });

  test('non-operators get 481; operators see the level', async () => {
    const u = await srv.client('plainu', { localAddress: '127.0.0.2' });
    u.send('LOCKDOWN closed');
    assert.equal(await u.expect('481'), ':irc.test 481 plainu :Permission Denied- You do not have the correct operator privileges');
    assert.equal(srv.server.context.world.lockdown, 'off');
    const o = await srv.client('lockop', { localAddress: '127.0.0.3' });
    await operUp(o, OPER_PW);
    o.send('LOCKDOWN');
    assert.equal(await o.expect('NOTICE'), ':irc.test NOTICE lockop :Lockdown level is off: new connections are admitted normally');
    o.send('LOCKDOWN bogus');
    assert.equal(await o.expect('FAIL'), ':irc.test FAIL LOCKDOWN INVALID_PARAMS :Level must be off, sasl-only or closed');
  });

  test('closed: new TCP connections get the ERROR + EOF, WS 503; exempt addresses and existing clients are unaffected; opers are told', async () => {
    const existing = await srv.client('existing', { localAddress: '127.0.0.4' });
    const o = await srv.client('lockop2', { localAddress: '127.0.0.5' });
    await operUp(o, OPER_PW);
    const other = await srv.client('otherop', { localAddress: '127.0.0.6' });
    await operUp(other, OPER_PW);
    o.send('LOCKDOWN closed');
    const wallops = ':irc.test WALLOPS :LOCKDOWN: lockop2 set the lockdown level to closed (was off): new connections are refused except from limit-exempt addresses';
    assert.equal(await o.expect('WALLOPS'), wallops);
    assert.equal(await other.expect('WALLOPS'), wallops);
    await existing.expectNone('WALLOPS', 100);
    assert.equal(srv.server.context.world.lockdown, 'closed');
    assert.match(srv.logs(), /"from":"off","to":"closed","msg":"lockdown level changed"/);

    const c = await srv.connect({ localAddress: '127.0.0.7' });
    await expectRefused(c, CLOSED, 1000);
    // from 127.0.0.1 too (a trusted proxy address, sending a line first)
    const d = await srv.connect();
    d.send('NICK d', 'USER d 0 * :d');
    await expectRefused(d, CLOSED, 1000);
    const w = await wsOpen(srv.webPort, { localAddress: '127.0.0.7' });
    assert.equal(w.status, 503);
    assert.equal(w.body, 'This server is temporarily closed to new connections\n');

    const ex = await srv.client('exempted', { localAddress: '127.0.0.9' });
    ex.send('PING in');
    await ex.expect('PONG');
    existing.send('PING still-here');
    assert.equal(await existing.expect('PONG'), ':irc.test PONG irc.test still-here');
    assert.equal(await srv.limitHits('lockdown'), 3);

    o.send('LOCKDOWN');
    assert.match(await o.expect('NOTICE'), /Lockdown level is closed: /);
    o.send('LOCKDOWN off');
    await o.expect('WALLOPS');
    await srv.client('afteroff', { localAddress: '127.0.0.7' });
  });

  test('sasl-only: a guest gets the SASL ERROR + EOF; a did:key ATPROTO-CHALLENGE user registers; existing guests stay', async () => {
    const guestBefore = await srv.client('guestbefore', { localAddress: '127.0.0.10' });
    const o = await srv.client('lockop3', { localAddress: '127.0.0.11' });
    await operUp(o, OPER_PW);
    o.send('LOCKDOWN SASL-ONLY');
    assert.match(await o.expect('WALLOPS'), /set the lockdown level to sasl-only \(was off\): new clients must log in with SASL to register$/);

    const g = await srv.connect({ localAddress: '127.0.0.12' });
    g.send('NICK guest', 'USER guest 0 * :g');
    await expectRefused(g, SASL_ONLY, 1000);

    const s = ed25519Signer();
    const c = await srv.connect({ localAddress: '127.0.0.13' });
    await startSasl(c, 'sasluser');
    c.send('AUTHENTICATE ATPROTO-CHALLENGE');
    const ch = await readChallenge(c);
    c.send(...responseLines(await cryptoResponse(s, ch)));
    await c.expect('903');
    c.send('CAP END');
    assert.match(await c.expect('001'), /^:irc\.test 001 sasluser :Welcome to the freeq IRC Network sasluser!sasluser@\S+$/);
    assert.equal(srv.server.context.world.findUser('sasluser')?.account, s.did);
    guestBefore.send('PING ok');
    await guestBefore.expect('PONG');

    // a WS guest is refused the same way
    const w = await wsOpen(srv.webPort, { localAddress: '127.0.0.14' });
    await assert.rejects(wsRegister(w.ws, 'wsguest'), /closed; saw:\nERROR :This server currently requires SASL$/);

    o.send('LOCKDOWN off');
    await o.expect('WALLOPS');
    await srv.client('guestafter', { localAddress: '127.0.0.12' });
  });
});
