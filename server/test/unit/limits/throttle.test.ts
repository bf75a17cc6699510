import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WindowThrottle } from '../../../src/limits/throttle.js';
import { ipKey } from '../../../src/util/ip-key.js';

function fakeClock(t = 1_000_000) {
  return { now: () => t, advance(ms: number) { t += ms; } };
}

test('max per window per key; the window reopens after it ends (fake clock)', () => {
  const clock = fakeClock();
  const th = new WindowThrottle(3, 60_000, clock);
  assert.deepEqual([th.touch('k'), th.touch('k'), th.touch('k'), th.touch('k')], [true, true, true, false]);
  assert.equal(th.touch('other'), true, 'keys are independent');
  clock.advance(59_999);
  assert.equal(th.touch('k'), false, 'still inside the window');
  assert.equal(th.retryAfter('k'), 1);
  clock.advance(1);
  assert.equal(th.touch('k'), true, 'a new window');
  assert.equal(th.touch('k'), true);
  assert.equal(th.touch('k'), true);
  assert.equal(th.touch('k'), false);
});

test("Ergo's shape: 2001:db8::1..4 in one /64 with max 3 → the 4th is throttled", () => {
  const th = new WindowThrottle(3, 60_000, fakeClock());
  const r = [1, 2, 3, 4].map((i) => th.touch(ipKey(`2001:db8::${i}`)));
  assert.deepEqual(r, [true, true, true, false]);
  assert.equal(th.touch(ipKey('2001:db8:1::1')), true, 'another /64 is not affected');
});

test('sweep forgets expired windows', () => {
  const clock = fakeClock();
  const th = new WindowThrottle(1, 1000, clock);
  for (let i = 0; i < 50; i++) th.touch(`k${i}`);
  assert.equal(th.keys, 50);
  clock.advance(1000);
  th.sweep();
  assert.equal(th.keys, 0);
});
