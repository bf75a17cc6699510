import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ChallengeStore } from '../../../src/auth/sasl/challenge-store.js';

class FakeClock {
  constructor(public t: number) {}
  now(): number { return this.t; }
}

const T0 = 1_700_000_000_500;

describe('ATPROTO-CHALLENGE challenge store', () => {
  test('challenge JSON: exact field order, 32-byte nonce, unix seconds; encoded = base64url-nopad(bytes)', () => {
    const s = new ChallengeStore(new FakeClock(T0), 60_000);
    const c = s.issue();
    const json = c.bytes.toString('utf8');
    assert.match(json, /^\{"session_id":"[A-Za-z0-9_-]{22}","nonce":"[A-Za-z0-9_-]{43}","timestamp":1700000000\}$/);
    assert.equal(Buffer.from(c.nonce, 'base64url').length, 32);
    assert.equal(c.timestamp, 1_700_000_000);
    assert.equal(c.encoded, c.bytes.toString('base64url'));
    assert.doesNotMatch(c.encoded, /=/);
    assert.deepEqual(JSON.parse(json), { session_id: c.sessionId, nonce: c.nonce, timestamp: c.timestamp });
  });

  test('session ids and nonces are random', () => {
    const s = new ChallengeStore(new FakeClock(T0), 60_000);
    const a = s.issue(), b = s.issue();
    assert.notEqual(a.sessionId, b.sessionId);
    assert.notEqual(a.nonce, b.nonce);
  });

  test('single use: the first take returns it, the second nothing', () => {
    const s = new ChallengeStore(new FakeClock(T0), 60_000);
    const c = s.issue();
    assert.equal(s.pending, true);
    assert.equal(s.take(), c);
    assert.equal(s.pending, false);
    assert.equal(s.take(), undefined);
  });

  test('a new challenge replaces the old one', () => {
    const s = new ChallengeStore(new FakeClock(T0), 60_000);
    const first = s.issue();
    const second = s.issue();
    const got = s.take();
    assert.equal(got, second);
    assert.notDeepEqual(got.bytes, first.bytes);
    assert.equal(s.take(), undefined);
  });

  test('expiry: valid up to the timeout, expired past it', () => {
    const clock = new FakeClock(T0);
    const s = new ChallengeStore(clock, 60_000);
    s.issue();
    clock.t = T0 + 60_000;
    assert.ok(s.take(), 'exactly at the timeout is still valid');
    s.issue(); // at T0 + 60 000
    clock.t = T0 + 120_001;
    assert.equal(s.take(), undefined, '60.001 s later');
    assert.equal(s.pending, false, 'an expired challenge is consumed as well');
  });

  test('expiry in the other direction: a clock that steps back does not extend it', () => {
    const clock = new FakeClock(T0);
    const s = new ChallengeStore(clock, 60_000);
    s.issue();
    clock.t = T0 - 60_001;
    assert.equal(s.take(), undefined);
    s.issue(); // at T0 - 60 001
    clock.t = T0 - 60_001 - 59_999;
    assert.ok(s.take(), 'within the window backwards');
  });

  test('discard drops it', () => {
    const s = new ChallengeStore(new FakeClock(T0), 60_000);
    s.issue();
    s.discard();
    assert.equal(s.take(), undefined);
  });
});
