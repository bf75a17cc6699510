// The HTTP API on web-addr (hardening.md F1–F4): health, /metrics exposure, admin endpoints
// behind X-API-Key (rotation, 401/403), per-IP rate limit, CORS allowlist, security headers,
// HSTS only with web-tls, body limit, generic 500 bodies. Real HTTP over 127.0.0.1 with fetch.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { bootServer, type TestServer } from '../harness/server.js';
import net from 'node:net';
import { keyFingerprint } from '../../src/http/auth.js';
import { isLoopbackHost } from '../../src/http/app.js';
import { bootLogged, type LoggedServer } from './http-api-helpers.js';

const KEY1 = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef'; // 40 characters
const KEY2 = 'b'.repeat(8) + 'fedcba9876543210fedcba9876543210';

const url = (port: number, path: string): string => `http://127.0.0.1:${port}${path}`;
/** one raw HTTP/1.1 exchange: everything the server sends until the first response is complete */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(request));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got);
      if (end >= 0 && len && got.length >= end + 4 + Number(len[1])) { s.destroy(); resolve(got); }
    });
    s.on('error', reject);
  });
}

const get = (port: number, path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(url(port, path), { headers });

describe('HTTP API: loopback bind, no api-keys (defaults)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('GET /api/v1/health → JSON status with counters', async () => {
    const c = await srv.client('healthy');
    const r = await get(srv.webPort, '/api/v1/health');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const body = await r.json() as Record<string, unknown>;
    assert.equal(body.status, 'ok');
    assert.equal(body.server_name, 'irc.test');
    assert.equal(body.connections, 1);
    assert.equal(typeof body.uptime_secs, 'number');
    c.destroy();
  });

  test('GET /metrics is open on a loopback bind: Prometheus text with freeq and Node metrics', async () => {
    const c = await srv.client('counted');
    const r = await get(srv.webPort, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    assert.match(text, /^freeq_connections\{transport="tcp"\} 1$/m);
    assert.match(text, /^freeq_registrations_total \d+$/m);
    assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    assert.match(text, /^# TYPE freeq_limit_hits_total counter$/m);
    assert.match(text, /^# TYPE freeq_sasl_total counter$/m);
    c.destroy();
  });

  test('a proxied /metrics request (X-Forwarded-For / Forwarded) is not local: 403 with a hint when no key is configured', async () => {
    for (const h of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }] as Array<Record<string, string>>) {
      const r = await get(srv.webPort, '/metrics', h);
      assert.equal(r.status, 403);
      const body = await r.json() as { error: string; message: string };
      assert.equal(body.error, 'Forbidden');
      assert.match(body.message, /api-keys/);
    }
  });

  test('admin endpoints are disabled (403) without configured api-keys, whatever key is sent', async () => {
    for (const headers of [{}, { 'x-api-key': KEY1 }] as Array<Record<string, string>>) {
      const r = await get(srv.webPort, '/api/v1/admin/status', headers);
      assert.equal(r.status, 403);
      assert.equal(((await r.json()) as { error: string }).error, 'Forbidden');
    }
    const put = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"level":"closed"}' });
    assert.equal(put.status, 403);
    assert.equal(srv.server.context.world.lockdown, 'off');
  });

  test('security headers: CSP default-src none, frame deny, nosniff, no-referrer; no HSTS on plain HTTP', async () => {
    for (const path of ['/api/v1/health', '/nope']) {
      const r = await get(srv.webPort, path);
      assert.equal(r.headers.get('content-security-policy'), "default-src 'none';frame-ancestors 'none'");
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(r.headers.get('strict-transport-security'), null);
      assert.equal(r.headers.get('x-powered-by'), null);
    }
  });

  test('unknown path → 404 {"error":"NotFound"} (nothing echoed)', async () => {
    const r = await get(srv.webPort, '/api/v1/<script>');
    assert.equal(r.status, 404);
    assert.equal(await r.text(), '{"error":"NotFound"}');
  });

  test('no CORS headers at all when cors-origins is empty', async () => {
    const r = await get(srv.webPort, '/api/v1/health', { origin: 'https://chat.example.org' });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });

  test('keep-alive timeout 5 s is announced on the raw HTTP/1.1 response (#12 finding 4; was 72 s)', async () => {
    const raw = await rawHttp(srv.webPort, 'GET /api/v1/health HTTP/1.1\r\nHost: irc.test\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(raw, /\r\nKeep-Alive: timeout=5\r\n/i);
  });

  test('headers trickled 1 byte/s: the socket is closed by ~10 s (headersTimeout)', async () => {
    const sock = net.connect({ host: '127.0.0.1', port: srv.webPort });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const started = Date.now();
    const req = 'GET /api/v1/health HTTP/1.1\r\nHost: irc.test\r\nX-Slow: ' + 'y'.repeat(100);
    let i = 0;
    const timer = setInterval(() => { if (!sock.destroyed) sock.write(req[i++ % req.length]!); }, 1000);
    let got = '';
    sock.on('data', (d) => { got += d.toString(); });
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.once('close', () => r()));
    clearInterval(timer);
    const took = Date.now() - started;
    assert.ok(took >= 9_000 && took < 13_000, `closed after ${took} ms`);
    assert.ok(!got.includes('200 OK'), got);
  });
});

describe('HTTP API: public bind (0.0.0.0) with two api-keys', () => {
  let srv: TestServer;
  before(async () => {
    // bound to every interface (a "public" web-addr); the test connects through 127.0.0.1
    srv = await bootServer({ 'web-addr': '0.0.0.0:0', 'api-keys': `${KEY1},${KEY2}` });
  });
  after(async () => { await srv.stop(); });

  test('/metrics without X-API-Key → 401; with a wrong key → 401; body says nothing more', async () => {
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { 'x-api-key': KEY1 + 'x' }, { 'x-api-key': KEY1.slice(0, -1) }, { 'x-api-key': '' }] as Array<Record<string, string>>) {
      const r = await get(srv.webPort, '/metrics', headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(await r.text(), '{"error":"Unauthorized"}');
    }
  });

  test('rotation: both configured keys are accepted for /metrics and admin', async () => {
    for (const key of [KEY1, KEY2]) {
      const m = await get(srv.webPort, '/metrics', { 'x-api-key': key });
      assert.equal(m.status, 200);
      assert.match(await m.text(), /^# TYPE freeq_connections gauge$/m);
      const s = await get(srv.webPort, '/api/v1/admin/status', { 'x-api-key': key });
      assert.equal(s.status, 200);
      // Prometheus' native `authorization` setting: the key as a bearer token, for /metrics only
      assert.equal((await get(srv.webPort, '/metrics', { authorization: `Bearer ${key}` })).status, 200);
      assert.equal((await get(srv.webPort, '/api/v1/admin/status', { authorization: `Bearer ${key}` })).status, 401);
    }
    assert.equal((await get(srv.webPort, '/metrics', { authorization: `Bearer ${KEY1}x` })).status, 401);
  });

  test('GET /api/v1/signing-key is public: the signer\'s public key JSON', async () => {
    const r = await get(srv.webPort, '/api/v1/signing-key');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
    const body = await r.json() as { algorithm: string; public_key: string; encoding: string; usage: string };
    assert.deepEqual(body, JSON.parse(JSON.stringify(srv.server.context.signing.signingKeyInfo())));
    assert.equal(body.algorithm, 'ed25519');
    assert.equal(body.encoding, 'base64url');
    assert.equal(Buffer.from(body.public_key, 'base64url').length, 32);
    assert.ok(!JSON.stringify(body).includes('secret'));
  });

  test('admin endpoints without a key or with a wrong one → 401', async () => {
    for (const headers of [{}, { 'x-api-key': KEY2.toUpperCase() }] as Array<Record<string, string>>) {
      assert.equal((await get(srv.webPort, '/api/v1/admin/status', headers)).status, 401);
      assert.equal((await get(srv.webPort, '/api/v1/admin/connections-by-ip', headers)).status, 401);
      const put = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: '{"level":"closed"}' });
      assert.equal(put.status, 401);
    }
    assert.equal(srv.server.context.world.lockdown, 'off');
  });

  test('GET /api/v1/admin/status: connections, users, channels, lockdown, uptime', async () => {
    const a = await srv.client('stat1');
    const b = await srv.client('stat2');
    a.send('JOIN #one');
    await a.expect(/ 366 /);
    const r = await get(srv.webPort, '/api/v1/admin/status', { 'x-api-key': KEY1 });
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const body = await r.json() as Record<string, unknown>;
    assert.deepEqual({ ...body, uptime_secs: typeof body.uptime_secs }, { connections: 2, users: 2, channels: 1, lockdown: 'off', uptime_secs: 'number' });
    a.destroy();
    b.destroy();
  });

  test('GET /api/v1/admin/connections-by-ip: top N', async () => {
    // registered clients: a connection from a trusted proxy (loopback) is a session only once it has spoken
    const cs = [await srv.client('ip1'), await srv.client('ip2'), await srv.client('ip3', { localAddress: '127.0.0.2' })];
    const r = await get(srv.webPort, '/api/v1/admin/connections-by-ip?limit=1', { 'x-api-key': KEY2 });
    assert.equal(r.status, 200);
    const body = await r.json() as { total_ips: number; top: Array<{ ip: string; connections: number }> };
    assert.equal(body.total_ips, 2);
    assert.deepEqual(body.top, [{ ip: '127.0.0.1', connections: 2 }]);
    assert.equal((await get(srv.webPort, '/api/v1/admin/connections-by-ip?limit=0', { 'x-api-key': KEY2 })).status, 400);
    for (const c of cs) c.destroy();
  });

  test('PUT /api/v1/admin/lockdown validates the level', async () => {
    for (const body of ['{"level":"locked"}', '{}', '{"level":1}', '{"lvl":"closed"}', 'not json', '[]']) {
      const r = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'x-api-key': KEY1, 'content-type': 'application/json' }, body });
      assert.equal(r.status, 400, body);
      assert.equal(((await r.json()) as { error: string }).error, 'BadRequest');
    }
    assert.equal(srv.server.context.world.lockdown, 'off');
  });

  test('PUT /api/v1/admin/lockdown closed refuses new connections; off opens again', async () => {
    const put = async (level: string) => fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'x-api-key': KEY2, 'content-type': 'application/json' }, body: JSON.stringify({ level }) });
    const r = await put('closed');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { lockdown: 'closed', previous: 'off' });
    assert.equal(srv.server.context.world.lockdown, 'closed');
    const status = await (await get(srv.webPort, '/api/v1/admin/status', { 'x-api-key': KEY1 })).json() as { lockdown: string };
    assert.equal(status.lockdown, 'closed');
    const refused = await srv.connect();
    refused.send('NICK locked', 'USER u 0 * :r'); // a loopback peer (trusted proxy) is admitted once it speaks
    await refused.expect(/^ERROR :.*closed/);
    await refused.waitClosed();
    assert.deepEqual(await (await put('off')).json(), { lockdown: 'off', previous: 'closed' });
    const ok = await srv.client('afterlock');
    ok.destroy();
  });

  test('PUT /api/v1/admin/lockdown sasl-only refuses a new guest registration; operators get a WALLOPS', async () => {
    const oper = await srv.connect();
    oper.send('NICK watcher', 'USER w 0 * :w');
    await oper.expect(/ 001 /);
    srv.server.context.world.findUser('watcher')!.modes.add('o'); // an operator (OPER itself is tested elsewhere)
    const put = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'x-api-key': KEY1, 'content-type': 'application/json' }, body: '{"level":"sasl-only"}' });
    assert.equal(put.status, 200);
    assert.equal(await oper.expect('WALLOPS'), `:irc.test WALLOPS :LOCKDOWN: the HTTP API (key ${keyFingerprint(KEY1)}) set the lockdown level to sasl-only (was off)`);
    const guest = await srv.connect();
    guest.send('NICK guesty', 'USER g 0 * :g');
    await guest.expect(/^ERROR :.*requires SASL/);
    await guest.expectNone(/ 001 /, 100);
    await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'x-api-key': KEY1, 'content-type': 'application/json' }, body: '{"level":"off"}' });
    const back = await srv.client('guest2');
    back.destroy();
    oper.destroy();
  });

  test('413 for a 65 KiB JSON body (with a valid key; the body limit is 64 KiB)', async () => {
    const big = JSON.stringify({ level: 'off', pad: 'x'.repeat(65 * 1024) });
    const r = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'x-api-key': KEY1, 'content-type': 'application/json' }, body: big });
    assert.equal(r.status, 413);
    assert.equal(await r.text(), '{"error":"PayloadTooLarge"}');
    // without a key the body is never read: 401, not 413
    const anon = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(anon.status, 401);
  });
});

describe('HTTP API: failed authentications', () => {
  let srv: TestServer;
  // the test stands for clients behind a local reverse proxy, so it names one (#12 finding 7: none by default)
  before(async () => { srv = await bootServer({ 'web-addr': '0.0.0.0:0', 'api-keys': KEY1, 'trusted-proxies': '127.0.0.1' }); });
  after(async () => { await srv.stop(); });

  test('30 wrong keys or tokens from one IP within 5 minutes → wrong ones get 429 with Retry-After, the right key still works (#12 finding 16); other IPs unaffected', async () => {
    const from = (ip: string, h: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...h });
    for (let i = 0; i < 30; i++) {
      const path = ['/metrics', '/api/v1/admin/status', '/api/v1/me'][i % 3]!;
      const r = await get(srv.webPort, path, from('192.0.2.50', { 'x-api-key': `wrong-${i}`, authorization: `Bearer ${'A'.repeat(43)}` }));
      assert.equal(r.status, 401, `attempt ${i + 1} ${path}`);
    }
    // over the limit: a wrong key, a wrong token and no credential at all get 429, and the connection is closed
    for (const [path, h] of [['/metrics', { 'x-api-key': 'wrong-again' }], ['/api/v1/admin/status', { 'x-api-key': 'wrong-again' }], ['/api/v1/me', { authorization: `Bearer ${'B'.repeat(43)}` }], ['/api/v1/me', {}]] as const) {
      const r = await get(srv.webPort, path, from('192.0.2.50', h));
      assert.equal(r.status, 429, path);
      const retry = Number(r.headers.get('retry-after'));
      assert.ok(retry > 240 && retry <= 300, `Retry-After ${retry}`);
      assert.equal(r.headers.get('connection'), 'close');
      assert.deepEqual(await r.json(), { error: 'TooManyRequests' });
    }
    // the right key is not locked out: the lockout is for failures
    for (const path of ['/metrics', '/api/v1/admin/status']) {
      assert.equal((await get(srv.webPort, path, from('192.0.2.50', { 'x-api-key': KEY1 }))).status, 200, path);
    }
    assert.equal((await get(srv.webPort, '/metrics', from('192.0.2.51', { 'x-api-key': KEY1 }))).status, 200);
    assert.match(await srv.server.context.metrics.text(), /^freeq_limit_hits_total\{kind="http-auth"\} 4$/m);
  });
});

describe('HTTP API: rate limit', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'http-rate-limit': '5', 'trusted-proxies': '127.0.0.1' }); });
  after(async () => { await srv.stop(); });

  test('http-rate-limit requests per minute per IP, then 429 with Retry-After; other IPs unaffected', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await get(srv.webPort, '/api/v1/health');
      assert.equal(r.status, 200, `request ${i + 1}`);
      assert.equal(r.headers.get('x-ratelimit-remaining'), String(4 - i));
    }
    const limited = await get(srv.webPort, '/api/v1/health');
    assert.equal(limited.status, 429);
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 60, `Retry-After ${limited.headers.get('retry-after')}`);
    assert.equal(((await limited.json()) as { error: string }).error, 'TooManyRequests');
    // every route counts, /metrics too
    assert.equal((await get(srv.webPort, '/metrics')).status, 429);
    // another client address (via the trusted loopback proxy's X-Forwarded-For) has its own budget
    assert.equal((await get(srv.webPort, '/api/v1/health', { 'x-forwarded-for': '198.51.100.7' })).status, 200);
    const m = (await get(srv.webPort, '/metrics', { 'x-forwarded-for': '198.51.100.8' })).status;
    assert.equal(m, 403); // proxied: not a local scrape
    const text = await srv.server.context.metrics.text();
    assert.match(text, /^freeq_limit_hits_total\{kind="http-rate"\} [1-9]/m);
  });
});

describe('HTTP API: CORS allowlist', () => {
  const ALLOWED = 'https://chat.example.org';
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'cors-origins': `${ALLOWED},https://other.example.net` }); });
  after(async () => { await srv.stop(); });

  const preflight = (origin: string) => fetch(url(srv.webPort, '/api/v1/me'), {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });

  test('preflight from an allowed origin: that origin echoed, Authorization allowed, never *', async () => {
    const r = await preflight(ALLOWED);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.match(r.headers.get('access-control-allow-methods') ?? '', /GET/);
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
    assert.match(r.headers.get('vary') ?? '', /origin/i);
  });

  test('preflight from another origin: no Access-Control-Allow-Origin', async () => {
    for (const origin of ['https://evil.example', 'https://chat.example.org.evil.example', 'http://chat.example.org', 'null']) {
      const r = await preflight(origin);
      assert.equal(r.headers.get('access-control-allow-origin'), null, origin);
      assert.equal(r.headers.get('access-control-allow-headers'), null, origin);
    }
  });

  test('simple GET: allowed origin gets ACAO, a refused origin gets none (the response itself is unchanged)', async () => {
    const ok = await get(srv.webPort, '/api/v1/health', { origin: ALLOWED });
    assert.equal(ok.headers.get('access-control-allow-origin'), ALLOWED);
    const other = await get(srv.webPort, '/api/v1/health', { origin: 'https://other.example.net' });
    assert.equal(other.headers.get('access-control-allow-origin'), 'https://other.example.net');
    const evil = await get(srv.webPort, '/api/v1/health', { origin: 'https://evil.example' });
    assert.equal(evil.status, 200);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });
});

function httpsGet(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP API: web-tls', () => {
  let certDir: string;
  let cert: string;
  let key: string;
  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'freeq-webtls-'));
    const pems = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    cert = join(certDir, 'cert.pem');
    key = join(certDir, 'key.pem');
    writeFileSync(cert, pems.cert);
    writeFileSync(key, pems.private, { mode: 0o600 });
  });
  after(() => { rmSync(certDir, { recursive: true, force: true }); });

  test('web-tls with tls-cert/tls-key: HTTPS with HSTS max-age=63072000; includeSubDomains', async () => {
    const srv = await bootServer({ 'tls-cert': cert, 'tls-key': key, 'web-tls': 'true' });
    try {
      const r = await httpsGet(srv.webPort, '/api/v1/health');
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).status, 'ok');
      assert.equal(r.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains');
      // plain HTTP on the TLS port does not get an API answer
      await assert.rejects(async () => { const x = await get(srv.webPort, '/api/v1/health'); await x.text(); if (x.status === 200) throw new Error('no'); throw new Error('plain HTTP refused'); });
    } finally {
      await srv.stop();
    }
  });

  test('certificates without web-tls: plain HTTP and no HSTS', async () => {
    const srv = await bootServer({ 'tls-cert': cert, 'tls-key': key });
    try {
      const r = await get(srv.webPort, '/api/v1/health');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('strict-transport-security'), null);
    } finally {
      await srv.stop();
    }
  });
});

describe('HTTP API: errors and logs', () => {
  let srv: LoggedServer;
  before(async () => { srv = await bootLogged({ 'api-keys': KEY1 }); });
  after(async () => { await srv.stop(); });

  test('a handler that throws → 500 {"error":"InternalServerError"} only; the error goes to the log', async () => {
    // force the metrics handler to fail (no test-only code in the server: the real Metrics object is made to throw)
    const metrics = srv.server.context.metrics as unknown as { text: () => Promise<string> };
    const orig = metrics.text;
    metrics.text = () => Promise.reject(new Error('secret-detail /var/lib/freeq at line 42'));
    try {
      const r = await get(srv.webPort, '/metrics');
      assert.equal(r.status, 500);
      assert.equal(await r.text(), '{"error":"InternalServerError"}');
    } finally {
      metrics.text = orig;
    }
    const line = srv.logs().find((l) => l.includes('HTTP handler failed'));
    assert.ok(line, 'the failure is logged');
    assert.match(line, /secret-detail/);
    assert.match(line, /"route":"\/metrics"/);
  });

  test('a lockdown change is logged with the key fingerprint, never the key', async () => {
    const r = await fetch(url(srv.webPort, '/api/v1/admin/lockdown'), { method: 'PUT', headers: { 'x-api-key': KEY1, 'content-type': 'application/json' }, body: '{"level":"sasl-only"}' });
    assert.equal(r.status, 200);
    const line = srv.logs().find((l) => l.includes('lockdown changed via HTTP API'));
    assert.ok(line);
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.key, keyFingerprint(KEY1));
    assert.match(String(entry.key), /^sha256:[0-9a-f]{12}$/);
    assert.equal(entry.from, 'off');
    assert.equal(entry.to, 'sasl-only');
    assert.ok(!srv.logs().some((l) => l.includes(KEY1)), 'the key itself is never logged');
    srv.server.context.world.lockdown = 'off';
  });
});

test('isLoopbackHost: decided from the configured bind host', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.org', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});

