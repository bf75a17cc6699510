import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import type WebSocket from 'ws';
import { RawClient } from '../harness/raw-client.js';
import { bootAdmission, expectRefused, wsOpen, wsRegister, type AdmissionServer } from './admission-helpers.js';

const PER_IP = 'ERROR :Too many connections from your IP';
const THROTTLED = 'ERROR :You have attempted to connect too many times within a short duration. Wait a while, and you will be able to connect.';
const FULL = 'ERROR :Server is full';

// ---- A1: concurrent connections per IP key, one counter across TCP and WebSocket ------------------

describe('A1 per-IP limit (default 20, loopback counted)', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission(); });
  after(async () => { await srv.stop(); });

  test('10 TCP + 10 WS from 127.0.0.1 register; the 21st (TCP: ERROR + EOF, WS: 429) is refused; QUIT one → a new one registers', async () => {
    const tcp: RawClient[] = [];
    for (let i = 0; i < 10; i++) tcp.push(await srv.client(`tcp${i}`));
    const ws: WebSocket[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await wsOpen(srv.webPort);
      assert.equal(r.status, undefined, `WS ${i} upgraded`);
      await wsRegister(r.ws, `ws${i}`);
      ws.push(r.ws);
    }
    // no proxy is trusted by default (#12 finding 7): refused at accept, before any byte is read
    const t0 = Date.now();
    const extra = await srv.connect();
    extra.send('NICK extra', 'USER extra 0 * :x');
    await expectRefused(extra, PER_IP, 1000);
    assert.ok(Date.now() - t0 < 1000);

    const w = await wsOpen(srv.webPort);
    assert.equal(w.status, 429);
    assert.equal(w.body, 'Too many connections from your IP\n');

    // another address is not affected
    const other = await srv.client('otherip', { localAddress: '127.0.0.2' });
    other.send('PING still');
    await other.expect('PONG');

    await srv.quit(tcp[3]!);
    const again = await srv.client('again');
    again.send('PING back');
    assert.equal(await again.expect('PONG'), ':irc.test PONG irc.test back');
    // the slot is taken again: WS is refused
    assert.equal((await wsOpen(srv.webPort)).status, 429);
    // a WS client leaving frees a slot for a TCP client
    ws[0]!.close();
    await new Promise((r) => ws[0]!.once('close', r));
    await srv.settle(20); // 19 of ours + otherip
    await srv.client('afterws');
    for (const x of ws) x.terminate();
    assert.equal(await srv.limitHits('per-ip'), 3);
  });

  test('the log says "per-IP limit reached" with the IP key, at warn', async () => {
    const line = srv.logs().split('\n').find((l) => l.includes('per-IP limit reached'));
    assert.ok(line, 'the log line is there');
    const rec = JSON.parse(line) as { level: number; ipKey: string; msg: string };
    assert.equal(rec.level, 40);
    assert.equal(rec.ipKey, '127.0.0.1');
  });
});

for (const lean of [true, false]) {
  describe(`A1 with a small limit from distinct loopback addresses (lean-sockets = ${lean})`, () => {
    let srv: AdmissionServer;
    before(async () => { srv = await bootAdmission({ 'max-connections-per-ip': 2, 'limit-exempt': '127.0.0.4', 'lean-sockets': lean }); });
    after(async () => { await srv.stop(); });

    test('the 3rd connection from 127.0.0.3 is refused at once, without sending anything', async () => {
      assert.equal(srv.server.tcpSockets, lean ? 'lean' : 'net');
      await srv.client('a1', { localAddress: '127.0.0.3' });
      await srv.client('a2', { localAddress: '127.0.0.3' });
      const c = await srv.connect({ localAddress: '127.0.0.3' });
      await expectRefused(c, PER_IP, 1000);
      const w = await wsOpen(srv.webPort, { localAddress: '127.0.0.3' });
      assert.equal(w.status, 429);
    });

    test('limit-exempt addresses are not limited', async () => {
      const cs: RawClient[] = [];
      for (let i = 0; i < 4; i++) cs.push(await srv.client(`ex${i}`, { localAddress: '127.0.0.4' }));
      const r = await wsOpen(srv.webPort, { localAddress: '127.0.0.4' });
      assert.equal(r.status, undefined);
      await wsRegister(r.ws, 'exws');
      r.ws.terminate();
    });
  });
}

// ---- A2: throttle --------------------------------------------------------------------------------

describe('A2 connection throttle', () => {
  let srv: AdmissionServer;
  before(async () => {
    srv = await bootAdmission({ 'connection-throttle': 3, 'connection-throttle-window': '60s', 'throttle-exempt': '', 'limit-exempt': '127.0.0.6' });
  });
  after(async () => { await srv.stop(); });

  test('4 connect/QUIT cycles from 127.0.0.2: the 4th gets the throttle ERROR + EOF; 60 s later it connects', async () => {
    for (let i = 0; i < 3; i++) {
      await srv.quit(await srv.client(`cyc${i}`, { localAddress: '127.0.0.2' }));
    }
    const fourth = await srv.connect({ localAddress: '127.0.0.2' });
    await expectRefused(fourth, THROTTLED, 1000);
    assert.equal((await wsOpen(srv.webPort, { localAddress: '127.0.0.2' })).status, 429, 'WS counts in the same throttle');
    // a refused attempt does not extend the window
    srv.advance(60_000);
    const later = await srv.client('later', { localAddress: '127.0.0.2' });
    later.send('PING ok');
    await later.expect('PONG');
    assert.equal(await srv.limitHits('throttle'), 2);
  });

  test('limit-exempt addresses are not throttled', async () => {
    for (let i = 0; i < 5; i++) {
      await srv.quit(await srv.client(`exc${i}`, { localAddress: '127.0.0.6' }));
    }
  });
});

// ---- A3: server-wide cap -------------------------------------------------------------------------

describe('A3 max-connections', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'max-connections': 3, 'limit-exempt': '127.0.0.7' }); });
  after(async () => { await srv.stop(); });

  test('the 4th TCP connection gets "Server is full" + EOF, the 4th WS upgrade 503; exempt addresses too', async () => {
    const a = await srv.client('g1', { localAddress: '127.0.0.2' });
    await srv.client('g2', { localAddress: '127.0.0.3' });
    const r = await wsOpen(srv.webPort, { localAddress: '127.0.0.4' });
    await wsRegister(r.ws, 'g3');
    await expectRefused(await srv.connect({ localAddress: '127.0.0.5' }), FULL, 1000);
    const w = await wsOpen(srv.webPort, { localAddress: '127.0.0.5' });
    assert.equal(w.status, 503);
    assert.equal(w.body, 'Server is full\n');
    await expectRefused(await srv.connect({ localAddress: '127.0.0.7' }), FULL, 1000);
    await srv.quit(a);
    await srv.client('g4', { localAddress: '127.0.0.5' });
    r.ws.terminate();
    assert.equal(await srv.limitHits('global'), 3);
  });
});

// ---- TLS: admission before the handshake, handshake timeout ----------------------------------------

describe('TLS admission and handshake timeout', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'tls-handshake-timeout': '1s', 'max-connections-per-ip': 1 }, true); });
  after(async () => { await srv.stop(); });

  test('a refused TLS connection gets the plaintext ERROR before any handshake', async () => {
    const ok = await srv.client('tlsok', { tls: true, port: srv.tlsPort, localAddress: '127.0.0.2' });
    assert.equal((ok.socket as tls.TLSSocket).encrypted, true);
    // a raw TCP socket to the TLS port: no ClientHello is sent, yet the refusal arrives
    const raw = await srv.connect({ port: srv.tlsPort, localAddress: '127.0.0.2' });
    await expectRefused(raw, PER_IP, 1000);
    // a TCP connection counts against the same key
    await expectRefused(await srv.connect({ localAddress: '127.0.0.2' }), PER_IP, 1000);
  });

  for (const from of ['127.0.0.3', '127.0.0.1']) {
    test(`a client from ${from} that never sends a ClientHello is closed after tls-handshake-timeout (1s)`, async () => {
      const before = await srv.limitHits('tls-handshake');
      const t0 = Date.now();
      const s = net.connect({ host: '127.0.0.1', port: srv.tlsPort!, localAddress: from });
      s.on('error', () => {});
      let got = 0;
      s.on('data', (d: Buffer) => { got += d.length; });
      await new Promise<void>((resolve) => s.once('close', () => resolve()));
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 900 && elapsed < 2500, `closed after ${elapsed} ms`);
      assert.equal(got, 0, 'nothing was sent');
      assert.equal(await srv.limitHits('tls-handshake'), before + 1);
    });
  }

  test('a normal TLS client is not affected by the timeout', async () => {
    const c = await srv.client('tlslong', { tls: true, port: srv.tlsPort, localAddress: '127.0.0.4' });
    await new Promise((r) => setTimeout(r, 1300));
    c.send('PING alive');
    assert.equal(await c.expect('PONG'), ':irc.test PONG irc.test alive');
  });
});

// ---- metrics wiring is per server ----------------------------------------------------------------

test('RawClient sanity: the harness sees the ERROR line and EOF separately from a server that just closes', async () => {
  // guard against a vacuous expectRefused: a server that closes without a line must fail it
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = await RawClient.connect({ port: (server.address() as net.AddressInfo).port });
  await assert.rejects(expectRefused(c, PER_IP));
  server.close();
});
