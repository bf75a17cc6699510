import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { OPTIONS } from '../../src/config/options.js';
import { planReload, RELOADABLE } from '../../src/config/reload.js';
import { changeSnomask, ALL_SNOMASKS } from '../../src/session/server-notices.js';
import { isupportChanges } from '../../src/rehash.js';

// #16: what a REHASH may change (config/reload.ts), checked without a server

test('every reloadable name is an option (a typo would make an option silently restart-only)', () => {
  const names = new Set(OPTIONS.map((o) => o.name));
  assert.deepEqual([...RELOADABLE].filter((n) => !names.has(n)), []);
});

test('planReload: reloadable changes are applied, the others keep their old value and are listed', () => {
  const old = loadConfig({ env: {}, cli: { 'nick-len': 30, readq: 9000 }, fileValues: { oper: [{ name: 'a', password: 'password-a' }] } });
  const fresh = loadConfig({ env: {}, cli: { 'nick-len': 12, readq: 10000, 'motd-file': '/tmp/motd' }, fileValues: { oper: [{ name: 'b', password: 'password-b' }] } });
  const plan = planReload(old, fresh);
  assert.deepEqual(plan.applied.sort(), ['[[oper]]', 'motd-file', 'nick-len']);
  assert.deepEqual(plan.restart, ['readq']);
  assert.equal(plan.config.nickLen, 12);
  assert.equal(plan.config.readq, 9000);
  assert.equal(plan.config.motdFile, '/tmp/motd');
  assert.deepEqual(plan.config.opers.map((o) => o.name), ['b']);
  assert.ok(Object.isFrozen(plan.config));
  // an option unset again: gone from the new configuration
  const back = planReload(plan.config, old);
  assert.equal(back.config.motdFile, undefined);
  const same = planReload(old, old);
  assert.deepEqual([same.applied, same.restart], [[], []]);
});

test('docs/operator-guide.md lists every reloadable option in its REHASH table', () => {
  const guide = readFileSync(fileURLToPath(new URL('../../../docs/operator-guide.md', import.meta.url)), 'utf8');
  const section = guide.slice(guide.indexOf('### What a reload changes'), guide.indexOf('### Server notices'));
  assert.ok(section.length > 0);
  assert.deepEqual([...RELOADABLE].filter((n) => !section.includes(`\`${n}\``)), []);
});

test('snomask changes: add, remove, *, mixed signs, unknown letters', () => {
  assert.deepEqual(changeSnomask('', '+cq'), { mask: 'cq', unknown: [] });
  assert.deepEqual(changeSnomask('cq', 'k'), { mask: 'ckq', unknown: [] });
  assert.deepEqual(changeSnomask('ckq', '-q+oZ'), { mask: 'cko', unknown: ['Z'] });
  assert.deepEqual(changeSnomask('c', '*'), { mask: ALL_SNOMASKS, unknown: [] });
  assert.deepEqual(changeSnomask(ALL_SNOMASKS, '-*'), { mask: '', unknown: [] });
});

test('RPL_ISUPPORT changes: new and changed tokens, -NAME for one gone', () => {
  assert.deepEqual(isupportChanges(['NICKLEN=20', 'MODES=20', 'KNOCK', 'UTF8ONLY'], ['NICKLEN=12', 'MODES=20', 'UTF8ONLY', 'WHOX']), ['NICKLEN=12', 'WHOX', '-KNOCK']);
  assert.deepEqual(isupportChanges(['A=1'], ['A=1']), []);
});
