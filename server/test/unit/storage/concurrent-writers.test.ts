// hardening.md H1: WAL + busy_timeout — two writers (separate connections in separate threads,
// each opened with openDb like the server) × 1,000 rows at the same time: no SQLITE_BUSY surfaces
// and every row is there. Also: a hostile channel name round-trips verbatim (bound parameters).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openDb } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteChannelStore } from '../../../src/storage/repos/channels.js';
import { SqliteServerBanStore } from '../../../src/storage/repos/server-bans.js';
import { Channel } from '../../../src/state/channel.js';
import type { WriterData, WriterResult } from './concurrent-writer.js';

const ROWS = 1000;
// the worker is TypeScript: register tsx in the worker thread before importing it
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((m) => { m.register(); return import(${JSON.stringify(new URL('./concurrent-writer.ts', import.meta.url).href)}); })
  .catch((e) => { require('node:worker_threads').parentPort.postMessage(String(e && e.stack || e)); });`;

describe('storage: concurrent writers (H1)', () => {
  let dir: string;
  let path: string;
  const key = randomBytes(32);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-h1-'));
    path = join(dir, 'freeq.db');
    openDb(path).close(); // create + migrate once, as the server does at startup
  });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  test('the pragmas: WAL, busy_timeout 5000, synchronous NORMAL', () => {
    const db = openDb(path);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
      assert.equal(db.pragma('synchronous', { simple: true }), 1);
    } finally { db.close(); }
  });

  test(`two writers × ${ROWS} rows at once → no SQLITE_BUSY, all rows stored`, async () => {
    const workers = ['wa', 'wb'].map((prefix) => new Worker(WORKER_BOOT, {
      eval: true,
      workerData: { path, key: key.toString('hex'), prefix, rows: ROWS } satisfies WriterData,
    }));
    // both connections open before either starts writing, then start together
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
      w.once('error', reject);
    })));
    const results = await Promise.all(workers.map((w) => new Promise<WriterResult>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.postMessage('go');
    })));
    await Promise.all(workers.map((w) => w.terminate()));
    assert.deepEqual(results.map((r) => r.errors), [[], []]);
    assert.deepEqual(results.map((r) => r.written), [ROWS, ROWS]);

    const db = openDb(path);
    try {
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      assert.equal(count("SELECT COUNT(*) AS n FROM channels WHERE name LIKE '#w%'"), 2 * ROWS);
      assert.equal(count("SELECT COUNT(*) AS n FROM channel_lists WHERE channel LIKE '#w%'"), 2 * ROWS);
      assert.equal(count("SELECT COUNT(*) AS n FROM server_bans WHERE target LIKE 'w%'"), 2 * ROWS);
      // and they read back through the repository (topics decrypt under their own row's AAD)
      const loaded = new SqliteChannelStore(db, new FieldCipher(key)).loadAll();
      const topics = new Map(loaded.map((c) => [c.name, c.topic?.text]));
      assert.equal(topics.get('#wa-0'), 'topic wa 0');
      assert.equal(topics.get(`#wb-${ROWS - 1}`), `topic wb ${ROWS - 1}`);
      assert.equal(new SqliteServerBanStore(db).loadAll().length, 2 * ROWS);
    } finally { db.close(); }
  });

  test("a channel named #a');DROP TABLE x;-- round-trips verbatim and drops nothing", () => {
    const db = openDb(path);
    try {
      db.exec('CREATE TABLE IF NOT EXISTS x (y INTEGER)');
      const tables = () => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
      const before = tables();
      const store = new SqliteChannelStore(db, new FieldCipher(key));
      store.saveChannel(new Channel('#bystander', '#bystander', 1));
      const name = "#a');DROP TABLE x;--";
      const ch = new Channel(name, name.toLowerCase(), 1);
      ch.topic = { text: "'); DELETE FROM channels; --", setBy: "o'brien", setAt: 2 };
      store.saveChannel(ch);
      store.addListEntry(ch, 'b', { mask: "*!*@'--", setBy: "o'brien", setAt: 3 });
      const back = store.loadAll().find((c) => c.name === name);
      assert.ok(back, 'stored under its exact name');
      assert.equal(back.topic?.text, "'); DELETE FROM channels; --");
      assert.equal(back.topic?.setBy, "o'brien");
      assert.deepEqual(back.lists.b, [{ mask: "*!*@'--", setBy: "o'brien", setAt: 3 }]);
      assert.deepEqual(tables(), before);
      assert.ok(store.loadAll().some((c) => c.name === '#bystander'), 'other channels still there');
    } finally { db.close(); }
  });
});
