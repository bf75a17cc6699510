#!/usr/bin/env node
// After `c8 node scripts/run-tests.mjs` (options in .c8rc.json): line coverage of server/src and of
// the modules the issue #13 goals name, from coverage/coverage-summary.json, each against its floor.
// The floors are the figures measured when they were set, rounded down: raise them as tests are
// added, never lower them to make a change pass. Files with no runtime code (type-only modules)
// count as 0 % under c8's `all`.
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

// measured at #13 (Node 20): state 93.x %, protocol 97.x %, server/src 96.x %; the floors leave a
// point or two for lines only some runs reach (timing-dependent paths, Node 20 vs 22) and are
// never below the goals (state/ and protocol/ 90 %, the whole server 80 %)
const FLOORS = [
  ['server/src/state', 92],
  ['server/src/protocol', 95],
  ['server/src', 94],
  // #15: the package shared with the SDK and the web client (parser, serializer, SASL framing);
  // measured 99.45 % (CI, a2ef28a)
  ['protocol/src', 98],
];

const summary = JSON.parse(readFileSync('coverage/coverage-summary.json', 'utf8'));
let failed = false;
console.log('line coverage (floor):');
for (const [dir, floor] of FLOORS) {
  const prefix = resolve(dir) + sep;
  let total = 0;
  let covered = 0;
  for (const [file, s] of Object.entries(summary)) {
    if (!file.startsWith(prefix)) continue;
    total += s.lines.total;
    covered += s.lines.covered;
  }
  const pct = total === 0 ? 0 : (100 * covered) / total;
  const ok = pct >= floor;
  if (!ok) failed = true;
  console.log(`  ${dir.padEnd(20)} ${pct.toFixed(2).padStart(6)} % (${covered}/${total}, floor ${floor} %)${ok ? '' : '  BELOW THE FLOOR'}`);
}
if (failed) {
  console.error('line coverage is below a floor in scripts/coverage-floors.mjs');
  process.exit(1);
}
