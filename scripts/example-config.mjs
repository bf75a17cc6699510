#!/usr/bin/env node
// #16: writes freeq.example.toml (repository root) from the option table, through
// server/src/config/example.ts. `npm run example-config` after adding or changing an option;
// `--check` only compares and exits 1 when the file is out of date
// (server/test/unit/config-example.test.ts checks the same in the test suite).
// Run with tsx (the npm script does): `node --import tsx scripts/example-config.mjs [--check]`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { exampleConfig } = await import('../server/src/config/example.ts');
const file = fileURLToPath(new URL('../freeq.example.toml', import.meta.url));
const text = exampleConfig();
let current = '';
try { current = readFileSync(file, 'utf8'); } catch { /* not written yet */ }
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error('freeq.example.toml is out of date: run `npm run example-config`');
    process.exit(1);
  }
} else if (current !== text) {
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
} else {
  console.log(`${file} is up to date`);
}
