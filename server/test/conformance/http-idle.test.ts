// An HTTP connection that sends nothing held its slots for good: Node starts headersTimeout at a
// request's first byte and has no idle timeout of its own (server.timeout 0), so 1,000 silent
// sockets (100 addresses × http-max-connections-per-ip) filled http-max-connections and every new
// API or WebSocket user got 503. http-idle-timeout closes a socket with no traffic; an upgraded
// /irc WebSocket is not affected (it has its pings). With web-tls, tls-handshake-timeout applies.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { loadConfig } from '../../src/config/load.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { WsClient } from '../harness/ws-client.js';

/** a TCP connection that never sends a byte; resolves with how long the server kept it open */
async function silent(port: number): Promise<{ socket: net.Socket; closedAfter: Promise<number> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const t0 = Date.now();
  return { socket, closedAfter: new Promise((r) => socket.once('close', () => r(Date.now() - t0))) };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

describe('http-idle-timeout', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'http-idle-timeout': '300ms', 'http-max-connections': 2, 'ws-ping-interval': '10s' }); });
  after(async () => { await srv.stop(); });

  test('silent sockets are closed after the idle timeout and give their slots back', async () => {
    const a = await silent(srv.webPort);
    const b = await silent(srv.webPort);
    // both slots are taken: a third connection is refused
    const refused = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/health`).then((r) => r.status, () => 0);
    assert.ok(refused === 503 || refused === 0, `full: ${refused}`);
    for (const s of [a, b]) {
      const ms = await within(s.closedAfter, 3000, 'silent socket closed');
      assert.ok(ms >= 250, `closed after ${ms} ms, not before the idle timeout`);
    }
    const r = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/health`);
    assert.equal(r.status, 200, 'the slots were given back');
  });

  test('an upgraded /irc WebSocket stays open past the idle timeout', async () => {
    const ws = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    try {
      await ws.register('idlews');
      await new Promise((r) => setTimeout(r, 900)); // three idle timeouts, no traffic
      assert.equal(ws.closeCode, undefined);
      ws.send('PING :still-here');
      await ws.expect(/PONG .*still-here/);
    } finally {
      ws.destroy();
    }
  });

  test('default: 10 s', () => {
    assert.equal(loadConfig({ env: {} }).httpIdleTimeout, 10_000);
  });
});

describe('web-tls: a socket that never starts the TLS handshake', () => {
  let dir: string;
  let srv: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-idle-tls-'));
    const pems = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    writeFileSync(join(dir, 'cert.pem'), pems.cert);
    writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
    srv = await bootServer({ 'tls-cert': join(dir, 'cert.pem'), 'tls-key': join(dir, 'key.pem'), 'web-tls': 'true', 'tls-handshake-timeout': '300ms' });
  });
  after(async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); });

  test('is closed after tls-handshake-timeout (Node\'s own default is 120 s)', async () => {
    const s = await silent(srv.webPort);
    const ms = await within(s.closedAfter, 3000, 'silent TLS socket closed');
    assert.ok(ms >= 250, `closed after ${ms} ms`);
  });
});
