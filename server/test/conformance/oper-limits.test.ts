// #12 finding 17: OPER guessing was limited per connection only. Failed attempts are now also
// limited per IP (IPv6: /64) and server-wide; an attempt over a budget gets 263 RPL_TRYAGAIN —
// even with the right password, which is never checked then — instead of 464.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';

const PW = 'correct horse battery';
const TRY_AGAIN = (nick: string) => `:irc.test 263 ${nick} OPER :Please wait a while and try again.`;

async function limitHits(srv: TestServer, kind: string): Promise<number> {
  const m = new RegExp(`^freeq_limit_hits_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(await srv.server.context.metrics.text());
  return m ? Number(m[1]) : 0;
}

/** one OPER on a fresh connection from `from` (the per-connection interval never applies) */
async function operOnce(srv: TestServer, nick: string, from: string, password: string): Promise<{ c: RawClient; reply: string }> {
  const c = await srv.client(nick, { localAddress: from });
  c.send(`OPER ${nick} :${password}`);
  return { c, reply: await c.expect(/ (263|381|464) /) };
}

describe('OPER failures per IP and server-wide', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({ 'oper-password': PW, 'oper-max-failures-per-ip': 3, 'oper-max-failures': 5, 'oper-failure-window': '10m' });
  });
  after(async () => { await srv.stop(); });

  test('3 failures from one IP on 3 connections → a 4th connection from it gets 263 even with the right password; another IP is unaffected until the server-wide cap', async () => {
    for (let i = 1; i <= 3; i++) {
      const { reply } = await operOnce(srv, `guess${i}`, '127.0.0.2', `wrong-${i}`);
      assert.equal(reply, `:irc.test 464 guess${i} :Password incorrect`);
    }
    // the budget of 127.0.0.2 is spent: the right password is refused unchecked
    const { c: blocked, reply } = await operOnce(srv, 'rightpw', '127.0.0.2', PW);
    assert.equal(reply, TRY_AGAIN('rightpw'));
    await blocked.expectNone(/ 381 |MODE rightpw/, 100);
    assert.equal(srv.server.context.world.findUser('rightpw')?.isOper, false);
    assert.equal(await limitHits(srv, 'oper-ip'), 1);

    // another address still gets its password checked
    const { reply: ok } = await operOnce(srv, 'otherip', '127.0.0.3', PW);
    assert.equal(ok, ':irc.test 381 otherip :You are now an IRC operator');

    // two more failures elsewhere fill the server-wide budget (5): now every address gets 263
    for (const [nick, from] of [['far1', '127.0.0.4'], ['far2', '127.0.0.5']] as const) {
      assert.equal((await operOnce(srv, nick, from, 'nope-nope')).reply, `:irc.test 464 ${nick} :Password incorrect`);
    }
    const { reply: global } = await operOnce(srv, 'latecomer', '127.0.0.6', PW);
    assert.equal(global, TRY_AGAIN('latecomer'));
    assert.equal(srv.server.context.world.findUser('latecomer')?.isOper, false);
    assert.equal(await limitHits(srv, 'oper-global'), 1);
  });
});

describe('OPER: limit-exempt addresses are outside the server-wide budget', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({ 'oper-password': PW, 'oper-max-failures-per-ip': 3, 'oper-max-failures': 2, 'oper-failure-window': '10m', 'limit-exempt': '127.0.0.20' });
  });
  after(async () => { await srv.stop(); });

  test('with the server-wide budget spent by others, an exempt address still gets its password checked; its own failures do not count toward it, its per-IP budget still applies', async () => {
    // the exempt address fails twice: the server-wide budget (2) is not touched
    for (const nick of ['ex1', 'ex2']) assert.equal((await operOnce(srv, nick, '127.0.0.20', 'wrong-wrong')).reply, `:irc.test 464 ${nick} :Password incorrect`);
    assert.equal((await operOnce(srv, 'plain1', '127.0.0.21', PW)).reply, ':irc.test 381 plain1 :You are now an IRC operator');
    // an attacker elsewhere spends it
    for (const [nick, from] of [['atk1', '127.0.0.22'], ['atk2', '127.0.0.23']] as const) {
      assert.equal((await operOnce(srv, nick, from, 'nope-nope')).reply, `:irc.test 464 ${nick} :Password incorrect`);
    }
    assert.equal((await operOnce(srv, 'plain2', '127.0.0.21', PW)).reply, TRY_AGAIN('plain2'));
    // the exempt address is not locked out with everyone else
    assert.equal((await operOnce(srv, 'exok', '127.0.0.20', PW)).reply, ':irc.test 381 exok :You are now an IRC operator');
    // but its own per-IP budget (3) holds
    assert.equal((await operOnce(srv, 'ex3', '127.0.0.20', 'wrong-again')).reply, ':irc.test 464 ex3 :Password incorrect');
    assert.equal((await operOnce(srv, 'ex4', '127.0.0.20', PW)).reply, TRY_AGAIN('ex4'));
  });
});

describe('OPER failure budget ages out', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'oper-password': PW, 'oper-max-failures-per-ip': 1, 'oper-failure-window': '400ms' }); });
  after(async () => { await srv.stop(); });

  test('after oper-failure-window the right password works again from that IP', async () => {
    assert.equal((await operOnce(srv, 'fumble', '127.0.0.7', 'typo-typo')).reply, ':irc.test 464 fumble :Password incorrect');
    assert.equal((await operOnce(srv, 'retry1', '127.0.0.7', PW)).reply, TRY_AGAIN('retry1'));
    await new Promise((r) => setTimeout(r, 450));
    assert.equal((await operOnce(srv, 'retry2', '127.0.0.7', PW)).reply, ':irc.test 381 retry2 :You are now an IRC operator');
  });

  test('a successful OPER costs nothing: the budget counts failures only', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await operOnce(srv, `good${i}`, '127.0.0.8', PW)).reply, `:irc.test 381 good${i} :You are now an IRC operator`);
    }
  });
});

test('defaults: 5 failures per IP and 30 server-wide per 10 minutes', () => {
  const cfg = loadConfig({ env: {} });
  assert.equal(cfg.operMaxFailuresPerIp, 5);
  assert.equal(cfg.operMaxFailures, 30);
  assert.equal(cfg.operFailureWindow, 600_000);
});
