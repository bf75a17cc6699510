import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openDb } from '../../../src/storage/db.js';

// #12 finding 5: handles stored by earlier versions were never checked against the DID; the
// upgrade drops them (each returns, verified, at the account's next login), keeping the rest.
test('migration 7 clears the unverified handles stored before it and keeps nick ownership', () => {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-mig-'));
  try {
    const path = join(dir, 'freeq.db');
    const old = new Database(path);
    migrate(old, {}, 6);
    old.prepare('INSERT INTO accounts (did, nick, nick_folded, handle, last_login_at) VALUES (?, ?, ?, ?, ?)').run('did:web:evil.example', 'evil', 'evil', 'jay.bsky.team', 1);
    old.close();
    const db = openDb(path);
    const row = db.prepare('SELECT nick, handle FROM accounts WHERE did = ?').get('did:web:evil.example') as { nick: string; handle: string | null };
    assert.deepEqual(row, { nick: 'evil', handle: null });
    assert.ok((db.pragma('user_version', { simple: true }) as number) >= 7);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
