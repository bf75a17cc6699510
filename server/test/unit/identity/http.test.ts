import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from '../../../src/identity/http.js';
import { IdentityError } from '../../../src/identity/types.js';
import { json, makeIdentity, plcDid, stubServer, type Stub, type TestIdentity } from './stub.js';

const isCode = (code: string) => (e: unknown) => e instanceof IdentityError && e.code === code;

/** Outbound HTTP limits, exercised through the PLC resolver against misbehaving stub servers. */
describe('outbound HTTP limits (http-timeout=500ms)', () => {
  let bad: Stub;
  let id: TestIdentity;
  const routes = new Map<string, (res: import('node:http').ServerResponse) => void>();
  before(async () => {
    bad = await stubServer((req, res) => {
      const did = req.url!.slice(1);
      const r = routes.get(did);
      if (r) r(res); else json(res, 404, { message: 'DID not registered' });
    });
    id = makeIdentity({ 'plc-url': bad.url, 'http-timeout': '500ms' });
  });
  after(async () => { id.close(); await bad.close(); });

  test('a 302 redirect is an error and is not followed', async () => {
    const did = plcDid('redirect');
    routes.set(did, (res) => { res.writeHead(302, { location: `${bad.url}/followed` }); res.end(); });
    await assert.rejects(id.svc.resolveDid(did), (e) => isCode('network')(e) && /redirect/.test((e as Error).message));
    assert.ok(!bad.hits.includes('GET /followed'));
  });

  test('a server that never answers fails within http-timeout (+ slack)', async () => {
    const did = plcDid('silent');
    routes.set(did, () => { /* never respond */ });
    const t0 = performance.now();
    await assert.rejects(id.svc.resolveDid(did), (e) => isCode('network')(e) && /timed out/.test((e as Error).message));
    const took = performance.now() - t0;
    assert.ok(took >= 450 && took < 1500, `took ${took} ms`);
  });

  test('a slow-loris body (headers fast, bytes trickling) hits the same deadline', async () => {
    const did = plcDid('trickle');
    routes.set(did, (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const iv = setInterval(() => { if (!res.write(' ')) clearInterval(iv); }, 50);
      res.on('close', () => clearInterval(iv));
    });
    const t0 = performance.now();
    await assert.rejects(id.svc.resolveDid(did), isCode('network'));
    assert.ok(performance.now() - t0 < 1500);
  });

  test('an oversized body (> 64 KiB, declared) is refused', async () => {
    const did = plcDid('bigdeclared');
    routes.set(did, (res) => json(res, 200, { id: did, pad: 'x'.repeat(70_000) }));
    await assert.rejects(id.svc.resolveDid(did), (e) => isCode('bad-document')(e) && /larger than 65536/.test((e as Error).message));
  });

  test('an oversized chunked body (no content-length) is cut off at 64 KiB', async () => {
    const did = plcDid('bigchunked');
    let sent = 0;
    routes.set(did, (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'y'.repeat(8192);
      const push = () => {
        while (sent < 1_000_000) {
          sent += chunk.length;
          if (!res.write(chunk)) { res.once('drain', push); return; }
        }
        res.end();
      };
      res.on('close', () => { sent = Infinity; });
      push();
    });
    await assert.rejects(id.svc.resolveDid(did), isCode('bad-document'));
  });

  test('a body of exactly 64 KiB is still accepted', async () => {
    const did = plcDid('exact');
    const base = JSON.stringify({ id: did, pad: '' });
    const doc = { id: did, pad: 'z'.repeat(65536 - base.length) };
    assert.equal(JSON.stringify(doc).length, 65536);
    routes.set(did, (res) => json(res, 200, doc));
    assert.equal((await id.svc.resolveDid(did)).id, did);
  });

  test('malformed JSON → bad-document', async () => {
    const did = plcDid('badjson');
    routes.set(did, (res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"id": '); });
    await assert.rejects(id.svc.resolveDid(did), isCode('bad-document'));
  });

  test('a 500 from the resolver → network', async () => {
    const did = plcDid('fivehundred');
    routes.set(did, (res) => json(res, 500, { error: 'oops' }));
    await assert.rejects(id.svc.resolveDid(did), isCode('network'));
  });

  test('connection refused → network', async () => {
    const closed = await stubServer(() => undefined);
    await closed.close();
    const other = makeIdentity({ 'plc-url': closed.url, 'http-timeout': '500ms' });
    try {
      await assert.rejects(other.svc.resolveDid(plcDid('refused')), (e) => isCode('network')(e) && /ECONNREFUSED/.test((e as Error).message));
    } finally {
      other.close();
    }
  });

  test('at most maxInFlight requests at once; the next one fails fast instead of queueing', async () => {
    const did = plcDid('hang');
    routes.set(did, () => { /* never respond */ });
    const client = new HttpClient({ timeoutMs: 500, allowLoopback: true, maxInFlight: 2 });
    const hanging = [client.request(`${bad.url}/${did}`), client.request(`${bad.url}/${did}`)];
    const t0 = performance.now();
    await assert.rejects(client.request(`${bad.url}/${did}`), (e) => isCode('busy')(e) && /in flight/.test((e as Error).message));
    assert.ok(performance.now() - t0 < 100);
    for (const h of hanging) await assert.rejects(h, isCode('network'));
    routes.set(did, (res) => json(res, 200, { id: did }));
    assert.equal((await client.request(`${bad.url}/${did}`)).status, 200, 'slots are released after failures');
  });
});
