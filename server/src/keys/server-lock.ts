import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openExclusiveLock } from '../storage/db.js';
import { ensurePrivateDir } from './key-file.js';

/**
 * One process at a time on a data directory (#12 finding 12). Two servers on one directory used to
 * run side by side: the second deleted the first's pid file, and `keys --force` then rotated keys
 * under a live server. Now the server holds an exclusive lock on `<data-dir>/freeq.lock` for its
 * whole lifetime, and `keys` / `db rekey` hold it while they run; whoever comes second is refused
 * before it reads or writes anything else in the directory.
 *
 * The lock is SQLite's (storage/db.ts openExclusiveLock), chosen over an mtime-based lock file
 * such as proper-lockfile: it is a kernel (fcntl) lock, released when the process dies, so a crash
 * never leaves a stale lock to delete by hand, and better-sqlite3 is a dependency already.
 *
 * `freeq.pid` (mode 0600) names the running server for operators and init scripts, and for the
 * refusal message; it is written only by the lock holder, so nobody else ever touches it.
 */
export const LOCK_FILE = 'freeq.lock';
export const PID_FILE = 'freeq.pid';

/** The data directory is locked by another process: the message says by whom. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

export interface DataDirLock {
  /** remove our pid file (servers) and drop the lock; idempotent */
  release(): void;
}

/** pid named by the pid file, when that process is alive. */
export function pidFileOwner(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, PID_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export function inUseMessage(dataDir: string): string {
  const pid = pidFileOwner(dataDir);
  // no live pid: the holder is `keys` / `db rekey`, or a server between taking the lock and writing its pid
  return pid !== undefined
    ? `data directory ${dataDir} is in use by another freeq server (pid ${pid})`
    : `data directory ${dataDir} is in use by another freeq process (a server, \`freeq-server keys\` or \`freeq-server db rekey\`)`;
}

/**
 * Take the data directory's lock, creating the directory (0700) when missing. `server`: also write
 * `freeq.pid` (0600) until release. Throws DataDirInUseError when another process — or another
 * server in this process — holds it; `what` ends the message (e.g. "stop it before rotating keys").
 */
export function lockDataDir(dataDir: string, opts: { server: boolean; what?: string }): DataDirLock {
  ensurePrivateDir(dataDir);
  const lock = openExclusiveLock(join(dataDir, LOCK_FILE));
  if (!lock) throw new DataDirInUseError(inUseMessage(dataDir) + (opts.what ? `; ${opts.what}` : ''));
  let pidContent: string | undefined;
  const pidPath = join(dataDir, PID_FILE);
  if (opts.server) {
    try {
      pidContent = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
      // a stale file (crash) may have an older, looser mode: replace it rather than rewrite it
      const tmp = `${pidPath}.tmp-${randomBytes(4).toString('hex')}`;
      writeFileSync(tmp, pidContent, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, pidPath);
    } catch (e) {
      lock.close();
      throw e;
    }
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        if (pidContent !== undefined && readFileSync(pidPath, 'utf8') === pidContent) rmSync(pidPath);
      } catch {
        // already gone
      }
      // the lock file itself stays: deleting it could let two processes lock two different files
      lock.close();
    },
  };
}

/** For `keys` without --force: the lock when it is free, undefined while a server holds it. */
export function tryLockDataDir(dataDir: string): DataDirLock | undefined {
  try {
    return lockDataDir(dataDir, { server: false });
  } catch (e) {
    if (e instanceof DataDirInUseError) return undefined;
    throw e;
  }
}
