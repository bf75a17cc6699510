// #16 draft/message-redaction, the storage side: a redaction reaches its message's row whether
// the message is still queued for the writer thread or in the same batch; the content (body,
// client tags with the signature, multiline lines) is deleted from the row and from the database
// file; the byte ledger (history-max-bytes) stays the sum of the rows; reads skip the redacted
// message and, only when asked, return the REDACT without counting it toward the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../../../src/history/store.js';
import { InlineWriter, ThreadWriter } from '../../../src/history/writer.js';
import type { StoredMessage } from '../../../src/history/types.js';
import type { RedactionRecord } from '../../../src/state/redact-ops.js';
import { createLogger } from '../../../src/observability/log.js';
import { openDb } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { POS_MAX, POS_MIN, SqliteMessageRepo } from '../../../src/storage/repos/messages.js';

const log = createLogger('silent');
const T0 = 1_700_000_000_000;
let seq = 0;
const msg = (venue = '#a', o: Partial<StoredMessage> = {}): StoredMessage => {
  seq++;
  return { msgid: `m${String(seq).padStart(8, '0')}`, time: T0 + seq, command: 'PRIVMSG', venue, target: venue, source: 'n!u@h', uid: 'ABCDEF12000001', text: `secret text ${seq}`, ...o } as StoredMessage;
};
const redaction = (of: StoredMessage, reason?: string): RedactionRecord => {
  seq++;
  return { msgid: `r${String(seq).padStart(8, '0')}`, time: T0 + seq, command: 'REDACT', venue: of.venue, target: of.target, source: 'op!u@h', redacts: of.msgid, ...(reason ? { text: reason } : {}) };
};
type Raw = { body: string | null; tags: string | null; lines: string | null; redacted: number; size: number };
const raw = (db: ReturnType<typeof openDb>, msgid: string): Raw => db.prepare('SELECT body, tags, lines, redacted, size FROM messages WHERE msgid = ?').get(msgid) as Raw;
const sumSizes = (db: ReturnType<typeof openDb>): number => db.prepare('SELECT COALESCE(SUM(size), 0) FROM messages').pluck().get() as number;
const all = (repo: SqliteMessageRepo, redact: boolean, limit = 100): StoredMessage[] =>
  repo.range({ venue: '#a', lo: POS_MIN, hi: POS_MAX, limit, fromEnd: true, minTime: 0, tagmsg: true, redact });

test('writer thread: a message still queued is found, and its redaction, queued behind it, blanks its row in the database file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-redact-'));
  const path = join(dir, 'freeq.db');
  const db = openDb(path);
  const cipher = new FieldCipher(randomBytes(32));
  const repo = new SqliteMessageRepo(db, cipher);
  const limits = { maxPerTarget: 1000, maxBytes: 1 << 30 };
  const writer = await ThreadWriter.start(path, cipher, repo, limits, log);
  const store = new HistoryStore(repo, { ...limits, maxAge: 0, now: () => T0, log }, writer);
  try {
    assert.equal(writer.threaded, true);
    const m = msg('#a', { clientTags: { '+freeq.at/sig': 'ed25519:kid:sig', '+draft/reply': 'x' }, lines: [{ text: 'secret', concat: false }, { text: 'text', concat: false }] });
    store.record(m);
    // still in the store's queue (the batch goes after BATCH_DELAY_MS): find hands it over and waits
    const ref = store.find(m.msgid);
    assert.deepEqual(ref && [ref.msgid, ref.venue, ref.uid, ref.redacted], [m.msgid, '#a', 'ABCDEF12000001', false]);
    const stored = raw(db, m.msgid);
    assert.ok(stored.body && stored.tags && stored.lines, 'stored with its content');
    // the ciphertext is in the database file (after a checkpoint) before the redaction...
    db.pragma('wal_checkpoint(TRUNCATE)');
    assert.ok(readFileSync(path).includes(stored.body), 'precondition: the body\'s ciphertext is in the file');
    store.record(redaction(m, 'oops'));
    store.find(m.msgid); // a read: the redaction is committed before it returns
    const after = raw(db, m.msgid);
    assert.deepEqual([after.body, after.tags, after.lines, after.redacted], [null, null, null, 1]);
    // ...and not after (secure_delete overwrote the freed bytes)
    db.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(path);
    for (const v of [stored.body, stored.tags, stored.lines]) assert.equal(file.includes(v), false, 'no trace of the content in the file');
    assert.equal(store.find(m.msgid)?.redacted, true);
    assert.equal(store.usage().bytes, sumSizes(db), 'the ledger follows: it is the sum of the rows');
  } finally {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message and its redaction in one batch; reads: the message never, the REDACT only when asked and not counted in the limit', () => {
  const db = openDb(':memory:');
  const repo = new SqliteMessageRepo(db, new FieldCipher(randomBytes(32)));
  const w = new InlineWriter(repo, { maxPerTarget: 1000, maxBytes: 1 << 30 }, log);
  const [m1, m2, m3] = [msg(), msg(), msg()];
  const r = redaction(m2, 'typo');
  w.write([m1, m2, m3, r]);
  assert.equal(raw(db, m2.msgid).body, null, 'redacted in the same transaction it was inserted in');
  assert.equal(w.usage().bytes, sumSizes(db));
  assert.deepEqual(all(repo, false).map((x) => x.msgid), [m1.msgid, m3.msgid]);
  const withRedact = all(repo, true);
  assert.deepEqual(withRedact.map((x) => x.msgid), [m1.msgid, m3.msgid, r.msgid]);
  const last = withRedact.at(-1)!;
  assert.deepEqual(last.command === 'REDACT' && [last.redacts, last.text, last.source], [m2.msgid, 'typo', 'op!u@h']);
  // limit 1: the newest message, and the REDACT newer than it (not counted)
  assert.deepEqual(all(repo, true, 1).map((x) => x.msgid), [m3.msgid, r.msgid]);
  assert.deepEqual(all(repo, false, 1).map((x) => x.msgid), [m3.msgid]);
  // a redaction of an unknown (or already redacted) message changes no row but its own
  const before = sumSizes(db);
  w.write([redaction(m2)]);
  assert.equal(raw(db, m1.msgid).body !== null && raw(db, m3.msgid).body !== null, true);
  assert.ok(sumSizes(db) > before);
  assert.equal(w.usage().bytes, sumSizes(db));
  db.close();
});
