// HistoryReadOptions.maxBytes / onMaxBytes: a read that stops on its byte budget while the range
// holds more says so (the REST history page's has_more rests on it, http/routes/channels.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HistoryStore } from '../../../src/history/store.js';
import type { StoredMessage } from '../../../src/history/types.js';
import { createLogger } from '../../../src/observability/log.js';
import { openDb } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteMessageRepo } from '../../../src/storage/repos/messages.js';

const log = createLogger('silent');
let seq = 0;
const msg = (venue: string): StoredMessage => ({
  msgid: `b${String(++seq).padStart(8, '0')}`, time: 1_700_000_000_000 + seq, command: 'PRIVMSG', venue, target: venue, source: 'n!u@h', text: 'x'.repeat(1000),
});

test('onMaxBytes: called when the budget stopped the read with rows left, never when the range or the limit ended it', () => {
  const db = openDb(':memory:');
  const store = new HistoryStore(new SqliteMessageRepo(db, new FieldCipher(randomBytes(32))), { maxPerTarget: 100, maxBytes: 1 << 30, maxAge: 0, now: () => Date.now(), log });
  try {
    for (let i = 0; i < 5; i++) store.record(msg('#r'));
    const read = (limit: number, maxBytes: number): { n: number; stopped: boolean } => {
      let stopped = false;
      const rows = store.latest('#r', limit, undefined, { maxBytes, onMaxBytes: () => { stopped = true; } });
      return { n: rows.length, stopped };
    };
    assert.deepEqual(read(10, 1500), { n: 2, stopped: true }, '~1 kB each: the second row passes 1500 bytes, the third is left unread');
    assert.deepEqual(read(10, 1), { n: 1, stopped: true }, 'one row always comes; older ones are there');
    assert.deepEqual(read(10, 1 << 20), { n: 5, stopped: false }, 'the range ended first');
    assert.deepEqual(read(2, 1 << 20), { n: 2, stopped: false }, 'the limit ended it');
    assert.deepEqual(read(5, 3500), { n: 4, stopped: true });
    // the last row crosses the budget: nothing is left unread, so no stop
    assert.deepEqual(read(10, 4500), { n: 5, stopped: false });
  } finally {
    store.close();
    db.close();
  }
});
