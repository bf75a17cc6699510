import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

const OPER_PW = 'queries-oper-pw';

function userOf(srv: TestServer, nick: string) {
  const u = srv.server.context.world.findUser(nick);
  assert.ok(u, `no user ${nick}`);
  return u;
}
async function makeOper(c: RawClient): Promise<void> {
  c.send(`OPER ${c.nick} ${OPER_PW}`);
  await c.expect('381');
  await c.expect((_l, m) => m.command === 'MODE' && m.params[0] === c.nick && m.params[1] === '+o');
}
/** `MODE <own nick> <change>`; waits for the echo. */
async function umode(c: RawClient, change: string): Promise<void> {
  c.send(`MODE ${c.nick} ${change}`);
  await c.expect((_l, m) => m.command === 'MODE' && m.params[0] === c.nick);
}
async function chanMode(c: RawClient, chan: string, ...args: string[]): Promise<void> {
  c.send(`MODE ${chan} ${args.join(' ')}`);
  await c.expect((_l, m) => m.command === 'MODE' && m.params[0] === chan);
}

async function join(c: RawClient, chan: string): Promise<void> {
  c.send(`JOIN ${chan}`);
  await c.expect(/ 366 /);
}

/** Send a query after everything earlier has been consumed; return its lines up to `end`. */
async function ask(c: RawClient, line: string, end: string): Promise<string[]> {
  await c.sync();
  c.send(line);
  return c.collectUntil(end);
}

describe('WHOIS', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer({ 'oper-password': OPER_PW }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('another user: 311 312 317 318, cloaked host, no real address (no 672: not connected over iroh)', async () => {
    const alice = await srv.client('wAlice', { localAddress: '127.0.0.2' });
    const bob = await srv.client('wBob');
    const lines = await ask(bob, 'WHOIS wAlice', '318');
    // 672 is only for a client connected over iroh (#16, protocol-gaps.test.ts), never the server's peer id
    assert.deepEqual(lines.map((l) => parse(l).command), ['311', '312', '317', '318']);
    assert.equal(lines[0], `:irc.test 311 wBob wAlice walice ${guestCloak(srv, '127.0.0.2')} * :wAlice Real`);
    assert.equal(lines[1], ':irc.test 312 wBob wAlice irc.test freeq');
    const m = /^:irc\.test 317 wBob wAlice (\d+) (\d+) :seconds idle, signon time$/.exec(lines[2]!);
    assert.ok(m, lines[2]);
    const signon = Number(m[2]);
    assert.ok(Math.abs(signon - Date.now() / 1000) < 30, `signon ${signon}`);
    assert.equal(lines[3], ':irc.test 318 wBob wAlice :End of /WHOIS list');
    assert.ok(!lines.join('\n').includes('127.0.0.2'));
    alice.destroy();
  });

  test('self: 378/338/379 show the real address', async () => {
    const me = await srv.client('wSelf', { localAddress: '127.0.0.3' });
    const lines = await ask(me, 'WHOIS wself', '318');
    assert.ok(lines.includes(':irc.test 378 wSelf wSelf :is connecting from *@127.0.0.3 127.0.0.3'), lines.join('\n'));
    assert.ok(lines.includes(':irc.test 338 wSelf wSelf wself@127.0.0.3 127.0.0.3 :Actual user@host, Actual IP'), lines.join('\n'));
    assert.ok(lines.includes(':irc.test 379 wSelf wSelf :is using modes +'), lines.join('\n'));
  });

  test('an operator sees the real address of others; 313 for an operator target', async () => {
    const target = await srv.client('wTarget', { localAddress: '127.0.0.4' });
    const oper = await srv.client('wOper');
    await makeOper(oper);
    const lines = await ask(oper, 'WHOIS wTarget', '318');
    assert.ok(lines.includes(':irc.test 338 wOper wTarget wtarget@127.0.0.4 127.0.0.4 :Actual user@host, Actual IP'), lines.join('\n'));
    const seen = await ask(target, 'WHOIS wOper', '318');
    assert.ok(seen.includes(':irc.test 313 wTarget wOper :is an IRC operator'), seen.join('\n'));
    assert.ok(!seen.some((l) => / (338|378|379) /.test(l)), 'non-oper got address numerics');
  });

  test('unknown nick: 401 then 318; no nick: 431', async () => {
    const c = await srv.client('wAsker');
    const lines = await ask(c, 'WHOIS nobodyhere', '318');
    assert.deepEqual(lines, [
      ':irc.test 401 wAsker nobodyhere :No such nick/channel',
      ':irc.test 318 wAsker nobodyhere :End of /WHOIS list',
    ]);
    c.send('WHOIS');
    assert.equal(await c.expect('431'), ':irc.test 431 wAsker :No nickname given');
  });

  test('server parameter form: WHOIS <server> <nick>', async () => {
    const c = await srv.client('wSrvForm');
    const lines = await ask(c, 'WHOIS irc.test wsrvform', '318');
    assert.equal(lines[0], `:irc.test 311 wSrvForm wSrvForm wsrvform ${G} * :wSrvForm Real`);
  });

  test('319 with prefixes; +s channels and +i users\' channels hidden from outsiders', async () => {
    const owner = await srv.client('wChanOwner');
    const peer = await srv.client('wPeer');
    const outsider = await srv.client('wOutsider');
    await join(owner, '#wpub');
    await join(owner, '#wsecret');
    await chanMode(owner, '#wsecret', '+s');
    await join(peer, '#wsecret');
    const out = await ask(outsider, 'WHOIS wChanOwner', '318');
    assert.ok(out.includes(':irc.test 319 wOutsider wChanOwner @#wpub'), out.join('\n'));
    const inner = await ask(peer, 'WHOIS wChanOwner', '318');
    assert.ok(inner.includes(':irc.test 319 wPeer wChanOwner :@#wpub @#wsecret'), inner.join('\n'));
    // invisible: only shared channels are listed
    await umode(owner, '+i');
    const hidden = await ask(outsider, 'WHOIS wChanOwner', '318');
    assert.ok(!hidden.some((l) => parse(l).command === '319'), hidden.join('\n'));
    const shared = await ask(peer, 'WHOIS wChanOwner', '318');
    assert.ok(shared.includes(':irc.test 319 wPeer wChanOwner @#wsecret'), shared.join('\n'));
  });

  test('multi-prefix shows every prefix in 319', async () => {
    const op = await srv.client('wMulti');
    const viewer = await srv.client('wMpViewer', { caps: ['multi-prefix'] });
    await join(op, '#wmp');
    await chanMode(op, '#wmp', '+v', 'wMulti');
    const lines = await ask(viewer, 'WHOIS wMulti', '318');
    assert.ok(lines.includes(':irc.test 319 wMpViewer wMulti @+#wmp'), lines.join('\n'));
    const plain = await ask(op, 'WHOIS wMulti', '318');
    assert.ok(plain.includes(':irc.test 319 wMulti wMulti @#wmp'), plain.join('\n'));
  });

  test('away (301), bot (335) and idle from the last message', async () => {
    const bot = await srv.client('wBot');
    const viewer = await srv.client('wBotViewer');
    await umode(bot, '+B');
    bot.send('AWAY :gone fishing');
    await bot.expect('306');
    userOf(srv, 'wBot').lastSpokeAt = Date.now() - 100_000;
    const lines = await ask(viewer, 'WHOIS wBot', '318');
    assert.ok(lines.includes(':irc.test 335 wBotViewer wBot :is a Bot on freeq'), lines.join('\n'));
    assert.ok(lines.includes(':irc.test 301 wBotViewer wBot :gone fishing'), lines.join('\n'));
    const idle = lines.map((l) => / 317 wBotViewer wBot (\d+) /.exec(l)).find(Boolean);
    assert.ok(idle && Number(idle[1]) >= 99 && Number(idle[1]) <= 110, `idle ${idle?.[1]}`);
    // speaking resets idle
    bot.send('PRIVMSG wBotViewer :hi');
    await viewer.expect('PRIVMSG');
    const after = await ask(viewer, 'WHOIS wBot', '318');
    const idle2 = after.map((l) => / 317 wBotViewer wBot (\d+) /.exec(l)).find(Boolean);
    assert.ok(idle2 && Number(idle2[1]) <= 2, `idle after speaking ${idle2?.[1]}`);
  });
});

describe('WHO and WHOX', () => {
  let srv: TestServer;
  let alice: RawClient, bob: RawClient, carol: RawClient;
  let G2: string, G3: string; // alice's and bob's cloaks (127.0.0.2, 127.0.0.3)
  before(async () => {
    srv = await bootServer({ 'oper-password': OPER_PW });
    G2 = guestCloak(srv, '127.0.0.2');
    G3 = guestCloak(srv, '127.0.0.3');
    alice = await srv.client('alice', { localAddress: '127.0.0.2' });
    bob = await srv.client('bob', { localAddress: '127.0.0.3' });
    carol = await srv.client('carol', { caps: ['multi-prefix'] });
    await join(alice, '#room');
    await join(bob, '#room');
  });
  after(async () => { await srv.stop(); });

  test('channel WHO: 352 per member with flags, then 315', async () => {
    const lines = await ask(carol, 'WHO #room', '315');
    assert.deepEqual(lines, [
      `:irc.test 352 carol #room alice ${G2} irc.test alice H@ :0 alice Real`,
      `:irc.test 352 carol #room bob ${G3} irc.test bob H :0 bob Real`,
      ':irc.test 315 carol #room :End of WHO list',
    ]);
  });

  test('flags: G when away, * for opers, B for bots, all prefixes with multi-prefix', async () => {
    await join(carol, '#flags');
    await join(alice, '#flags');
    await chanMode(carol, '#flags', '+ov', 'alice', 'alice');
    alice.send('AWAY :brb');
    await alice.expect('306');
    await makeOper(alice);
    await umode(alice, '+B');
    const multi = await ask(carol, 'WHO #flags', '315');
    assert.ok(multi.includes(`:irc.test 352 carol #flags alice ${G2} irc.test alice G*@+B :0 alice Real`), multi.join('\n'));
    await join(bob, '#flags');
    const single = await ask(bob, 'WHO #flags', '315');
    assert.ok(single.includes(`:irc.test 352 bob #flags alice ${G2} irc.test alice G*@B :0 alice Real`), single.join('\n'));
    // 'o' option: operators only
    const opers = await ask(bob, 'WHO #flags o', '315');
    assert.deepEqual(opers.map((l) => parse(l).params[5]), ['alice', undefined]);
    // restore for later tests
    alice.send('AWAY');
    await alice.expect('305');
    await umode(alice, '-oB');
  });

  test('mask WHO matches nick/user/host/realname globs; 315 echoes the mask', async () => {
    const byNick = await ask(carol, 'WHO al*', '315');
    assert.deepEqual(byNick, [
      `:irc.test 352 carol * alice ${G2} irc.test alice H :0 alice Real`,
      ':irc.test 315 carol al* :End of WHO list',
    ]);
    const byReal = await ask(carol, 'WHO *ob?Real', '315');
    assert.deepEqual(byReal.map((l) => parse(l).params[5]), ['bob', undefined]);
    const byHost = await ask(carol, 'WHO freeq/gu*', '315');
    assert.ok(byHost.length >= 4, 'everyone visible has the guest cloak');
    const bare = await ask(carol, 'WHO', '315');
    assert.equal(bare.at(-1), ':irc.test 315 carol * :End of WHO list');
    assert.ok(bare.length >= 4, 'WHO without a mask lists everyone visible');
    const none = await ask(carol, 'WHO zz*', '315');
    assert.deepEqual(none, [':irc.test 315 carol zz* :End of WHO list']);
  });

  test('mask WHO never matches the real IP for non-opers', async () => {
    const lines = await ask(carol, 'WHO 127.0.0.2', '315');
    assert.deepEqual(lines, [':irc.test 315 carol 127.0.0.2 :End of WHO list']);
    const dave = await srv.client('ipoper');
    await makeOper(dave);
    const asOper = await ask(dave, 'WHO 127.0.0.2', '315');
    assert.deepEqual(asOper.map((l) => parse(l).params[5]), ['alice', undefined]);
  });

  test('+i users: hidden from mask WHO unless sharing a channel, or oper; shown to WHO <their nick>', async () => {
    const ghost = await srv.client('ghost');
    const friend = await srv.client('gfriend');
    const stranger = await srv.client('gstranger');
    const oper = await srv.client('goper');
    await makeOper(oper);
    await umode(ghost, '+i');
    await join(ghost, '#haunt');
    await join(friend, '#haunt');
    // a mask (modern.ircdocs.horse#who-message: "all visible users whose nickname matches")
    assert.deepEqual(await ask(stranger, 'WHO gh*', '315'), [':irc.test 315 gstranger gh* :End of WHO list']);
    assert.equal((await ask(friend, 'WHO gh*', '315')).length, 2);
    assert.equal((await ask(oper, 'WHO gh*', '315')).length, 2);
    assert.equal((await ask(ghost, 'WHO gh*', '315')).length, 2, 'self is always visible');
    // an exact nick: "a single user is returned", +i or not (#16; protocol-gaps.test.ts)
    assert.equal((await ask(stranger, 'WHO ghost', '315')).length, 2);
    // channel WHO from outside hides +i members, from inside shows them
    const outside = await ask(stranger, 'WHO #haunt', '315');
    assert.deepEqual(outside.map((l) => parse(l).params[5]), ['gfriend', undefined]);
    const inside = await ask(friend, 'WHO #haunt', '315');
    assert.deepEqual(inside.map((l) => parse(l).params[5]), ['ghost', 'gfriend', undefined]);
  });

  test('+s channel: members hidden from non-members', async () => {
    const a = await srv.client('sOwner');
    const out = await srv.client('sOut');
    await join(a, '#hush');
    await chanMode(a, '#hush', '+s');
    assert.deepEqual(await ask(out, 'WHO #hush', '315'), [':irc.test 315 sOut #hush :End of WHO list']);
    assert.equal((await ask(a, 'WHO #hush', '315')).length, 2);
  });

  test('WHOX: fields in spec order whatever the request order, token, hidden IP, account 0', async () => {
    const all = await ask(carol, 'WHO alice %roladfnshiuct,42', '315');
    assert.deepEqual(all, [
      `:irc.test 354 carol 42 * alice 255.255.255.255 ${G2} irc.test alice H 0 ` + parse(all[0]!).params[10] + ' 0 n/a :alice Real',
      ':irc.test 315 carol alice :End of WHO list',
    ]);
    assert.match(parse(all[0]!).params[10]!, /^\d+$/, 'idle seconds');
    const few = await ask(carol, 'WHO #room %nt,7', '315');
    assert.deepEqual(few, [
      ':irc.test 354 carol 7 alice',
      ':irc.test 354 carol 7 bob',
      ':irc.test 315 carol #room :End of WHO list',
    ]);
    const chan = await ask(carol, 'WHO #room %cnfo', '315');
    assert.equal(chan[0], ':irc.test 354 carol #room alice H@ 999');
    assert.equal(chan[1], ':irc.test 354 carol #room bob H n/a');
  });

  test('WHOX: a bad token is replaced, unknown fields ignored, realname with spaces is trailing', async () => {
    const lines = await ask(carol, 'WHO bob %tnrXYZ,12345', '315');
    assert.equal(lines[0], ':irc.test 354 carol 0 bob :bob Real');
  });

  test('WHOX i: the asker sees their own IP, an oper sees everyone\'s', async () => {
    const self = await ask(alice, 'WHO alice %ni', '315');
    assert.equal(self[0], ':irc.test 354 alice 127.0.0.2 alice');
    const dave = await srv.client('dave');
    await makeOper(dave);
    const oper = await ask(dave, 'WHO bob %ni', '315');
    assert.equal(oper[0], ':irc.test 354 dave 127.0.0.3 bob');
  });

  test('privacy: a non-oper never sees another user\'s real IP in WHO/WHOX/WHOIS', async () => {
    const peek = await srv.client('peek');
    await join(peek, '#room');
    const lines = [
      ...await ask(peek, 'WHO #room', '315'),
      ...await ask(peek, 'WHO *', '315'),
      ...await ask(peek, 'WHO alice %tcuihsnfdlaor,1', '315'),
      ...await ask(peek, 'WHO #room %i', '315'),
      ...await ask(peek, 'WHOIS alice', '318'),
      ...await ask(peek, 'WHOIS bob', '318'),
      ...await ask(peek, 'USERHOST alice bob', '302'),
    ];
    assert.ok(lines.length > 10);
    for (const l of lines) assert.ok(!/127\.0\.0\.[23]/.test(l), `leaked: ${l}`);
  });
});

describe('WHOWAS', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer({ 'oper-password': OPER_PW }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('nick changes and quits are remembered, newest first; count limits', async () => {
    const a = await srv.client('hist1', { localAddress: '127.0.0.2' });
    a.send('NICK hist2');
    await a.expect('NICK');
    const b = await srv.client('hist1');
    b.send('QUIT :bye');
    await b.waitClosed();
    const c = await srv.client('looker');
    const lines = await ask(c, 'WHOWAS HIST1', '369');
    assert.equal(lines.length, 5);
    assert.equal(lines[0], `:irc.test 314 looker hist1 hist1 ${G} * :hist1 Real`);
    assert.match(lines[1]!, /^:irc\.test 312 looker hist1 irc\.test :\w{3}, \d{2} \w{3} \d{4} [\d:]{8} GMT$/);
    assert.equal(lines[2], `:irc.test 314 looker hist1 hist1 ${guestCloak(srv, '127.0.0.2')} * :hist1 Real`);
    assert.equal(lines[4], ':irc.test 369 looker HIST1 :End of WHOWAS');
    // newest first: the QUIT (second user) is after the NICK change, so it must come first
    const wh = srv.server.context.world.whowas.filter((e) => e.nick === 'hist1');
    assert.equal(wh.length, 2);
    assert.ok(wh[0]!.at <= wh[1]!.at);
    assert.ok(!lines.join('\n').includes('127.0.0.2'));
    const one = await ask(c, 'WHOWAS hist1 1', '369');
    assert.deepEqual(one.map((l) => parse(l).command), ['314', '312', '369']);
  });

  test('newest first: distinct realnames come back in reverse order', async () => {
    const a = await srv.connect();
    a.send('NICK order1', 'USER first 0 * :First One');
    await a.expect(/ (376|422) /);
    a.send('NICK order2');
    await a.expect('NICK');
    const b = await srv.connect();
    b.send('NICK order1', 'USER second 0 * :Second One');
    await b.expect(/ (376|422) /);
    b.send('QUIT');
    await b.waitClosed();
    const c = await srv.client('looker2');
    const lines = (await ask(c, 'WHOWAS order1', '369')).filter((l) => parse(l).command === '314');
    assert.deepEqual(lines, [
      `:irc.test 314 looker2 order1 second ${G} * :Second One`,
      `:irc.test 314 looker2 order1 first ${G} * :First One`,
    ]);
  });

  test('unknown: 406 then 369; no nick: 431', async () => {
    const c = await srv.client('looker3');
    assert.deepEqual(await ask(c, 'WHOWAS neverseen', '369'), [
      ':irc.test 406 looker3 neverseen :There was no such nickname',
      ':irc.test 369 looker3 neverseen :End of WHOWAS',
    ]);
    c.send('WHOWAS');
    assert.equal(await c.expect(/ (431|461) /), ':irc.test 431 looker3 :No nickname given');
  });
});

describe('USERHOST, ISON', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer({ 'oper-password': OPER_PW }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('USERHOST: +/- away, * oper, unknown nicks skipped, at most 5', async () => {
    const u1 = await srv.client('Uone');
    const u2 = await srv.client('Utwo');
    const asker = await srv.client('Uask', { localAddress: '127.0.0.5' });
    u1.send('AWAY :out');
    await u1.expect('306');
    await makeOper(u2);
    assert.equal((await ask(asker, 'USERHOST uone utwo nobody', '302'))[0], `:irc.test 302 Uask :Uone=-uone@${G} Utwo*=+utwo@${G}`);
    // own entry shows the real address (clients use it for DCC)
    assert.equal((await ask(asker, 'USERHOST Uask', '302'))[0], ':irc.test 302 Uask Uask=+uask@127.0.0.5');
    const six = await ask(asker, 'USERHOST uone uone uone uone uone utwo', '302');
    assert.equal(parse(six[0]!).params[1]!.split(' ').length, 5);
    asker.send('USERHOST');
    assert.equal(await asker.expect('461'), ':irc.test 461 Uask USERHOST :Not enough parameters');
  });

  test('ISON: online nicks in their registered case, either parameter form', async () => {
    await srv.client('IsOn');
    const c = await srv.client('isask');
    assert.equal((await ask(c, 'ISON ison nobody ISASK', '303'))[0], ':irc.test 303 isask :IsOn isask');
    assert.equal((await ask(c, 'ISON :nobody ison', '303'))[0], ':irc.test 303 isask IsOn');
    assert.equal((await ask(c, 'ISON nobody', '303'))[0], ':irc.test 303 isask :');
  });
});

describe('AWAY', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer({ 'oper-password': OPER_PW, 'away-len': 10 }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('306/305, away-notify to cap holders only, 301 on PRIVMSG', async () => {
    const alice = await srv.client('alice');
    const notified = await srv.client('notified', { caps: ['away-notify'] });
    const plain = await srv.client('plain');
    for (const c of [alice, notified, plain]) await join(c, '#away');
    await notified.sync();
    await plain.sync();
    alice.send('AWAY :gone');
    assert.equal(await alice.expect('306'), ':irc.test 306 alice :You have been marked as being away');
    assert.equal(await notified.expect('AWAY'), `:alice!alice@${G} AWAY gone`);
    await plain.expectNone('AWAY');
    plain.send('PRIVMSG alice :you there?');
    assert.equal(await plain.expect('301'), ':irc.test 301 plain alice gone');
    alice.send('AWAY');
    assert.equal(await alice.expect('305'), ':irc.test 305 alice :You are no longer marked as being away');
    assert.equal(await notified.expect('AWAY'), `:alice!alice@${G} AWAY`);
    await plain.expectNone('AWAY');
    plain.send('PRIVMSG alice :back?');
    await plain.expectNone('301');
  });

  test('text clipped to AWAYLEN bytes; joining while away notifies cap holders', async () => {
    const late = await srv.client('late');
    const watcher = await srv.client('watcher', { caps: ['away-notify'] });
    await join(watcher, '#awayjoin');
    late.send('AWAY :0123456789abcdef');
    await late.expect('306');
    const w = await ask(watcher, 'WHOIS late', '318');
    assert.ok(w.includes(':irc.test 301 watcher late 0123456789'), w.join('\n'));
    late.send('JOIN #awayjoin');
    await watcher.expect('JOIN');
    assert.equal(await watcher.expect('AWAY'), `:late!late@${G} AWAY 0123456789`);
  });
});

describe('SETNAME', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer({ 'oper-password': OPER_PW, 'realname-len': 20 }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('with the cap: echoed to self and to neighbours with the cap only', async () => {
    const alice = await srv.client('alice', { caps: ['setname'] });
    const capped = await srv.client('capped', { caps: ['setname'] });
    const plain = await srv.client('plain');
    const faraway = await srv.client('faraway', { caps: ['setname'] });
    for (const c of [alice, capped, plain]) await join(c, '#names');
    await plain.sync();
    await faraway.sync();
    alice.send('SETNAME :New Name');
    assert.equal(await alice.expect('SETNAME'), `:alice!alice@${G} SETNAME :New Name`);
    assert.equal(await capped.expect('SETNAME'), `:alice!alice@${G} SETNAME :New Name`);
    await plain.expectNone('SETNAME');
    await faraway.expectNone('SETNAME');
    const w = await ask(plain, 'WHOIS alice', '318');
    assert.equal(w[0], `:irc.test 311 plain alice alice ${G} * :New Name`);
  });

  test('without the cap: applied silently', async () => {
    const nocap = await srv.client('nocap');
    const watcher = await srv.client('swatch', { caps: ['setname'] });
    await join(nocap, '#quiet');
    await join(watcher, '#quiet');
    await nocap.sync();
    nocap.send('SETNAME Solo');
    assert.equal(await watcher.expect('SETNAME'), `:nocap!nocap@${G} SETNAME Solo`);
    const after = await nocap.sync(); // everything nocap got up to its PONG: nothing but the PONG
    assert.equal(after.length, 1, after.join('\n'));
    assert.equal((await ask(nocap, 'WHOIS nocap', '318'))[0], `:irc.test 311 nocap nocap nocap ${G} * Solo`);
  });

  test('too long (bytes) or empty: FAIL SETNAME INVALID_REALNAME, name unchanged', async () => {
    const c = await srv.client('longname', { caps: ['setname'] });
    c.send('SETNAME :' + 'é'.repeat(11)); // 22 bytes > 20
    assert.equal(await c.expect('FAIL'), ':irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid');
    c.send('SETNAME :');
    assert.equal(await c.expect('FAIL'), ':irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid');
    assert.equal((await ask(c, 'WHOIS longname', '318'))[0], `:irc.test 311 longname longname longname ${G} * :longname Real`);
    c.send('SETNAME :' + 'é'.repeat(10)); // exactly 20 bytes is fine
    assert.equal(await c.expect('SETNAME'), `:longname!longname@${G} SETNAME ${'é'.repeat(10)}`);
    c.send('SETNAME');
    assert.equal(await c.expect('461'), ':irc.test 461 longname SETNAME :Not enough parameters');
  });
});
