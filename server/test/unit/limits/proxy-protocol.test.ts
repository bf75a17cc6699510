import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet } from '../../../src/util/cidr.js';
import { V2_SIGNATURE, clientIpFromForwarded, parseProxyHeader } from '../../../src/transport/proxy-protocol.js';

const b = (s: string) => Buffer.from(s, 'latin1');

export function v2(cmd: number, fam: number, addr: Buffer, tlv = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | cmd;
  head[1] = (fam << 4) | 1;
  head.writeUInt16BE(addr.length + tlv.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addr, tlv]);
}

test('v1 TCP4 / TCP6 / UNKNOWN', () => {
  assert.deepEqual(parseProxyHeader(b('PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667\r\nNICK a\r\n')),
    { kind: 'header', version: 1, consumed: 44, source: { ip: '203.0.113.9', port: 5000 } });
  const six = parseProxyHeader(b('PROXY TCP6 2001:DB8::9 2001:db8::1 65535 6667\r\n'));
  assert.deepEqual(six, { kind: 'header', version: 1, consumed: 47, source: { ip: '2001:db8::9', port: 65535 } });
  assert.deepEqual(parseProxyHeader(b('PROXY UNKNOWN\r\n')), { kind: 'header', version: 1, consumed: 15 });
  assert.deepEqual(parseProxyHeader(b('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n')).kind, 'header');
});

test('v1 prefixes are incomplete; anything else is not a header', () => {
  for (const s of ['P', 'PRO', 'PROXY ', 'PROXY TCP4 203.0.113.9']) assert.equal(parseProxyHeader(b(s)).kind, 'incomplete', s);
  for (const s of ['PASS x\r\n', 'PING a\r\n', 'NICK a\r\n', 'CAP LS 302\r\n', 'PROXYX\r\n', '\x16\x03\x01']) assert.equal(parseProxyHeader(b(s)).kind, 'none', s);
  assert.equal(parseProxyHeader(b('\r\nNICK a\r\n')).kind, 'none', 'a blank first line is not the v2 signature');
});

test('v1 malformed or over-long headers are invalid', () => {
  for (const s of [
    'PROXY TCP4 203.0.113.9 127.0.0.1 5000\r\n',
    'PROXY TCP4 203.0.113.999 127.0.0.1 5000 6667\r\n',
    'PROXY TCP4 2001:db8::1 127.0.0.1 5000 6667\r\n',
    'PROXY TCP6 203.0.113.9 127.0.0.1 5000 6667\r\n',
    'PROXY TCP4 203.0.113.9 127.0.0.1 70000 6667\r\n',
    'PROXY TCP4 203.0.113.9 127.0.0.1 5000 6667\n',
    'PROXY UDP4 203.0.113.9 127.0.0.1 5000 6667\r\n',
  ]) assert.equal(parseProxyHeader(b(s)).kind, 'invalid', s);
  assert.equal(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(100)}`)).kind, 'invalid', '107 bytes without LF');
  assert.equal(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`)).kind, 'header', '107 bytes with CRLF is the maximum');
  assert.equal(parseProxyHeader(b(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`)).kind, 'invalid', '108 bytes is one too many');
});

test('v2 PROXY AF_INET / AF_INET6, LOCAL, TLVs, partial input', () => {
  const a4 = Buffer.from([203, 0, 113, 9, 127, 0, 0, 1, 0x13, 0x88, 0x1a, 0x0b]);
  const h4 = v2(1, 1, a4, Buffer.from([0x04, 0x00, 0x01, 0x00]));
  assert.deepEqual(parseProxyHeader(Buffer.concat([h4, b('NICK a\r\n')])), { kind: 'header', version: 2, consumed: h4.length, source: { ip: '203.0.113.9', port: 5000 } });
  for (let n = 1; n < h4.length; n++) assert.equal(parseProxyHeader(h4.subarray(0, n)).kind, 'incomplete', `first ${n} bytes`);
  const a6 = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000009', 'hex').copy(a6, 0);
  a6.writeUInt16BE(4242, 32);
  assert.deepEqual(parseProxyHeader(v2(1, 2, a6)), { kind: 'header', version: 2, consumed: 52, source: { ip: '2001:db8::9', port: 4242 } });
  assert.deepEqual(parseProxyHeader(v2(0, 0, Buffer.alloc(0))), { kind: 'header', version: 2, consumed: 16 });
  const bad = v2(1, 1, a4); bad[12] = 0x11;
  assert.equal(parseProxyHeader(bad).kind, 'invalid', 'version 1 in a v2 header');
  assert.equal(parseProxyHeader(v2(1, 1, Buffer.alloc(4))).kind, 'invalid', 'short AF_INET block');
  const huge = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
  assert.equal(parseProxyHeader(huge).kind, 'invalid', 'a 64 KiB header is refused before it is buffered');
});

test('X-Forwarded-For: the rightmost hop that is not a trusted proxy', () => {
  const trusted = new CidrSet(['127.0.0.1/32', '10.0.0.0/8']);
  assert.equal(clientIpFromForwarded(undefined, '127.0.0.1', trusted), '127.0.0.1');
  assert.equal(clientIpFromForwarded('203.0.113.9', '127.0.0.1', trusted), '203.0.113.9');
  assert.equal(clientIpFromForwarded('198.51.100.1, 203.0.113.9', '127.0.0.1', trusted), '203.0.113.9', 'a client-supplied left hop is ignored');
  assert.equal(clientIpFromForwarded('198.51.100.1, 203.0.113.9, 10.0.0.2', '127.0.0.1', trusted), '203.0.113.9', 'inner proxies are skipped');
  assert.equal(clientIpFromForwarded('10.0.0.3, 10.0.0.2', '127.0.0.1', trusted), '10.0.0.3', 'all trusted: the leftmost');
  assert.equal(clientIpFromForwarded('203.0.113.9, garbage', '127.0.0.1', trusted), '127.0.0.1', 'a malformed hop stops at the last trusted address');
  assert.equal(clientIpFromForwarded('[2001:db8::9]:443', '127.0.0.1', trusted), '2001:db8::9');
  assert.equal(clientIpFromForwarded('203.0.113.9:5000', '127.0.0.1', trusted), '203.0.113.9');
  assert.equal(clientIpFromForwarded(['198.51.100.1', '203.0.113.9'], '127.0.0.1', trusted), '203.0.113.9');
});
