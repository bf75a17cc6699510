import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

// message-tags, message-ids, server-time, bot-mode, account-tag, echo-message
// (https://ircv3.net/specs/extensions/message-tags and friends)

/** The line without its tag section. */
function body(line: string): string {
  return line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line;
}
function tags(line: string): Map<string, string> {
  return parse(line).tags;
}
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('ircv3 message tags', () => {
  let srv: TestServer;
  let a: RawClient; // message-tags
  let b: RawClient; // message-tags
  let c: RawClient; // no caps
  let t: RawClient; // server-time only
  let G: string; // every client here is a guest on 127.0.0.1
  before(async () => {
    srv = await bootServer();
    G = guestCloak(srv);
    a = await srv.client('ta', { caps: ['message-tags'] });
    b = await srv.client('tb', { caps: ['message-tags'] });
    c = await srv.client('tc');
    t = await srv.client('tt', { caps: ['server-time'] });
    for (const x of [a, b, c, t]) { x.send('JOIN #tags'); await x.expect('366'); }
    for (const x of [a, b, c, t]) { await x.sync(); }
  });
  after(async () => { await srv.stop(); });

  test('client-only tags reach message-tags clients only; other client tags are stripped; escaping round-trips', async () => {
    a.send('@+example.com/foo=bar;+x=a\\sb\\:c;vendor/notclient=1;msgid=forged;time=2000-01-01T00:00:00.000Z;+flag PRIVMSG #tags hello');
    const lb = await b.expect('PRIVMSG');
    assert.equal(body(lb), `:ta!ta@${G} PRIVMSG #tags hello`);
    assert.ok(lb.includes('+x=a\\sb\\:c'), `escaped value relayed as sent: ${lb}`);
    const tb = tags(lb);
    assert.equal(tb.get('+example.com/foo'), 'bar');
    assert.equal(tb.get('+x'), 'a b;c');
    assert.equal(tb.get('+flag'), '');
    assert.ok(!tb.has('vendor/notclient'), 'non-client tag stripped');
    assert.ok(tb.get('msgid') && tb.get('msgid') !== 'forged', 'server msgid, not the client one');
    assert.ok(!tb.has('time'), 'no time tag without server-time');
    assert.equal(await c.expect('PRIVMSG'), `:ta!ta@${G} PRIVMSG #tags hello`);
    const lt = await t.expect('PRIVMSG');
    assert.deepEqual([...tags(lt).keys()], ['time'], 'server-time alone: only time');
    assert.match(tags(lt).get('time')!, ISO_MS);
    assert.notEqual(tags(lt).get('time'), '2000-01-01T00:00:00.000Z');
    assert.equal(body(lt), `:ta!ta@${G} PRIVMSG #tags hello`);
  });

  test('TAGMSG goes to message-tags clients only; without client tags nothing is relayed', async () => {
    a.send('@+typing=active TAGMSG #tags');
    const lb = await b.expect('TAGMSG');
    assert.equal(body(lb), `:ta!ta@${G} TAGMSG #tags`);
    assert.equal(tags(lb).get('+typing'), 'active');
    assert.ok(tags(lb).get('msgid'));
    a.send('@+typing=done TAGMSG tc', '@+typing=done TAGMSG tt');
    a.send('TAGMSG #tags', '@nonclient=1 TAGMSG tb');
    const own = await a.sync();
    assert.equal(own.length, 1, `no error for TAGMSG: ${own.join(' | ')}`);
    await b.sync();
    for (const x of [b, c, t]) await x.expectNone('TAGMSG', 100);
    // to a nick
    a.send('@+react=x TAGMSG tb');
    const ln = await b.expect('TAGMSG');
    assert.equal(body(ln), `:ta!ta@${G} TAGMSG tb`);
    assert.equal(tags(ln).get('+react'), 'x');
  });

  test('msgid on PRIVMSG, NOTICE, TAGMSG and on other relayed messages (JOIN, NICK, PART)', async () => {
    a.send('NOTICE #tags note');
    const n = await b.expect('NOTICE');
    assert.equal(body(n), `:ta!ta@${G} NOTICE #tags note`);
    assert.match(tags(n).get('msgid') ?? '', /^\S{10,}$/);
    assert.equal(await c.expect('NOTICE'), `:ta!ta@${G} NOTICE #tags note`);
    const x = await srv.client('tx');
    x.send('JOIN #tags');
    const j = await b.expect('JOIN');
    assert.equal(body(j), `:tx!tx@${G} JOIN #tags`);
    assert.ok(tags(j).get('msgid'));
    assert.equal(await c.expect('JOIN'), `:tx!tx@${G} JOIN #tags`);
    x.send('NICK tx2');
    const nk = await b.expect('NICK');
    assert.equal(body(nk), `:tx!tx@${G} NICK tx2`);
    assert.ok(tags(nk).get('msgid'));
    x.send('PART #tags :see you');
    const p = await b.expect('PART');
    assert.equal(body(p), `:tx2!tx@${G} PART #tags :see you`);
    assert.ok(tags(p).get('msgid'));
    assert.equal(await c.expect('PART'), `:tx2!tx@${G} PART #tags :see you`);
    // two messages never share a msgid
    a.send('PRIVMSG #tags :one', 'PRIVMSG #tags :two');
    const m1 = tags(await b.expect('PRIVMSG')).get('msgid');
    const m2 = tags(await b.expect('PRIVMSG')).get('msgid');
    assert.ok(m1 && m2 && m1 !== m2);
    await c.sync(); await t.sync();
  });

  test('bot-mode: messages from a +B user carry `bot` for message-tags clients only', async () => {
    const bot = await srv.client('tbot');
    bot.send('JOIN #tags');
    await bot.expect('366');
    bot.send('MODE tbot +B');
    await bot.expect(/ MODE tbot :?\+B/);
    assert.ok(srv.server.context.world.findUser('tbot')!.isBot, 'MODE +B sets the bot flag');
    bot.send('PRIVMSG #tags beep', 'NOTICE tb :boop');
    const l = await b.expect('PRIVMSG');
    assert.equal(body(l), `:tbot!tbot@${G} PRIVMSG #tags beep`);
    assert.equal(tags(l).get('bot'), '');
    const n = await b.expect('NOTICE');
    assert.equal(tags(n).get('bot'), '');
    assert.equal(await c.expect('PRIVMSG'), `:tbot!tbot@${G} PRIVMSG #tags beep`);
    const lt = await t.expect('PRIVMSG');
    assert.ok(!tags(lt).has('bot'), 'bot needs message-tags');
    // and not from a normal user
    a.send('PRIVMSG #tags :human');
    assert.ok(!tags(await b.expect('PRIVMSG')).has('bot'));
    bot.send('QUIT');
    await b.expect('QUIT');
    await c.expect('QUIT');
    await t.expect('QUIT');
  });

  test('tag data limit: 4094 bytes relayed intact, 4095 → 417 and nothing relayed (irctest boundary)', async () => {
    const ok = `@foo=bar;+baz=${'a'.repeat(4081)} TAGMSG #tags`;
    a.send(ok);
    // (a regexp: the relayed line has more tag data than a client may send, so no parse in the matcher)
    const l = await b.expect(/ TAGMSG #tags$/);
    assert.equal(tags(l).get('+baz'), 'a'.repeat(4081));
    assert.ok(!tags(l).has('foo'));
    a.send(`@foo=bar;+baz=${'a'.repeat(4082)} TAGMSG #tags`);
    assert.equal(await a.expect('417'), ':irc.test 417 ta :Input line was too long');
    a.send(`@+x=${'a'.repeat(4096)} PRIVMSG #tags :hi!`);
    assert.equal(await a.expect('417'), ':irc.test 417 ta :Input line was too long');
    await a.sync();
    await b.sync();
    await b.expectNone(/ (TAGMSG|PRIVMSG) #tags/, 100);
    await c.expectNone('PRIVMSG', 50);
  });
});

describe('ircv3 server-time, account-tag, extended-join, account-notify', () => {
  let srv: TestServer;
  let G: string; // every client here is a guest on 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('guests: extended-join carries `*` and the realname; no account tag; time on relayed messages only with the cap', async () => {
    const x = await srv.client('xj', { caps: ['extended-join', 'account-tag', 'account-notify', 'server-time'] });
    const plain = await srv.client('xp');
    x.send('JOIN #xj');
    const own = await x.expect('JOIN');
    assert.equal(body(own), `:xj!xj@${G} JOIN #xj * :xj Real`);
    assert.match(tags(own).get('time') ?? '', ISO_MS);
    await x.expect('366');
    plain.send('JOIN #xj');
    assert.equal(await plain.expect('JOIN'), `:xp!xp@${G} JOIN #xj`);
    const seen = await x.expect('JOIN');
    assert.equal(body(seen), `:xp!xp@${G} JOIN #xj * :xp Real`);
    assert.deepEqual([...tags(seen).keys()], ['time'], 'no account tag for a guest');
    await plain.expect('366');
    plain.send('PRIVMSG #xj hi');
    const pm = await x.expect('PRIVMSG');
    assert.equal(body(pm), `:xp!xp@${G} PRIVMSG #xj hi`);
    assert.deepEqual([...tags(pm).keys()], ['time']);
    x.send('PRIVMSG #xj yo');
    assert.equal(await plain.expect('PRIVMSG'), `:xj!xj@${G} PRIVMSG #xj yo`);
    // no ACCOUNT message for guests
    await x.sync();
    await x.expectNone('ACCOUNT', 50);
  });
});

describe('ircv3 echo-message', () => {
  let srv: TestServer;
  let G: string; // every client here is a guest on 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('sender gets its own PRIVMSG/NOTICE/TAGMSG with the msgid the recipients got', async () => {
    const e = await srv.client('ee', { caps: ['echo-message', 'message-tags'] });
    const r = await srv.client('er', { caps: ['message-tags'] });
    for (const x of [e, r]) { x.send('JOIN #echo'); await x.expect('366'); }
    await e.sync();
    for (const cmd of ['PRIVMSG #echo :hi there', 'NOTICE #echo :hi there', '@+typing=active TAGMSG #echo', 'PRIVMSG er :direct message']) {
      e.send(cmd);
      const mine = await e.expect((l, m) => ['PRIVMSG', 'NOTICE', 'TAGMSG'].includes(m.command));
      const theirs = await r.expect((l, m) => ['PRIVMSG', 'NOTICE', 'TAGMSG'].includes(m.command));
      assert.equal(mine, theirs, `echo identical to the delivered line for ${cmd}`);
      assert.ok(tags(mine).get('msgid'));
      assert.equal(body(mine), `:ee!ee@${G} ${cmd.replace(/^@\S+ /, '')}`);
    }
  });

  test('echo without message-tags: no tags, no TAGMSG echo; no echo without the cap', async () => {
    const e = await srv.client('ef', { caps: ['echo-message'] });
    const n = await srv.client('en');
    for (const x of [e, n]) { x.send('JOIN #echo2'); await x.expect('366'); }
    e.send('PRIVMSG #echo2 hi');
    assert.equal(await e.expect('PRIVMSG'), `:ef!ef@${G} PRIVMSG #echo2 hi`);
    e.send('@+typing=active TAGMSG #echo2');
    await e.sync();
    await e.expectNone('TAGMSG', 50);
    n.send('PRIVMSG #echo2 x');
    await n.sync();
    await n.expectNone('PRIVMSG', 50);
    assert.equal(await e.expect('PRIVMSG'), `:en!en@${G} PRIVMSG #echo2 x`);
  });

  test('a message to oneself arrives once without echo-message and twice with it', async () => {
    const s = await srv.client('eself');
    s.send('PRIVMSG eself me');
    const l1 = await s.sync();
    assert.deepEqual(l1.filter((l) => l.includes(' PRIVMSG ')), [`:eself!eself@${G} PRIVMSG eself me`]);
    const e = await srv.client('eself2', { caps: ['echo-message'] });
    e.send('PRIVMSG eself2 me');
    const l2 = await e.sync();
    assert.deepEqual(l2.filter((l) => l.includes(' PRIVMSG ')), [`:eself2!eself2@${G} PRIVMSG eself2 me`, `:eself2!eself2@${G} PRIVMSG eself2 me`]);
  });
});
