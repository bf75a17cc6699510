import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

/** Open the database with WAL, a busy timeout and foreign keys, and migrate it (hardening H1). */
export function openDb(path: string): Db {
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
  migrate(db);
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

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) throw new Error(`database schema version ${current} is newer than this server (${latest}); refusing to start`);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
