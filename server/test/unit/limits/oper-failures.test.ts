// #12 finding 17: failed OPER attempts per IP key and server-wide, sliding windows (fake clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperFailures } from '../../../src/limits/oper-failures.js';

test('per IP key (IPv6 /64), then server-wide; failures age out of the sliding window', () => {
  let now = 0;
  const f = new OperFailures({ perIp: 2, global: 3, windowMs: 1000 }, { now: () => now });
  assert.equal(f.blocked('2001:db8::1'), undefined);
  assert.deepEqual(f.failed('2001:db8::1'), []);
  now = 100;
  assert.deepEqual(f.failed('2001:db8::2'), ['ip'], 'same /64: the per-IP budget of 2 is full');
  assert.equal(f.blocked('2001:db8::ffff'), 'ip');
  assert.equal(f.blocked('2001:db8:0:1::1'), undefined, 'the next /64 is someone else');
  assert.deepEqual(f.failed('192.0.2.1'), ['global']);
  assert.equal(f.blocked('198.51.100.1'), 'global');
  now = 1000; // the failure at 0 has left the window
  assert.equal(f.blocked('198.51.100.1'), undefined);
  assert.equal(f.blocked('2001:db8::1'), undefined, 'one failure of the /64 left');
  now = 1100;
  assert.equal(f.blocked('2001:db8::1'), undefined);
});

test('exempt addresses: not refused by the server-wide budget, their failures not counted in it; per-IP still applies', () => {
  const f = new OperFailures({ perIp: 2, global: 2, windowMs: 1000, exempt: ['10.0.0.0/8'] }, { now: () => 0 });
  assert.deepEqual(f.failed('10.1.1.1'), []);
  assert.deepEqual(f.failed('10.1.1.1'), ['ip'], 'its own per-IP budget');
  assert.equal(f.blocked('10.1.1.1'), 'ip');
  assert.equal(f.blocked('192.0.2.1'), undefined, 'the exempt failures did not touch the server-wide budget');
  assert.deepEqual(f.failed('192.0.2.1'), []);
  assert.deepEqual(f.failed('198.51.100.1'), ['global']);
  assert.equal(f.blocked('203.0.113.1'), 'global');
  assert.equal(f.blocked('10.2.2.2'), undefined, 'another exempt address still gets its password checked');
});
