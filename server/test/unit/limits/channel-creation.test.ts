import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelCreationThrottle } from '../../../src/limits/channel-creation.js';

// #12 finding 8: channel creations per connection and per IP key within a sliding window.

function setup(exempt: string[] = []) {
  let now = 0;
  const clock = { now: () => now };
  const t = new ChannelCreationThrottle({ perConnection: 2, perIp: 3, windowMs: 600_000, exempt }, clock);
  return { t, advance: (ms: number) => { now += ms; } };
}

test('per connection: the 3rd creation within the window is refused; the window slides', () => {
  const { t, advance } = setup();
  const c = {};
  for (let i = 0; i < 2; i++) { assert.equal(t.allowed(c, '192.0.2.1'), true); t.record(c, '192.0.2.1'); advance(1000); }
  assert.equal(t.allowed(c, '192.0.2.1'), false);
  advance(600_000 - 2000);
  assert.equal(t.allowed(c, '192.0.2.1'), true, 'the first creation left the window');
});

test('per IP key: connections add up; an IPv6 /64 is one key; another address is not affected', () => {
  const { t } = setup();
  const conns = [{}, {}, {}];
  t.record(conns[0]!, '2001:db8::1');
  t.record(conns[1]!, '2001:db8::2');
  t.record(conns[2]!, '2001:db8:0:0:ffff::3');
  assert.equal(t.allowed({}, '2001:db8::9'), false);
  assert.equal(t.allowed({}, '2001:db8:0:1::1'), true);
  assert.equal(t.allowed({}, '::ffff:192.0.2.7'), true);
});

test('exempt addresses have no per-IP count, but each connection keeps its own', () => {
  const { t } = setup(['127.0.0.0/8']);
  for (let i = 0; i < 5; i++) { const c = {}; t.record(c, '127.0.0.1'); assert.equal(t.allowed({}, '127.0.0.1'), true); }
  const c = {};
  t.record(c, '127.0.0.1'); t.record(c, '127.0.0.1');
  assert.equal(t.allowed(c, '127.0.0.1'), false);
});
