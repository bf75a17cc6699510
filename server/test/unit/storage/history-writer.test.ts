// ThreadWriter: history inserts on their own thread with their own connection. The thread must
// really run under the test runner (tsx), and a reader's sync() must see everything written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThreadWriter } from '../../../src/history/writer.js';
import type { StoredMessage } from '../../../src/history/types.js';
import { createLogger } from '../../../src/observability/log.js';
import { openDb } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteMessageRepo } from '../../../src/storage/repos/messages.js';

const msg = (i: number, venue = '#a'): StoredMessage => ({
  msgid: `m${String(i).padStart(6, '0')}`, time: 1_700_000_000_000 + i, command: 'PRIVMSG',
  venue, target: venue, source: 'n!u@h', text: `line ${i}`,
});

test('batches written on the thread are visible to the main connection after sync(); retention by count applies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-writer-'));
  const path = join(dir, 'freeq.db');
  const db = openDb(path);
  const cipher = new FieldCipher(randomBytes(32));
  const repo = new SqliteMessageRepo(db, cipher);
  const w = await ThreadWriter.start(path, cipher, repo, { maxPerTarget: 150, maxBytes: 1 << 30 }, createLogger('silent'));
  try {
    assert.equal(w.threaded, true, 'the writer thread is running (not the inline fallback)');
    for (let b = 0; b < 4; b++) w.write(Array.from({ length: 50 }, (_, i) => msg(b * 50 + i)));
    w.write([msg(1, '#b')]);
    w.sync();
    assert.equal(repo.count('#a'), 150, '200 written, the oldest 50 trimmed');
    assert.equal(repo.count('#b'), 1);
    const all = repo.range({ venue: '#a', lo: { time: 0, id: 0 }, hi: { time: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER }, limit: 1000, fromEnd: false, minTime: 0, tagmsg: true });
    assert.equal(all[0]!.text, 'line 50', 'decrypted on the main connection with the same key');
    assert.equal(all.at(-1)!.msgid, 'm000199');
    w.prune(1_700_000_000_000 + 100);
    w.sync();
    assert.equal(repo.count('#a'), 100);
    assert.equal(repo.count('#b'), 0);
    assert.equal(w.threaded, true);
  } finally {
    w.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
