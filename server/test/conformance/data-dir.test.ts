// #12 finding 12: the data directory is created 0700, freeq.pid is 0600, and one process at a time
// holds the directory (keys/server-lock.ts): a second server, `keys --force` and `db rekey` are
// refused while a server runs, without touching its pid file or keys; a killed holder leaves no
// stale lock.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';
import { runMain as cli, startChildServer } from '../harness/child-server.js';
import { bootServer } from '../harness/server.js';

const KEYS = ['msg-signing-key.secret', 'db-encryption-key.secret', 'iroh-key.secret', 'cloak-key.secret'];

/** a data directory that does not exist yet (its parent is removed afterwards) */
const freshDir = () => join(mkdtempSync(join(tmpdir(), 'freeq-datadir-')), 'data');
const snapshot = (dir: string) => Object.fromEntries([...KEYS, 'freeq.pid'].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const mode = (p: string) => statSync(p).mode & 0o777;
const configFor = (dir: string) => loadConfig({ env: {}, cli: { 'listen-addr': '127.0.0.1:0', 'web-addr': '127.0.0.1:0', 'data-dir': dir, 'log-level': 'silent' } });

describe('data directory', () => {
  test('created 0700, freeq.pid 0600 naming this process; both gone/kept right after stop', async () => {
    const dir = freshDir();
    try {
      const srv = await bootServer({}, dir);
      assert.equal(mode(dir), 0o700);
      const pid = join(dir, 'freeq.pid');
      assert.equal(mode(pid), 0o600);
      assert.match(readFileSync(pid, 'utf8'), new RegExp(`^${process.pid} [0-9a-f]{16}\\n$`));
      for (const f of KEYS) assert.equal(mode(join(dir, f)), 0o600, f);
      await srv.stop();
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('freeq.pid')), [], 'the pid file is removed on stop');
    } finally {
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
    }
  });

  test('a second server on the same directory is refused (startServer and the CLI); the first runs on with its pid file and keys intact', async () => {
    const dir = freshDir();
    try {
      const first = await bootServer({}, dir);
      const before = snapshot(dir);
      const msg = `data directory ${dir} is in use by another freeq server (pid ${process.pid})`;
      await assert.rejects(startServer(configFor(dir)), (e: Error) => { assert.equal(e.message, msg); return true; });
      const r = cli(['--data-dir', dir, '--listen-addr', '127.0.0.1:0', '--web-addr', '127.0.0.1:0']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `freeq-server: cannot start: ${msg}`);
      assert.deepEqual(snapshot(dir), before, 'pid file or keys touched');
      const c = await first.client('stillHere');
      c.send('PING alive');
      assert.equal(await c.expect('PONG'), ':irc.test PONG irc.test alive');
      // stop releases the lock: the directory can be used again at once
      await first.stop();
      const again = await bootServer({}, dir);
      await again.stop();
    } finally {
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
    }
  });

  test('`keys --force` and `db rekey` are refused while a server holds the directory; keys unchanged', async () => {
    const dir = freshDir();
    try {
      const srv = await bootServer({}, dir);
      const before = snapshot(dir);
      const held = `freeq-server: data directory ${dir} is in use by another freeq server (pid ${process.pid})`;
      let r = cli(['keys', '--force', '--data-dir', dir]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `${held}; stop it before rotating keys`);
      r = cli(['db', 'rekey', '--data-dir', dir]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `${held}; stop it before running db rekey`);
      assert.deepEqual(snapshot(dir), before);
      await srv.stop();
    } finally {
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
    }
  });

  test('`keys` creates a missing data directory 0700', () => {
    const dir = freshDir();
    try {
      const r = cli(['keys', '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(mode(dir), 0o700);
    } finally {
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
    }
  });

  test('a killed server leaves no stale lock: the next one starts', async () => {
    const dir = freshDir();
    try {
      const child = await startChildServer({ dataDir: dir });
      assert.match(readFileSync(join(dir, 'freeq.pid'), 'utf8'), new RegExp(`^${child.proc.pid} `));
      await child.stop('SIGKILL');
      const srv = await bootServer({}, dir);
      assert.match(readFileSync(join(dir, 'freeq.pid'), 'utf8'), new RegExp(`^${process.pid} `), 'the stale pid file is replaced');
      await srv.stop();
    } finally {
      rmSync(resolve(dir, '..'), { recursive: true, force: true });
    }
  });
});
