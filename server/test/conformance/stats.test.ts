import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { WsClient } from '../harness/ws-client.js';
import { fedDirs, FAST_LINKS, until } from '../harness/federation.js';

// #16 STATS — modern.ircdocs.horse#stats-message: "u - returns a string showing how long the server
// has been up", "m - returns a list of commands supported by the server and the usage count for
// each if the usage count is non zero", "o - returns a list of hosts from which normal clients may
// become operators", "k - returns a list of banned username/hostname combinations for that
// server", "l - returns a list of the server's connections, showing how long each connection has
// been established and the traffic over that connection in bytes and messages for each
// direction". Numerics: RPL_STATSUPTIME (242) `"<client> :Server Up <days> days
// <hours>:<minutes>:<seconds>"`, RPL_STATSCOMMANDS (212) `"<client> <command> <count> [<byte
// count> <remote count>]"`, RPL_ENDOFSTATS (219) `"<client> <stats letter> :End of /STATS
// report"`; 211 RPL_STATSLINKINFO `<linkname> <sendq> <sent messages> <sent Kbytes> <received
// messages> <received Kbytes> <time open>` (RFC 2812 5.1), 243 RPL_STATSOLINE, 216 RPL_STATSKLINE.

const PASS = 'correct horse battery';
const BLOCK_PASS = 'block password 123';

describe('STATS', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({ 'oper-password': PASS, 'oper-dids': 'did:plc:abcdefghijklmnopqrstuvwx' }, undefined,
      { oper: [{ name: 'alice', password: BLOCK_PASS, class: 'moderator' }] });
  });
  after(async () => { await srv.stop(); });

  test('u: the uptime for anyone, then 219', async () => {
    const c = await srv.client('upt');
    c.send('STATS u');
    const lines = await c.collectUntil(' 219 ');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^:irc\.test 242 upt :Server Up 0 days 0:00:\d\d$/);
    assert.equal(lines[1], ':irc.test 219 upt u :End of /STATS report');
  });

  test('m: every command that ran, with its count, for anyone', async () => {
    // counts are server-wide: a server of its own, so the list is exact
    const own = await bootServer();
    try {
      const c = await own.client('counter');
      c.send('PRIVMSG counter :one', 'PRIVMSG counter :two');
      await c.sync();
      c.send('STATS m');
      assert.deepEqual(await c.collectUntil(' 219 '), [
        ':irc.test 212 counter NICK 1',
        ':irc.test 212 counter PING 1',
        ':irc.test 212 counter PRIVMSG 2',
        ':irc.test 212 counter STATS 1',
        ':irc.test 212 counter USER 1',
        ':irc.test 219 counter m :End of /STATS report',
      ]);
    } finally {
      await own.stop();
    }
  });

  test('o, k and l are for operators: 481 then 219, nothing else', async () => {
    const c = await srv.client('nosy');
    for (const q of ['o', 'k', 'l']) {
      c.send(`STATS ${q}`);
      assert.deepEqual(await c.collectUntil(' 219 '), [
        ':irc.test 481 nosy :Permission Denied- You\'re not an IRC operator',
        `:irc.test 219 nosy ${q} :End of /STATS report`,
      ]);
    }
  });

  test('o: the operator blocks, oper-password and oper-dids, never a password', async () => {
    const op = await srv.client('op1');
    op.send(`OPER op1 :${PASS}`);
    await op.expect(':op1 MODE op1 +o');
    op.send('STATS o');
    const lines = await op.collectUntil(' 219 ');
    assert.deepEqual(lines.slice(-4), [
      ':irc.test 243 op1 O *@* * alice moderator',
      ':irc.test 243 op1 O *@* * * admin',
      ':irc.test 243 op1 O did:plc:abcdefghijklmnopqrstuvwx * did:plc:abcdefghijklmnopqrstuvwx admin',
      ':irc.test 219 op1 o :End of /STATS report',
    ]);
    assert.ok(!lines.some((l) => l.includes(PASS) || l.includes(BLOCK_PASS)));
  });

  test('k: the server bans (UBAN)', async () => {
    const op = await srv.client('op2');
    op.send(`OPER op2 :${PASS}`);
    await op.expect(':op2 MODE op2 +o');
    op.send('STATS k');
    assert.deepEqual(await op.collectUntil(' 219 '), [':irc.test 219 op2 k :End of /STATS report']);
    op.send('UBAN ADD *!*@bad.example :go away');
    await op.expect('Added ban');
    op.send('STATS k');
    const [k, end] = await op.collectUntil(' 219 ');
    assert.match(k!, /^:irc\.test 216 op2 K \*!\*@bad\.example \* mask :go away \(set by op2 at \S+Z, permanent\)$/);
    assert.equal(end, ':irc.test 219 op2 k :End of /STATS report');
  });

  test('l: one line per transport with its connections, sendq and traffic; the counts move with the traffic', async () => {
    const op = await srv.client('op3');
    op.send(`OPER op3 :${PASS}`);
    await op.expect(':op3 MODE op3 +o');
    const w = await WsClient.connect(srv.webPort, { protocols: ['text.ircv3.net'] });
    await w.register('wsuser');
    const stats = async () => {
      op.send('STATS l');
      const lines = await op.collectUntil(' 219 ');
      assert.equal(lines.at(-1), ':irc.test 219 op3 l :End of /STATS report');
      return new Map(lines.filter((l) => parse(l).command === '211').map((l) => {
        const p = parse(l).params;
        return [p[1]!.replace(/\[\d+\]$/, ''), { name: p[1]!, sendq: Number(p[2]), sent: Number(p[3]), sentKb: Number(p[4]), recv: Number(p[5]), recvKb: Number(p[6]), open: Number(p[7]) }];
      }));
    };
    const a = await stats();
    assert.deepEqual([...a.keys()], ['clients/tcp', 'clients/tls', 'clients/ws']);
    assert.equal(a.get('clients/ws')!.name, 'clients/ws[1]');
    assert.equal(a.get('clients/tls')!.name, 'clients/tls[0]');
    const n = srv.server.context.stats.connections - 1; // every other connection is TCP
    assert.equal(a.get('clients/tcp')!.name, `clients/tcp[${n}]`);
    assert.ok(a.get('clients/ws')!.recv >= 2 && a.get('clients/ws')!.sent > 0);
    op.send('PING one', 'PING two');
    const b = await stats();
    // exactly the three lines op3 sent since (two PINGs and STATS l): nobody else spoke on TCP
    assert.equal(b.get('clients/tcp')!.recv - a.get('clients/tcp')!.recv, 3);
    assert.ok(b.get('clients/tcp')!.sent > a.get('clients/tcp')!.sent);
    assert.equal(b.get('clients/ws')!.recv, a.get('clients/ws')!.recv);
    w.destroy();
  });

  test('an unknown letter gets 219 alone; another server 402; no letter 461', async () => {
    const c = await srv.client('odd');
    c.send('STATS Q');
    assert.deepEqual(await c.collectUntil(' 219 '), [':irc.test 219 odd Q :End of /STATS report']);
    c.send('STATS u other.example');
    assert.equal(await c.expect(/ (242|402) /), ':irc.test 402 odd other.example :No such server');
    c.send('STATS');
    assert.equal(await c.expect(' 461 '), ':irc.test 461 odd STATS :Not enough parameters');
  });

  test('LINKS without federation: this server alone (modern.ircdocs.horse#links-message)', async () => {
    const c = await srv.client('linker');
    c.send('LINKS');
    assert.deepEqual(await c.collectUntil(' 365 '), [
      ':irc.test 364 linker irc.test irc.test :0 freeq freeq',
      ':irc.test 365 linker * :End of /LINKS list',
    ]);
  });
});

describe('STATS l with a federation link', () => {
  const { dataDir, cleanup } = fedDirs();
  after(cleanup);

  test('the link has its own 211 line: name, peer id, sendq, frames and bytes each way, time open', async () => {
    const a = dataDir();
    const b = dataDir();
    const A = await bootServer({ ...FAST_LINKS, 'server-name': 'a.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': b.id, 'oper-password': PASS }, a.dir);
    const B = await bootServer({ ...FAST_LINKS, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${A.server.addresses.s2s!.port}`, 's2s-allowed-peers': a.id }, b.dir);
    try {
      await until(() => A.server.federation!.peers.linked.length === 1, 'linked');
      const op = await A.client('fedop');
      op.send(`OPER fedop :${PASS}`);
      await op.expect(':fedop MODE fedop +o');
      op.send('STATS l');
      const lines = await op.collectUntil(' 219 ');
      const link = lines.map((l) => parse(l)).find((m) => m.command === '211' && m.params[1]!.startsWith('b.test['));
      assert.ok(link, lines.join('\n'));
      assert.equal(link.params[1], `b.test[${b.id.slice(0, 16)}]`);
      const [sendq, sent, , recv, , open] = link.params.slice(2).map(Number);
      assert.ok(sendq! >= 0 && sent! > 0 && recv! > 0 && open! >= 0, link.params.join(' '));
      op.send('LINKS');
      const ls = await op.collectUntil(' 365 ');
      assert.ok(ls.includes(':a.test 364 fedop a.test a.test :0 freeq freeq'), ls.join('\n'));
      assert.ok(ls.some((l) => /^:a\.test 364 fedop b\.test a\.test :1 freeq freeq peer$/.test(l)), ls.join('\n'));
    } finally {
      await B.stop();
      await A.stop();
    }
  });
});
