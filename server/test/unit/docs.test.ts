import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/commands/index.js';
import { CAPABILITIES } from '../../src/session/caps.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const guide = readFileSync(`${ROOT}docs/user-guide.md`, 'utf8');

test('docs/user-guide.md mentions every command in the command table', () => {
  const missing = COMMANDS.map((c) => c.name).filter((n) => !new RegExp(`\\b${n}\\b`).test(guide));
  assert.deepEqual(missing, []);
});

test('docs/user-guide.md lists every advertised capability', () => {
  const missing = CAPABILITIES.map((c) => c.name).filter((n) => !guide.includes(n));
  assert.deepEqual(missing, []);
});

test('every command has HELP text', () => {
  assert.deepEqual(COMMANDS.filter((c) => !c.help).map((c) => c.name), []);
});
