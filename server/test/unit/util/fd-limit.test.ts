// #12 finding 4: reading the descriptor limit for the HTTP port's reserve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDescriptors, parseLimitsFile, softDescriptorLimit } from '../../../src/util/fd-limit.js';

test('parseLimitsFile: the soft limit of "Max open files"', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max processes             63396                63396                processes',
    'Max open files            1024                 1048576              files',
  ].join('\n');
  assert.equal(parseLimitsFile(text), 1024);
  assert.equal(parseLimitsFile(text.replace('1024 ', 'unlimited ')), Infinity);
  assert.equal(parseLimitsFile('nothing here'), undefined);
});

test('this process: a positive limit above the descriptors in use', () => {
  const limit = softDescriptorLimit();
  const open = openDescriptors();
  assert.ok(limit !== undefined && limit > 0);
  assert.ok(open !== undefined && open > 0 && open < limit);
});
