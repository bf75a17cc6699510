import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { bye, join, tracked } from './channels-helpers.js';
import { connectLoggedIn, DID_A } from './identity-helpers.js';

// #12 finding 8: guests created ~40 persistent channels/s per IP and empty channels never expired.
// Caps on channel creation (per connection, per IP, per founding DID, server-wide; 405 beyond;
// operators exempt) and the expiry of empty channels without a DID founder.

const RATE = (nick: string, ch: string) => `:irc.test 405 ${nick} ${ch} :Too many channels created. Please wait a while and try again.`;
const NOSUCH = (nick: string, ch: string) => `:irc.test 403 ${nick} ${ch} :No such channel`;
const OPER_PW = 'lifecycle-oper-pw';

/** `MODE <ch>` → the 324 line, or the 403 when the channel does not exist */
async function modeOf(c: RawClient, ch: string): Promise<string> {
  c.send(`MODE ${ch}`);
  return c.expect(/ (324|403) /);
}

/** freeq_limit_hits_total{kind} of this server */
async function limitHits(srv: TestServer, kind: string): Promise<number> {
  const m = (await srv.server.context.metrics.text()).match(new RegExp(`^freeq_limit_hits_total\\{kind="${kind}"\\} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

/** JOIN that must be refused: the 405 line, and no JOIN echo */
async function refusedJoin(c: RawClient, ch: string): Promise<string> {
  c.send(`JOIN ${ch}`);
  return c.expect(/ (405|JOIN|366) /);
}

describe('channel creation per connection (channel-creation-per-connection)', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer({ 'channel-creation-per-connection': 2, 'oper-password': OPER_PW }); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('the 3rd creation by one connection gets 405 and creates nothing; joining existing channels is not limited', async () => {
    const a = await client('cpa');
    await join(a, '#pc1');
    await join(a, '#pc2');
    assert.equal(await refusedJoin(a, '#pc3'), RATE('cpa', '#pc3'));
    assert.equal(await modeOf(a, '#pc3'), NOSUCH('cpa', '#pc3'), 'the refused channel does not exist');
    assert.equal(await limitHits(srv, 'channel-create-rate'), 1);
    // another connection from the same (loopback, per-IP exempt) address has its own count
    const b = await client('cpb');
    await join(b, '#pc3');
    assert.match(await modeOf(b, '#pc3'), /^:irc\.test 324 cpb #pc3 \+nt$/);
    // joining a channel that exists is no creation
    await join(a, '#pc3');
    // a JOIN/PART of an empty default channel re-creates it: that counts too
    a.send('PART #pc1');
    await a.expect(/ PART #pc1$/);
    assert.equal(await refusedJoin(a, '#pc1'), RATE('cpa', '#pc1'));
  });

  test('operators are exempt', async () => {
    const o = await client('cpo');
    o.send(`OPER cpo ${OPER_PW}`);
    await o.expect(' 381 ');
    for (const ch of ['#po1', '#po2', '#po3']) await join(o, ch);
    assert.match(await modeOf(o, '#po3'), /^:irc\.test 324 cpo #po3 \+nt$/);
  });
});

describe('channel creation per IP (channel-creation-per-ip)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({ 'channel-creation-per-ip': 3, 'channel-creation-per-connection': 100, 'channel-creation-exempt': [] });
  });
  after(async () => { await srv.stop(); });

  test('the 4th creation from one IP, over two connections, gets 405; another IP is not affected', async () => {
    const a = await srv.client('ipa', { localAddress: '127.0.0.2' });
    const b = await srv.client('ipb', { localAddress: '127.0.0.2' });
    await join(a, '#ip1');
    await join(a, '#ip2');
    await join(b, '#ip3');
    assert.equal(await refusedJoin(b, '#ip4'), RATE('ipb', '#ip4'));
    assert.equal(await refusedJoin(a, '#ip4'), RATE('ipa', '#ip4'));
    assert.equal(await modeOf(a, '#ip4'), NOSUCH('ipa', '#ip4'));
    const c = await srv.client('ipc', { localAddress: '127.0.0.3' });
    await join(c, '#ip4');
    // joining the channel someone else created is fine for the capped IP
    await join(a, '#ip4');
    await bye(a, b, c);
  });
});

describe('server-wide channel cap (max-channels-total)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'max-channels-total': 3 }); });
  after(async () => { await srv.stop(); });

  test('at the cap a new channel gets 405, unless an empty expiring channel can be reclaimed (the oldest goes)', async () => {
    const a = await srv.client('gta');
    for (const ch of ['#g1', '#g2', '#g3']) await join(a, ch);
    assert.equal(await refusedJoin(a, '#g4'), ':irc.test 405 gta #g4 :The server has too many channels. Please try again later.');
    assert.equal(await modeOf(a, '#g4'), NOSUCH('gta', '#g4'));
    // #g1 and #g2 keep a topic when left empty: they wait for channel-expiry (24 h by default)
    a.send('TOPIC #g1 :one', 'TOPIC #g2 :two', 'PART #g1', 'PART #g2');
    await a.expect(/ PART #g2$/);
    await join(a, '#g4'); // reclaims #g1, empty the longest
    assert.equal(await modeOf(a, '#g1'), NOSUCH('gta', '#g1'));
    assert.match(await modeOf(a, '#g2'), /^:irc\.test 324 gta #g2 \+nt$/);
    await bye(a);
  });
});

describe('channels founded per DID (max-channels-per-account)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'max-channels-per-account': 2 }); });
  after(async () => { await srv.stop(); });

  test('the 3rd channel founded by one DID gets 405, also after a restart', async () => {
    const a = await connectLoggedIn(srv, 'fda', DID_A);
    await join(a, '#f1');
    await join(a, '#f2');
    assert.equal(await refusedJoin(a, '#f3'), ':irc.test 405 fda #f3 :You have founded the maximum number of channels (2)');
    assert.equal(await modeOf(a, '#f3'), NOSUCH('fda', '#f3'));
    srv = await srv.restart();
    const again = await connectLoggedIn(srv, 'fda', DID_A);
    assert.equal(await refusedJoin(again, '#f3'), ':irc.test 405 fda #f3 :You have founded the maximum number of channels (2)');
    // a guest may still create channels
    const g = await srv.client('fdg');
    await join(g, '#f3');
    await bye(again, g);
  });
});

describe('expiry of empty channels (channel-expiry)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'channel-expiry': '1500ms' }); });
  after(async () => { await srv.stop(); });

  /** TOPIC query: the 332 (kept) or 403 (gone) line */
  async function topicOf(c: RawClient, ch: string): Promise<string> {
    c.send(`TOPIC ${ch}`);
    return c.expect(/ (332|331|403) /);
  }

  async function until(f: () => Promise<boolean>, ms: number): Promise<boolean> {
    const stop = Date.now() + ms;
    while (Date.now() < stop) {
      if (await f()) return true;
      await sleep(100);
    }
    return false;
  }

  test('an empty guest channel with a topic is kept for the grace period, then dropped, also from the database', async () => {
    const a = await srv.client('exa');
    const w = await srv.client('exw');
    await join(a, '#exp');
    a.send('TOPIC #exp :still here', 'PART #exp');
    await a.expect(/ PART #exp$/);
    assert.equal(await topicOf(w, '#exp'), ':irc.test 332 exw #exp :still here');
    assert.ok(await until(async () => (await topicOf(w, '#exp')) === NOSUCH('exw', '#exp'), 5000), 'dropped after the expiry');
    await bye(a, w);
    srv = await srv.restart();
    const c = await srv.client('exc');
    assert.equal(await topicOf(c, '#exp'), NOSUCH('exc', '#exp'), 'not restored: its row was deleted');
    await bye(c);
  });

  test('a channel emptied before a restart still expires after it; a DID founder\'s channel is kept', async () => {
    const a = await srv.client('exr');
    const f = await connectLoggedIn(srv, 'exf', DID_A);
    await join(a, '#exr');
    await join(f, '#founded');
    a.send('TOPIC #exr :before restart', 'PART #exr');
    await a.expect(/ PART #exr$/);
    f.send('PART #founded');
    await f.expect(/ PART #founded$/);
    srv = await srv.restart();
    const c = await srv.client('exc2');
    assert.equal(await topicOf(c, '#exr'), ':irc.test 332 exc2 #exr :before restart', 'restored while in its grace period');
    assert.ok(await until(async () => (await topicOf(c, '#exr')) === NOSUCH('exc2', '#exr'), 5000), 'dropped after the expiry');
    assert.match(await modeOf(c, '#founded'), /^:irc\.test 324 exc2 #founded \+nt$/, 'the founded channel stays');
    srv = await srv.restart();
    const d = await srv.client('exc3');
    assert.equal(await topicOf(d, '#exr'), NOSUCH('exc3', '#exr'));
    assert.match(await modeOf(d, '#founded'), /^:irc\.test 324 exc3 #founded \+nt$/);
    await bye(d);
  });

  test('joining an empty channel in its grace period keeps it', async () => {
    const a = await srv.client('exj');
    await join(a, '#back');
    a.send('TOPIC #back :kept here', 'PART #back');
    await a.expect(/ PART #back$/);
    await join(a, '#back');
    await sleep(2500);
    assert.equal(await topicOf(a, '#back'), ':irc.test 332 exj #back :kept here');
    await bye(a);
  });
});

describe('channel-expiry 0', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'channel-expiry': 0 }); });
  after(async () => { await srv.stop(); });

  test('an empty guest channel is dropped when its last member leaves, as on classic IRC', async () => {
    const a = await srv.client('ez');
    await join(a, '#zero');
    a.send('TOPIC #zero :gone soon', 'MODE #zero +s', 'PART #zero');
    await a.expect(/ PART #zero$/);
    assert.equal(await modeOf(a, '#zero'), NOSUCH('ez', '#zero'));
    await bye(a);
  });
});
