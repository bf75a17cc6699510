import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { WEB_CSP } from '../../src/http/routes/web-client.js';
import { bootServer, type TestServer } from '../harness/server.js';

// The web client served at / (#15): its page with a strict CSP, hashed assets cached for good and
// sent pre-compressed, the API's 404 kept for every other path, and the page's JavaScript within
// the budget (150 kB gzipped). Built from the repository first when it is missing.

const ROOT = resolve(import.meta.dirname, '../../..');
let srv: TestServer;

/** a GET whose body stays as sent (fetch would decompress it) */
function rawGet(url: string, encoding: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolveGet, reject) => {
    http.get(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}
before(async () => {
  if (!existsSync(resolve(ROOT, 'web/dist/index.html'))) {
    const r = spawnSync('npm', ['run', 'build', '-w', 'web'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
  srv = await bootServer();
});
after(async () => { await srv.stop(); });

test('GET / is the client: a strict CSP (no inline code, this server only), revalidated; its assets immutable and pre-compressed', async () => {
  const base = `http://127.0.0.1:${srv.webPort}`;
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(page.headers.get('content-security-policy'), WEB_CSP);
  assert.ok(!/unsafe-inline|unsafe-eval|\*/.test(WEB_CSP));
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const html = await page.text();
  const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(scripts.length >= 1 && scripts.every((s) => s.startsWith('/assets/')), html);
  assert.ok(!/<script(?![^>]*src=)[^>]*>/.test(html), 'no inline script');

  let gzipped = 0;
  for (const src of scripts) {
    const br = await rawGet(`${base}${src}`, 'br');
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    const plain = brotliDecompressSync(br.body).toString();
    assert.equal(plain, readFileSync(resolve(ROOT, 'web/dist', `.${src}`), 'utf8'));
    const gz = await rawGet(`${base}${src}`, 'gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), plain);
    gzipped += gz.body.length;
  }
  assert.ok(gzipped <= 150_000, `the page's JavaScript is ${gzipped} bytes gzipped (budget 150 kB)`);
  // the API's 404 stays for every other path
  const missing = await fetch(`${base}/no/such/page`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'NotFound' });
  assert.equal((await fetch(`${base}/api/v1/signing-key`)).headers.get('content-security-policy'), "default-src 'none';frame-ancestors 'none'");
});

test('web-client-dir "" serves no client', async () => {
  const none = await bootServer({ 'web-client-dir': '' });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${none.webPort}/`)).status, 404);
  } finally {
    await none.stop();
  }
});
