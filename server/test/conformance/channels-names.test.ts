import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import Database from 'better-sqlite3';
import { bootServer, type TestServer } from '../harness/server.js';
import { join } from './channels-helpers.js';

// #12 finding 15: JOIN accepted channel names with DEL, C1 controls, bidi overrides/isolates/marks
// and zero-width characters. They now get the reply every other bad name gets:
// `476 <nick> <name> :Bad Channel Mask`, and nothing is created.

const BAD: Array<[string, string]> = [
  ['DEL', '\x7f'], ['C1 NEL', '\u0085'], ['C1 CSI', '\u009b'], ['RLO', '\u202e'], ['LRE', '\u202a'],
  ['RLI', '\u2067'], ['PDI', '\u2069'], ['LRM', '\u200e'], ['RLM', '\u200f'], ['ALM', '\u061c'],
  ['ZWSP', '\u200b'], ['ZWNJ', '\u200c'], ['ZWJ', '\u200d'], ['WJ', '\u2060'], ['BOM', '\ufeff'],
];

describe('JOIN refuses control, bidi and zero-width characters in channel names', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('476 Bad Channel Mask for each, and the channel does not exist afterwards', async () => {
    const a = await srv.client('cnames');
    for (const [what, ch] of BAD) {
      const name = `#ad${ch}min`;
      a.send(`JOIN ${name}`);
      assert.equal(await a.expect(/ (476|JOIN|366) /), `:irc.test 476 cnames ${name} :Bad Channel Mask`, what);
      a.send(`MODE ${name}`);
      assert.equal(await a.expect(/ (403|324) /), `:irc.test 403 cnames ${name} :No such channel`, what);
    }
    // the look-alike without the invisible character is an ordinary channel
    await join(a, '#admin');
    assert.deepEqual([...srv.server.context.world.channels.keys()], ['#admin']);
  });

  test('an accented or emoji name is still fine', async () => {
    const a = await srv.client('cnames2');
    await join(a, '#café');
    await join(a, '#❤️');
  });
});

describe('persisted channels with such a name', () => {
  let srv: TestServer;
  let dataDir = '';
  after(async () => { await srv.stop(); rmSync(dataDir, { recursive: true, force: true }); });

  test('are not loaded at start (the row is left for the operator); the others are', async () => {
    srv = await bootServer();
    const a = await srv.client('cpersist');
    await join(a, '#kept');
    a.send('TOPIC #kept :kept topic');
    await a.expect(' TOPIC ');
    dataDir = srv.dataDir;
    a.destroy();
    await srv.server.stop(); // (not srv.stop(): that deletes the data directory)
    const db = new Database(pathJoin(dataDir, 'freeq.db'));
    const bad = '#evil\u202etxt.exe';
    db.prepare("INSERT INTO channels (name_folded, name, created_at, modes) VALUES (?, ?, 0, 'nt')").run(bad, bad);
    db.close();
    srv = await bootServer({}, dataDir);
    assert.deepEqual([...srv.server.context.world.channels.keys()], ['#kept']);
    const c = await srv.client('cpersist2');
    c.send(`TOPIC ${bad}`);
    assert.equal(await c.expect(/ (403|332|331) /), `:irc.test 403 cpersist2 ${bad} :No such channel`);
    c.send('TOPIC #kept');
    assert.equal(await c.expect(/ (403|332|331) /), ':irc.test 332 cpersist2 #kept :kept topic');
    const check = new Database(pathJoin(dataDir, 'freeq.db'), { readonly: true });
    assert.deepEqual(check.prepare('SELECT name FROM channels WHERE name = ?').all(bad), [{ name: bad }], 'the row is still there');
    check.close();
  });
});
