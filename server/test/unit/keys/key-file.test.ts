import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkKeyPermissions, KeyFileError, loadOrCreateKey, loosePermissionsMessage, readKeyFile, writeKeyFileAtomic } from '../../../src/keys/key-file.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'freeq-keyfile-'));

describe('keys/key-file', () => {
  test('created 0600 as 64 hex chars; loaded again unchanged', () => {
    const dir = tmp();
    try {
      const a = loadOrCreateKey(dir, 'x.secret');
      assert.equal(a.created, true);
      assert.equal(statSync(a.path).mode & 0o777, 0o600);
      assert.equal(readFileSync(a.path, 'utf8'), a.key.toString('hex') + '\n');
      const b = loadOrCreateKey(dir, 'x.secret');
      assert.equal(b.created, false);
      assert.deepEqual(b.key, a.key);
      assert.notDeepEqual(loadOrCreateKey(dir, 'y.secret').key, a.key, 'every key independent');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('group/world readable: refused with the exact message, or fixed when told', () => {
    const dir = tmp();
    try {
      const { path } = loadOrCreateKey(dir, 'x.secret');
      chmodSync(path, 0o644);
      assert.throws(() => checkKeyPermissions(path), (e: Error) => e instanceof KeyFileError &&
        e.message === `${path} is accessible by group/others (mode 644); run: chmod 600 ${path} (or start with --fix-key-permissions)`);
      assert.equal(loosePermissionsMessage(path, 0o100640), `${path} is accessible by group/others (mode 640); run: chmod 600 ${path} (or start with --fix-key-permissions)`);
      let fixed: number | undefined;
      checkKeyPermissions(path, { fixPermissions: true, onFixed: (_p, m) => { fixed = m; } });
      assert.equal(fixed, 0o644);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('malformed files are refused, raw 32-byte files only where allowed', () => {
    const dir = tmp();
    try {
      const p = join(dir, 'k.secret');
      writeFileSync(p, 'zz'.repeat(32), { mode: 0o600 });
      assert.throws(() => readKeyFile(p), /not 64 hex characters/);
      const raw = Buffer.alloc(32, 0xfe);
      writeFileSync(p, raw, { mode: 0o600 });
      assert.throws(() => readKeyFile(p), /not 64 hex characters/);
      assert.deepEqual(readKeyFile(p, { allowRaw: true }), raw);
      assert.equal(readKeyFile(join(dir, 'absent.secret')), undefined);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('atomic replace leaves a 0600 file and no temporary', () => {
    const dir = tmp();
    try {
      const { path } = loadOrCreateKey(dir, 'k.secret');
      const next = Buffer.alloc(32, 7);
      writeKeyFileAtomic(path, next);
      assert.deepEqual(readKeyFile(path), next);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), ['k.secret']);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
