// #12: the history writer's ledger (retention by count and by bytes, exact across every kind of
// deletion) and the store's commit notification (what the echo / ACK waits for).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../../../src/history/store.js';
import { InlineWriter, ThreadWriter } from '../../../src/history/writer.js';
import type { StoredMessage } from '../../../src/history/types.js';
import { createLogger } from '../../../src/observability/log.js';
import { openDb } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteMessageRepo } from '../../../src/storage/repos/messages.js';

const log = createLogger('silent');
let seq = 0;
const msg = (venue: string, text = 'x'.repeat(100)): StoredMessage => ({
  msgid: `m${String(++seq).padStart(8, '0')}`, time: 1_700_000_000_000 + seq, command: 'PRIVMSG', venue, target: venue, source: 'n!u@h', text,
});
const sumSizes = (repo: SqliteMessageRepo, db: ReturnType<typeof openDb>): number => db.prepare('SELECT COALESCE(SUM(size), 0) FROM messages').pluck().get() as number;

test('byte cap: oldest of all venues first, just enough; the total is the sum of the rows and is saved; counts stay exact', () => {
  const db = openDb(':memory:');
  const repo = new SqliteMessageRepo(db, new FieldCipher(randomBytes(32)));
  const probe = new InlineWriter(repo, { maxPerTarget: 1000, maxBytes: 1 << 30 }, log);
  probe.write([msg('#p')]); // venue names of one length: every row here has the same size
  const rowSize = probe.usage().bytes;
  assert.equal(rowSize, sumSizes(repo, db));
  probe.prune(Number.MAX_SAFE_INTEGER);
  assert.equal(probe.usage().bytes, 0, 'deletions by age count too');

  // the writer reads its limits when it writes: the test changes the cap between batches
  const limits = { maxPerTarget: 5, maxBytes: rowSize * 7 };
  const w = new InlineWriter(repo, limits, log);
  w.write([msg('#b'), msg('#b'), msg('#b'), msg('#b'), msg('#b')]);
  w.write([msg('#a'), msg('#a'), msg('#a')]); // 8 rows > 7: the oldest (#b's first) goes
  assert.deepEqual([repo.count('#a'), repo.count('#b')], [3, 4]);
  assert.deepEqual(w.usage(), { bytes: rowSize * 7, evicted: 1 });
  assert.equal(w.usage().bytes, sumSizes(repo, db));
  assert.equal(repo.storedBytes(), w.usage().bytes, 'saved in meta with the rows');
  // retention by count knows #b lost a row to the byte cap: a 5th #b is kept, not trimmed
  limits.maxBytes = 1 << 30;
  w.write([msg('#b')]);
  assert.equal(repo.count('#b'), 5);
  // a lowered cap: as many of the oldest as needed in one go, whatever their venue
  limits.maxBytes = rowSize * 3;
  w.write([msg('#a')]); // 9 rows: the 6 oldest (4 #b, 2 #a) go; the newest #a, #b and #a stay
  assert.deepEqual([repo.count('#a'), repo.count('#b')], [2, 1]);
  assert.deepEqual(w.usage(), { bytes: rowSize * 3, evicted: 1 + 6 });
  assert.equal(w.usage().bytes, sumSizes(repo, db));
  // a new writer on the same database starts from the saved total
  assert.equal(new InlineWriter(repo, limits, log).usage().bytes, rowSize * 3);
  db.close();
});

test('committed(): settles once the batch holding the message is written; false when the write failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-ack-'));
  const path = join(dir, 'freeq.db');
  const db = openDb(path);
  const cipher = new FieldCipher(randomBytes(32));
  const repo = new SqliteMessageRepo(db, cipher);
  const limits = { maxPerTarget: 100, maxBytes: 1 << 30 };
  const store = new HistoryStore(repo, { ...limits, maxAge: 0, now: () => Date.now(), log }, await ThreadWriter.start(path, cipher, repo, limits, log));
  try {
    assert.equal(await store.committed(), true, 'nothing pending');
    const m = msg('#a');
    assert.equal(store.record(m), true);
    assert.equal(store.record({ ...msg('#a'), command: 'TAGMSG', text: undefined, clientTags: { '+typing': 'active' } }), false, 'not stored: nothing to wait for');
    const done = store.committed();
    // visible to a second connection that does not sync with the writer (what a restart would see)
    assert.equal(await done, true);
    const other = openDb(path);
    assert.equal(other.prepare('SELECT COUNT(*) FROM messages WHERE msgid = ?').pluck().get(m.msgid), 1);
    other.close();
  } finally {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // a write that fails (the table is gone): the waiter hears false
  const broken = openDb(':memory:');
  const brokenRepo = new SqliteMessageRepo(broken, new FieldCipher(randomBytes(32)));
  broken.exec('DROP TABLE messages');
  const failing = new HistoryStore(brokenRepo, { ...limits, maxAge: 0, now: () => Date.now(), log }, new InlineWriter(brokenRepo, limits, log));
  failing.record(msg('#a'));
  assert.equal(await failing.committed(), false);
  failing.close();
  broken.close();
});
