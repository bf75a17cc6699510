import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { classifyAddress } from '../../../src/identity/ssrf.js';
import { IdentityError } from '../../../src/identity/types.js';
import { json, makeIdentity, plcDid, stubServer, type Stub, type TestIdentity } from './stub.js';

describe('address classifier', () => {
  const cases: [string, 'public' | 'loopback' | 'forbidden'][] = [
    ['8.8.8.8', 'public'], ['1.1.1.1', 'public'], ['2606:4700:4700::1111', 'public'], ['::ffff:8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['10.0.0.1', 'forbidden'], ['172.16.5.4', 'forbidden'], ['172.31.255.255', 'forbidden'], ['192.168.1.1', 'forbidden'],
    ['169.254.169.254', 'forbidden'], ['100.64.0.1', 'forbidden'], ['100.127.255.255', 'forbidden'],
    ['0.0.0.0', 'forbidden'], ['255.255.255.255', 'forbidden'], ['224.0.0.1', 'forbidden'],
    ['192.0.2.1', 'forbidden'], ['198.51.100.7', 'forbidden'], ['203.0.113.9', 'forbidden'], ['198.18.0.1', 'forbidden'],
    ['::', 'forbidden'], ['fe80::1', 'forbidden'], ['fe80::1%eth0', 'forbidden'], ['fc00::1', 'forbidden'], ['fd12:3456::1', 'forbidden'],
    ['ff02::1', 'forbidden'], ['2001:db8::1', 'forbidden'], ['3fff::1', 'forbidden'], ['2001:0:4136:e378::1', 'forbidden'],
    ['::ffff:10.0.0.1', 'forbidden'], ['::ffff:a9fe:a9fe', 'forbidden'], ['::ffff:192.168.0.1', 'forbidden'],
    ['64:ff9b::a9fe:a9fe', 'forbidden'], ['64:ff9b::7f00:1', 'loopback'], ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::1', 'forbidden'], ['2002:0808:0808::1', 'public'], ['::127.0.0.1', 'forbidden'],
    ['not-an-ip', 'forbidden'], ['', 'forbidden'], ['1.2.3', 'forbidden'],
  ];
  for (const [ip, want] of cases) test(`${ip || '(empty)'} → ${want}`, () => assert.equal(classifyAddress(ip), want));
  test('172.15.x and 172.32.x are public (edges of 172.16/12)', () => {
    assert.equal(classifyAddress('172.15.255.255'), 'public');
    assert.equal(classifyAddress('172.32.0.0'), 'public');
  });
});

const isCode = (code: string) => (e: unknown) => e instanceof IdentityError && e.code === code;

describe('SSRF guard (ssrf-allow-loopback=false): refused before any connection is opened', () => {
  let sentinel: Stub;
  let id: TestIdentity;
  let v6 = true;
  before(async () => {
    // listen on :: (dual stack) when IPv6 exists, so both 127.0.0.1 and ::1 would reach it
    try {
      sentinel = await stubServer((_q, res) => json(res, 200, {}), '::');
    } catch {
      v6 = false;
      sentinel = await stubServer((_q, res) => json(res, 200, {}));
    }
    id = makeIdentity({ 'ssrf-allow-loopback': false, 'plc-url': `http://127.0.0.1:${sentinel.port}`, 'http-timeout': '2s' });
  });
  after(async () => { id.close(); await sentinel.close(); });

  const p = () => sentinel.port;
  const refusals: [string, () => Promise<unknown>][] = [
    ['did:web:127.0.0.1%3Aport', () => id.svc.resolveDid(`did:web:127.0.0.1%3A${p()}`)],
    ['did:web:localhost%3Aport', () => id.svc.resolveDid(`did:web:localhost%3A${p()}`)],
    ['did:web:localhost', () => id.svc.resolveDid('did:web:localhost')],
    ['plc-url http://127.0.0.1:port', () => id.svc.resolveDid(plcDid('ssrf'))],
    ['createSession http://127.0.0.1', () => id.svc.createSession(`http://127.0.0.1:${p()}`, 'alice.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://127.0.0.1', () => id.svc.createSession(`https://127.0.0.1:${p()}`, 'alice.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://localhost', () => id.svc.createSession(`https://localhost:${p()}`, 'alice.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://[::1]', () => id.svc.createSession(`https://[::1]:${p()}`, 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://[::ffff:127.0.0.1]', () => id.svc.createSession(`https://[::ffff:127.0.0.1]:${p()}`, 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://[::ffff:7f00:1]', () => id.svc.createSession(`https://[::ffff:7f00:1]:${p()}`, 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://0x7f.1 (odd IPv4 spelling)', () => id.svc.createSession(`https://0x7f.1:${p()}`, 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://2130706433 (decimal IPv4)', () => id.svc.createSession(`https://2130706433:${p()}`, 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://10.0.0.1', () => id.svc.createSession('https://10.0.0.1', 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://169.254.169.254', () => id.svc.createSession('https://169.254.169.254', 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession https://[fe80::1]', () => id.svc.createSession('https://[fe80::1]', 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession http://example.com (plain http to a public host)', () => id.svc.createSession('http://example.com', 'a.test', 'pw', 'did:plc:ssrf')],
    ['createSession file:///etc/passwd', () => id.svc.createSession('file:///etc/passwd', 'a.test', 'pw', 'did:plc:ssrf')],
  ];
  for (const [name, call] of refusals) {
    test(name, async () => {
      const t0 = performance.now();
      await assert.rejects(call(), isCode('forbidden-host'));
      assert.ok(performance.now() - t0 < 500, 'refused immediately, not after a connection attempt');
      assert.equal(sentinel.connections(), 0);
    });
  }

  test('getSession to a loopback PDS: ok=false with a forbidden-host reason, token not echoed', async () => {
    const r = await id.svc.getSession(`http://127.0.0.1:${p()}`, { scheme: 'Bearer', token: 'SECRET-TOKEN' }, 'did:plc:ssrf');
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /^forbidden-host/);
    assert.doesNotMatch(JSON.stringify(r), /SECRET-TOKEN/);
    assert.equal(sentinel.connections(), 0);
  });

  test('deleteSession to a loopback PDS is swallowed and never connects', async () => {
    await id.svc.deleteSession(`http://[::1]:${p()}`, 'refresh');
    assert.equal(sentinel.connections(), 0);
  });

  test('a DNS name that resolves to a loopback address is refused by the connect-time lookup', async (t) => {
    const name = hostname();
    let addrs: { address: string }[];
    try { addrs = await lookup(name, { all: true }); } catch { t.skip('hostname does not resolve'); return; }
    if (addrs.some((a) => classifyAddress(a.address) === 'public') || name.toLowerCase() === 'localhost') { t.skip(`${name} resolves to a public address`); return; }
    await assert.rejects(id.svc.createSession(`https://${name}:${p()}`, 'a.test', 'pw', 'did:plc:ssrf'), isCode('forbidden-host'));
    assert.equal(sentinel.connections(), 0);
  });

  test('sentinel control: the same sentinel does see a connection when loopback is allowed', async () => {
    const open = makeIdentity({ 'ssrf-allow-loopback': true });
    try {
      await open.svc.deleteSession(`http://127.0.0.1:${p()}`, 'x');
      assert.equal(sentinel.connections(), 1);
      if (v6) {
        await open.svc.deleteSession(`http://[::1]:${p()}`, 'x').catch(() => undefined);
        assert.ok(sentinel.connections() >= 1);
      }
    } finally {
      open.close();
    }
  });
});

describe('SSRF guard (ssrf-allow-loopback=true): only loopback opens up', () => {
  let id: TestIdentity;
  before(() => { id = makeIdentity({ 'ssrf-allow-loopback': true }); });
  after(() => id.close());
  for (const url of ['https://10.0.0.1', 'https://169.254.169.254', 'http://169.254.169.254', 'https://[::ffff:10.0.0.1]', 'https://192.168.1.1', 'https://100.64.0.1', 'https://[fd00::1]', 'http://example.com']) {
    test(url, async () => {
      const t0 = performance.now();
      await assert.rejects(id.svc.createSession(url, 'a.test', 'pw', 'did:plc:ssrf'), isCode('forbidden-host'));
      assert.ok(performance.now() - t0 < 500);
    });
  }
});
