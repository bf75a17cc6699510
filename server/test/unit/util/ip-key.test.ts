import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipKey } from '../../../src/util/ip-key.js';
import { CidrSet, formatIp, normalizeIp, parseIp } from '../../../src/util/cidr.js';

test('IPv4 keys are the /32', () => {
  assert.equal(ipKey('192.0.2.1'), '192.0.2.1');
  assert.notEqual(ipKey('192.0.2.1'), ipKey('192.0.2.2'));
});

test('IPv6 keys are the /64, in canonical form', () => {
  assert.equal(ipKey('2001:db8::1'), '2001:db8::/64');
  assert.equal(ipKey('2001:0db8:0000:0000:ffff:1:2:3'), '2001:db8::/64');
  assert.equal(ipKey('2001:db8:0:1::1'), '2001:db8:0:1::/64');
  assert.notEqual(ipKey('2001:db8:0:1::1'), ipKey('2001:db8:0:2::1'));
});

test('IPv4-mapped IPv6 counts as the IPv4 address', () => {
  assert.equal(ipKey('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(ipKey('::ffff:c633:6407'), '198.51.100.7');
  assert.equal(normalizeIp('::FFFF:127.0.0.1'), '127.0.0.1');
});

test('21 addresses in one /64 share one key', () => {
  const keys = new Set<string>();
  for (let i = 1; i <= 0x15; i++) keys.add(ipKey(`2001:db8::${i.toString(16)}`));
  assert.deepEqual([...keys], ['2001:db8::/64']);
});

test('parseIp rejects junk and formats RFC 5952', () => {
  for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', 'localhost']) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.equal(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIp(parseIp('::')!), '::');
  assert.equal(formatIp(parseIp('::1')!), '::1');
  assert.equal(formatIp(parseIp('fe80::1%eth0')!), 'fe80::1');
  assert.equal(formatIp(parseIp('1:2:3:4:5:6:7:8')!), '1:2:3:4:5:6:7:8');
});

test('CidrSet: v4, v6, single addresses, mapped addresses, prefix edges', () => {
  const s = new CidrSet(['10.0.0.0/8', '192.0.2.128/25', '2001:db8::/32', '198.51.100.7', '::1/128']);
  assert.equal(s.has('10.255.1.2'), true);
  assert.equal(s.has('11.0.0.1'), false);
  assert.equal(s.has('192.0.2.128'), true);
  assert.equal(s.has('192.0.2.127'), false);
  assert.equal(s.has('2001:db8:ffff::1'), true);
  assert.equal(s.has('2001:db9::1'), false);
  assert.equal(s.has('198.51.100.7'), true);
  assert.equal(s.has('198.51.100.8'), false);
  assert.equal(s.has('::ffff:10.1.2.3'), true, 'a mapped address matches the v4 block');
  assert.equal(s.has('::1'), true);
  assert.equal(s.has('::2'), false);
  assert.equal(s.has('not-an-ip'), false);
  assert.equal(new CidrSet([]).has('127.0.0.1'), false);
  assert.equal(new CidrSet(['0.0.0.0/0']).has('203.0.113.9'), true);
  assert.equal(new CidrSet(['0.0.0.0/0']).has('2001:db8::1'), false, 'families never mix');
  assert.throws(() => new CidrSet(['10.0.0.0/33']));
  assert.throws(() => new CidrSet(['example.org']));
});
