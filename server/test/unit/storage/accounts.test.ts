// SqliteAccountStore: writes merged per DID and flushed once per turn, unchanged logins skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../../src/storage/db.js';
import { LOGIN_TIME_RESOLUTION_MS, SqliteAccountStore } from '../../../src/storage/repos/accounts.js';

const turn = () => new Promise((r) => setImmediate(r));

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-accounts-'));
  const db = openDb(join(dir, 'freeq.db'));
  const rows = () => db.prepare('SELECT did, nick, nick_folded, handle, last_login_at FROM accounts ORDER BY did').all();
  return { dir, db, rows, done: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('saves in one turn merge per DID and land after the turn (present fields replace, absent keep)', async () => {
  const f = fresh();
  try {
    const s = new SqliteAccountStore(f.db);
    s.save({ did: 'did:plc:a', handle: 'a.test', lastLoginAt: 1000 });
    s.save({ did: 'did:plc:a', nick: 'Alice', nickFolded: 'alice', lastLoginAt: 1000 });
    s.save({ did: 'did:plc:b', handle: 'b.test', lastLoginAt: 2000 });
    assert.deepEqual(f.rows(), [], 'nothing written synchronously');
    await turn();
    assert.deepEqual(f.rows(), [
      { did: 'did:plc:a', nick: 'Alice', nick_folded: 'alice', handle: 'a.test', last_login_at: 1000 },
      { did: 'did:plc:b', nick: null, nick_folded: null, handle: 'b.test', last_login_at: 2000 },
    ]);
    // a later login without a nick keeps the stored nick; a new handle replaces the old
    s.save({ did: 'did:plc:a', handle: 'alice.test', lastLoginAt: 5000 });
    await turn();
    assert.deepEqual(f.rows()[0], { did: 'did:plc:a', nick: 'Alice', nick_folded: 'alice', handle: 'alice.test', last_login_at: 5000 });
  } finally {
    f.done();
  }
});

test('a login that changes nothing within the time resolution writes nothing; after it, it does', async () => {
  const f = fresh();
  try {
    const s = new SqliteAccountStore(f.db);
    s.save({ did: 'did:plc:a', nick: 'Alice', nickFolded: 'alice', handle: 'a.test', lastLoginAt: 10_000 });
    await turn();
    // a row changed behind the store's back shows whether the store wrote again
    f.db.prepare("UPDATE accounts SET handle = 'sentinel'").run();
    s.save({ did: 'did:plc:a', nick: 'Alice', nickFolded: 'alice', handle: 'a.test', lastLoginAt: 10_000 + LOGIN_TIME_RESOLUTION_MS - 1 });
    await turn();
    assert.equal((f.rows()[0] as { handle: string }).handle, 'sentinel', 'unchanged login skipped');
    s.save({ did: 'did:plc:a', nick: 'Alicia', nickFolded: 'alicia', lastLoginAt: 10_001 });
    await turn();
    assert.equal((f.rows()[0] as { nick: string }).nick, 'Alicia', 'a changed nick is written');
    // the login time moved a full resolution past the last write: written (the whole row)
    s.save({ did: 'did:plc:a', handle: 'a.test', lastLoginAt: 10_001 + LOGIN_TIME_RESOLUTION_MS });
    await turn();
    assert.deepEqual(f.rows()[0], { did: 'did:plc:a', nick: 'Alicia', nick_folded: 'alicia', handle: 'a.test', last_login_at: 10_001 + LOGIN_TIME_RESOLUTION_MS });
  } finally {
    f.done();
  }
});

test('loadAll and flush write what is pending first; a failing row does not lose the others', async () => {
  const f = fresh();
  try {
    const errors: string[] = [];
    const s = new SqliteAccountStore(f.db, (_e, did) => errors.push(did));
    s.save({ did: 'did:plc:a', nick: 'Alice', nickFolded: 'alice', lastLoginAt: 1 });
    assert.deepEqual(s.loadAll().map((a) => a.did), ['did:plc:a']);
    // nick_folded is UNIQUE: b may not take a's nick (the caller's contract, broken on purpose)
    s.save({ did: 'did:plc:b', nick: 'Alice', nickFolded: 'alice', lastLoginAt: 2 });
    s.save({ did: 'did:plc:c', nick: 'Carol', nickFolded: 'carol', lastLoginAt: 3 });
    s.flush();
    assert.deepEqual(errors, ['did:plc:b']);
    assert.deepEqual(f.rows().map((r) => (r as { did: string }).did), ['did:plc:a', 'did:plc:c']);
  } finally {
    f.done();
  }
});

test('a nick moves from one DID to another in one batch, in either order (an earlier claim, #14); its claim stamp is kept and loaded', async () => {
  const f = fresh();
  try {
    const s = new SqliteAccountStore(f.db);
    s.save({ did: 'did:plc:x', nick: 'Shared', nickFolded: 'shared', nickClaimed: '0000000002000.000000', lastLoginAt: 1000 });
    s.save({ did: 'did:plc:z', nick: 'Zed', nickFolded: 'zed', nickClaimed: '0000000002000.000001', lastLoginAt: 1000 });
    await turn();
    // y takes x's nick (written first), x loses it
    s.save({ did: 'did:plc:y', nick: 'shared', nickFolded: 'shared', nickClaimed: '0000000001000.000000', lastLoginAt: 0 });
    s.save({ did: 'did:plc:x', nick: null, lastLoginAt: 0 });
    await turn();
    const nicks = () => (f.db.prepare('SELECT did, nick, nick_claimed FROM accounts ORDER BY did').all() as { did: string; nick: string | null; nick_claimed: string | null }[]);
    assert.deepEqual(nicks(), [
      { did: 'did:plc:x', nick: null, nick_claimed: null },
      { did: 'did:plc:y', nick: 'shared', nick_claimed: '0000000001000.000000' },
      { did: 'did:plc:z', nick: 'Zed', nick_claimed: '0000000002000.000001' },
    ]);
    // a DID moving to another nick while another takes its old one, the taker first
    s.save({ did: 'did:plc:z', nick: 'Zed', nickFolded: 'zed', nickClaimed: '0000000000500.000000', lastLoginAt: 0 });
    s.save({ did: 'did:plc:y', nick: 'Yonder', nickFolded: 'yonder', nickClaimed: '0000000003000.000000', lastLoginAt: 0 });
    s.save({ did: 'did:plc:x', nick: 'Shared', nickFolded: 'shared', nickClaimed: '0000000003000.000001', lastLoginAt: 0 });
    await turn();
    assert.deepEqual(nicks().map((r) => r.nick), ['Shared', 'Yonder', 'Zed']);
    assert.deepEqual(new SqliteAccountStore(f.db).loadAll().map((a) => [a.nick, a.nickClaimed]).sort(), [['Shared', '0000000003000.000001'], ['Yonder', '0000000003000.000000'], ['Zed', '0000000000500.000000']]);
  } finally {
    f.done();
  }
});
