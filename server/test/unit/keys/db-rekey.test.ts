import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../../src/config/load.js';
import { runDbRekey } from '../../../src/keys/commands.js';
import { unlockDatabase } from '../../../src/keys/db-key.js';
import { openDb } from '../../../src/storage/db.js';
import { aadFor, FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteMessageRepo, POS_MAX, POS_MIN } from '../../../src/storage/repos/messages.js';
import type { StoredMessage } from '../../../src/history/types.js';
import { runMain } from '../../harness/child-server.js';

// #16: `db rekey` walks the tables in batches (constant memory), commits each batch with the
// position it reached, prints progress (rows done / total, rate, time left) and, interrupted,
// continues where it stopped. Over a real database file with 25,000 messages written by the
// server's own storage code: every value re-encrypted and readable with the new key only.

const MESSAGES = 25_000;
const BATCH = 1000;
const VENUES = ['#alpha', '#beta', '#gamma', '#delta'];
const textOf = (i: number): string => `message ${i} ${'é'.repeat(i % 7)}`;

const keyOf = (dir: string, f = 'db-encryption-key.secret'): Buffer => Buffer.from(readFileSync(join(dir, f), 'utf8').trim(), 'hex');

/** a data dir whose database holds MESSAGES messages, written by SqliteMessageRepo under the server's key */
function seed(dir: string): void {
  const db = openDb(join(dir, 'freeq.db'));
  const { cipher } = unlockDatabase(db, dir);
  const repo = new SqliteMessageRepo(db, cipher);
  for (let start = 0; start < MESSAGES; start += 5000) {
    const msgs: StoredMessage[] = [];
    for (let i = start; i < Math.min(MESSAGES, start + 5000); i++) {
      const venue = VENUES[i % VENUES.length]!;
      msgs.push({
        msgid: `m${i}`, time: 1_700_000_000_000 + i, command: 'PRIVMSG', venue, target: venue, source: `n${i % 50}!u@h`,
        text: textOf(i), ...(i % 10 === 0 ? { clientTags: { '+draft/reply': `m${i - 1}` } } : {}),
      });
    }
    repo.transaction(() => repo.insertMany(msgs));
  }
  db.close();
}

/** every stored value of the messages table: msgid → [body, tags] as stored (ciphertext) */
function storedValues(dir: string): Map<string, [string, string | null]> {
  const db = new Database(join(dir, 'freeq.db'), { readonly: true });
  const out = new Map<string, [string, string | null]>();
  for (const r of db.prepare('SELECT msgid, body, tags FROM messages').iterate() as IterableIterator<{ msgid: string; body: string; tags: string | null }>) {
    out.set(r.msgid, [r.body, r.tags]);
  }
  db.close();
  return out;
}

/** a clock that moves one second per reading: one progress line per batch, no real waiting */
function steppingClock(): () => number {
  let t = 0;
  return () => (t += 1000);
}

const PROGRESS_LINE = /^db rekey(?: \(continued\))?: ([\d,]+)\/([\d,]+) rows \((\d+)%\), [\d,]+ rows\/s, about \S+(?: \S+)? left$/;
const num = (s: string): number => Number(s.replace(/,/g, ''));

describe('db rekey over 25,000 messages', () => {
  let dir: string;
  let original: Map<string, [string, string | null]>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-rekey-'));
    seed(dir);
    original = storedValues(dir);
    assert.equal(original.size, MESSAGES);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('re-encrypts every value in batches, printing progress; only the new key reads them', () => {
    const oldKey = keyOf(dir);
    const lines: string[] = [];
    const config = loadConfig({ cli: { 'data-dir': dir } });
    const out = runDbRekey(config, { progress: (l) => lines.push(l), now: steppingClock(), batchRows: BATCH });
    const values = MESSAGES + MESSAGES / 10;
    assert.match(out[0]!, new RegExp(`^re-encrypted ${values} value\\(s\\) under a new key`));

    // progress: a first line with the total, one line per batch (the clock moves 1 s a reading), the closing line
    assert.equal(lines[0], `db rekey: ${MESSAGES.toLocaleString('en-US')} rows to process`);
    const progress = lines.filter((l) => PROGRESS_LINE.test(l));
    assert.equal(progress.length, MESSAGES / BATCH, lines.join('\n'));
    const done = progress.map((l) => num(PROGRESS_LINE.exec(l)![1]!));
    assert.deepEqual(done, Array.from({ length: MESSAGES / BATCH }, (_, i) => (i + 1) * BATCH));
    assert.ok(progress.every((l) => num(PROGRESS_LINE.exec(l)![2]!) === MESSAGES));
    assert.match(progress[0]!, /^db rekey: 1,000\/25,000 rows \(4%\), 1,000 rows\/s, about 24s left$/);
    assert.match(lines.find((l) => l.startsWith('db rekey: done'))!, /^db rekey: done, 25,000 rows in \S+ \([\d,]+ rows\/s\)$/);
    assert.match(lines.at(-1)!, /VACUUM/);

    // every value changed, decrypts under the new key to what was written, and not under the old one
    const newKey = keyOf(dir);
    assert.notDeepEqual(newKey, oldKey);
    assert.deepEqual(keyOf(dir, 'db-encryption-key.secret.old'), oldKey);
    const next = new FieldCipher(newKey);
    const prev = new FieldCipher(oldKey);
    const afterValues = storedValues(dir);
    assert.equal(afterValues.size, MESSAGES);
    for (let i = 0; i < MESSAGES; i++) {
      const msgid = `m${i}`;
      const [body, tags] = afterValues.get(msgid)!;
      const [oldBody, oldTags] = original.get(msgid)!;
      assert.notEqual(body, oldBody, msgid);
      assert.equal(next.decrypt(body, aadFor('messages', 'body', msgid)), textOf(i), msgid);
      assert.throws(() => prev.decrypt(body, aadFor('messages', 'body', msgid)), /decryption failed/);
      if (i % 10 === 0) {
        assert.notEqual(tags, oldTags);
        assert.deepEqual(JSON.parse(next.decrypt(tags!, aadFor('messages', 'tags', msgid))), { '+draft/reply': `m${i - 1}` });
      } else {
        assert.equal(tags, null);
      }
    }

    // the server's own path: the new key unlocks the database and history reads back in order
    const db = openDb(join(dir, 'freeq.db'));
    try {
      const { cipher } = unlockDatabase(db, dir, { create: false });
      const repo = new SqliteMessageRepo(db, cipher);
      const read = repo.range({ venue: '#beta', lo: POS_MIN, hi: POS_MAX, limit: 10_000, fromEnd: false, minTime: 0, tagmsg: true });
      assert.equal(read.length, MESSAGES / VENUES.length);
      assert.deepEqual(read.slice(0, 3).map((m) => m.command === 'REDACT' ? '' : m.text), [textOf(1), textOf(5), textOf(9)]);
    } finally {
      db.close();
    }
  });

  test('interrupted after some batches: the server refuses the database, and a second run finishes the rest', () => {
    const keyBefore = keyOf(dir);
    const storedBefore = storedValues(dir);
    const config = loadConfig({ cli: { 'data-dir': dir } });
    let batches = 0;
    // the progress line after the 7th committed batch throws: the run stops there, as if killed
    const crash = (l: string): void => { if (PROGRESS_LINE.test(l) && ++batches === 7) throw new Error('killed'); };
    assert.throws(() => runDbRekey(config, { progress: crash, now: steppingClock(), batchRows: BATCH }), /killed/);
    assert.ok(existsSync(join(dir, 'db-encryption-key.secret.new')));
    assert.deepEqual(keyOf(dir), keyBefore, 'the key file is replaced only at the end');
    // 7 batches committed under the new key, the rest still under the old one
    const midway = storedValues(dir);
    const changed = [...midway].filter(([id, [body]]) => body !== storedBefore.get(id)![0]).length;
    assert.equal(changed, 7 * BATCH);

    // nothing else opens a half re-encrypted database
    const db = openDb(join(dir, 'freeq.db'));
    try {
      assert.throws(() => unlockDatabase(db, dir), /an interrupted `freeq-server db rekey` left this database partly re-encrypted.*run `freeq-server db rekey` again/);
    } finally {
      db.close();
    }

    const lines: string[] = [];
    const out = runDbRekey(config, { progress: (l) => lines.push(l), now: steppingClock(), batchRows: BATCH });
    assert.equal(lines[0], `db rekey (continued): ${(MESSAGES - 7 * BATCH).toLocaleString('en-US')} rows to process`);
    assert.match(out[0]!, new RegExp(`^finished an interrupted rekey: re-encrypted the remaining ${(MESSAGES - 7 * BATCH) * 11 / 10} value\\(s\\)`));
    const next = new FieldCipher(keyOf(dir));
    assert.notDeepEqual(keyOf(dir), keyBefore);
    for (const [msgid, [body]] of storedValues(dir)) {
      assert.equal(next.decrypt(body, aadFor('messages', 'body', msgid)), textOf(Number(msgid.slice(1))), msgid);
    }
    assert.equal(existsSync(join(dir, 'db-encryption-key.secret.new')), false);
  });

  test('`freeq-server db rekey` prints its progress on stderr and the summary on stdout', () => {
    const r = runMain(['db', 'rekey', '--data-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const err = r.stderr.trim().split('\n');
    assert.equal(err[0], `freeq-server: db rekey: ${MESSAGES.toLocaleString('en-US')} rows to process`);
    assert.match(err.find((l) => l.includes(': done, '))!, /^freeq-server: db rekey: done, 25,000 rows in \S+ \([\d,]+ rows\/s\)$/);
    assert.match(err.at(-1)!, /^freeq-server: db rekey: compacting the database file \(VACUUM\)/);
    assert.match(r.stdout, new RegExp(`^re-encrypted ${MESSAGES * 11 / 10} value\\(s\\) under a new key`));
    assert.doesNotMatch(r.stdout, /rows/);
  });
});
