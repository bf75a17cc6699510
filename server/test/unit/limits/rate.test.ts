import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, SlidingWindow } from '../../../src/limits/rate.js';

class ManualClock {
  constructor(public t = 0) {}
  now(): number { return this.t; }
}

describe('SlidingWindow', () => {
  test('5 per 2 s: the 6th is refused, then allowed once the oldest leaves the window', () => {
    const w = new SlidingWindow(5, 2000);
    for (let i = 0; i < 5; i++) assert.equal(w.take(i * 100), true);
    assert.equal(w.take(450), false);
    assert.equal(w.retryAfter(450), 2000 - 450);
    assert.equal(w.take(1999), false);
    assert.equal(w.take(2000), true, 'the first event (t=0) left the window at t=2000');
    assert.equal(w.take(2001), false, 'the event at t=100 is still inside');
    assert.equal(w.take(2100), true);
  });

  test('refused events are not recorded (hammering does not extend the block)', () => {
    const w = new SlidingWindow(2, 1000);
    assert.ok(w.take(0) && w.take(0));
    for (let t = 1; t < 1000; t += 10) assert.equal(w.take(t), false);
    assert.equal(w.take(1000), true);
  });

  test('no fixed-window edge: at most `limit` in any span of the window', () => {
    const w = new SlidingWindow(3, 1000);
    const accepted: number[] = [];
    for (let t = 0; t < 10_000; t += 37) if (w.take(t)) accepted.push(t);
    assert.ok(accepted.length >= 27, `about 3 per second accepted (${accepted.length})`);
    for (let i = 3; i < accepted.length; i++) assert.ok(accepted[i]! - accepted[i - 3]! >= 1000, `events ${i - 3}..${i}`);
  });

  test('NICK 3/60 s (C3): the 4th change within a minute is refused', () => {
    const w = new SlidingWindow(3, 60_000);
    assert.deepEqual([0, 100, 200, 300].map((t) => w.take(t)), [true, true, true, false]);
    assert.equal(w.take(60_000), true);
  });

  test('count memory stays bounded over a long run', () => {
    const w = new SlidingWindow(5, 100);
    for (let t = 0; t < 100_000; t += 1) w.take(t);
    assert.ok(w.count(100_000) <= 5);
  });
});

describe('RateLimiter (keyed, with a Clock)', () => {
  test('keys are independent; the clock drives the window', () => {
    const clock = new ManualClock(0);
    const rl = new RateLimiter<string>(30, 5 * 60_000, clock);
    for (let i = 0; i < 30; i++) assert.equal(rl.take('did:plc:alice 10.0.0.1'), true);
    assert.equal(rl.take('did:plc:alice 10.0.0.1'), false, '31st attempt in 5 minutes');
    assert.equal(rl.take('did:plc:alice 10.0.0.2'), true, 'other IP');
    assert.equal(rl.take('did:plc:bob 10.0.0.1'), true, 'other identity');
    clock.t = 5 * 60_000;
    assert.equal(rl.take('did:plc:alice 10.0.0.1'), true, 'window passed');
  });

  test('idle keys are pruned; the number of keys is capped', () => {
    const clock = new ManualClock(0);
    const rl = new RateLimiter<number>(1, 1000, clock, 100);
    for (let i = 0; i < 100; i++) rl.take(i);
    assert.equal(rl.size, 100);
    rl.take(1000);
    assert.equal(rl.size, 100, 'oldest key forgotten at the cap');
    assert.equal(rl.take(2), false, 'key 2 is still tracked (and over its limit)');
    assert.equal(rl.take(0), true, 'key 0, the oldest, was forgotten: fresh window');
    clock.t = 5000;
    rl.prune();
    assert.equal(rl.size, 0);
  });

  test('retryAfter tells when a key may act again', () => {
    const clock = new ManualClock(100);
    const rl = new RateLimiter<string>(1, 1000, clock);
    assert.equal(rl.retryAfter('k'), 0);
    rl.take('k');
    clock.t = 400;
    assert.equal(rl.retryAfter('k'), 700);
  });
});
