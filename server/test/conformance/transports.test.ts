import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import IRC from 'irc-framework';
import { bootServer, type TestServer } from '../harness/server.js';
import { WsClient } from '../harness/ws-client.js';
import { guestCloak } from '../harness/cloaks.js';

// ---- TLS (hardening A8) ----------------------------------------------------------------------

describe('TLS listener', () => {
  let srv: TestServer;
  let certDir: string;
  let pems: { cert: string; private: string };
  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'freeq-tls-'));
    pems = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    writeFileSync(join(certDir, 'cert.pem'), pems.cert);
    writeFileSync(join(certDir, 'key.pem'), pems.private, { mode: 0o600 });
    srv = await bootServer({ 'tls-cert': join(certDir, 'cert.pem'), 'tls-key': join(certDir, 'key.pem') });
  });
  after(async () => {
    await srv.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('reloadTls (SIGHUP) serves a renewed certificate to new connections; old ones keep working', async () => {
    const old = await srv.client('tlsold', { tls: true, port: srv.tlsPort });
    const fp = (c: { socket: unknown }) => (c.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
    const before = fp(old);
    const renewed = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    writeFileSync(join(certDir, 'cert.pem'), renewed.cert);
    writeFileSync(join(certDir, 'key.pem'), renewed.private, { mode: 0o600 });
    try {
      srv.server.reloadTls();
      const fresh = await srv.client('tlsnew', { tls: true, port: srv.tlsPort });
      assert.notEqual(fp(fresh), before, 'a new connection gets the renewed certificate');
      old.send('PING still-here');
      assert.equal(await old.expect('PONG'), ':irc.test PONG irc.test still-here');
    } finally {
      // put the original back for the other tests of this suite
      writeFileSync(join(certDir, 'cert.pem'), pems.cert);
      writeFileSync(join(certDir, 'key.pem'), pems.private, { mode: 0o600 });
      srv.server.reloadTls();
    }
  });

  test('a client registers over TLS and is marked secure', async () => {
    assert.ok(srv.tlsPort, 'TLS port bound');
    const c = await srv.client('tlsuser', { tls: true, port: srv.tlsPort });
    assert.equal((c.socket as tls.TLSSocket).encrypted, true);
    const proto = (c.socket as tls.TLSSocket).getProtocol();
    assert.ok(proto === 'TLSv1.2' || proto === 'TLSv1.3', `negotiated ${proto}`);
    c.send('PING tls-ok');
    assert.equal(await c.expect('PONG'), ':irc.test PONG irc.test tls-ok');
    // the server presents the configured certificate
    const peer = (c.socket as tls.TLSSocket).getPeerX509Certificate();
    assert.ok(peer?.subject.includes('CN=irc.test'), `certificate subject ${peer?.subject}`);
    assert.equal(srv.server.context.world.findUser('tlsuser')?.secure, true);
    const plain = await srv.client('plainuser');
    assert.equal(srv.server.context.world.findUser('plainuser')?.secure, false);
    plain.destroy();
  });

  test('TLS and plain-TCP clients share channels', async () => {
    const a = await srv.client('tlsa', { tls: true, port: srv.tlsPort });
    const b = await srv.client('tcpb');
    a.send('JOIN #mixed');
    await a.expect(/ 366 /);
    b.send('JOIN #mixed');
    await b.expect(/ 366 /);
    b.send('PRIVMSG #mixed :from tcp');
    assert.match(await a.expect('PRIVMSG'), /^:tcpb!\S+ PRIVMSG #mixed :from tcp$/);
  });

  test('TLSv1.2 is accepted, TLSv1.1 is refused (minVersion TLSv1.2)', async (t) => {
    const connect = (port: number, maxVersion: tls.SecureVersion) => new Promise<string>((resolve, reject) => {
      const s = tls.connect({
        host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion,
        ciphers: 'DEFAULT@SECLEVEL=0',
      }, () => { const p = s.getProtocol() ?? '?'; s.destroy(); resolve(p); });
      s.once('error', (e: Error) => { s.destroy(); reject(e); });
    });
    assert.equal(await connect(srv.tlsPort!, 'TLSv1.2'), 'TLSv1.2');

    // control: prove this Node/OpenSSL can speak TLSv1.1 at all, so a refusal below means the
    // server refused it (and not that the client could not offer it)
    const control = tls.createServer({ cert: pems.cert, key: pems.private, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    control.on('tlsClientError', () => {});
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    let controlProto: string | undefined;
    try { controlProto = await connect((control.address() as net.AddressInfo).port, 'TLSv1.1'); } catch { /* not supported here */ }
    control.close();
    if (controlProto !== 'TLSv1.1') { t.skip('this Node/OpenSSL build cannot negotiate TLSv1.1'); return; }

    await assert.rejects(connect(srv.tlsPort!, 'TLSv1.1'), (e: Error & { code?: string }) => {
      assert.match(`${e.code} ${e.message}`, /protocol|version|alert/i);
      return true;
    });
  });
});

// plain TCP on both socket layers (transport/lean-tcp.ts and net.Socket; see lean-sockets.test.ts)
for (const lean of [true, false]) {
  describe(`TCP framing (lean-sockets = ${lean})`, () => {
    let srv: TestServer;
    before(async () => { srv = await bootServer({ 'lean-sockets': lean }); });
    after(async () => { await srv.stop(); });

    test('lines split at any byte boundary, CRLF or bare LF, are reassembled', async () => {
      assert.equal(srv.server.tcpSockets, lean ? 'lean' : 'net');
      const c = await srv.connect();
      const bytes = Buffer.from('NICK split\nUSER s 0 * :S\r\nPING one\r\nPING two\n');
      for (const b of bytes) c.sendRaw(Buffer.from([b]));
      assert.equal(await c.expect('PONG'), ':irc.test PONG irc.test one');
      assert.equal(await c.expect('PONG'), ':irc.test PONG irc.test two');
    });

    test('more than 1 MiB without a line end: 417 once, then ERROR and close', async () => {
      const c = await srv.client('lfless');
      c.sendRaw(Buffer.alloc(1024 * 1024 + 20_000, 0x61));
      assert.equal(await c.expect('417'), ':irc.test 417 lfless :Input line was too long');
      assert.equal(await c.expect('ERROR', 5000), 'ERROR :Input line too long');
      await c.waitClosed(5000);
    });
  });
}

// ---- WebSocket (hardening E1–E3, IRCv3 websocket) ---------------------------------------------

function rawUpgrade(port: number, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/irc',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, headers: res.headers }); });
    req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, headers: res.headers }); });
    req.on('error', reject);
    req.end();
  });
}

describe('WebSocket transport', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('text.ircv3.net is echoed and gets text frames, one line per message without CRLF', async () => {
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    assert.equal(w.protocol, 'text.ircv3.net');
    w.send('NICK wstext');
    w.send('USER wstext 0 * :WS Text');
    const welcome = await w.expectFrame(/ 001 /);
    assert.equal(welcome.text, `:irc.test 001 wstext :Welcome to the freeq IRC Network wstext!wstext@${G}`);
    assert.equal(welcome.binary, false);
    await w.expect(/ (376|422) /);
    for (const f of w.frames) {
      assert.equal(f.binary, false, 'every frame is a text frame');
      assert.ok(!/[\r\n]/.test(f.text), `no CR/LF in a message: ${JSON.stringify(f.text)}`);
      assert.ok(f.text.length > 0);
    }
    w.destroy();
  });

  test('binary.ircv3.net is echoed and gets binary frames', async () => {
    const w = await WsClient.connect(srv.webPort, { protocols: ['binary.ircv3.net'] });
    assert.equal(w.protocol, 'binary.ircv3.net');
    w.send('NICK wsbin', true);
    w.send('USER wsbin 0 * :WS Bin', true);
    const welcome = await w.expectFrame(/ 001 /);
    assert.equal(welcome.binary, true);
    assert.equal(welcome.text, `:irc.test 001 wsbin :Welcome to the freeq IRC Network wsbin!wsbin@${G}`);
    await w.expect(/ (376|422) /);
    assert.ok(w.frames.every((f) => f.binary && !/[\r\n]/.test(f.text)));
    w.destroy();
  });

  test("the client's order of preference decides; Sec-WebSocket-Protocol is in the 101", async () => {
    const textFirst = await rawUpgrade(srv.webPort, { 'Sec-WebSocket-Protocol': 'text.ircv3.net, binary.ircv3.net' });
    assert.equal(textFirst.status, 101);
    assert.equal(textFirst.headers['sec-websocket-protocol'], 'text.ircv3.net');
    const binFirst = await rawUpgrade(srv.webPort, { 'Sec-WebSocket-Protocol': 'binary.ircv3.net, text.ircv3.net' });
    assert.equal(binFirst.headers['sec-websocket-protocol'], 'binary.ircv3.net');
    const unknownFirst = await rawUpgrade(srv.webPort, { 'Sec-WebSocket-Protocol': 'chat.example, text.ircv3.net' });
    assert.equal(unknownFirst.headers['sec-websocket-protocol'], 'text.ircv3.net');
    const onlyUnknown = await rawUpgrade(srv.webPort, { 'Sec-WebSocket-Protocol': 'chat.example' });
    assert.equal(onlyUnknown.status, 101, 'no agreement: continue without the header (spec MAY)');
    assert.equal(onlyUnknown.headers['sec-websocket-protocol'], undefined);
    const text = await rawUpgrade(srv.webPort, { 'Sec-WebSocket-Protocol': 'text.ircv3.net' });
    assert.equal(text.headers['sec-websocket-protocol'], 'text.ircv3.net');
    const none = await rawUpgrade(srv.webPort, {});
    assert.equal(none.status, 101);
    assert.equal(none.headers['sec-websocket-protocol'], undefined);
  });

  test('no subprotocol works and gets text frames', async () => {
    const w = await WsClient.connect(srv.webPort);
    assert.equal(w.protocol, '');
    await w.register('wsnone');
    assert.ok(w.frames.length > 5);
    assert.ok(w.frames.every((f) => !f.binary));
    w.send('PING abc');
    assert.equal(await w.expect('PONG'), ':irc.test PONG irc.test abc');
    w.destroy();
  });

  test('a trailing CRLF sent by a lenient client is tolerated', async () => {
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    w.send('PING crlf\r\n');
    assert.equal(await w.expect('PONG'), ':irc.test PONG irc.test crlf');
    w.destroy();
  });

  test('TCP and WebSocket clients in one channel see each other', async () => {
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    await w.register('wsmix');
    const peer = srv.server.context.world.findUser('wsmix');
    assert.equal(peer?.secure, false, 'ws:// is not secure');
    assert.equal(peer?.ip, '127.0.0.1');
    const t = await srv.client('tcpmix');
    t.send('JOIN #bridge');
    await t.expect(/ 366 /);
    w.send('JOIN #bridge');
    await w.expect(/ 366 /);
    assert.match(await t.expect('JOIN'), /^:wsmix!\S+ JOIN #bridge$/);
    w.send('PRIVMSG #bridge :hello from ws');
    assert.match(await t.expect('PRIVMSG'), /^:wsmix!\S+ PRIVMSG #bridge :hello from ws$/);
    t.send('PRIVMSG #bridge :hello from tcp');
    assert.match(await w.expect('PRIVMSG'), /^:tcpmix!\S+ PRIVMSG #bridge :hello from tcp$/);
    w.destroy();
  });

  test('an embedded CRLF is a malformed line: ERROR, close, nothing injected', async () => {
    const watcher = await srv.client('crlfwatch');
    watcher.send('JOIN #c');
    await watcher.expect(/ 366 /);
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    await w.register('crlfer');
    w.send('JOIN #c');
    await w.expect(/ 366 /);
    await watcher.expect('JOIN');
    w.send('PRIVMSG #c :a\r\nQUIT :pwned');
    assert.equal(await w.expect('ERROR'), 'ERROR :Received malformed line');
    await w.waitClosed();
    const quit = await watcher.expect('QUIT');
    assert.match(quit, /^:crlfer!\S+ QUIT :Received malformed line$/, 'the QUIT reason is ours, not the injected one');
    await watcher.sync();
    assert.ok(!watcher.received.some((l) => l.includes('PRIVMSG #c') || l.includes('pwned')), watcher.received.join('\n'));
  });

  test('a 4,600-byte tagged line (within readQ) is accepted', async () => {
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    await w.register('wsbig');
    w.send(`@+x=${'a'.repeat(4090)} PING big`);
    assert.equal(await w.expect('PONG'), ':irc.test PONG irc.test big');
    assert.equal(w.closeCode, undefined);
    w.destroy();
  });

  test('a 9,000-byte message exceeds maxPayload (readq 8704): close 1009', async () => {
    assert.equal(srv.config.readq, 8704);
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    w.send('PRIVMSG #x :' + 'a'.repeat(9000 - 12));
    const { code } = await w.waitClosed();
    assert.equal(code, 1009);
  });

  test('invalid UTF-8 in a text frame: close 1007', async () => {
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    w.send(Buffer.from([0x50, 0x49, 0x4e, 0x47, 0x20, 0xff, 0xfe]), false);
    const { code } = await w.waitClosed();
    assert.equal(code, 1007);
  });

  test('other paths are not WebSocket endpoints', async () => {
    await assert.rejects(WsClient.connect(srv.webPort, { path: '/nope' }), /404|socket hang up|Unexpected/i);
  });

  test('GET /api/v1/health returns JSON', async () => {
    const res = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(body.server_name, 'irc.test');
    assert.equal(typeof body.version, 'string');
    assert.equal(typeof body.connections, 'number');
    assert.equal(typeof body.uptime_secs, 'number');
  });
});

describe('WebSocket Origin allowlist (E2)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'ws-allowed-origins': 'https://good.example' }); });
  after(async () => { await srv.stop(); });

  test('a foreign Origin gets HTTP 403 and no upgrade', async () => {
    const r = await rawUpgrade(srv.webPort, { Origin: 'https://evil.example' });
    assert.equal(r.status, 403);
    await assert.rejects(WsClient.connect(srv.webPort, { origin: 'https://evil.example' }), (e: { statusCode?: number }) => e.statusCode === 403);
  });

  test('the allowed Origin gets 101 and works', async () => {
    const r = await rawUpgrade(srv.webPort, { Origin: 'https://good.example' });
    assert.equal(r.status, 101);
    assert.equal((await rawUpgrade(srv.webPort, { Origin: 'https://GOOD.example' })).status, 101, 'host compares case-insensitively');
    assert.equal((await rawUpgrade(srv.webPort, { Origin: 'https://good.example.evil' })).status, 403, 'no prefix match');
    assert.equal((await rawUpgrade(srv.webPort, { Origin: 'http://good.example' })).status, 403, 'scheme matters');
    const w = await WsClient.connect(srv.webPort, { origin: 'https://good.example', protocols: ['text.ircv3.net'] });
    await w.register('goodorigin');
    w.destroy();
  });

  test('no Origin header (native client) gets 101', async () => {
    const r = await rawUpgrade(srv.webPort, {});
    assert.equal(r.status, 101);
  });
});

// ---- a real client library ----------------------------------------------------------------------

for (const lean of [true, false]) {
  describe(`irc-framework client (lean-sockets = ${lean})`, () => {
    let srv: TestServer;
    before(async () => { srv = await bootServer({ 'lean-sockets': lean }); });
    after(async () => { await srv.stop(); });

    test('connects, joins and exchanges PRIVMSG with a raw client', async () => {
      const raw = await srv.client('rawpeer');
      raw.send('JOIN #fw');
      await raw.expect(/ 366 /);
      const bot = new IRC.Client({ auto_reconnect: false });
      const events: string[] = [];
      try {
        const registered = new Promise<void>((resolve) => bot.once('registered', () => resolve()));
        bot.connect({ host: '127.0.0.1', port: srv.port, nick: 'fwbot', username: 'fwbot', gecos: 'irc-framework' });
        await registered;
        const joined = new Promise<void>((resolve) => bot.on('join', (e: { nick: string; channel: string }) => { if (e.nick === 'fwbot' && e.channel === '#fw') resolve(); }));
        bot.join('#fw');
        await joined;
        assert.match(await raw.expect('JOIN'), /^:fwbot!\S+ JOIN #fw$/);

        const got = new Promise<{ nick: string; target: string; message: string }>((resolve) =>
          bot.on('privmsg', (e: { nick: string; target: string; message: string }) => { events.push(e.message); resolve(e); }));
        raw.send('PRIVMSG #fw :hello framework');
        const e = await got;
        assert.deepEqual({ nick: e.nick, target: e.target, message: e.message }, { nick: 'rawpeer', target: '#fw', message: 'hello framework' });

        bot.say('#fw', 'hello raw');
        assert.match(await raw.expect('PRIVMSG'), /^:fwbot!\S+ PRIVMSG #fw :hello raw$/);
      } finally {
        bot.quit('bye');
      }
      assert.match(await raw.expect('QUIT'), /^:fwbot!\S+ QUIT :(Quit: )?bye$/);
    });
  });
}
