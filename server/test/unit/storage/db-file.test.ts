import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../../src/storage/db.js';

test('a new database, its WAL and a new data dir are private (0600 / 0700)', () => {
  const root = mkdtempSync(join(tmpdir(), 'freeq-dbmode-'));
  try {
    const dir = join(root, 'data');
    const path = join(dir, 'freeq.db');
    const db = openDb(path);
    db.prepare('CREATE TABLE t (x)').run();
    db.prepare('INSERT INTO t VALUES (1)').run();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600, 'SQLite copies the database mode to the WAL');
    db.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
