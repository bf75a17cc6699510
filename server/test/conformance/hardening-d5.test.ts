// hardening.md D5: two operator classes with capability strings; each command spec names the
// capability it needs and the dispatcher answers 481. moderator: kill, wallops; admin: + ban
// (UBAN), lockdown (LOCKDOWN).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';
import { COMMANDS } from '../../src/commands/index.js';
import { OPER_CLASS_CAPABILITIES } from '../../src/commands/registry.js';

const DENIED = (nick: string) => `:irc.test 481 ${nick} :Permission Denied- You do not have the correct operator privileges`;

describe('D5 operator classes and capabilities', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({}, undefined, {
      oper: [
        { name: 'root', password: 'root-password', class: 'admin' },
        { name: 'mod', password: 'mod-password', class: 'moderator' },
      ],
    });
  });
  after(async () => { await srv.stop(); });

  async function oper(nick: string, name: string, password: string): Promise<RawClient> {
    const c = await srv.client(nick);
    c.send(`OPER ${name} ${password}`);
    assert.equal(await c.expect(/ (381|464) /), `:irc.test 381 ${nick} :You are now an IRC operator`);
    return c;
  }

  test('every operator command names a capability, and admin has every capability a moderator has', () => {
    const operCmds = Object.fromEntries(COMMANDS.filter((c) => c.oper).map((c) => [c.name, c.oper]));
    assert.deepEqual(operCmds, { CONNECT: 'routing', KILL: 'kill', LOCKDOWN: 'lockdown', REHASH: 'rehash', SQUIT: 'routing', UBAN: 'ban', WALLOPS: 'wallops' });
    for (const cap of OPER_CLASS_CAPABILITIES.moderator) assert.ok(OPER_CLASS_CAPABILITIES.admin.includes(cap), cap);
  });

  test('a moderator running UBAN or LOCKDOWN → 481, and nothing changes', async () => {
    const m = await oper('dmod', 'mod', 'mod-password');
    m.send('UBAN ADD 192.0.2.1 1h :nope');
    assert.equal(await m.expect(/ (481|NOTICE|FAIL) /), DENIED('dmod'));
    m.send('UBAN LIST');
    assert.equal(await m.expect(/ (481|NOTICE) /), DENIED('dmod'));
    m.send('LOCKDOWN closed');
    assert.equal(await m.expect(/ (481|NOTICE|FAIL) /), DENIED('dmod'));
    m.send('LOCKDOWN');
    assert.equal(await m.expect(/ (481|NOTICE) /), DENIED('dmod'));
    // federation links are admin business too (SQUIT/CONNECT, capability routing)
    m.send('SQUIT some.server');
    assert.equal(await m.expect(/ (481|402|NOTICE) /), DENIED('dmod'));
    m.send('CONNECT some.server');
    assert.equal(await m.expect(/ (481|402|NOTICE) /), DENIED('dmod'));
    assert.deepEqual(srv.server.context.bans.list(), []);
    assert.equal(srv.server.context.world.lockdown, 'off');
  });

  test('an admin succeeds with both', async () => {
    const a = await oper('dadmin', 'root', 'root-password');
    a.send('UBAN ADD 192.0.2.2 1h :test ban');
    assert.match(await a.expect(/ (481|NOTICE|FAIL) /), /^:irc\.test NOTICE dadmin :Added ban: 192\.0\.2\.2 \(ip\) set by dadmin at \S+, expires \S+: test ban; 0 user\(s\) disconnected$/);
    a.send('UBAN DEL 192.0.2.2');
    assert.equal(await a.expect(/ (481|NOTICE|FAIL) /), ':irc.test NOTICE dadmin :Removed ban on 192.0.2.2');
    a.send('LOCKDOWN');
    assert.equal(await a.expect(/ (481|NOTICE) /), ':irc.test NOTICE dadmin :Lockdown level is off: new connections are admitted normally');
    a.send('LOCKDOWN sasl-only');
    assert.equal(await a.expect(/ (481|WALLOPS|FAIL) /), ':irc.test WALLOPS :LOCKDOWN: dadmin set the lockdown level to sasl-only (was off): new clients must log in with SASL to register');
    assert.equal(srv.server.context.world.lockdown, 'sasl-only');
    a.send('LOCKDOWN off');
    await a.expect(/ WALLOPS /);
    assert.equal(srv.server.context.world.lockdown, 'off');
  });

  test('a moderator may KILL and WALLOPS', async () => {
    const m = await oper('dmod2', 'mod', 'mod-password');
    const victim = await srv.client('dvictim');
    m.send('WALLOPS :moderators may wallops');
    assert.equal(await m.expect(/ (481|WALLOPS) /), `:dmod2!dmod2@${guestCloak(srv)} WALLOPS :moderators may wallops`);
    m.send('KILL dvictim :bye');
    assert.equal(await victim.expect('ERROR'), 'ERROR :Killed (dmod2 (bye))');
    await victim.waitClosed();
  });

  test('a non-operator KILL → 481 and the target stays', async () => {
    const c = await srv.client('dpleb');
    const t = await srv.client('dtarget');
    c.send('KILL dtarget :go');
    assert.equal(await c.expect(/ (481|KILL) /), DENIED('dpleb'));
    await t.sync();
    assert.ok(srv.server.context.world.findUser('dtarget'));
  });

  test('MODE -o drops every capability', async () => {
    const c = await oper('dboth', 'root', 'root-password');
    c.send('UBAN LIST');
    assert.equal(await c.expect(/ (481|NOTICE) /), ':irc.test NOTICE dboth :End of UBAN LIST (0 bans)');
    c.send('MODE dboth -o');
    await c.expect(/ MODE dboth :?-o/);
    c.send('UBAN LIST');
    assert.equal(await c.expect(/ (481|NOTICE) /), DENIED('dboth'));
    c.send('KILL nobody');
    assert.equal(await c.expect(/ (481|401) /), DENIED('dboth'));
  });
});
