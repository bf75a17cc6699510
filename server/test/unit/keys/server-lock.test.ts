import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError, lockDataDir, tryLockDataDir } from '../../../src/keys/server-lock.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'freeq-lock-'));

describe('keys/server-lock (#12)', () => {
  test('one holder at a time; release frees it; a command holder has no pid file', () => {
    const dir = tmp();
    try {
      const a = lockDataDir(dir, { server: false });
      assert.equal(existsSync(join(dir, 'freeq.pid')), false);
      assert.throws(() => lockDataDir(dir, { server: true, what: 'stop it first' }), (e: Error) => e instanceof DataDirInUseError &&
        e.message === `data directory ${dir} is in use by another freeq process (a server, \`freeq-server keys\` or \`freeq-server db rekey\`); stop it first`);
      assert.equal(tryLockDataDir(dir), undefined);
      assert.equal(existsSync(join(dir, 'freeq.pid')), false, 'the refused server wrote no pid file');
      a.release();
      a.release(); // idempotent
      const b = tryLockDataDir(dir);
      assert.ok(b);
      b.release();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('a server holder replaces a stale 0644 pid file with a 0600 one and removes it on release', () => {
    const dir = tmp();
    try {
      const pid = join(dir, 'freeq.pid');
      writeFileSync(pid, '999999 stale\n', { mode: 0o644 });
      const l = lockDataDir(dir, { server: true });
      assert.equal(statSync(pid).mode & 0o777, 0o600);
      assert.match(readFileSync(pid, 'utf8'), new RegExp(`^${process.pid} [0-9a-f]{16}\\n$`));
      assert.throws(() => lockDataDir(dir, { server: true }), { message: `data directory ${dir} is in use by another freeq server (pid ${process.pid})` });
      l.release();
      assert.equal(existsSync(pid), false);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('a missing directory is created 0700', () => {
    const parent = tmp();
    try {
      const dir = join(parent, 'a', 'data');
      lockDataDir(dir, { server: false }).release();
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    } finally { rmSync(parent, { recursive: true, force: true }); }
  });
});
