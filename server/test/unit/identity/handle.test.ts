import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { IdentityError } from '../../../src/identity/types.js';
import { json, makeIdentity, stubServer, type Stub, type TestIdentity } from './stub.js';

const isCode = (code: string) => (e: unknown) => e instanceof IdentityError && e.code === code;

/** A minimal authoritative DNS server on 127.0.0.1/udp answering TXT queries from a table. */
async function dnsServer(txt: Map<string, string[]>): Promise<{ port: number; queries: string[]; close(): void }> {
  const sock: Socket = createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (q, rinfo) => {
    let off = 12;
    const labels: string[] = [];
    while (q[off]! > 0) { labels.push(q.subarray(off + 1, off + 1 + q[off]!).toString('ascii')); off += q[off]! + 1; }
    const qEnd = off + 5; // zero byte + QTYPE + QCLASS
    const name = labels.join('.').toLowerCase();
    const qtype = q.readUInt16BE(off + 1);
    queries.push(name);
    const records = qtype === 16 ? txt.get(name) : undefined;
    const header = Buffer.alloc(12);
    q.copy(header, 0, 0, 2);                                  // id
    header.writeUInt16BE(records ? 0x8180 : 0x8183, 2);       // response, RD+RA, NOERROR / NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records?.length ?? 0, 6);
    const answers = (records ?? []).map((r) => {
      const data = Buffer.concat([Buffer.from([Buffer.byteLength(r)]), Buffer.from(r)]);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(16, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(60, 6); rr.writeUInt16BE(data.length, 10);
      return Buffer.concat([rr, data]);
    });
    sock.send(Buffer.concat([header, q.subarray(12, qEnd), ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, queries, close: () => sock.close() };
}

describe('handle resolution', () => {
  let web: Stub;
  let xrpc: Stub;
  let dns: Awaited<ReturnType<typeof dnsServer>>;
  const txt = new Map<string, string[]>();
  let viaXrpc: TestIdentity;
  let viaDns: TestIdentity;
  const didFor = (name: string) => `did:web:localhost%3A${web.port}:${name}`;

  before(async () => {
    web = await stubServer((req, res) => {
      const name = /^\/([a-z]+)\/did\.json$/.exec(req.url!)?.[1];
      if (!name) return json(res, 404, {});
      // each document claims `<name>.test`, except `liar` which claims nothing useful
      json(res, 200, { id: didFor(name), alsoKnownAs: name === 'liar' ? ['at://someone-else.test'] : [`at://${name.toUpperCase()}.test`] });
    });
    xrpc = await stubServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (u.pathname !== '/xrpc/com.atproto.identity.resolveHandle') return json(res, 404, {});
      const h = u.searchParams.get('handle')!;
      const name = h.replace(/\.test$/, '');
      if (name === 'ghost') return json(res, 400, { error: 'InvalidRequest', message: 'Unable to resolve handle' });
      if (name === 'impostor') return json(res, 200, { did: didFor('liar') });
      if (name === 'weird') return json(res, 200, { did: 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme' });
      json(res, 200, { did: didFor(name) });
    });
    dns = await dnsServer(txt);
    viaXrpc = makeIdentity({ 'handle-resolver-url': xrpc.url });
    viaDns = makeIdentity({ 'http-timeout': '1s' }, Date.now(), { dnsServers: [`127.0.0.1:${dns.port}`] });
  });
  after(async () => { viaXrpc.close(); viaDns.close(); dns.close(); await web.close(); await xrpc.close(); });

  test('via handle-resolver-url, confirmed by alsoKnownAs (case-insensitive)', async () => {
    assert.equal(await viaXrpc.svc.resolveHandle('Alice.TEST'), didFor('alice'));
    assert.ok(xrpc.hits.includes('GET /xrpc/com.atproto.identity.resolveHandle?handle=alice.test'));
  });

  test('the DID document does not list the handle → mismatch', async () => {
    await assert.rejects(viaXrpc.svc.resolveHandle('impostor.test'), isCode('mismatch'));
  });

  test('unknown handle → not-found; did:key answer → bad-document', async () => {
    await assert.rejects(viaXrpc.svc.resolveHandle('ghost.test'), isCode('not-found'));
    await assert.rejects(viaXrpc.svc.resolveHandle('weird.test'), isCode('bad-document'));
  });

  test('invalid handle syntax is refused before any request', async () => {
    const n = xrpc.hits.length;
    for (const bad of ['alice', 'jo_hn.test', '127.0.0.1', 'alice.test/../x', 'a..test']) await assert.rejects(viaXrpc.svc.resolveHandle(bad), isCode('bad-did'), bad);
    assert.equal(xrpc.hits.length, n);
  });

  test('via DNS TXT _atproto.<handle>', async () => {
    txt.set('_atproto.bob.test', ['did=' + didFor('bob')]);
    assert.equal(await viaDns.svc.resolveHandle('bob.test'), didFor('bob'));
    assert.ok(dns.queries.includes('_atproto.bob.test'));
  });

  test('DNS answer whose document lists another handle → mismatch', async () => {
    txt.set('_atproto.carol.test', ['did=' + didFor('liar')]);
    await assert.rejects(viaDns.svc.resolveHandle('carol.test'), isCode('mismatch'));
  });

  test('no TXT record (or an ambiguous one) falls back to https://<handle>/.well-known/atproto-did', async () => {
    txt.set('_atproto.dave.localhost', ['did=' + didFor('dave'), 'did=' + didFor('other')]);
    // loopback allowed: the fallback really connects to localhost:443 (nothing listens) → network
    await assert.rejects(viaDns.svc.resolveHandle('dave.localhost'), (e) => isCode('network')(e) && /^https:\/\/dave\.localhost\/\.well-known\/atproto-did: /.test((e as Error).message));
    assert.ok(dns.queries.includes('_atproto.dave.localhost'));
    const strict = makeIdentity({ 'ssrf-allow-loopback': false }, Date.now(), { dnsServers: [`127.0.0.1:${dns.port}`] });
    try {
      await assert.rejects(strict.svc.resolveHandle('nobody.localhost'), isCode('forbidden-host'));
    } finally {
      strict.close();
    }
  });

  test('the DNS step takes a lookup slot: a second lookup of the same connection meanwhile is refused (busy)', async () => {
    const silent = createSocket('udp4'); // a DNS server that never answers
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const hits: string[] = [];
    const slow = makeIdentity({ 'http-timeout': '400ms' }, Date.now(), { dnsServers: [`127.0.0.1:${silent.address().port}`], limitHit: (k) => hits.push(k) });
    try {
      const svc = slow.svc.forClient({ conn: 1, ip: '192.0.2.1' }); // identity-lookups-per-connection 1
      const first = svc.resolveHandle('first.localhost').catch((e: unknown) => e);
      await assert.rejects(svc.resolveHandle('second.localhost'), isCode('busy'));
      assert.deepEqual(hits, ['identity-lookup-connection']);
      // another connection is not affected, and the first lookup goes on (DNS times out, then HTTPS)
      await assert.rejects(slow.svc.forClient({ conn: 2, ip: '192.0.2.2' }).resolveHandle('third.localhost'), isCode('network'));
      assert.ok(isCode('network')(await first));
    } finally {
      slow.close();
      silent.close();
    }
  });
});
