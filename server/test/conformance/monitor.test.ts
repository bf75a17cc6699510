import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import IRC from 'irc-framework';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';
import { fedDirs, FAST_LINKS, freeTcpPort, until } from '../harness/federation.js';

// IRCv3 MONITOR (https://ircv3.net/specs/extensions/monitor) and extended-monitor
// (https://ircv3.net/specs/extensions/extended-monitor). The spec text each test checks is quoted
// above it. Notifications use "*" for <nick> (one line for every watcher):
//   "The server may send "*" instead of the nick (`<nick>`). (This makes it possible to send the
//    exact same message to all clients monitoring a certain target.)"

const RFC1459_LINE = 512;

describe('MONITOR', () => {
  let srv: TestServer;
  let G: string; // the guest cloak of 127.0.0.1
  before(async () => { srv = await bootServer({ 'monitor-limit': 5 }); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  // "Support of this specification is indicated by the MONITOR token in RPL_ISUPPORT (005). This
  //  token takes an optional parameter, of the maximum amount of targets a client may have in
  //  their monitor list." — and extended-monitor is a capability
  test('005 advertises MONITOR=<monitor-limit>; CAP LS lists extended-monitor', async () => {
    const c = await srv.connect();
    c.send('CAP LS 302');
    const ls = await c.expect(/ CAP \* LS /);
    assert.ok(ls.split(/[ :]/).includes('extended-monitor'), ls);
    c.send('NICK isup', 'USER isup 0 * :x', 'CAP END');
    const tokens = (await c.collectUntil(/ (376|422) /)).filter((l) => / 005 /.test(l)).join(' ');
    assert.match(tokens, / MONITOR=5 /);
    c.send('QUIT');
  });

  // "MONITOR + target[,target2]*: Adds the given list of targets to the list of targets being
  //  monitored. [...] If any of the targets being added are online, the server will generate
  //  RPL_MONONLINE numerics listing those targets that are online. If any of the targets being
  //  added are offline, the server will generate RPL_MONOFFLINE numerics listing those targets
  //  that are offline."  730: `:<server> 730 <nick> :target[!user@host][,target[!user@host]]*`
  test('+ answers 730 (online, with the hostmask) and 731 (offline), one line each; then notifications on connect, nick change and quit', async () => {
    const w = await srv.client('watch1');
    const on = await srv.client('OnLine');
    w.send('MONITOR + online,gone1,GONE2');
    assert.equal(await w.expect('730'), `:irc.test 730 watch1 OnLine!online@${G}`);
    assert.equal(await w.expect('731'), ':irc.test 731 watch1 gone1,GONE2');
    await w.sync();

    // connect (registration) → 730 with the mask
    const g = await srv.client('gone1');
    assert.equal(await w.expect('730'), `:irc.test 730 * gone1!gone1@${G}`);
    // "nickname changes must trigger RPL_MONOFFLINE" (irctest monitor.py, oragono #1076): the old
    // nick goes offline, a monitored new nick comes online
    g.send('NICK gone2');
    assert.equal(await w.expect('731'), ':irc.test 731 * gone1');
    assert.equal(await w.expect('730'), `:irc.test 730 * gone2!gone1@${G}`);
    // a change of case only changes nothing (CASEMAPPING: still the same target)
    g.send('NICK GONE2');
    await g.expect('NICK');
    await w.sync();
    await w.expectNone(/ 73[01] /, 50);
    // an unmonitored nick: the monitored one goes offline, written as it was
    g.send('NICK elsewhere');
    assert.equal(await w.expect('731'), ':irc.test 731 * GONE2');
    // quit → 731
    on.send('QUIT :bye');
    assert.equal(await w.expect('731'), ':irc.test 731 * OnLine');
    g.send('QUIT');
    await w.sync();
    await w.expectNone(/ 73[01] /, 50);
    w.send('MONITOR C');
  });

  // CASEMAPPING=rfc1459: [ ] \ are the upper case of { } | (modern.ircdocs.horse#casemapping-parameter)
  test('targets match with the server\'s CASEMAPPING (rfc1459)', async () => {
    const w = await srv.client('watch2');
    w.send('MONITOR + [Cm]\\x');
    assert.equal(await w.expect('731'), ':irc.test 731 watch2 [Cm]\\x');
    const u = await srv.client('{cM}|X');
    assert.equal(await w.expect('730'), `:irc.test 730 * {cM}|X!{cm}|x@${G}`);
    u.send('QUIT');
    assert.equal(await w.expect('731'), ':irc.test 731 * {cM}|X');
    w.send('MONITOR C');
  });

  // "MONITOR - [...] No output will be returned"; "MONITOR C: Clears the list of targets being
  //  monitored. No output will be returned"; "MONITOR L: Outputs the current list of targets being
  //  monitored. All output will use RPL_MONLIST, and the output will be terminated with
  //  RPL_ENDOFMONLIST"; "MONITOR S: Outputs for each target in the list being monitored, whether
  //  the client is online or offline."
  test('-, C, L and S', async () => {
    const w = await srv.client('watch3', { caps: ['labeled-response', 'batch'] });
    const x = await srv.client('Xonline');
    w.send('MONITOR + xonline,ab,cd');
    await w.expect('731');
    w.send('MONITOR L');
    // online: as the user writes the nick now; offline: folded
    assert.deepEqual(await w.collectUntil('733'), [':irc.test 732 watch3 Xonline,ab,cd', ':irc.test 733 watch3 :End of MONITOR list']);
    w.send('MONITOR S');
    assert.deepEqual(await w.collectUntil('731'), [`:irc.test 730 watch3 Xonline!xonline@${G}`, ':irc.test 731 watch3 ab,cd']);
    // - answers nothing (a labeled one: a bare ACK), also for a target not in the list
    w.send('@label=m1 MONITOR - AB,zz');
    assert.equal(await w.expect('ACK'), '@label=m1 :irc.test ACK');
    w.send('MONITOR L');
    assert.deepEqual(await w.collectUntil('733'), [':irc.test 732 watch3 Xonline,cd', ':irc.test 733 watch3 :End of MONITOR list']);
    // a removed target is no longer notified
    const ab = await srv.client('ab');
    ab.send('QUIT');
    await w.sync();
    await w.expectNone(/ 73[01] /, 50);
    w.send('@label=m2 MONITOR C');
    assert.equal(await w.expect('ACK'), '@label=m2 :irc.test ACK');
    w.send('MONITOR L', 'MONITOR S');
    assert.deepEqual(await w.collectUntil('733'), [':irc.test 733 watch3 :End of MONITOR list']);
    // S of an empty list: nothing at all
    const rest = await w.sync();
    assert.equal(rest.length, 1);
    assert.match(rest[0]!, / PONG /);
    x.send('QUIT');
    await w.sync();
    await w.expectNone(/ 73[01] /, 50);
  });

  // "734 - ERR_MONLISTFULL `:<server> 734 <nick> <limit> <targets> :Monitor list is full.` [...]
  //  the <targets> parameter is the list of targets, as the client sent them, that cannot be
  //  added."  "Targets already in the list MUST NOT be added again."
  test('monitor-limit: the targets that do not fit get 734 and are not added; those already in the list cost nothing', async () => {
    const w = await srv.client('watch4');
    w.send('MONITOR + t1,t2,t3,T1');
    assert.equal(await w.expect(/ 73\d /), ':irc.test 731 watch4 t1,t2,t3');
    w.send('MONITOR + t3,t4,t5,t6,t7');
    assert.deepEqual(await w.collectUntil('734'), [':irc.test 731 watch4 t3,t4,t5', ':irc.test 734 watch4 5 t6,t7 :Monitor list is full.']);
    // full: a target already in it is still answered, with no 734
    w.send('MONITOR + T5');
    assert.equal(await w.expect(/ 73\d /), ':irc.test 731 watch4 T5');
    w.send('MONITOR L');
    assert.deepEqual(await w.collectUntil('733'), [':irc.test 732 watch4 t1,t2,t3,t4,t5', ':irc.test 733 watch4 :End of MONITOR list']);
    // t6 was not added: its connecting tells watch4 nothing
    const t6 = await srv.client('t6');
    await w.sync();
    await w.expectNone(/ 73\d /, 50);
    t6.send('QUIT');
    // room again after a removal
    w.send('MONITOR - t1', 'MONITOR + t6,t7');
    assert.deepEqual(await w.collectUntil('734'), [':irc.test 731 watch4 t6', ':irc.test 734 watch4 5 t7 :Monitor list is full.']);
    w.send('MONITOR C');
  });

  // "For this specification, 'target' MUST be a valid nick as determined by the IRC daemon." and
  // "The MONITOR implementation also enhances user privacy by disallowing subscription to hostmasks"
  test('targets that are not valid nicks (masks, too long, empty) are skipped; bad subcommands and missing targets are refused', async () => {
    const w = await srv.client('watch5');
    w.send(`MONITOR + *!user@host,,bad!x,1digit,${'n'.repeat(65)},okay`);
    assert.equal(await w.expect(/ 73\d /), ':irc.test 731 watch5 okay');
    w.send('MONITOR + *!*@*');
    w.send('MONITOR L');
    assert.deepEqual(await w.collectUntil('733'), [':irc.test 732 watch5 okay', ':irc.test 733 watch5 :End of MONITOR list']);
    w.send('MONITOR +', 'MONITOR - :', 'MONITOR');
    assert.equal(await w.expect('461'), ':irc.test 461 watch5 MONITOR :Not enough parameters');
    assert.equal(await w.expect('461'), ':irc.test 461 watch5 MONITOR :Not enough parameters');
    assert.equal(await w.expect('461'), ':irc.test 461 watch5 MONITOR :Not enough parameters');
    w.send('MONITOR X okay', 'MONITOR :+ okay');
    assert.equal(await w.expect('FAIL'), ':irc.test FAIL MONITOR INVALID_PARAMS X :Unknown subcommand; use +, -, C, L or S');
    assert.equal(await w.expect('FAIL'), ':irc.test FAIL MONITOR INVALID_PARAMS * :Unknown subcommand; use +, -, C, L or S');
    // nothing changed
    w.send('MONITOR L');
    assert.deepEqual(await w.collectUntil('733'), [':irc.test 732 watch5 okay', ':irc.test 733 watch5 :End of MONITOR list']);
    w.send('MONITOR C');
  });

  test('a watcher\'s list goes with its connection; an entry nobody watches is dropped', async () => {
    const mon = srv.server.context.monitor;
    await until(() => mon.size.watchers === 0, 'earlier watchers gone');
    assert.deepEqual(mon.size, { nicks: 0, watchers: 0 });
    const a = await srv.client('watch6');
    const b = await srv.client('watch7');
    a.send('MONITOR + shared,onlya');
    b.send('MONITOR + SHARED');
    await a.sync(); await b.sync();
    assert.deepEqual(mon.size, { nicks: 2, watchers: 2 });
    a.send('QUIT');
    await a.waitClosed();
    await until(() => mon.size.watchers === 1, 'watch6 gone');
    assert.deepEqual(mon.size, { nicks: 1, watchers: 1 });
    b.socket.destroy(); // a dropped connection, not a QUIT
    await until(() => mon.size.watchers === 0, 'watch7 gone');
    assert.deepEqual(mon.size, { nicks: 0, watchers: 0 });
  });
});

describe('MONITOR with a stock client (irc-framework)', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('its "users online" / "users offline" events follow 730 and 731, "*" for the nick included', async () => {
    const bot = new IRC.Client({ auto_reconnect: false });
    const seen: string[] = [];
    const next = (): Promise<void> => new Promise((resolve) => {
      const on = (e: { nicks: string[] }): void => { seen.push(`on ${e.nicks.join(',')}`); done(); };
      const off = (e: { nicks: string[] }): void => { seen.push(`off ${e.nicks.join(',')}`); done(); };
      const done = (): void => { bot.off('users online', on); bot.off('users offline', off); resolve(); };
      bot.on('users online', on);
      bot.on('users offline', off);
    });
    try {
      const registered = new Promise<void>((resolve) => bot.once('registered', () => resolve()));
      bot.connect({ host: '127.0.0.1', port: srv.port, nick: 'fwwatch', username: 'fwwatch', gecos: 'irc-framework' });
      await registered;
      let ev = next();
      bot.addMonitor('FwPeer');
      await ev; // the reply to MONITOR +
      ev = next();
      const peer = await srv.client('fwpeer');
      await ev;
      ev = next();
      peer.send('QUIT');
      await ev;
      assert.deepEqual(seen, ['off FwPeer', 'on fwpeer', 'off fwpeer']);
    } finally {
      bot.quit('bye');
    }
  });
});

describe('MONITOR replies over several lines', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  // "In commands and numerics where multiple targets may occur, the length of the target list is
  //  limited only by the buffer size of 512 chars, as defined in RFC1459."
  test('L and S: every line within 512 bytes, as few lines as possible, no target lost', async () => {
    const w = await srv.client('w');
    const nicks = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(2, '0')}${'x'.repeat(57)}`);
    for (let i = 0; i < nicks.length; i += 6) w.send(`MONITOR + ${nicks.slice(i, i + 6).join(',')}`);
    await w.sync();
    for (const [cmd, code] of [['L', '732'], ['S', '731']] as const) {
      w.send(`MONITOR ${cmd}`);
      const lines = (await w.sync()).filter((l) => l.includes(` ${code} `));
      const lists = lines.map((l) => l.slice(`:irc.test ${code} w `.length).replace(/^:/, '').split(','));
      assert.deepEqual(lists.flat().sort(), [...nicks].sort(), `MONITOR ${cmd}: every target once`);
      for (const l of lines) assert.ok(Buffer.byteLength(l) + 2 <= RFC1459_LINE, `${Buffer.byteLength(l) + 2} bytes: ${l}`);
      // greedy: the next line's first target would not have fitted on the line before it
      for (let i = 0; i + 1 < lines.length; i++) assert.ok(Buffer.byteLength(lines[i]!) + 3 + 1 + lists[i + 1]![0]!.length > RFC1459_LINE, `line ${i} could take one more`);
      assert.ok(lines.length >= 2, 'the list needs more than one line');
    }
  });
});

describe('extended-monitor', () => {
  let srv: TestServer;
  let G: string;
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  // "When enabled by the client: If away-notify is also enabled, the client will get AWAY
  //  notifications for monitored nicks. If account-notify is also enabled, [...] ACCOUNT [...]
  //  If chghost is also enabled, [...] CHGHOST [...] If setname is also enabled, [...] SETNAME
  //  notifications for monitored nicks."
  test('AWAY, SETNAME, ACCOUNT, CHGHOST of a monitored nick reach watchers with extended-monitor and the matching capability, once', async () => {
    const all = ['extended-monitor', 'away-notify', 'setname', 'account-notify', 'chghost'];
    const full = await srv.client('full', { caps: all });
    const awayOnly = await srv.client('awayonly', { caps: ['extended-monitor', 'away-notify'] });
    const noExt = await srv.client('noext', { caps: ['away-notify', 'setname', 'account-notify', 'chghost'] });
    const shares = await srv.client('shares', { caps: all });
    const t = await srv.client('target', { caps: ['setname'] });
    for (const x of [full, awayOnly, noExt, shares]) { x.send('MONITOR + target'); await x.expect('730'); }
    // `shares` is on a channel with the target: fan-out's line only, not a second one
    shares.send('JOIN #ext'); await shares.expect('366');
    t.send('JOIN #ext'); await t.expect('366');
    await shares.expect('JOIN');

    t.send('AWAY :out for lunch');
    const away = `:target!target@${G} AWAY :out for lunch`;
    assert.equal(await full.expect('AWAY'), away);
    assert.equal(await awayOnly.expect('AWAY'), away);
    assert.equal(await shares.expect('AWAY'), away);
    t.send('AWAY');
    assert.equal(await full.expect('AWAY'), `:target!target@${G} AWAY`);
    assert.equal(await awayOnly.expect('AWAY'), `:target!target@${G} AWAY`);

    t.send('SETNAME :New Name');
    assert.equal(await t.expect('SETNAME'), `:target!target@${G} SETNAME :New Name`);
    assert.equal(await full.expect('SETNAME'), `:target!target@${G} SETNAME :New Name`);

    // a login (SASL, Ops.login): ACCOUNT, then CHGHOST to the DID cloak
    const ops = srv.server.context.ops;
    const u = srv.server.context.world.findUser('target')!;
    ops.login(u, { did: 'did:plc:monitortarget' });
    const host = u.host;
    assert.equal(await full.expect('ACCOUNT'), `:target!target@${G} ACCOUNT did:plc:monitortarget`);
    assert.equal(await full.expect('CHGHOST'), `:target!target@${G} CHGHOST target ${host}`);
    ops.setHost(u, 'newuser', 'new/host');
    assert.equal(await full.expect('CHGHOST'), `:target!target@${host} CHGHOST newuser new/host`);

    // nothing else: no second copy for `shares`, nothing for capabilities not enabled
    for (const x of [full, awayOnly, noExt, shares]) await x.sync();
    await full.expectNone(/ (AWAY|SETNAME|ACCOUNT|CHGHOST)( |$)/, 50);
    await awayOnly.expectNone(/ (AWAY|SETNAME|ACCOUNT|CHGHOST)( |$)/, 50);
    await noExt.expectNone(/ (AWAY|SETNAME|ACCOUNT|CHGHOST)( |$)/, 50);
    const sharedLines = shares.received.filter((l) => / (AWAY|SETNAME|ACCOUNT|CHGHOST)( |$)/.test(l));
    assert.deepEqual(sharedLines, [
      away, `:target!target@${G} AWAY`, `:target!target@${G} SETNAME :New Name`,
      `:target!target@${G} ACCOUNT did:plc:monitortarget`, `:target!target@${G} CHGHOST target ${host}`,
      `:target!target@${host} CHGHOST newuser new/host`,
    ], 'exactly fan-out\'s lines, once each');
  });
});

describe('MONITOR across federated servers', () => {
  const { dataDir, cleanup } = fedDirs();
  const running: TestServer[] = [];
  after(async () => {
    for (const s of running) await s.stop().catch(() => {});
    cleanup();
  });

  // remote users come and go through the same Ops events (a peer's `register`, `nick`, `quit`, a netsplit)
  test('a user of the linked server: 730 when introduced, 731/730 on a nick change, AWAY with extended-monitor, 731 on quit and on a netsplit', async () => {
    const a = dataDir();
    const b = dataDir();
    const aPort = await freeTcpPort();
    const A = await bootServer({ ...FAST_LINKS, 'server-name': 'a.test', 's2s-listen-addr': `127.0.0.1:${aPort}`, 's2s-allowed-peers': b.id }, a.dir);
    running.push(A);
    const B = await bootServer({ ...FAST_LINKS, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}`, 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked');

    const w: RawClient = await A.client('watcher', { caps: ['extended-monitor', 'away-notify'] });
    await B.client('early');
    await until(() => A.server.context.world.findUser('early') !== undefined, 'early known at A');
    w.send('MONITOR + early,bob,robert');
    const mask = (nick: string): RegExp => new RegExp(`^:a\\.test 730 (watcher|\\*) ${nick}!\\S+@\\S+$`);
    assert.match(await w.expect('730'), mask('early'));
    assert.equal(await w.expect('731'), ':a.test 731 watcher bob,robert');

    const bob = await B.client('bob');
    assert.match(await w.expect('730'), mask('bob'));
    bob.send('NICK robert');
    assert.equal(await w.expect('731'), ':a.test 731 * bob');
    assert.match(await w.expect('730'), mask('robert'));
    bob.send('AWAY :over there');
    assert.match(await w.expect('AWAY'), /^:robert!\S+ AWAY :over there$/);
    bob.send('QUIT :later');
    assert.equal(await w.expect('731'), ':a.test 731 * robert');

    // the link drops: B's users leave A's view (a netsplit), and come back with the link
    A.server.context.federation!.squit('b.test', 'test');
    assert.equal(await w.expect('731'), ':a.test 731 * early');
    A.server.context.federation!.connect('b.test');
    assert.match(await w.expect('730', 10_000), mask('early'));
  });
});
