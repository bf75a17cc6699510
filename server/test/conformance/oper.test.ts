import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { RawClient } from '../harness/raw-client.js';

const NOPRIV = 'Permission Denied- You do not have the correct operator privileges';

describe('OPER without any operator configured', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('491, and 461 with too few parameters', async () => {
    const c = await srv.client('alice');
    c.send('OPER alice whatever-password');
    assert.equal(await c.expect(/ (381|464|491) /), ':irc.test 491 alice :No O-lines for your host');
    c.send('OPER alice');
    assert.equal(await c.expect('461'), ':irc.test 461 alice OPER :Not enough parameters');
  });
});

describe('OPER with --oper-password', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'oper-password': 'correct horse battery' }); });
  after(async () => { await srv.stop(); });

  test('any name with the password: 381 then MODE +o', async () => {
    const c = await srv.client('alice');
    c.send('OPER whoever :correct horse battery');
    const lines = await c.collectUntil('MODE');
    assert.deepEqual(lines, [':irc.test 381 alice :You are now an IRC operator', ':alice MODE alice +o']);
    assert.equal(srv.server.context.world.findUser('alice')?.operClass, 'admin');
  });

  test('wrong password: 464 and no +o', async () => {
    const c = await srv.client('bob');
    c.send('OPER bob :correct horse');
    assert.equal(await c.expect(/ (381|464) /), ':irc.test 464 bob :Password incorrect');
    await c.expectNone('MODE', 100);
    assert.equal(srv.server.context.world.findUser('bob')?.isOper, false);
  });

  test('D2: a second attempt within the interval gets 263 (not 464) without its password being checked', async () => {
    const c = await srv.client('carol');
    c.send('OPER carol wrong-password', 'OPER carol :correct horse battery');
    assert.equal(await c.expect(/ (263|381|464) /), ':irc.test 464 carol :Password incorrect');
    // the right password, but too soon: refused unchecked, and the reply says so (#12 finding 17)
    assert.equal(await c.expect(/ (263|381|464) /), ':irc.test 263 carol OPER :Please wait a while and try again.');
    await c.expectNone(/ 381 |MODE/, 100);
    // the window is per connection: another client is not affected
    const d = await srv.client('dave');
    d.send('OPER dave :correct horse battery');
    await d.expect('381');
  });

  test('the default interval is 10 s', () => {
    assert.equal(loadConfig({ env: {} }).operAttemptInterval, 10_000);
    assert.equal(srv.config.operAttemptInterval, 10_000);
  });
});

describe('OPER attempt interval elapses', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'oper-password': 'correct horse battery', 'oper-attempt-interval': '300ms' }); });
  after(async () => { await srv.stop(); });

  test('after oper-attempt-interval the password is checked again', async () => {
    const c = await srv.client('erin');
    c.send('OPER erin nope-nope-nope', 'OPER erin :correct horse battery');
    await c.expect('464');
    await c.expect('263');
    await new Promise((r) => setTimeout(r, 350));
    c.send('OPER erin :correct horse battery');
    assert.equal(await c.expect(/ (381|464) /), ':irc.test 381 erin :You are now an IRC operator');
  });
});

describe('named [[oper]] blocks, KILL and WALLOPS', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({}, undefined, {
      oper: [
        { name: 'root', password: 'root-password', class: 'admin' },
        { name: 'mod', password: 'mod-password', class: 'moderator', vhost: 'staff/mod' },
      ],
    });
  });
  after(async () => { await srv.stop(); });

  async function oper(nick: string, name: string, password: string, caps?: string[]): Promise<RawClient> {
    const c = await srv.client(nick, { caps });
    c.send(`OPER ${name} ${password}`);
    await c.expect('381');
    return c;
  }

  test('the right name and password gives the block\'s class', async () => {
    await oper('admin1', 'root', 'root-password');
    assert.equal(srv.server.context.world.findUser('admin1')?.operClass, 'admin');
    assert.equal(srv.server.context.world.findUser('admin1')?.operName, 'root');
  });

  test('another block\'s password, an unknown name or a wrong case name: 464', async () => {
    for (const [nick, line] of [['x1', 'OPER mod root-password'], ['x2', 'OPER nobody mod-password'], ['x3', 'OPER ROOT root-password']] as const) {
      const c = await srv.client(nick);
      c.send(line);
      assert.equal(await c.expect(/ (381|464) /), `:irc.test 464 ${nick} :Password incorrect`);
    }
  });

  test('a moderator block with a vhost: +o, class moderator, CHGHOST to the vhost', async () => {
    const watcher = await srv.client('watcher', { caps: ['chghost'] });
    watcher.send('JOIN #staff');
    await watcher.expect(/ 366 /);
    const m = await srv.client('moddy', { caps: ['chghost'] });
    m.send('JOIN #staff');
    await m.expect(/ 366 /);
    const cloak = srv.server.context.world.findUser('moddy')!.host; // the guest cloak (state/cloak.ts)
    m.send('OPER mod mod-password');
    const lines = await m.collectUntil('CHGHOST');
    assert.deepEqual(lines, [
      ':irc.test 381 moddy :You are now an IRC operator',
      ':moddy MODE moddy +o',
      `:moddy!moddy@${cloak} CHGHOST moddy staff/mod`,
    ]);
    assert.equal(await watcher.expect('CHGHOST'), `:moddy!moddy@${cloak} CHGHOST moddy staff/mod`);
    assert.equal(srv.server.context.world.findUser('moddy')?.operClass, 'moderator');
  });

  test('KILL: non-operators get 481', async () => {
    const c = await srv.client('pleb');
    const v = await srv.client('target0');
    c.send('KILL target0 :go away');
    assert.equal(await c.expect('481'), `:irc.test 481 pleb :${NOPRIV}`);
    v.send('PING still-here');
    await v.expect('PONG');
  });

  test('operator commands without parameters from a non-operator: 481, not 461 (#13: the privilege check comes first)', async () => {
    const c = await srv.client('noparams');
    for (const cmd of ['KILL', 'WALLOPS', 'UBAN', 'LOCKDOWN']) {
      c.send(cmd);
      assert.equal(await c.expect(/ (461|481) /), `:irc.test 481 noparams :${NOPRIV}`, cmd);
    }
    c.send('QUIT');
    await c.waitClosed();
  });

  test('KILL: unknown nick 401, missing nick 461', async () => {
    const o = await oper('killer0', 'root', 'root-password');
    o.send('KILL nosuchnick :bye');
    assert.equal(await o.expect('401'), ':irc.test 401 killer0 nosuchnick :No such nick/channel');
    o.send('KILL');
    assert.equal(await o.expect('461'), ':irc.test 461 killer0 KILL :Not enough parameters');
  });

  test('KILL by an admin: victim gets KILL + ERROR and is closed, channel members see QUIT', async () => {
    const o = await oper('killer1', 'root', 'root-password');
    const victim = await srv.client('victim1');
    const witness = await srv.client('witness1');
    victim.send('JOIN #arena');
    await victim.expect(/ 366 /);
    witness.send('JOIN #arena');
    await witness.expect(/ 366 /);
    const cloak = srv.server.context.world.findUser('victim1')!.host; // every client here is a guest from 127.0.0.1: one cloak
    o.send('KILL victim1 :spamming the channel');
    assert.equal(await victim.expect('KILL'), `:killer1!killer1@${cloak} KILL victim1 :spamming the channel`);
    assert.equal(await victim.expect('ERROR'), 'ERROR :Killed (killer1 (spamming the channel))');
    await victim.waitClosed();
    assert.equal(await witness.expect('QUIT'), `:victim1!victim1@${cloak} QUIT :Killed (killer1 (spamming the channel))`);
    assert.equal(srv.server.context.world.findUser('victim1'), undefined);
    // the nick is free again
    const again = await srv.client('victim1');
    again.send('PING ok');
    await again.expect('PONG');
  });

  test('KILL by a moderator, without a reason', async () => {
    const o = await oper('killer2', 'mod', 'mod-password');
    const victim = await srv.client('victim2');
    o.send('KILL VICTIM2');
    assert.equal(await victim.expect('ERROR'), 'ERROR :Killed (killer2 (No reason given))');
    await victim.waitClosed();
  });

  test('WALLOPS: non-operators get 481', async () => {
    const c = await srv.client('pleb2');
    c.send('WALLOPS :hello');
    assert.equal(await c.expect('481'), `:irc.test 481 pleb2 :${NOPRIV}`);
  });

  test('WALLOPS reaches +w users and operators (sender included), nobody else', async () => {
    const sender = await oper('walla', 'root', 'root-password');
    const otherOper = await oper('wallb', 'mod', 'mod-password');
    const wuser = await srv.client('wuser');
    wuser.send('MODE wuser +w');
    await wuser.expect(/MODE wuser :?\+w/);
    const plain = await srv.client('plainuser');
    const pending = await srv.connect(); // unregistered: never receives it
    pending.send('NICK notyet');
    await pending.sync();
    sender.send('WALLOPS :Server restarting in 5 minutes');
    const line = `:walla!walla@${srv.server.context.world.findUser('walla')!.host} WALLOPS :Server restarting in 5 minutes`;
    assert.equal(await wuser.expect('WALLOPS'), line);
    assert.equal(await otherOper.expect('WALLOPS'), line);
    assert.equal(await sender.expect('WALLOPS'), line);
    await plain.expectNone('WALLOPS', 150);
    await pending.expectNone('WALLOPS', 10);
    // -w stops it
    wuser.send('MODE wuser -w');
    await wuser.expect(/MODE wuser :?-w/);
    sender.send('WALLOPS :second');
    await otherOper.expect('WALLOPS');
    await wuser.expectNone('WALLOPS', 150);
  });

  test('WALLOPS: empty text 461, too long to relay 417', async () => {
    const o = await oper('wallc', 'root', 'root-password');
    o.send('WALLOPS :');
    assert.equal(await o.expect('461'), ':irc.test 461 wallc WALLOPS :Not enough parameters');
    o.send(`WALLOPS :${'x'.repeat(490)}`);
    assert.equal(await o.expect('417'), ':irc.test 417 wallc :Line too long to be relayed without truncation');
    await o.expectNone('WALLOPS', 100);
  });
});

describe('[[oper]] blocks from a TOML file', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'freeq-oper-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  test('parsed with class and vhost; describeConfig redacts passwords', () => {
    const file = join(dir, 'ok.toml');
    writeFileSync(file, [
      'oper-attempt-interval = "30s"',
      '[[oper]]', 'name = "root"', 'password = "root-password"', 'class = "admin"',
      '[[oper]]', 'name = "mod"', 'password = "mod-password"', 'class = "moderator"', 'vhost = "staff/mod"',
    ].join('\n'));
    const cfg = loadConfig({ file, env: {} });
    assert.equal(cfg.operAttemptInterval, 30_000);
    assert.deepEqual(cfg.opers, [
      { name: 'root', password: 'root-password', class: 'admin' },
      { name: 'mod', password: 'mod-password', class: 'moderator', vhost: 'staff/mod' },
    ]);
    const shown = JSON.stringify(describeConfig(cfg));
    assert.ok(!shown.includes('root-password') && !shown.includes('mod-password'), shown);
  });

  test('a bad vhost is reported', () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, ['[[oper]]', 'name = "x"', 'password = "long-enough"', 'vhost = "has space"'].join('\n'));
    assert.throws(() => loadConfig({ file, env: {} }), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith('config file oper[0].vhost:')));
  });
});

describe('OPER and the log (hardening.md I2)', () => {
  test('passwords never reach the log, failures are logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freeq-oper-log-'));
    let logged = '';
    const sink = new Writable({ write(chunk, _enc, cb) { logged += String(chunk); cb(); } });
    const config = loadConfig({
      env: {},
      cli: { 'listen-addr': '127.0.0.1:0', 'web-addr': '127.0.0.1:0', 'data-dir': dir, 'server-name': 'irc.test', 'oper-password': 'hunter2-secret' },
      fileValues: { oper: [{ name: 'root', password: 'root-block-secret' }] },
    });
    const server = await startServer(config, { logger: pino({ level: 'trace' }, sink) });
    try {
      const c = await RawClient.connect({ port: server.addresses.irc.port });
      await c.register('logme');
      c.send('OPER root :guess-number-one', 'OPER root :root-block-secret');
      await c.expect('464');
      await c.expect('263');
      const d = await RawClient.connect({ port: server.addresses.irc.port });
      await d.register('logme2');
      d.send('OPER root :root-block-secret');
      await d.expect('381');
      const e = await RawClient.connect({ port: server.addresses.irc.port });
      await e.register('logme3');
      e.send('OPER any :hunter2-secret');
      await e.expect('381');
      c.destroy(); d.destroy(); e.destroy();
      assert.match(logged, /failed OPER attempt/);
      assert.match(logged, /OPER attempt throttled/);
      // debug, not warn: a client repeating OPER must not fill the log (the metric counts each refusal)
      const levels = logged.split('\n').filter((l) => l.includes('OPER attempt throttled')).map((l) => (JSON.parse(l) as { level: number }).level);
      assert.deepEqual(levels, [20]);
      assert.match(logged, /OPER granted/);
      for (const secret of ['guess-number-one', 'root-block-secret', 'hunter2-secret']) assert.ok(!logged.includes(secret), `log contains ${secret}`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
