import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isValidDid, isValidHandle } from '../../../src/identity/syntax.js';

/** Vector files: one value per line; `#` comments and blank lines skipped (leading/trailing spaces are significant). */
function lines(name: string): string[] {
  return readFileSync(new URL(`../../fixtures/atproto/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

test('DID syntax: every valid vector accepted', () => {
  const v = lines('did_syntax_valid.txt');
  assert.ok(v.length > 10);
  for (const d of v) assert.equal(isValidDid(d), true, d);
});

test('DID syntax: every invalid vector refused', () => {
  const v = lines('did_syntax_invalid.txt');
  assert.ok(v.length > 10);
  for (const d of v) assert.equal(isValidDid(d), false, d.slice(0, 80));
});

test('handle syntax: every valid vector accepted', () => {
  const v = lines('handle_syntax_valid.txt');
  assert.ok(v.length > 50);
  for (const h of v) assert.equal(isValidHandle(h), true, h);
});

test('handle syntax: every invalid vector refused', () => {
  const v = lines('handle_syntax_invalid.txt');
  assert.ok(v.length > 30);
  for (const h of v) assert.equal(isValidHandle(h), false, JSON.stringify(h.slice(0, 80)));
});
