import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { guestCloak } from '../harness/cloaks.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { HISTORY_CAPS, history, seed, texts, untagged, type Seen } from './history-helpers.js';

/** s with RegExp specials escaped */
function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

async function joinAll(ch: string, ...cs: RawClient[]): Promise<void> {
  for (const c of cs) { c.send(`JOIN ${ch}`); await c.expect('366'); }
}

// IRCv3 draft/chathistory (https://ircv3.net/specs/extensions/chathistory), hardening.md C7 / H2

describe('CHATHISTORY', () => {
  let srv: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  let seen: Seen[];
  before(async () => {
    srv = await bootServer();
    alice = await srv.client('alice', { caps: ['message-tags'] });
    bob = await srv.client('bob', { caps: HISTORY_CAPS });
    for (const c of [alice, bob]) { c.send('JOIN #h'); await c.expect('366'); }
    await alice.sync();
    // distinct milliseconds, so timestamp references are unambiguous
    seen = await seed(alice, bob, '#h', ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'], 3);
  });
  after(async () => { await srv.stop(); });

  const ts = (i: number): string => `timestamp=${seen[i]!.time}`;
  const id = (i: number): string => `msgid=${seen[i]!.msgid}`;

  test('005 advertises CHATHISTORY=500 and MSGREFTYPES; CAP LS lists the caps', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    const ls = await c.expect(/ CAP \* LS /);
    for (const cap of ['draft/chathistory', 'draft/read-marker', 'draft/event-playback']) assert.ok(ls.split(/[ :]/).includes(cap), `${cap} in ${ls}`);
    c.send('NICK isup', 'USER isup 0 * :x', 'CAP END');
    const lines = await c.collectUntil(/ (376|422) /);
    const tokens = lines.filter((l) => / 005 /.test(l)).join(' ');
    assert.match(tokens, / CHATHISTORY=500 /);
    assert.match(tokens, / MSGREFTYPES=msgid,timestamp /);
  });

  test('batch shape: BATCH +id chathistory <target>, each line batch-tagged with its original msgid and time', async () => {
    const r = await history(bob, 'CHATHISTORY LATEST #h * 3');
    assert.equal(r.open, `:irc.test BATCH +${r.id} chathistory #h`);
    // exactly the line bob saw live, with batch=id in front
    assert.deepEqual(r.items, seen.slice(7).map((s) => `@batch=${r.id};${s.line.slice(1)}`));
  });

  test('LATEST with * / msgid= / timestamp=', async () => {
    assert.deepEqual(texts(await history(bob, 'CHATHISTORY LATEST #h * 100')), seen.map((s) => s.text));
    assert.deepEqual(texts(await history(bob, `CHATHISTORY LATEST #h ${id(6)} 100`)), ['m7', 'm8', 'm9']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY LATEST #h ${ts(6)} 2`)), ['m8', 'm9']);
    // the target's case does not matter
    assert.deepEqual(texts(await history(bob, 'CHATHISTORY latest #H * 1')), ['m9']);
  });

  test('BEFORE and AFTER with both selectors (the reference itself excluded)', async () => {
    assert.deepEqual(texts(await history(bob, `CHATHISTORY BEFORE #h ${id(5)} 2`)), ['m3', 'm4']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY BEFORE #h ${ts(5)} 2`)), ['m3', 'm4']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY BEFORE #h ${id(2)} 10`)), ['m0', 'm1']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY AFTER #h ${id(5)} 2`)), ['m6', 'm7']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY AFTER #h ${ts(5)} 2`)), ['m6', 'm7']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY AFTER #h ${ts(8)} 10`)), ['m9']);
  });

  test('AROUND with both selectors', async () => {
    assert.deepEqual(texts(await history(bob, `CHATHISTORY AROUND #h ${id(5)} 3`)), ['m4', 'm5', 'm6']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY AROUND #h ${ts(5)} 4`)), ['m3', 'm4', 'm5', 'm6']);
    // nothing before the first message: the rest of the limit goes after it
    assert.deepEqual(texts(await history(bob, `CHATHISTORY AROUND #h ${id(0)} 4`)), ['m0', 'm1', 'm2', 'm3']);
  });

  test('BETWEEN in both directions, mixed selectors', async () => {
    assert.deepEqual(texts(await history(bob, `CHATHISTORY BETWEEN #h ${id(2)} ${id(6)} 10`)), ['m3', 'm4', 'm5']);
    assert.deepEqual(texts(await history(bob, `CHATHISTORY BETWEEN #h ${id(2)} ${ts(6)} 2`)), ['m3', 'm4']);
    // newer reference first: the messages nearest to it, still oldest first
    assert.deepEqual(texts(await history(bob, `CHATHISTORY BETWEEN #h ${ts(6)} ${ts(2)} 2`)), ['m4', 'm5']);
  });

  test('an unknown msgid gives an empty batch', async () => {
    const r = await history(bob, 'CHATHISTORY BEFORE #h msgid=01ZZZZZZZZZZZZZZZZZZZZZZZZ 10');
    assert.deepEqual(r.items, []);
  });

  test('C7: the limit is clamped to 500', async () => {
    const big = await srv.client('bigsender');
    big.send('JOIN #big');
    await big.expect('366');
    bob.send('JOIN #big');
    await bob.expect('366');
    const n = 520;
    await seed(big, bob, '#big', Array.from({ length: n }, (_, i) => `b${i}`));
    const r = await history(bob, 'CHATHISTORY LATEST #big * 100000');
    assert.equal(r.items.length, 500);
    assert.deepEqual(texts(r).slice(0, 1).concat(texts(r).slice(-1)), ['b20', `b${n - 1}`]);
  });

  test('TARGETS: channels with their latest message time, in a draft/chathistory-targets batch', async () => {
    const r = await history(bob, 'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10', 'draft/chathistory-targets');
    assert.equal(r.open, `:irc.test BATCH +${r.id} draft/chathistory-targets`);
    assert.equal(r.items.length, 2);
    assert.equal(r.items[0], `@batch=${r.id} :irc.test CHATHISTORY TARGETS #h ${seen[9]!.time}`);
    assert.match(r.items[1]!, new RegExp(`^@batch=${r.id} :irc\\.test CHATHISTORY TARGETS #big \\d{4}-`));
    // a window that ends before everything: nothing
    const none = await history(bob, 'CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2000-01-02T00:00:00.000Z 10', 'draft/chathistory-targets');
    assert.deepEqual(none.items, []);
  });

  test('INVALID_TARGET: a channel you are not in, a +s channel, no such channel, an unknown nick, a guest', async () => {
    const out = await srv.client('outsider', { caps: HISTORY_CAPS });
    out.send('CHATHISTORY LATEST #h * 10');
    assert.equal(await out.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #h :Messages could not be retrieved');
    alice.send('JOIN #secret', 'MODE #secret +s', 'PRIVMSG #secret :hidden words');
    await alice.sync();
    out.send(`CHATHISTORY BEFORE #secret timestamp=2100-01-01T00:00:00.000Z 10`);
    assert.equal(await out.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET BEFORE #secret :Messages could not be retrieved');
    out.send('CHATHISTORY LATEST #nowhere * 10');
    assert.equal(await out.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #nowhere :Messages could not be retrieved');
    out.send('CHATHISTORY LATEST nosuchnick * 10');
    assert.equal(await out.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST nosuchnick :Messages could not be retrieved');
    // guests have no private history
    out.send('CHATHISTORY LATEST alice * 10');
    assert.equal(await out.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST alice :Messages could not be retrieved');
    await out.expectNone('hidden words', 100);
  });

  test('INVALID_PARAMS for bad references and limits; UNKNOWN_COMMAND; NEED_MORE_PARAMS', async () => {
    const bad: Array<[string, string]> = [
      ['CHATHISTORY LATEST #h foo=1 10', 'LATEST :Invalid message reference'],
      ['CHATHISTORY BEFORE #h * 10', 'BEFORE :Invalid message reference'],
      ['CHATHISTORY AFTER #h timestamp=2024-13-01T00:00:00.000Z 10', 'AFTER :Invalid message reference'],
      ['CHATHISTORY AFTER #h timestamp=2024-02-30T00:00:00.000Z 10', 'AFTER :Invalid message reference'],
      ['CHATHISTORY AROUND #h timestamp=yesterday 10', 'AROUND :Invalid message reference'],
      ['CHATHISTORY BETWEEN #h msgid= * 10', 'BETWEEN :Invalid message reference'],
      ['CHATHISTORY LATEST #h * 0', 'LATEST :Invalid limit'],
      ['CHATHISTORY LATEST #h * -5', 'LATEST :Invalid limit'],
      ['CHATHISTORY LATEST #h * ten', 'LATEST :Invalid limit'],
      ['CHATHISTORY TARGETS msgid=abc timestamp=2100-01-01T00:00:00.000Z 10', 'TARGETS :Invalid timestamp'],
    ];
    for (const [cmd, rest] of bad) {
      bob.send(cmd);
      assert.equal(await bob.expect('FAIL'), `:irc.test FAIL CHATHISTORY INVALID_PARAMS ${rest}`, cmd);
    }
    bob.send('CHATHISTORY FETCH #h * 10');
    assert.equal(await bob.expect('FAIL'), ':irc.test FAIL CHATHISTORY UNKNOWN_COMMAND FETCH :Unknown subcommand');
    bob.send('CHATHISTORY LATEST #h');
    assert.equal(await bob.expect('FAIL'), ':irc.test FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :Missing parameters');
    bob.send('CHATHISTORY');
    assert.equal(await bob.expect('FAIL'), ':irc.test FAIL CHATHISTORY NEED_MORE_PARAMS :Missing parameters');
  });

  test('without batch: the same lines, no BATCH', async () => {
    const plain = await srv.client('plainh', { caps: ['server-time'] });
    plain.send('JOIN #h');
    await plain.expect('366');
    plain.send('CHATHISTORY LATEST #h * 2');
    const lines = (await plain.sync()).slice(0, -1);
    assert.deepEqual(lines.map(untagged), ['m8', 'm9'].map((t) => `:alice!alice@${guestCloak(srv)} PRIVMSG #h ${t}`));
    assert.ok(lines.every((l) => l.startsWith('@time=')), lines.join('\n'));
  });

  test('H2: TAGMSG stored only with a whitelisted tag; played back only with draft/event-playback', async () => {
    const db = new Database(join(srv.dataDir, 'freeq.db'), { readonly: true });
    const rows = (): number => (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
    await bob.sync();
    const before = rows();
    for (let i = 0; i < 50; i++) alice.send('@+typing=active TAGMSG #h');
    await alice.sync();
    // a CHATHISTORY read first hands everything pending to the writer and waits for its commit,
    // so the row count below is final (the writer is another thread: one event-loop turn is not enough)
    await history(bob, 'CHATHISTORY LATEST #h * 1');
    assert.equal(rows(), before, 'typing notifications are never written');
    alice.send(`@+draft/react=👍;+draft/reply=${seen[9]!.msgid} TAGMSG #h`);
    await alice.sync();
    await history(bob, 'CHATHISTORY LATEST #h * 1');
    assert.equal(rows(), before + 1);
    db.close();

    const ep = await srv.client('playback', { caps: [...HISTORY_CAPS, 'draft/event-playback'] });
    ep.send('JOIN #h');
    await ep.expect('366');
    const r = await history(ep, 'CHATHISTORY LATEST #h * 2');
    assert.equal(r.items.length, 2);
    assert.match(r.items[1]!, new RegExp(`^@batch=${r.id};\\+draft/react=👍;\\+draft/reply=${seen[9]!.msgid};msgid=\\S+;time=\\S+ :alice!alice@${esc(guestCloak(srv))} TAGMSG #h$`));
    assert.match(r.items[0]!, / PRIVMSG #h m9$/);
    // bob did not negotiate event-playback: no TAGMSG, and the limit counts what is sent
    const b = await history(bob, 'CHATHISTORY LATEST #h * 2');
    assert.deepEqual(texts(b), ['m8', 'm9']);
  });

  test('draft/multiline messages: a nested draft/multiline batch, or one line per original line', async () => {
    const ml = ['batch', 'message-tags', 'server-time', 'draft/multiline', 'draft/chathistory'];
    const w = await srv.client('mlwriter', { caps: ml });
    const rd = await srv.client('mlreader', { caps: ml });
    await joinAll('#ml', w, rd);
    w.send('BATCH +m1 draft/multiline #ml', '@batch=m1 PRIVMSG #ml :first line', '@batch=m1;draft/multiline-concat PRIVMSG #ml :, continued', '@batch=m1 PRIVMSG #ml :second line', 'BATCH -m1');
    const liveOpen = await rd.expect(/ BATCH \+\S+ draft\/multiline #ml$/);
    const msgid = /msgid=([^; ]+)/.exec(liveOpen)![1]!;
    await rd.expect((_l, m) => m.command === 'BATCH' && m.params[0]!.startsWith('-'));
    const r = await history(rd, 'CHATHISTORY LATEST #ml * 1');
    assert.equal(r.items.length, 5, r.items.join('\n'));
    const inner = /BATCH \+(\S+) draft\/multiline #ml$/.exec(r.items[0]!)![1]!;
    assert.match(r.items[0]!, new RegExp(`^@batch=${r.id};msgid=${msgid};time=\\S+ :mlwriter!\\S+ BATCH \\+${inner} draft/multiline #ml$`));
    assert.deepEqual(r.items.slice(1), [
      `@batch=${inner} :mlwriter!mlwriter@${guestCloak(srv)} PRIVMSG #ml :first line`,
      `@batch=${inner};draft/multiline-concat :mlwriter!mlwriter@${guestCloak(srv)} PRIVMSG #ml :, continued`,
      `@batch=${inner} :mlwriter!mlwriter@${guestCloak(srv)} PRIVMSG #ml :second line`,
      `@batch=${r.id} :mlwriter!mlwriter@${guestCloak(srv)} BATCH -${inner}`,
    ]);
    // without draft/multiline: one PRIVMSG per original line, the first with the msgid
    bob.send('CHATHISTORY LATEST #ml * 1');
    assert.equal(await bob.expect('FAIL'), ':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #ml :Messages could not be retrieved');
    bob.send('JOIN #ml');
    await bob.expect('366');
    const f = await history(bob, 'CHATHISTORY LATEST #ml * 1');
    assert.deepEqual(f.items.map(untagged), ['first line', ', continued', 'second line'].map((t) => `:mlwriter!mlwriter@${guestCloak(srv)} PRIVMSG #ml :${t}`));
    assert.match(f.items[0]!, new RegExp(`;msgid=${msgid};`));
    assert.ok(!f.items[1]!.includes('msgid='), f.items[1]);
  });

  test('labeled-response wraps the chathistory batch', async () => {
    const lr = await srv.client('labeler', { caps: [...HISTORY_CAPS, 'labeled-response'] });
    lr.send('JOIN #h');
    await lr.expect('366');
    lr.send('@label=q1 CHATHISTORY LATEST #h * 1');
    const outer = await lr.expect(/BATCH \+\S+ labeled-response/);
    assert.match(outer, /^@label=q1 :irc\.test BATCH \+\S+ labeled-response$/);
    const outerId = /\+(\S+)/.exec(outer)![1]!;
    const inner = await lr.expect(/BATCH \+\S+ chathistory #h/);
    assert.equal(inner.split(' ')[0], `@batch=${outerId}`);
    const innerId = /BATCH \+(\S+)/.exec(inner)![1]!;
    assert.match(await lr.expect('PRIVMSG'), new RegExp(`^@batch=${innerId};`));
  });
});
