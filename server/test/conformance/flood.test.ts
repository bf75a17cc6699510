// Flood control over real sockets (hardening.md C1 fakelag, C2 message rate, C3 nick rate,
// A6/E WebSocket protocol pings). Fakelag stays ON here (the harness turns it off elsewhere).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

const FLOOD = { fakelag: true, 'message-rate': 5, 'message-rate-window': '2s' };

/** value of freeq_limit_hits_total{kind} */
async function limitHits(srv: TestServer, kind: string): Promise<number> {
  const text = await srv.server.context.metrics.text();
  const m = new RegExp(`^freeq_limit_hits_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Send 10 labeled PINGs in one write; arrival time (ms since the write) of each PONG, in order. */
async function tenPings(c: RawClient, tag: string): Promise<number[]> {
  const t0 = Date.now();
  c.sendRaw(Array.from({ length: 10 }, (_, i) => `@label=${tag}${i + 1} PING ${tag}${i + 1}\r\n`).join(''));
  const at: number[] = [];
  for (let i = 1; i <= 10; i++) {
    const line = await c.expect(/ PONG /, 6000);
    assert.match(line, new RegExp(`^@label=${tag}${i} :irc\\.test PONG irc\\.test :?${tag}${i}$`), 'PONGs in order, none dropped');
    at.push(Date.now() - t0);
  }
  return at;
}

describe('C1 fakelag (Ergo: burst 5, then 2 per second, 2 s cooldown) — backpressure, never drops', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ ...FLOOD, 'oper-password': 'flood oper pw' }); });
  after(async () => { await srv.stop(); });

  test('10 labeled PINGs in one write: 1–5 at once, 6 ≥ 450 ms after 5, all 10 arrive, 10 ≥ 2.4 s after 1', async () => {
    const c = await srv.client('lagger', { caps: ['labeled-response', 'batch'] });
    const before = await limitHits(srv, 'fakelag');
    const at = await tenPings(c, 'p');
    assert.ok(at[4]! - at[0]! < 50, `PONG 1–5 within 50 ms: ${at.join(',')}`);
    assert.ok(at[5]! - at[4]! >= 450, `PONG 6 ≥ 450 ms after PONG 5: ${at.join(',')}`);
    assert.ok(at[9]! - at[0]! >= 2400, `PONG 10 ≥ 2.4 s after PONG 1: ${at.join(',')}`);
    // each throttled step is ~500 ms, not more (the delay is a spacing, not a penalty)
    assert.ok(at[9]! < 4000, `done within 4 s: ${at.join(',')}`);
    assert.equal(await limitHits(srv, 'fakelag') - before, 5, 'commands 6–10 were delayed');
  });

  test('after the 2 s cooldown the burst is available again; input sent meanwhile is read in order', async () => {
    const c = await srv.client('cooler', { caps: ['labeled-response', 'batch'] });
    await tenPings(c, 'a');
    await new Promise((r) => setTimeout(r, 2200));
    const t0 = Date.now();
    c.send('PING b1', 'PING b2', 'PING b3', 'PING b4', 'PING b5');
    await c.expect(/PONG irc\.test :?b5$/);
    assert.ok(Date.now() - t0 < 300, 'a fresh burst of 5 is not delayed');
  });

  test('a delayed client does not slow anybody else', async () => {
    const slow = await srv.client('slowpoke', { caps: ['labeled-response', 'batch'] });
    const other = await srv.client('bystander');
    slow.sendRaw(Array.from({ length: 12 }, (_, i) => `PING s${i}\r\n`).join(''));
    await slow.expect(/PONG irc\.test :?s4$/);
    const t0 = Date.now();
    await other.sync();
    assert.ok(Date.now() - t0 < 200, 'the bystander gets its PONG at once');
    await slow.expect(/PONG irc\.test :?s11$/, 6000);
  });

  test('not before registration: the registration burst is never delayed', async () => {
    const c = await srv.connect();
    const t0 = Date.now();
    c.send('PING r1', 'PING r2', 'PING r3', 'PING r4', 'PING r5', 'PING r6', 'PING r7', 'PING r8', 'NICK prereg', 'USER prereg 0 * :p');
    await c.expect(/ (376|422) /);
    assert.ok(Date.now() - t0 < 300, `registered without fakelag (${Date.now() - t0} ms)`);
  });

  test('operators are exempt (Ergo nofakelag)', async () => {
    const c = await srv.client('floodop', { caps: ['labeled-response', 'batch'] });
    c.send('OPER floodop :flood oper pw');
    await c.expect(/ 381 /);
    const at = await tenPings(c, 'o');
    assert.ok(at[9]! < 300, `10 PINGs without delay: ${at.join(',')}`);
  });
});

describe('C2 message rate: 5 PRIVMSG+NOTICE per 2 s (404), TAGMSG separately (FAIL RATE_LIMITED)', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer(FLOOD); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  async function pair(a: string, b: string, chan: string, caps: string[] = []): Promise<[RawClient, RawClient]> {
    const ca = await srv.client(a, { caps });
    const cb = await srv.client(b, { caps });
    ca.send(`JOIN ${chan}`);
    await ca.expect(/ 366 /);
    cb.send(`JOIN ${chan}`);
    await cb.expect(/ 366 /);
    await new Promise((r) => setTimeout(r, 2100)); // fresh fakelag burst and message window
    return [ca, cb];
  }

  test('6 PRIVMSGs back-to-back: 5 relayed, the 6th answered 404 Flood protection', async () => {
    const [a, b] = await pair('fa', 'fb', '#flood');
    const before = await limitHits(srv, 'message-rate');
    for (let i = 1; i <= 6; i++) a.send(`PRIVMSG #flood m${i}`);
    assert.equal(await a.expect(/ 404 /), ':irc.test 404 fa #flood :Flood protection: sending too fast');
    for (let i = 1; i <= 5; i++) assert.equal(await b.expect(/ PRIVMSG /), `:fa!fa@${G} PRIVMSG #flood m${i}`);
    await b.expectNone(/m6/, 300);
    assert.equal(await limitHits(srv, 'message-rate') - before, 1);
    // private messages share the same budget; after the window, sending works again
    a.send('PRIVMSG fb :direct');
    assert.equal(await a.expect(/ 404 /), ':irc.test 404 fa fb :Flood protection: sending too fast');
    await new Promise((r) => setTimeout(r, 2100));
    a.send('PRIVMSG fb later');
    assert.equal(await b.expect(/ PRIVMSG fb /), `:fa!fa@${G} PRIVMSG fb later`);
  });

  test('6 NOTICEs: 5 delivered, the 6th dropped without any error line', async () => {
    const [a, b] = await pair('na', 'nb', '#nflood');
    for (let i = 1; i <= 6; i++) a.send(`NOTICE #nflood n${i}`);
    for (let i = 1; i <= 5; i++) assert.equal(await b.expect(/ NOTICE /), `:na!na@${G} NOTICE #nflood n${i}`);
    await a.sync();
    assert.equal(a.received.filter((l) => / (404|FAIL) /.test(l)).length, 0, 'no error for a NOTICE');
    await b.expectNone(/n6/, 300);
  });

  test('TAGMSG has its own budget: the 6th gets FAIL TAGMSG RATE_LIMITED; PRIVMSG still flows', async () => {
    const [a, b] = await pair('ta', 'tb', '#tflood', ['message-tags']);
    for (let i = 1; i <= 6; i++) a.send(`@+typing=active TAGMSG #tflood`);
    assert.equal(await a.expect(/ FAIL /), ':irc.test FAIL TAGMSG RATE_LIMITED #tflood :Sending too fast');
    for (let i = 1; i <= 5; i++) await b.expect(/ TAGMSG #tflood$/);
    a.send('PRIVMSG #tflood :text is separate');
    assert.match(await b.expect(/ PRIVMSG /), /PRIVMSG #tflood :text is separate$/);
    await b.expectNone(/ TAGMSG /, 200);
  });
});

describe('C3 nick changes: 3 per minute after registration (438)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ ...FLOOD, 'nick-change-rate': 3 }); });
  after(async () => { await srv.stop(); });

  test('4 NICK changes in 1 s: the 4th gets 438 and WHOIS shows the 3rd nick', async () => {
    const c = await srv.client('nick0');
    const before = await limitHits(srv, 'nick-rate');
    c.send('NICK nick1', 'NICK nick2', 'NICK nick3', 'NICK nick4');
    assert.equal(await c.expect(/ 438 /), ':irc.test 438 nick3 nick4 :Nick change too fast');
    c.send('WHOIS nick3');
    assert.match(await c.expect(/ 311 /), /^:irc\.test 311 nick3 nick3 /);
    c.send('WHOIS nick4');
    assert.match(await c.expect(/ 401 /), / 401 nick3 nick4 /);
    assert.equal(await limitHits(srv, 'nick-rate') - before, 1);
  });

  test('before registration NICK is not limited', async () => {
    const c = await srv.connect();
    c.send('NICK pa', 'NICK pb', 'NICK pc', 'NICK pd', 'NICK pe', 'USER pe 0 * :p');
    assert.match(await c.expect(/ 001 /), /^:irc\.test 001 pe /);
    assert.equal(c.received.filter((l) => / 438 /.test(l)).length, 0);
  });
});

describe('WebSocket protocol pings (A6 / seed 003 §3.1): every ws-ping-interval, closed after 2 missed', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ ...FLOOD, 'ws-ping-interval': '1s' }); });
  after(async () => { await srv.stop(); });

  function open(autoPong: boolean): Promise<{ ws: WebSocket; pings: number; closedAt: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.webPort}/irc`, ['text.ircv3.net'], { autoPong, perMessageDeflate: false });
      const st = { ws, pings: 0, closedAt: new Promise<number>((r) => ws.on('close', () => r(Date.now()))) };
      ws.on('ping', () => { st.pings++; });
      ws.on('error', () => {});
      ws.once('open', () => resolve(st));
      ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
    });
  }

  test('a client that never answers is terminated after two missed pongs; one that answers stays', async () => {
    const t0 = Date.now();
    const [mute, alive] = await Promise.all([open(false), open(true)]);
    for (const [c, n] of [[mute, 'wsmute'], [alive, 'wsalive']] as const) {
      c.ws.send(`NICK ${n}`);
      c.ws.send(`USER ${n} 0 * :${n}`);
    }
    const closedAt = await Promise.race([mute.closedAt, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('mute client not closed')), 6000))]);
    const after = closedAt - t0;
    assert.ok(after >= 1800 && after < 5000, `closed after ~3 intervals (${after} ms)`);
    assert.ok(mute.pings >= 2, `two pings went unanswered (${mute.pings})`);
    // the answering client is still there well after that, and still talks IRC
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(alive.ws.readyState, WebSocket.OPEN);
    assert.ok(alive.pings >= 3, `the live client was pinged too (${alive.pings})`);
    const pong = new Promise<string>((r) => alive.ws.on('message', (d: Buffer) => { if (d.toString().includes('PONG')) r(d.toString()); }));
    alive.ws.send('PING still-alive');
    assert.match(await pong, /PONG irc\.test :?still-alive$/);
    alive.ws.close();
  });
});
