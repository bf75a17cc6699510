import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { HISTORY_CAPS, history, saslClient, seed, sleep, texts } from './history-helpers.js';
import { ed25519Signer } from './sasl-helpers.js';

// Issue 5: stored encrypted in SQLite, retention by count and age, DM privacy, read markers,
// replay on join.

async function joinAll(ch: string, ...cs: RawClient[]): Promise<void> {
  for (const c of cs) { c.send(`JOIN ${ch}`); await c.expect('366'); }
}

describe('history storage', () => {
  const servers: TestServer[] = [];
  after(async () => { for (const s of servers) await s.stop(); });
  const boot = async (o: Record<string, unknown> = {}, dir?: string): Promise<TestServer> => {
    const s = await bootServer(o, dir);
    servers.push(s);
    return s;
  };

  test('survives a restart with the original msgid; bodies are encrypted in the SQLite file', async () => {
    const srv = await bootServer();
    const a = await srv.client('pa', { caps: ['message-tags'] });
    const b = await srv.client('pb', { caps: HISTORY_CAPS });
    await joinAll('#p', a, b);
    const secret = 'plaintext-canary-7f3a91';
    const [live] = await seed(a, b, '#p', [`${secret} one`]);
    await seed(a, b, '#p', ['second']);
    await srv.server.stop();
    // read the database file directly: the text is nowhere in it (nor in a WAL file)
    const file = join(srv.dataDir, 'freeq.db');
    for (const f of [file, `${file}-wal`]) if (existsSync(f)) assert.ok(!readFileSync(f).includes(secret), `${f} holds the plaintext`);
    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT msgid, body, venue, command FROM messages ORDER BY id').all() as Array<{ msgid: string; body: string; venue: string; command: string }>;
    db.close();
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.msgid, live!.msgid);
    assert.equal(rows[0]!.venue, '#p');
    assert.match(rows[0]!.body, /^fq1:/);

    const again = await boot({}, srv.dataDir);
    const c = await again.client('pc', { caps: HISTORY_CAPS });
    await joinAll('#p', c);
    const r = await history(c, 'CHATHISTORY LATEST #p * 10');
    assert.deepEqual(texts(r), [`${secret} one`, 'second']);
    assert.equal(r.items[0], `@batch=${r.id};${live!.line.slice(1)}`);
  });

  test('retention by count (history-max-per-target) and by age (history-max-age)', async () => {
    const srv = await boot({ 'history-max-per-target': 5 });
    const a = await srv.client('ra');
    const b = await srv.client('rb', { caps: HISTORY_CAPS });
    await joinAll('#r', a, b);
    await joinAll('#r2', a, b);
    await seed(a, b, '#r', Array.from({ length: 8 }, (_, i) => `r${i}`));
    await seed(a, b, '#r2', ['other']);
    assert.deepEqual(texts(await history(b, 'CHATHISTORY LATEST #r * 100')), ['r3', 'r4', 'r5', 'r6', 'r7']);
    // per venue: the other channel keeps its own
    assert.deepEqual(texts(await history(b, 'CHATHISTORY LATEST #r2 * 100')), ['other']);
    const db = new Database(join(srv.dataDir, 'freeq.db'), { readonly: true });
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM messages WHERE venue = '#r'").get() as { n: number }).n, 5);
    db.close();

    const aged = await boot({ 'history-max-age': '1s' });
    const x = await aged.client('ax');
    const y = await aged.client('ay', { caps: HISTORY_CAPS });
    await joinAll('#age', x, y);
    await seed(x, y, '#age', ['old one']);
    assert.deepEqual(texts(await history(y, 'CHATHISTORY LATEST #age * 10')), ['old one']);
    await sleep(1300);
    await seed(x, y, '#age', ['new one']);
    assert.deepEqual(texts(await history(y, 'CHATHISTORY LATEST #age * 10')), ['new one']);
  });

  test('DM history: per account pair, only those two accounts (real SASL, did:key)', async () => {
    const srv = await boot();
    const [sa, sb, sc] = [ed25519Signer(), ed25519Signer(), ed25519Signer()];
    const a = await saslClient(srv, 'dma', sa, HISTORY_CAPS);
    const b = await saslClient(srv, 'dmb', sb, HISTORY_CAPS);
    const c = await saslClient(srv, 'dmc', sc, HISTORY_CAPS);
    const guest = await srv.client('dmguest', { caps: HISTORY_CAPS });
    const [live] = await seed(a, b, 'dmb', ['just between us']);
    // a guest's private messages are not stored
    guest.send('PRIVMSG dmb :guest words');
    await b.expect((_l, m) => m.params[1] === 'guest words');

    const rb = await history(b, 'CHATHISTORY LATEST dma * 10');
    assert.equal(rb.open, `:irc.test BATCH +${rb.id} chathistory dma`);
    assert.deepEqual(rb.items, [`@batch=${rb.id};${live!.line.slice(1)}`]);
    assert.deepEqual(texts(await history(a, 'CHATHISTORY LATEST dmb * 10')), ['just between us']);
    // by DID as well
    assert.deepEqual(texts(await history(a, `CHATHISTORY AFTER ${sb.did} timestamp=2000-01-01T00:00:00.000Z 10`)), ['just between us']);
    // the third account sees nothing of it, whichever side it asks about
    assert.deepEqual((await history(c, 'CHATHISTORY LATEST dma * 10')).items, []);
    assert.deepEqual((await history(c, 'CHATHISTORY LATEST dmb * 10')).items, []);
    const tc = await history(c, 'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10', 'draft/chathistory-targets');
    assert.deepEqual(tc.items, []);
    guest.send('CHATHISTORY LATEST dmb * 10');
    assert.equal(await guest.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST dmb :Messages could not be retrieved');
    // TARGETS lists the conversation under the other account's nick
    const ta = await history(a, 'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10', 'draft/chathistory-targets');
    assert.deepEqual(ta.items, [`@batch=${ta.id} :irc.test CHATHISTORY TARGETS dmb ${live!.time}`]);
    // the history outlives the other side's connection (nick → DID from the account table)
    b.send('QUIT');
    await b.waitClosed();
    assert.deepEqual(texts(await history(a, 'CHATHISTORY LATEST dmb * 10')), ['just between us']);
    const db = new Database(join(srv.dataDir, 'freeq.db'), { readonly: true });
    assert.deepEqual(db.prepare('SELECT venue FROM messages').all(), [{ venue: `dm:${[sa.did, sb.did].sort().join(',')}` }]);
    db.close();
  });

  test('MARKREAD: get, set (forward only), other sessions told, persisted per account, sent on JOIN', async () => {
    const srv = await bootServer();
    const s = ed25519Signer();
    const caps = ['draft/read-marker', 'server-time'];
    const one = await saslClient(srv, 'mr1', s, caps);
    const two = await saslClient(srv, 'mr2', s, caps);
    const nocap = await saslClient(srv, 'mr3', s);
    one.send('MARKREAD #mark');
    assert.equal(await one.expect('MARKREAD'), ':irc.test MARKREAD #mark *');
    const t = '2025-06-01T12:00:00.000Z';
    one.send(`MARKREAD #mark timestamp=${t}`);
    assert.equal(await one.expect('MARKREAD'), `:irc.test MARKREAD #mark timestamp=${t}`);
    assert.match(await two.expect('MARKREAD'), new RegExp(`^@time=\\S+ :irc\\.test MARKREAD #mark timestamp=${t.replace(/\./g, '\\.')}$`));
    await nocap.sync();
    await nocap.expectNone('MARKREAD', 50);
    // older: not stored, the current marker comes back, nobody else is told
    two.send('MARKREAD #MARK timestamp=2020-01-01T00:00:00.000Z');
    assert.equal(await two.expect('MARKREAD'), `:irc.test MARKREAD #MARK timestamp=${t}`);
    await one.sync();
    await one.expectNone('MARKREAD', 50);
    one.send('MARKREAD #mark timestamp=soon');
    assert.equal(await one.expect('FAIL'), ':irc.test FAIL MARKREAD INVALID_PARAMS #mark :Invalid timestamp');
    one.send('MARKREAD');
    assert.equal(await one.expect('FAIL'), ':irc.test FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters');
    // a guest's marker lives with its connection
    const g = await srv.client('mrguest', { caps });
    g.send('MARKREAD #mark');
    assert.equal(await g.expect('MARKREAD'), ':irc.test MARKREAD #mark *');

    await srv.server.stop();
    const again = await boot({}, srv.dataDir);
    const back = await saslClient(again, 'mr1', s, caps);
    back.send('JOIN #mark');
    const lines = await back.collectUntil('366');
    const i = lines.findIndex((l) => l.endsWith(`MARKREAD #mark timestamp=${t}`));
    assert.ok(i > 0 && lines.findIndex((l) => / JOIN #mark$/.test(l)) < i, `MARKREAD after JOIN, before 366:\n${lines.join('\n')}`);
  });

  test('replay on join (history-replay-on-join): batch + server-time clients without draft/chathistory', async () => {
    const srv = await boot({ 'history-replay-on-join': 3 });
    const a = await srv.client('ja');
    const w = await srv.client('jw', { caps: ['message-tags', 'server-time'] });
    await joinAll('#j', a, w);
    const seen = await seed(a, w, '#j', ['j0', 'j1', 'j2', 'j3', 'j4']);
    const r = await srv.client('jr', { caps: ['batch', 'server-time', 'message-tags'] });
    r.send('JOIN #j');
    await r.expect('366');
    const got = await history(r, 'PING replay', 'chathistory #j');
    assert.deepEqual(got.items, seen.slice(2).map((s) => `@batch=${got.id};${s.line.slice(1)}`));
    // draft/chathistory clients fetch for themselves; clients without batch get no replay
    for (const caps of [['batch', 'server-time', 'draft/chathistory'], ['server-time']]) {
      const n = await srv.client(`jn${caps.length}`, { caps });
      n.send('JOIN #j');
      const burst = [...await n.collectUntil('366'), ...await n.sync()];
      assert.ok(!burst.some((l) => / PRIVMSG #j /.test(l)), burst.join('\n'));
    }
  });
});
