import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openDb } from '../../../src/storage/db.js';
import { MIGRATIONS } from '../../../src/storage/migrations/index.js';

// #16: a migration that rewrites every row of a table runs its statements over rowid batches
// inside its one transaction and reports progress between them; the rows end up exactly as the
// single statement left them (migration 5: vis and size of every message, history_bytes).

const ROWS = 3000;
const BATCH = 500;

const bytes = (s: string | null | undefined): number => (s === null || s === undefined ? 0 : Buffer.byteLength(s));

test('migrations that rewrite rows report progress batch by batch, with the same result as one statement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-migprog-'));
  try {
    const path = join(dir, 'freeq.db');
    const old = new Database(path);
    migrate(old, {}, 4);
    old.prepare("INSERT INTO channels (name_folded, name, created_at, modes, chan_key) VALUES ('#sec', '#sec', 1, 'nst', 'k')").run();
    old.prepare("INSERT INTO channels (name_folded, name, created_at, modes) VALUES ('#pub', '#pub', 1, 'nt')").run();
    const ins = old.prepare(`INSERT INTO messages (msgid, venue, time, command, source, account, target, body, tags, lines)
      VALUES (?, ?, ?, 'PRIVMSG', 'n!u@h', ?, ?, ?, ?, NULL)`);
    old.transaction(() => {
      for (let i = 0; i < ROWS; i++) {
        const venue = ['#sec', '#pub', '#gone'][i % 3]!;
        ins.run(`m${i}`, venue, i, i % 2 ? 'did:plc:abc' : null, venue, `fq1:body${i}`, i % 5 ? null : `fq1:tags${i}`);
      }
      const acc = old.prepare('INSERT INTO accounts (did, nick, nick_folded, handle, last_login_at) VALUES (?, ?, ?, ?, 1)');
      for (let i = 0; i < 1200; i++) acc.run(`did:plc:a${i}`, `n${i}`, `n${i}`, `h${i}.example`);
    })();
    old.close();

    const lines: string[] = [];
    let t = 0;
    const db = openDb(path, { progress: (l) => lines.push(l), now: () => (t += 1000), batchRows: BATCH });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)!.version);
      const m5 = lines.filter((l) => l.startsWith('database migration 5 (history-visibility-and-size): '));
      assert.equal(m5[0], 'database migration 5 (history-visibility-and-size): 3,000 rows to process');
      assert.deepEqual(m5.slice(1, -1).map((l) => /: ([\d,]+)\/3,000 rows \(\d+%\), [\d,]+ rows\/s, about \S+ left$/.exec(l)?.[1]),
        ['500', '1,000', '1,500', '2,000', '2,500', '3,000']);
      assert.match(m5.at(-1)!, /: done, 3,000 rows in \S+ \([\d,]+ rows\/s\)$/);
      const m7 = lines.filter((l) => l.startsWith('database migration 7 (unverified-handles): '));
      assert.equal(m7.length, 1 + 3 + 1, m7.join('\n')); // 1,200 accounts: 3 batches
      // every migration with rewrites over a table that has rows said something
      for (const m of MIGRATIONS.filter((x) => x.version > 4 && x.rewrite?.length)) {
        assert.ok(lines.some((l) => l.startsWith(`database migration ${m.version} (${m.name}): `)), `migration ${m.version}`);
      }

      // the result of the batched statements is the single statement's
      let total = 0;
      for (const r of db.prepare('SELECT msgid, venue, command, source, account, target, body, tags, lines, vis, size FROM messages ORDER BY id').iterate() as IterableIterator<Record<string, string | null> & { vis: number; size: number }>) {
        const i = Number(r.msgid!.slice(1));
        assert.equal(r.vis, r.venue === '#sec' ? 1 | 8 : 0, r.msgid!);
        const size = 16 + bytes(r.msgid) + bytes(r.venue) + bytes(r.command) + bytes(r.source) + bytes(r.account) + bytes(r.target)
          + bytes(r.body) + bytes(r.tags) + bytes(r.lines);
        assert.equal(r.size, size, r.msgid!);
        assert.equal(r.body, `fq1:body${i}`);
        total += r.size;
      }
      assert.equal(db.prepare('SELECT count(*) FROM messages').pluck().get(), ROWS, 'every row kept (migration 14 copies the table)');
      assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'history_bytes'").pluck().get(), String(total));
      assert.equal(db.prepare('SELECT count(*) FROM accounts WHERE handle IS NOT NULL').pluck().get(), 0);
      assert.equal(db.prepare('SELECT count(*) FROM accounts').pluck().get(), 1200);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database with nothing to rewrite migrates without a progress line', () => {
  const lines: string[] = [];
  const db = openDb(':memory:', { progress: (l) => lines.push(l) });
  db.close();
  assert.deepEqual(lines, []);
});
