// hardening.md I3: server bans by mask / IP / CIDR, persisted, with expiry (oper command UBAN).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { guestCloak } from '../harness/cloaks.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';

const PW = 'uban oper password';

async function oper(srv: TestServer, nick: string): Promise<RawClient> {
  const c = await srv.client(nick);
  c.send(`OPER ${nick} :${PW}`);
  await c.expect(/ 381 /);
  return c;
}

/** connect from `ip` and try to register: the lines up to the end (ban) or the welcome */
async function tryRegister(srv: TestServer, nick: string, ip = '127.0.0.1'): Promise<{ c: RawClient; banned: boolean; lines: string[] }> {
  const c = await srv.connect({ localAddress: ip });
  c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  // IP/CIDR bans are refused at admission (before TLS or any IRC), mask bans at registration (465)
  const lines = await c.collectUntil(/ (001|465) |^ERROR :You are banned from this server$/);
  const banned = / 465 |^ERROR :You are banned/.test(lines.at(-1)!);
  return { c, banned, lines };
}

describe('UBAN (server bans)', () => {
  let srv: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'freeq-uban-'));
  before(async () => { srv = await bootServer({ fakelag: true, 'oper-password': PW }, dir); });
  after(async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); });

  test('operators only', async () => {
    const c = await srv.client('plainuser');
    c.send('UBAN LIST');
    assert.equal(await c.expect(/ 481 /), ':irc.test 481 plainuser :Permission Denied- You do not have the correct operator privileges');
  });

  test('ADD of a mask on the real IP disconnects the matching user (465 + ERROR), others see QUIT; new registrations are refused', async () => {
    const op = await oper(srv, 'op1');
    const victim = await srv.client('victim', { localAddress: '127.0.0.3' });
    const bystander = await srv.client('bystander');
    victim.send('JOIN #b');
    await victim.expect(/ 366 /);
    bystander.send('JOIN #b');
    await bystander.expect(/ 366 /);
    op.send('UBAN ADD *!*@127.0.0.3 :spamming');
    assert.equal(await victim.expect(/ 465 /), ':irc.test 465 victim :You are banned from this server (spamming)');
    assert.equal(await victim.expect(/^ERROR /), 'ERROR :You are banned from this server (spamming)');
    await victim.waitClosed();
    assert.equal(await bystander.expect(/ QUIT /), `:victim!victim@${guestCloak(srv, '127.0.0.3')} QUIT :You are banned from this server (spamming)`);
    assert.match(await op.expect(/ NOTICE /), /^:irc\.test NOTICE op1 :Added ban: \*!\*@127\.0\.0\.3 \(mask\) set by op1 at \S+, permanent: spamming; 1 user\(s\) disconnected$/);
    const again = await tryRegister(srv, 'victim2', '127.0.0.3');
    assert.equal(again.banned, true);
    assert.equal(again.lines.at(-1), ':irc.test 465 victim2 :You are banned from this server (spamming)');
    assert.equal(await again.c.expect(/^ERROR /), 'ERROR :You are banned from this server (spamming)');
    await again.c.waitClosed();
    assert.equal((await tryRegister(srv, 'fine', '127.0.0.1')).banned, false, 'another address registers');
  });

  test('IP and CIDR bans match the real IP; nick masks match the displayed host (cloak) too', async () => {
    const op = await oper(srv, 'op2');
    op.send('UBAN ADD 127.0.0.4 :one address', 'UBAN ADD 127.0.5.0/24 :a range', `UBAN ADD cloaky!*@${guestCloak(srv)} :by cloak`);
    for (let i = 0; i < 3; i++) await op.expect(/ NOTICE op2 :Added ban/);
    assert.equal((await tryRegister(srv, 'ipuser', '127.0.0.4')).banned, true);
    assert.equal((await tryRegister(srv, 'rangeuser', '127.0.5.9')).banned, true);
    assert.equal((await tryRegister(srv, 'outside', '127.0.6.1')).banned, false);
    assert.equal((await tryRegister(srv, 'cloaky', '127.0.0.1')).banned, true);
    assert.equal((await tryRegister(srv, 'notcloaky', '127.0.0.1')).banned, false);
  });

  test('operators are never disconnected by a ban they match', async () => {
    const op = await oper(srv, 'op3');
    op.send('UBAN ADD op3!*@* :oops');
    assert.match(await op.expect(/ NOTICE /), /; 0 user\(s\) disconnected$/);
    await op.sync();
    op.send('UBAN DEL op3!*@*');
    assert.equal(await op.expect(/ NOTICE /), ':irc.test NOTICE op3 :Removed ban on op3!*@*');
  });

  test('DEL lifts a ban; unknown targets, bad targets and bad durations are FAILs', async () => {
    const op = await oper(srv, 'op4');
    op.send('UBAN ADD 127.0.0.8');
    await op.expect(/Added ban: 127\.0\.0\.8 \(ip\) .*: No reason given;/);
    assert.equal((await tryRegister(srv, 'eight', '127.0.0.8')).banned, true);
    op.send('UBAN DEL 127.0.0.8');
    assert.equal(await op.expect(/ NOTICE /), ':irc.test NOTICE op4 :Removed ban on 127.0.0.8');
    assert.equal((await tryRegister(srv, 'eight', '127.0.0.8')).banned, false);
    op.send('UBAN DEL 127.0.0.8');
    assert.equal(await op.expect(/ FAIL /), ':irc.test FAIL UBAN NO_SUCH_BAN 127.0.0.8 :No such ban');
    op.send('UBAN ADD justaword');
    assert.equal(await op.expect(/ FAIL /), ':irc.test FAIL UBAN INVALID_TARGET justaword :Target must be a nick!user@host mask, an IP address or a CIDR range');
    op.send('UBAN ADD 10.0.0.0/33');
    assert.match(await op.expect(/ FAIL /), / FAIL UBAN INVALID_TARGET 10\.0\.0\.0\/33 /);
    op.send('UBAN ADD *!*@* :everyone');
    assert.match(await op.expect(/ FAIL /), / FAIL UBAN INVALID_TARGET /);
    op.send('UBAN ADD 127.0.0.9 2x :bad duration');
    assert.equal(await op.expect(/ FAIL /), ':irc.test FAIL UBAN INVALID_DURATION 2x :Duration must look like 90s, 30m, 2h, 1d or 1w');
    op.send('UBAN FROB');
    assert.match(await op.expect(/ FAIL /), / FAIL UBAN INVALID_PARAMS FROB /);
  });

  test('a ban with a duration expires: refused, then allowed, and pruned from LIST and the database', async () => {
    const op = await oper(srv, 'op5');
    op.send('UBAN ADD 127.0.0.10 1s :short');
    assert.match(await op.expect(/ NOTICE /), /Added ban: 127\.0\.0\.10 \(ip\) set by op5 at \S+, expires \S+: short;/);
    assert.equal((await tryRegister(srv, 'ten', '127.0.0.10')).banned, true);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await tryRegister(srv, 'ten', '127.0.0.10')).banned, false);
    op.send('UBAN LIST');
    const lines = await op.collectUntil(/End of UBAN LIST/);
    assert.ok(!lines.some((l) => l.includes('127.0.0.10')), 'expired ban not listed');
    const db = new Database(join(dir, 'freeq.db'), { readonly: true });
    try {
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM server_bans WHERE target = ?').get('127.0.0.10') as { n: number }).n, 0);
    } finally { db.close(); }
  });

  test('LIST shows every active ban; bans survive a restart', async () => {
    const op = await oper(srv, 'op6');
    op.send('UBAN ADD 2001:db8::/32 1d :v6 range');
    await op.expect(/Added ban: 2001:db8::\/32 \(cidr\)/);
    op.send('UBAN LIST');
    const lines = (await op.collectUntil(/End of UBAN LIST/)).filter((l) => / NOTICE op6 /.test(l));
    const targets = lines.slice(0, -1).map((l) => /:(\S+) \(/.exec(l.split(' NOTICE op6 ')[1]!)?.[1]);
    assert.deepEqual(targets, ['*!*@127.0.0.3', '127.0.0.4', '127.0.5.0/24', `cloaky!*@${guestCloak(srv)}`, '2001:db8::/32']);
    assert.equal(lines.at(-1), ':irc.test NOTICE op6 :End of UBAN LIST (5 bans)');
    srv = await srv.restart();
    assert.equal((await tryRegister(srv, 'after', '127.0.0.4')).banned, true, 'IP ban loaded at startup');
    assert.equal((await tryRegister(srv, 'after2', '127.0.5.77')).banned, true, 'CIDR ban loaded at startup');
    assert.equal(srv.server.context.bans.isIpBanned('127.0.5.1'), 'a range', 'isIpBanned (for admission) gives the reason');
    assert.equal(srv.server.context.bans.isIpBanned('::ffff:127.0.0.4'), 'one address', 'IPv4-mapped addresses match');
    assert.equal(srv.server.context.bans.isIpBanned('127.0.6.1'), undefined);
  });
});
