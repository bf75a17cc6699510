import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FAKELAG_BUDGETS, Fakelag, type FakelagConfig } from '../../../src/limits/fakelag.js';

/** a clock the test moves by hand (style.md §4e) */
class ManualClock {
  constructor(public t = 0) {}
  now(): number { return this.t; }
  advance(ms: number): void { this.t += ms; }
}

const ERGO: FakelagConfig = { burst: 5, perWindow: 2, windowMs: 1000, cooldownMs: 2000 };

describe('Fakelag (ergo:irc/fakelag.go semantics)', () => {
  test('6th command after a 5-command burst waits 500 ms', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 5; i++) assert.equal(fl.delayFor('PRIVMSG'), 0);
    assert.equal(fl.delayFor('PRIVMSG'), 500);
    assert.equal(fl.isThrottled, true);
  });

  test('throttled commands are spaced window/perWindow apart (the delay counts as elapsed)', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 5; i++) fl.delayFor('PING');
    const runAt: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = fl.delayFor('PING');
      const t = clock.now() + d;
      clock.t = t; // the session runs it after the delay, then reads the next line
      runAt.push(t);
    }
    assert.deepEqual(runAt, [500, 1000, 1500, 2000, 2500]);
  });

  test('a command after a partial gap waits only the rest of the spacing', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 5; i++) fl.delayFor('PING');
    assert.equal(fl.delayFor('PING'), 500);
    clock.t = 500 + 300; // ran at 500, next one 300 ms later
    assert.equal(fl.delayFor('PING'), 200);
  });

  test('commands spaced at the throttled rate are never delayed', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 5; i++) fl.delayFor('PING');
    clock.t = fl.delayFor('PING'); // 500
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      assert.equal(fl.delayFor('PING'), 0, `command ${i}`);
    }
    assert.equal(fl.isThrottled, true);
  });

  test('cooldown: idle longer than the cooldown makes the full burst available again', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 5; i++) fl.delayFor('PING');
    clock.t = fl.delayFor('PING');
    clock.advance(2001);
    assert.equal(fl.delayFor('PING'), 0);
    assert.equal(fl.isThrottled, false);
    for (let i = 0; i < 4; i++) assert.equal(fl.delayFor('PING'), 0);
    assert.equal(fl.delayFor('PING'), 500, 'the command ending throttling counts as the first of the burst');
  });

  test('exactly the cooldown is not enough (strictly longer, as Ergo)', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 5; i++) fl.delayFor('PING');
    clock.t = fl.delayFor('PING');
    clock.advance(2000);
    assert.equal(fl.delayFor('PING'), 0);
    assert.equal(fl.isThrottled, true);
  });

  test('bursting: a gap longer than the cooldown resets the burst count', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 4; i++) assert.equal(fl.delayFor('PING'), 0);
    clock.advance(2500);
    for (let i = 0; i < 5; i++) assert.equal(fl.delayFor('PING'), 0);
    assert.equal(fl.delayFor('PING'), 500);
  });

  test('bursting: a gap shorter than the cooldown does not reset the burst count', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag(ERGO, clock);
    for (let i = 0; i < 4; i++) assert.equal(fl.delayFor('PING'), 0);
    clock.advance(1500);
    assert.equal(fl.delayFor('PING'), 0);
    clock.advance(10);
    assert.equal(fl.delayFor('PING'), 490);
  });

  test('command budgets: free uses per session, then ordinary fakelag', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag({ ...ERGO, budgets: { WHO: 4 } }, clock);
    for (let i = 0; i < 5; i++) assert.equal(fl.delayFor('PING'), 0);
    for (let i = 0; i < 4; i++) assert.equal(fl.delayFor('WHO'), 0, `WHO ${i} is free`);
    assert.equal(fl.delayFor('WHO'), 500, 'the budget is spent');
  });

  test('MONITOR (the defaults, hardening.md C1 after Ergo): one free, then it counts like any command', () => {
    const clock = new ManualClock(0);
    const fl = new Fakelag({ ...ERGO, budgets: DEFAULT_FAKELAG_BUDGETS }, clock);
    assert.equal(fl.delayFor('MONITOR'), 0, 'the list sent after registering is free');
    for (let i = 0; i < 5; i++) assert.equal(fl.delayFor('MONITOR'), 0, `MONITOR ${i + 2}: within the burst`);
    assert.equal(fl.delayFor('MONITOR'), 500, 'then spaced like every other command');
  });

  test('other configurations: burst 1, 4 per window of 2 s', () => {
    const clock = new ManualClock(1_000_000);
    const fl = new Fakelag({ burst: 1, perWindow: 4, windowMs: 2000, cooldownMs: 5000 }, clock);
    assert.equal(fl.delayFor('X'), 0);
    assert.equal(fl.delayFor('X'), 500);
  });
});
