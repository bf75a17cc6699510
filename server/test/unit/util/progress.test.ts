import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, formatEta } from '../../../src/util/progress.js';

// #16: the progress lines of long operator tasks, on an injected clock.

test('a start line, at most one line per interval with rate and time left, a closing line', () => {
  const lines: string[] = [];
  let t = 10_000;
  const p = new Progress({ what: 'job', total: 10_000, write: (l) => lines.push(l), now: () => t, everyMs: 1000 });
  t += 400; p.advance(1000); // too soon: no line
  t += 600; p.advance(1000);
  t += 999; p.advance(1000); // 999 ms after the last line: none
  t += 1; p.advance(1000);
  t += 2000; p.finish();
  assert.deepEqual(lines, [
    'job: 10,000 rows to process',
    'job: 2,000/10,000 rows (20%), 2,000 rows/s, about 4s left',
    'job: 4,000/10,000 rows (40%), 2,000 rows/s, about 3s left',
    'job: done, 4,000 rows in 4s (1,000 rows/s)',
  ]);
});

test('an empty task, a unit of its own, rows beyond the count', () => {
  const lines: string[] = [];
  let t = 0;
  const p = new Progress({ what: 'walk', total: 0, unit: 'values', write: (l) => lines.push(l), now: () => (t += 5000) });
  p.advance(3);
  assert.deepEqual(lines, ['walk: 0 values to process', 'walk: 3/0 values (100%), 1 values/s, about 0ms left']);
});

test('durations as an operator reads them', () => {
  assert.deepEqual([850, 12_400, 200_000, 3_900_000, -5].map(formatEta), ['850ms', '12s', '3m 20s', '1h 05m', '0ms']);
});
