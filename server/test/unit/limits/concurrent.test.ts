import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrentLimiter } from '../../../src/limits/concurrent.js';

test('at most max per key; remove frees a slot; empty keys are forgotten', () => {
  const l = new ConcurrentLimiter(2);
  assert.equal(l.tryAdd('a'), true);
  assert.equal(l.tryAdd('a'), true);
  assert.equal(l.tryAdd('a'), false);
  assert.equal(l.count('a'), 2, 'a refused attempt is not counted');
  assert.equal(l.tryAdd('b'), true, 'keys are independent');
  l.remove('a');
  assert.equal(l.tryAdd('a'), true);
  l.remove('a'); l.remove('a'); l.remove('a');
  assert.equal(l.count('a'), 0);
  l.remove('b');
  assert.equal(l.keys, 0);
});
