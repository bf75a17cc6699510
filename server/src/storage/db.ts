import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { countRows, forEachRowidRange } from './row-walk.js';
import { Progress, type ProgressWrite } from '../util/progress.js';

export type Db = Database.Database;

/**
 * #16: progress of the migrations that rewrite rows (Migration.rewrite): lines to `progress`
 * (stderr from the CLI, the log from the server); `now` and `batchRows` for tests.
 */
export interface MigrateReport {
  progress?: ProgressWrite;
  now?: () => number;
  batchRows?: number;
}

/** Open the database with WAL, a busy timeout and foreign keys, and migrate it (hardening H1). */
export function openDb(path: string, report: MigrateReport = {}): Db {
  if (path !== ':memory:') {
    // private by default: the database holds nicks, DIDs and ban masks in the clear (bodies and
    // topics are encrypted). A new data dir is 0700 and a new database 0600; SQLite gives its
    // -wal and -shm files the database file's mode.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db, report);
  return db;
}

/**
 * Open `path` (an empty SQLite file, created 0600) and hold an exclusive lock on it until the
 * handle is closed; undefined when another connection — in this process or another — holds it.
 * #12: the data directory lock (keys/server-lock.ts). Node has no flock; SQLite's lock is a POSIX
 * fcntl lock that the kernel drops when the process dies (so a crash never leaves a stale lock),
 * and SQLite also refuses a second connection of the same process. Nothing else may open the
 * lock file in a process that holds it (see below).
 */
export function openExclusiveLock(path: string): Db | undefined {
  // only when missing: closing any descriptor of a file drops this process's fcntl locks on it
  // (POSIX), so a second start in the same process must not open and close the held lock file
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path, { timeout: 0 }); // fail at once instead of the 5 s busy wait
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE'); // held until close(): a lock, never a write
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw e;
  }
}

/** Apply the migrations the database lacks, up to `upTo` (default: all; tests build older versions). */
export function migrate(db: Db, report: MigrateReport = {}, upTo = Infinity): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) throw new Error(`database schema version ${current} is newer than this server (${latest}); refusing to start`);
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > upTo) continue;
    db.transaction(() => {
      db.exec(m.sql);
      if (m.rewrite?.length) rewriteRows(db, m, report);
      if (m.finish) db.exec(m.finish);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/**
 * A migration's row rewrites (#16), inside its transaction: each statement over consecutive rowid
 * ranges (`:lo` exclusive, `:hi` inclusive) of its table, so progress can be told between batches.
 * SQLite runs each statement in constant memory; the batches add only the progress points.
 */
function rewriteRows(db: Db, m: Migration, report: MigrateReport): void {
  const rewrites = m.rewrite ?? [];
  const total = rewrites.reduce((n, r) => n + countRows(db, r.table), 0);
  const progress = report.progress && total > 0
    ? new Progress({ what: `database migration ${m.version} (${m.name})`, total, write: report.progress, now: report.now })
    : undefined;
  for (const r of rewrites) {
    const stmts = r.statements.map((sql) => db.prepare(sql));
    forEachRowidRange(db, r.table, (lo, hi, rows) => {
      for (const stmt of stmts) stmt.run({ lo, hi });
      progress?.advance(rows);
    }, report.batchRows);
  }
  progress?.finish();
}
