import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `<data-dir>/freeq.pid`: written by a running server (pid and a random token), removed when it
 * stops. Offline commands that rewrite keys or the database (`keys --force`, `db rekey`) refuse to
 * run while the process it names is alive. A stale file (crash) names a dead pid and is ignored.
 */
export const LOCK_FILE = 'freeq.pid';

export function acquireServerLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const content = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  writeFileSync(path, content, { mode: 0o644 });
  return () => {
    try {
      if (readFileSync(path, 'utf8') === content) rmSync(path);
    } catch {
      // already gone
    }
  };
}

/** pid of a live server using this data dir, if any. */
export function runningServerPid(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, LOCK_FILE), 'utf8');
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

export function assertServerStopped(dataDir: string, what: string): void {
  const pid = runningServerPid(dataDir);
  if (pid !== undefined) {
    throw new Error(`a server (pid ${pid}) is running on ${dataDir}; stop it before ${what} (if it is not running, delete ${join(dataDir, LOCK_FILE)})`);
  }
}
