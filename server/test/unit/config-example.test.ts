import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { exampleConfig } from '../../src/config/example.js';
import { loadConfig } from '../../src/config/load.js';
import { OPTIONS, envName } from '../../src/config/options.js';
import { runMain } from '../harness/child-server.js';

// #16: freeq.example.toml is generated from the option table (server/src/config/example.ts, `npm
// run example-config`). Driven by the table, so these stay true whatever options are added.

const FILE = fileURLToPath(new URL('../../../freeq.example.toml', import.meta.url));
const committed = readFileSync(FILE, 'utf8');
const withoutOpers = (c: object): object => ({ ...c, opers: [] });

test('freeq.example.toml is what the option table generates (run `npm run example-config` after changing an option)', () => {
  assert.equal(committed, exampleConfig(), 'freeq.example.toml is out of date: run `npm run example-config`');
});

test('as it is, every line is a comment and the file loads with the server\'s loader as the defaults', () => {
  for (const line of committed.split('\n')) assert.ok(line === '' || line.startsWith('#'), `not a comment: ${line}`);
  assert.deepEqual(loadConfig({ file: FILE }), loadConfig({}));
});

test('every option is there once with its help, type and environment variable; uncommented, each default line sets that default', () => {
  const lines = committed.split('\n');
  const uncommented: string[] = [];
  for (const o of OPTIONS) {
    const at = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith(`#${o.name} = `));
    assert.equal(at.length, 1, `${o.name}: one value line`);
    const [line, i] = at[0]!;
    // the comment block above the value line: the help text (re-wrapped) and the facts
    let j = i - 1;
    while (j >= 0 && lines[j]!.startsWith('# ')) j--;
    const block = lines.slice(j + 1, i).map((l) => l.slice(2)).join(' ');
    assert.ok(block.includes(o.help.split(/\s+/).join(' ')), `${o.name}: help text`);
    assert.ok(block.includes(`env ${envName(o)}`), `${o.name}: environment variable`);
    if (o.default !== undefined) uncommented.push(line.slice(1));
    else assert.match(block, /unset by default/, o.name);
  }
  // one group heading per group, in table order
  const groups = [...new Set(OPTIONS.map((o) => o.group))];
  assert.deepEqual(lines.filter((l) => l.startsWith('# ==== ') && !l.includes('Tables')).map((l) => l.slice(7, -5)), groups);
  // the uncommented default lines are valid TOML that the loader reads as the built-in defaults
  const file = parseToml(uncommented.join('\n'));
  assert.equal(Object.keys(file).length, OPTIONS.filter((o) => o.default !== undefined).length);
  assert.deepEqual(loadConfig({ fileValues: file }), loadConfig({}));
});

test('the [[oper]] example, uncommented, is a valid operator block', () => {
  const at = committed.indexOf('#[[oper]]');
  assert.ok(at > 0);
  const block = committed.slice(at).split('\n').filter((l) => /^#(\[\[oper\]\]|\w+ = )/.test(l)).map((l) => l.slice(1)).join('\n');
  const cfg = loadConfig({ fileValues: parseToml(block) });
  assert.deepEqual(cfg.opers, [{ name: 'alice', password: 'a long random passphrase', class: 'admin', vhost: 'staff/alice' }]);
  assert.deepEqual(withoutOpers(cfg), withoutOpers(loadConfig({})));
});

test('a new option appears in the generated file with its group, default and placeholder', () => {
  const text = exampleConfig([
    ...OPTIONS,
    { group: 'Logging', name: 'zz-new-size', type: 'bytes', default: '64k', min: 1024, help: 'a size someone added' },
    { group: 'Logging', name: 'zz-new-addr', type: 'addr', help: 'an address, unset by default', secret: true },
  ]);
  assert.match(text, /# a size someone added\n# \(size at least 1024 bytes; env FREEQ_ZZ_NEW_SIZE\)\n#zz-new-size = "64k"\n/);
  assert.match(text, /# an address, unset by default\n# \(host:port; unset by default; a secret: keep this file private \(chmod 600\); env FREEQ_ZZ_NEW_ADDR\)\n#zz-new-addr = "host:port"\n/);
  assert.notEqual(text, committed);
});

test('`freeq-server config example` prints the same file, whatever the environment holds', () => {
  const r = runMain(['config', 'example', '--nick-len', 'not-a-number']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, committed);
});
