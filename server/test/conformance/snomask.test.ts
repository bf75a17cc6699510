import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

// #16 server notices: user mode +s with a notice mask, operators only (as InspIRCd, Ergo and
// solanum). Ergo answers a user mode query of an operator with
// `RPL_SNOMASKIS <nick> <masks> :Server notice masks` (ergo:irc/handlers.go); the letters are
// Ergo's where it has one (ergo:irc/sno/constants.go: c connects, q quits, o opers, k kills,
// x bans). RPL_UMODEIS is `"<client> <user modes>"` (modern.ircdocs.horse#rplumodeis-221).

const PASS = 'correct horse battery';

async function oper(srv: TestServer, nick: string, mask?: string): Promise<RawClient> {
  const c = await srv.client(nick);
  c.send(`OPER ${nick} :${PASS}`);
  await c.expect(`:${nick} MODE ${nick} +o`);
  if (mask !== undefined) {
    c.send(mask === '' ? `MODE ${nick} +s` : `MODE ${nick} +s ${mask}`);
    await c.expect(' 008 ');
  }
  return c;
}

describe('server notices (user mode +s)', () => {
  let srv: TestServer;
  let G: string;
  before(async () => {
    srv = await bootServer({ 'oper-password': PASS, 'max-registration-lines': 8 }, undefined, undefined, { captureLogs: true });
    G = guestCloak(srv);
  });
  after(async () => { await srv.stop(); });

  test('a non-operator cannot set +s: 481, and the modes are unchanged', async () => {
    const c = await srv.client('plain');
    c.send('MODE plain +s +cq');
    assert.equal(await c.expect(' 481 '), ':irc.test 481 plain :Permission Denied- Only operators may set user mode s');
    c.send('MODE plain');
    assert.equal(await c.expect(' 221 '), ':irc.test 221 plain +');
    await c.expectNone(/ 008 | MODE plain /);
    assert.equal(srv.server.context.notices.maskOf(srv.server.context.world.findUser('plain')!), undefined);
  });

  test('+s with a mask: MODE echo, 008; the user mode query shows both; unknown letters get 501', async () => {
    const op = await oper(srv, 'snoa');
    op.send('MODE snoa +s +cq');
    assert.deepEqual(await op.collectUntil(' 008 '), [':snoa MODE snoa +s', ':irc.test 008 snoa +cq :Server notice mask']);
    op.send('MODE snoa +s -q+kZ');
    assert.deepEqual(await op.collectUntil(' 501 '), [':irc.test 008 snoa +ck :Server notice mask', ':irc.test 501 snoa :Unknown MODE flag']);
    op.send('MODE snoa');
    assert.deepEqual(await op.collectUntil(' 008 '), [':irc.test 221 snoa +os', ':irc.test 008 snoa +ck :Server notice mask']);
    op.send('MODE snoa -s');
    assert.equal(await op.expect('MODE'), ':snoa MODE snoa -s');
    op.send('MODE snoa');
    assert.equal(await op.expect(' 221 '), ':irc.test 221 snoa +o');
    await op.expectNone(' 008 ');
  });

  test('connects and quits, with the real IP, to the subscribed operator only', async () => {
    const op = await oper(srv, 'snob', '+cq');
    const other = await oper(srv, 'snoc'); // an operator without +s gets nothing
    const bob = await srv.client('bob');
    assert.equal(await op.expect('connecting: bob'), `:irc.test NOTICE snob :*** CONNECT: Client connecting: bob (bob@${G}) [127.0.0.1] {tcp} [bob Real]`);
    bob.send('QUIT :bye now');
    assert.equal(await op.expect('*** QUIT:'), `:irc.test NOTICE snob :*** QUIT: Client exiting: bob (bob@${G}) [127.0.0.1] [Quit: bye now]`);
    await other.expectNone('NOTICE', 200);
  });

  test('oper-ups, kills, server bans, lockdown changes and refused connections', async () => {
    const op = await oper(srv, 'snod', '');
    const carol = await srv.client('carol');
    op.skip();
    carol.send(`OPER carol :${PASS}`);
    assert.equal(await op.expect('OPER:'), `:irc.test NOTICE snod :*** OPER: carol (carol@${G}) [127.0.0.1] is now an IRC operator (admin, as carol)`);
    const dave = await srv.client('dave');
    op.send('KILL dave :spamming');
    assert.equal(await op.expect('KILL:'), `:irc.test NOTICE snod :*** KILL: snod killed dave (dave@${G}) [127.0.0.1]: spamming`);
    await dave.waitClosed();
    op.send('UBAN ADD 192.0.2.0/24 1h :test net');
    assert.match(await op.expect('BAN:'), /^:irc\.test NOTICE snod :\*\*\* BAN: snod added a server ban on 192\.0\.2\.0\/24 \(cidr\), until \S+Z: test net$/);
    op.send('UBAN DEL 192.0.2.0/24');
    assert.equal(await op.expect('BAN:'), ':irc.test NOTICE snod :*** BAN: snod removed the server ban on 192.0.2.0/24 (cidr)');
    op.send('LOCKDOWN closed');
    // every operator also gets LOCKDOWN's WALLOPS (commands/lockdown.ts); +s l adds the notice
    assert.equal(await op.expect('*** LOCKDOWN:'), ':irc.test NOTICE snod :*** LOCKDOWN: snod set the lockdown level to closed (was off)');
    try {
      const refused = await srv.connect();
      await refused.waitClosed();
      assert.equal(await op.expect('*** REFUSED:'), ':irc.test NOTICE snod :*** REFUSED: Connection refused from 127.0.0.1 {tcp}: connection refused: lockdown closed');
    } finally {
      op.send('LOCKDOWN off');
      await op.expect('*** LOCKDOWN: snod set the lockdown level to off');
    }
    // the same events at info level in the log, with their letter
    const logged = srv.logs.filter((l) => typeof l.snomask === 'string').map((l) => `${String(l.snomask)} ${l.msg}`);
    for (const want of ['o OPER: carol', 'k KILL: snod killed dave', 'x BAN: snod added', 'l LOCKDOWN: snod set']) {
      assert.ok(logged.some((l) => l.startsWith(want)), `log lacks "${want}"`);
      assert.ok(srv.logs.filter((l) => l.snomask !== undefined).every((l) => l.level === 30));
    }
  });

  test('a flood disconnect (too many registration lines) is an f notice', async () => {
    const op = await oper(srv, 'snoe', '+f');
    const c = await srv.connect();
    c.send(...Array.from({ length: 9 }, (_, i) => `PING x${i}`));
    await c.waitClosed();
    assert.equal(await op.expect('*** FLOOD:'), `:irc.test NOTICE snoe :*** FLOOD: * (*@${G}) [127.0.0.1] disconnected: You have sent too many registration messages`);
  });

  test('losing +o ends +s and the notices', async () => {
    const op = await oper(srv, 'snof', '+c');
    op.send('MODE snof -o');
    assert.equal(await op.expect('MODE'), ':snof MODE snof -so');
    await srv.client('erin');
    await op.expectNone('*** CONNECT:', 300);
    assert.equal(srv.server.context.notices.maskOf(srv.server.context.world.findUser('snof')!), undefined);
  });
});

describe('server notices are bounded per operator (server-notice-rate)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({ 'oper-password': PASS, 'server-notice-rate': 3, 'server-notice-window': '2s' }, undefined, undefined, { captureLogs: true });
  });
  after(async () => { await srv.stop(); });

  test('beyond the rate, notices are dropped and one summary says how many; the log keeps every event', async () => {
    const op = await oper(srv, 'watcher', '+c');
    const n = 10;
    await Promise.all(Array.from({ length: n }, (_, i) => srv.client(`flood${i}`)));
    // the summary comes when a window that dropped notices ends (at most server-notice-window later)
    let delivered = 0;
    let dropped = 0;
    let beforeFirstSummary: number | undefined;
    while (delivered + dropped < n) {
      const line = await op.expect((l) => l.includes('*** CONNECT: Client connecting: flood') || l.includes('dropped'), 5000);
      if (!line.includes('dropped')) { delivered++; continue; }
      beforeFirstSummary ??= delivered;
      const m = /:\*\*\* NOTICE: (\d+) server notices? dropped in the last 2s \(more than server-notice-rate 3\); the log has them all$/.exec(line);
      assert.ok(m, line);
      dropped += Number(m[1]);
    }
    // a window lets 3 through (all ten in one window: 3, then "7 server notices dropped")
    assert.ok(beforeFirstSummary !== undefined && beforeFirstSummary <= 3, `delivered before the first summary: ${beforeFirstSummary}`);
    assert.ok(dropped > 0);
    assert.equal(srv.logs.filter((l) => l.snomask === 'c' && String(l.msg).startsWith('CONNECT: Client connecting: flood')).length, n);
  });
});
