import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { RawClient } from '../harness/raw-client.js';
import { V2_SIGNATURE } from '../../src/transport/proxy-protocol.js';
import { bootAdmission, expectRefused, operUp, whoisHost, wsOpen, wsRegister, type AdmissionServer } from './admission-helpers.js';

const OPER_PW = 'proxy-test-oper-pw';
const PER_IP = 'ERROR :Too many connections from your IP';

function v2Header(src: string, sport: number, family: 'v4' | 'v6'): Buffer {
  const addr = family === 'v4'
    ? Buffer.concat([Buffer.from(src.split('.').map(Number)), Buffer.from([127, 0, 0, 1]), Buffer.alloc(4)])
    : Buffer.concat([Buffer.from(src, 'hex'), Buffer.alloc(16), Buffer.alloc(4)]);
  addr.writeUInt16BE(sport, family === 'v4' ? 8 : 32);
  addr.writeUInt16BE(6667, family === 'v4' ? 10 : 34);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, family === 'v4' ? 0x11 : 0x21, 0, addr.length]), addr]);
}

/** a proxy on this host, configured explicitly (#12 finding 7: nothing is trusted by default) */
const LOCAL_PROXY = { 'trusted-proxies': '127.0.0.1/32,::1/128', 'listen-proxy-protocol': true, 'tls-listen-proxy-protocol': true };

for (const lean of [true, false]) {
  describe(`A7 PROXY protocol and X-Forwarded-For (trusted-proxies 127.0.0.1/32, ::1/128; PROXY on both IRC listeners) (lean-sockets = ${lean})`, () => {
    let srv: AdmissionServer;
    let oper: RawClient;
    before(async () => {
      srv = await bootAdmission({ 'oper-password': OPER_PW, ...LOCAL_PROXY, 'lean-sockets': lean }, true);
      oper = await srv.client('theoper', { localAddress: '127.0.0.9' });
      await operUp(oper, OPER_PW);
    });
    after(async () => { await srv.stop(); });

    test('PROXY v1 from a trusted source sets the address: WHOIS (oper) shows 203.0.113.9', async () => {
      assert.equal(srv.server.tcpSockets, lean ? 'lean' : 'net');
      const c = await srv.connect();
      c.sendRaw('PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667\r\n');
      await c.register('proxied');
      assert.equal(await whoisHost(oper, 'proxied'), ':irc.test 378 theoper proxied :is connecting from *@203.0.113.9 203.0.113.9');
      assert.equal(srv.server.context.world.findUser('proxied')?.ip, '203.0.113.9');
    });

    test('the header and the first IRC lines may arrive in one packet or byte by byte', async () => {
      const a = await srv.connect();
      a.sendRaw('PROXY TCP4 203.0.113.10 127.0.0.1 5000 6667\r\nNICK onepacket\r\nUSER o 0 * :o\r\n');
      await a.expect(/ 376 | 422 /);
      const b = await srv.connect();
      for (const byte of Buffer.from('PROXY TCP4 203.0.113.11 127.0.0.1 5000 6667\r\nNICK bytewise\r\nUSER b 0 * :b\r\n')) b.sendRaw(Buffer.from([byte]));
      await b.expect(/ 376 | 422 /);
      assert.match(await whoisHost(oper, 'onepacket'), / 203\.0\.113\.10$/);
      assert.match(await whoisHost(oper, 'bytewise'), / 203\.0\.113\.11$/);
    });

    test('A1 applies to the resolved address: 21 connections claiming 203.0.113.9 via the proxy → the 21st is refused', async () => {
      const before = srv.server.admission.countFor('203.0.113.9');
      assert.equal(before, 1, 'the user of the first test');
      const cs: RawClient[] = [];
      for (let i = 0; i < 19; i++) {
        const c = await srv.connect();
        c.sendRaw('PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667\r\n');
        cs.push(c);
      }
      const deadline = Date.now() + 2000;
      while (srv.server.admission.countFor('203.0.113.9') < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(srv.server.admission.countFor('203.0.113.9'), 20);
      const over = await srv.connect();
      over.sendRaw('PROXY TCP4 203.0.113.9 127.0.0.1 5001 6667\r\n');
      await expectRefused(over, PER_IP, 1000);
      // the proxy's own address is not what is counted
      const direct = await srv.client('direct');
      direct.send('PING x');
      await direct.expect('PONG');
      for (const c of cs) c.destroy();
    });

    test('PROXY v2 (binary) over TCP: AF_INET6 sets 2001:db8::9; AF_INET sets 198.51.100.20; LOCAL keeps the peer', async () => {
      const six = await srv.connect();
      six.sendRaw(v2Header('20010db8000000000000000000000009', 4242, 'v6'));
      await six.register('v2six');
      assert.match(await whoisHost(oper, 'v2six'), / :is connecting from \*@2001:db8::9 2001:db8::9$/);
      const four = await srv.connect();
      four.sendRaw(Buffer.concat([v2Header('198.51.100.20', 4242, 'v4'), Buffer.from('NICK v2four\r\nUSER f 0 * :f\r\n')]));
      await four.expect(/ 376 | 422 /);
      assert.match(await whoisHost(oper, 'v2four'), / 198\.51\.100\.20$/);
      const local = await srv.connect();
      local.sendRaw(Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]));
      await local.register('v2local');
      assert.match(await whoisHost(oper, 'v2local'), / 127\.0\.0\.1$/);
    });

    test('PROXY v1 before the TLS ClientHello on the TLS listener', async () => {
      const raw = net.connect({ host: '127.0.0.1', port: srv.tlsPort! });
      await new Promise((r) => raw.once('connect', r));
      raw.write('PROXY TCP4 203.0.113.77 127.0.0.1 5000 6697\r\n');
      const s = tls.connect({ socket: raw, rejectUnauthorized: false });
      await new Promise((r) => s.once('secureConnect', r));
      s.write('NICK tlsproxied\r\nUSER t 0 * :t\r\n');
      let buf = '';
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(buf)), 3000);
        s.on('data', (d: Buffer) => { buf += d.toString(); if (/ (376|422) /.test(buf)) { clearTimeout(t); resolve(); } });
      });
      assert.match(await whoisHost(oper, 'tlsproxied'), / 203\.0\.113\.77$/);
      assert.equal(srv.server.context.world.findUser('tlsproxied')?.secure, true);
      s.destroy();
    });

    test('a malformed PROXY header from a trusted source closes the connection without a reply', async () => {
      const c = await srv.connect();
      c.sendRaw('PROXY TCP4 203.0.113.999 127.0.0.1 5000 6667\r\nNICK x\r\n');
      await c.waitClosed(1000);
      assert.deepEqual(c.received, []);
      assert.match(srv.logs(), /bad PROXY header from a trusted proxy/);
    });

    test('PROXY from an untrusted source (127.0.0.2) is not honoured: 421, and WHOIS shows 127.0.0.2', async () => {
      const c = await srv.connect({ localAddress: '127.0.0.2' });
      c.send('PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667');
      assert.equal(await c.expect('421'), ':irc.test 421 * PROXY :Unknown command');
      await c.register('untrusted');
      assert.equal(await whoisHost(oper, 'untrusted'), ':irc.test 378 theoper untrusted :is connecting from *@127.0.0.2 127.0.0.2');
      // a binary v2 header from there is a malformed line (it holds NUL): ERROR and close
      const d = await srv.connect({ localAddress: '127.0.0.2' });
      d.sendRaw(Buffer.concat([v2Header('198.51.100.20', 1, 'v4'), Buffer.from('NICK untrustedv2\r\nUSER u 0 * :u\r\n')]));
      await d.waitClosed();
      assert.deepEqual(d.received, ['ERROR :Received malformed line']);
      assert.equal(srv.server.context.world.findUser('untrustedv2'), undefined);
    });

    test('WebSocket X-Forwarded-For from the trusted 127.0.0.1 is honoured (rightmost untrusted hop)', async () => {
      const r = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.50' } });
      assert.equal(r.status, undefined);
      await wsRegister(r.ws, 'xffok');
      assert.match(await whoisHost(oper, 'xffok'), / :is connecting from \*@203\.0\.113\.50 203\.0\.113\.50$/);
      r.ws.terminate();
    });

    test('WebSocket X-Forwarded-For from an untrusted peer (127.0.0.2) is ignored', async () => {
      const r = await wsOpen(srv.webPort, { localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '203.0.113.51' } });
      await wsRegister(r.ws, 'xffno');
      assert.match(await whoisHost(oper, 'xffno'), / :is connecting from \*@127\.0\.0\.2 127\.0\.0\.2$/);
      r.ws.terminate();
    });
  });
}

describe('A7 limits follow the X-Forwarded-For address', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'max-connections-per-ip': 1, 'trusted-proxies': '127.0.0.1' }); });
  after(async () => { await srv.stop(); });

  test('one per IP: a second WS for the same forwarded address gets 429, another forwarded address gets in', async () => {
    const a = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '203.0.113.60' } });
    await wsRegister(a.ws, 'xa');
    const b = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '203.0.113.60' } });
    assert.equal(b.status, 429);
    const c = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '203.0.113.61' } });
    assert.equal(c.status, undefined);
    await wsRegister(c.ws, 'xc');
    a.ws.terminate(); c.ws.terminate();
  });
});

describe('A7 with the defaults (no trusted proxy, no PROXY listener) nothing is honoured, not even from 127.0.0.1', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'oper-password': OPER_PW }); });
  after(async () => { await srv.stop(); });

  test('the defaults trust no proxy and read PROXY on no listener', () => {
    const c = srv.server.context.config;
    assert.deepEqual(c.trustedProxies, []);
    assert.equal(c.listenProxyProtocol, false);
    assert.equal(c.tlsListenProxyProtocol, false);
  });

  test('PROXY line → 421, XFF ignored', async () => {
    const oper = await srv.client('op2');
    await operUp(oper, OPER_PW);
    const c = await srv.connect();
    c.send('PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667');
    assert.equal(await c.expect('421'), ':irc.test 421 * PROXY :Unknown command');
    await c.register('noproxy');
    assert.match(await whoisHost(oper, 'noproxy'), / 127\.0\.0\.1$/);
    // the limits count the real address, never the claimed one
    assert.equal(srv.server.admission.countFor('203.0.113.9'), 0);
    assert.equal(srv.server.context.world.findUser('noproxy')?.ip, '127.0.0.1');
    const r = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    await wsRegister(r.ws, 'noxff');
    assert.match(await whoisHost(oper, 'noxff'), / 127\.0\.0\.1$/);
    r.ws.terminate();
  });
});

describe('A7: a trusted proxy address alone does not enable PROXY on a listener (#12 finding 7)', () => {
  let srv: AdmissionServer;
  before(async () => { srv = await bootAdmission({ 'trusted-proxies': '127.0.0.1', 'oper-password': OPER_PW }); });
  after(async () => { await srv.stop(); });

  test('trusted-proxies 127.0.0.1 without listen-proxy-protocol: a PROXY line from 127.0.0.1 is an unknown command', async () => {
    const oper = await srv.client('op3', { localAddress: '127.0.0.9' });
    await operUp(oper, OPER_PW);
    const c = await srv.connect();
    c.send('PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667');
    assert.equal(await c.expect('421'), ':irc.test 421 * PROXY :Unknown command');
    await c.register('notalistener');
    assert.equal(await whoisHost(oper, 'notalistener'), ':irc.test 378 op3 notalistener :is connecting from *@127.0.0.1 127.0.0.1');
    assert.equal(srv.server.admission.countFor('203.0.113.9'), 0);
  });
});

describe('A7: X-Forwarded-For is walked from the right past trusted hops only (#12 finding 7)', () => {
  let srv: AdmissionServer;
  let oper: RawClient;
  before(async () => {
    srv = await bootAdmission({ 'trusted-proxies': '127.0.0.1,10.0.0.0/8', 'oper-password': OPER_PW });
    oper = await srv.client('op4', { localAddress: '127.0.0.9' });
    await operUp(oper, OPER_PW);
  });
  after(async () => { await srv.stop(); });

  test('a spoofed left-most entry is ignored: "6.6.6.6, 203.0.113.9" → 203.0.113.9', async () => {
    const r = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '6.6.6.6, 203.0.113.9' } });
    await wsRegister(r.ws, 'spoofleft');
    assert.equal(await whoisHost(oper, 'spoofleft'), ':irc.test 378 op4 spoofleft :is connecting from *@203.0.113.9 203.0.113.9');
    r.ws.terminate();
  });

  test('a trusted hop in the chain is skipped: "6.6.6.6, 203.0.113.10, 10.1.2.3" → 203.0.113.10', async () => {
    const r = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '6.6.6.6, 203.0.113.10, 10.1.2.3' } });
    await wsRegister(r.ws, 'chained');
    assert.equal(await whoisHost(oper, 'chained'), ':irc.test 378 op4 chained :is connecting from *@203.0.113.10 203.0.113.10');
    r.ws.terminate();
  });

  test('X-Forwarded-Proto: a client-written "https" in front of the proxy\'s "http" does not make the connection secure', async () => {
    const r = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '203.0.113.11', 'X-Forwarded-Proto': 'https, http' } });
    await wsRegister(r.ws, 'notsecure');
    assert.equal(srv.server.context.world.findUser('notsecure')?.secure, false);
    r.ws.terminate();
    const t = await wsOpen(srv.webPort, { headers: { 'X-Forwarded-For': '203.0.113.12', 'X-Forwarded-Proto': 'https' } });
    await wsRegister(t.ws, 'issecure');
    assert.equal(srv.server.context.world.findUser('issecure')?.secure, true);
    t.ws.terminate();
  });
});
