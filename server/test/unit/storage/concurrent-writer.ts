// Worker for concurrent-writers.test.ts (hardening H1): one connection of its own, opened with
// openDb like the server's, writing `rows` rows through the real repositories as fast as it can.
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../../../src/storage/db.js';
import { FieldCipher } from '../../../src/storage/crypto.js';
import { SqliteChannelStore } from '../../../src/storage/repos/channels.js';
import { SqliteServerBanStore } from '../../../src/storage/repos/server-bans.js';
import { Channel } from '../../../src/state/channel.js';

export interface WriterData { path: string; key: string; prefix: string; rows: number }
export interface WriterResult { errors: string[]; written: number }

const { path, key, prefix, rows } = workerData as WriterData;
const db = openDb(path);
const channels = new SqliteChannelStore(db, new FieldCipher(Buffer.from(key, 'hex')));
const bans = new SqliteServerBanStore(db);

parentPort!.once('message', () => {
  const errors: string[] = [];
  let written = 0;
  const now = Date.now();
  const one = (i: number) => {
    const name = `#${prefix}-${i}`;
    const ch = new Channel(name, name, now + i);
    ch.topic = { text: `topic ${prefix} ${i}`, setBy: prefix, setAt: now + i };
    channels.saveChannel(ch);
    channels.addListEntry(ch, 'b', { mask: `${prefix}${i}!*@*`, setBy: prefix, setAt: now + i });
    bans.save({ target: `${prefix}${i}!*@*`, kind: 'mask', reason: `row ${i}`, setBy: prefix, setAt: now + i });
  };
  // single autocommit statements, and every other group of 10 rows in one transaction that
  // holds the write lock across them: both ways a second writer must wait, never fail
  const batch = db.transaction((from: number) => { for (let i = from; i < from + 10; i++) one(i); });
  for (let g = 0; g < rows; g += 10) {
    try {
      if ((g / 10) % 2 === 1) batch(g);
      else for (let i = g; i < g + 10; i++) one(i);
      written += 10;
    } catch (e) {
      errors.push(`${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
    }
  }
  db.close();
  parentPort!.postMessage({ errors, written } satisfies WriterResult);
});
parentPort!.postMessage('ready');
