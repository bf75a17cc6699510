// util/smallest.ts: the k smallest strings without a full sort (GET /api/v1/channels pages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallest } from '../../../src/util/smallest.js';

test('the same as sort().slice(0, k), for every k, on random names', () => {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 30; round++) {
    const names = Array.from({ length: Math.floor(rnd() * 60) }, () => `#${Math.floor(rnd() * 1e6).toString(36)}${rnd() < 0.1 ? 'é' : ''}`);
    for (const k of [0, 1, 2, 5, 17, 59, 60, 61, 1000]) {
      assert.deepEqual(smallest(names, k), [...names].sort().slice(0, k), `round ${round}, k ${k}`);
    }
  }
  assert.deepEqual(smallest(['#b', '#a', '#c', '#a'], 3), ['#a', '#a', '#b']);
  assert.deepEqual(smallest(new Set(['#z', '#y']).values(), 5), ['#y', '#z']);
});
