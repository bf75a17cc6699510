import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, RawClient } from '../harness/raw-client.js';
import { startChildServer } from '../harness/child-server.js';

// #16 REHASH — modern.ircdocs.horse#rehash-message: "The REHASH command is an administrative
// command which can be used by an operator to force the local server to re-read and process its
// configuration file. This may include other data, such as modules or TLS certificates." Reply:
// RPL_REHASHING (382) `"<client> <config file> :Rehashing"`; a non-operator gets ERR_NOPRIVILEGES.
// What changed in RPL_ISUPPORT goes to connected clients: "If the value of a parameter changes,
// the server SHOULD re-advertise the parameter with the new value in an RPL_ISUPPORT reply"
// (modern.ircdocs.horse#rplisupport-005).

const PASS = 'correct horse battery';

describe('REHASH', () => {
  let dir: string;
  let file: string;
  let srv: TestServer;
  const toml = (lines: string[]) => writeFileSync(file, lines.join('\n') + '\n');
  const base = (extra: string[] = []) => [
    `motd-file = "${join(dir, 'motd-a.txt')}"`,
    'nick-len = 20',
    'history-max-per-target = 1000',
    ...extra,
    '[[oper]]', 'name = "boss"', `password = "${PASS}"`, 'class = "admin"',
    '[[oper]]', 'name = "mod"', `password = "${PASS}"`, 'class = "moderator"',
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-rehash-'));
    file = join(dir, 'freeq.toml');
    writeFileSync(join(dir, 'motd-a.txt'), 'the first MOTD\n');
    writeFileSync(join(dir, 'motd-b.txt'), 'the second MOTD\n');
    toml(base());
    srv = await bootServer({}, undefined, undefined, { configFile: file });
  });
  after(async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); });

  async function boss(nick: string): Promise<RawClient> {
    const c = await srv.client(nick);
    c.send(`OPER boss :${PASS}`);
    await c.expect(`:${nick} MODE ${nick} +o`);
    return c;
  }

  test('a non-operator and a moderator get 481; nothing is re-read', async () => {
    const c = await srv.client('plainy');
    c.send('REHASH');
    assert.equal(await c.expect(/ (382|481) /), ':irc.test 481 plainy :Permission Denied- You do not have the correct operator privileges');
    c.send(`OPER mod :${PASS}`);
    await c.expect(':plainy MODE plainy +o');
    c.send('REHASH');
    assert.equal(await c.expect(/ (382|481) /), ':irc.test 481 plainy :Permission Denied- You do not have the correct operator privileges');
  });

  test('applies limits, MOTD, opers and cloaks; reports what needs a restart; connected clients get the new 005 token', async () => {
    const op = await boss('reha');
    const watcher = await boss('rehw');
    watcher.send('MODE rehw +s +a');
    await watcher.expect(' 008 ');
    const bystander = await srv.client('bystander');
    assert.equal(srv.server.context.config.nickLen, 20);
    toml([
      `motd-file = "${join(dir, 'motd-b.txt')}"`,
      'nick-len = 12',
      'guest-cloak = "{hash}.guest.example"',
      'history-max-per-target = 500', // a restart option: reported, the old value stays
      'lean-sockets = false',
      '[[oper]]', 'name = "newboss"', `password = "${PASS}"`, 'class = "admin"',
    ]);
    op.send('REHASH');
    const lines = await op.collectUntil('needs a restart');
    assert.deepEqual(lines, [
      `:irc.test 382 reha ${file} Rehashing`,
      ':irc.test 005 reha NICKLEN=12 :are supported by this server',
      ':irc.test NOTICE reha :*** REHASH: now in effect: motd-file, guest-cloak, nick-len, [[oper]]',
      ':irc.test NOTICE reha :*** REHASH: changed but needs a restart (the old value stays in effect): lean-sockets, history-max-per-target',
    ]);
    const cfg = srv.server.context.config;
    assert.equal(cfg.nickLen, 12);
    assert.equal(cfg.historyMaxPerTarget, 1000);
    assert.equal(cfg.leanSockets, true);
    // ISUPPORT: the changed token to a client connected before the reload
    assert.equal(await bystander.expect(' 005 '), ':irc.test 005 bystander NICKLEN=12 :are supported by this server');
    // the other operators' +s a notice
    assert.equal(await watcher.expect('*** ANNOUNCE:'), ':irc.test NOTICE rehw :*** ANNOUNCE: reha rehashed the server configuration: 4 change(s) in effect, 2 waiting for a restart');
    // nick-len: a longer nick is refused now
    bystander.send('NICK abcdefghijklm');
    assert.equal(await bystander.expect(' 432 '), ':irc.test 432 bystander abcdefghijklm :Erroneous nickname');
    // the new MOTD file, the new cloak template for a new connection
    const fresh = await srv.connect();
    fresh.send('NICK freshy', 'USER freshy 0 * :F');
    const burst = await fresh.collectUntil(' 376 ');
    assert.ok(burst.includes(':irc.test 372 freshy :- the second MOTD'), burst.join('\n'));
    assert.ok(burst.some((l) => parse(l).command === '005' && parse(l).params.includes('NICKLEN=12')));
    assert.match(burst.find((l) => parse(l).command === '001')!, /^:irc\.test 001 freshy :Welcome to the freeq IRC Network freshy!freshy@[a-z2-7]+\.guest\.example$/);
    // the removed [[oper]] block no longer works, the new one does; boss (already an operator) keeps +o
    fresh.send(`OPER boss :${PASS}`);
    assert.equal(await fresh.expect(/ (381|464) /), ':irc.test 464 freshy :Password incorrect');
    const other = await srv.client('newby');
    other.send(`OPER newboss :${PASS}`);
    assert.equal(await other.expect(/ (381|464) /), ':irc.test 381 newby :You are now an IRC operator');
    assert.ok(srv.server.context.world.findUser('reha')!.isOper);
  });

  test('a configuration with errors changes nothing: each problem, then FAIL REHASH INVALID_CONFIG', async () => {
    const op = await srv.client('rehb');
    op.send(`OPER newboss :${PASS}`);
    await op.expect(':rehb MODE rehb +o');
    const before = srv.server.context.config;
    toml(['nick-len = 5', 'nick-lenn = 9', 'ping-interval = "soon"', '[[oper]]', 'name = "newboss"', `password = "${PASS}"`]);
    op.send('REHASH');
    assert.deepEqual(await op.collectUntil('FAIL'), [
      `:irc.test 382 rehb ${file} Rehashing`,
      ':irc.test NOTICE rehb :*** REHASH: config file: unknown key "nick-lenn"',
      ':irc.test NOTICE rehb :*** REHASH: config file key "ping-interval": expected a duration like 90s, 10m or 1h, got "soon"',
      ':irc.test FAIL REHASH INVALID_CONFIG :The configuration has 2 problems; nothing was changed',
    ]);
    assert.equal(srv.server.context.config, before);
    assert.equal(srv.server.context.config.nickLen, 12);
  });

  test('no change: REHASH says so', async () => {
    toml([
      `motd-file = "${join(dir, 'motd-b.txt')}"`, 'nick-len = 12', 'guest-cloak = "{hash}.guest.example"', 'history-max-per-target = 500', 'lean-sockets = false',
      '[[oper]]', 'name = "newboss"', `password = "${PASS}"`, 'class = "admin"',
    ]);
    const op = await srv.client('rehc');
    op.send(`OPER newboss :${PASS}`);
    await op.expect(':rehc MODE rehc +o');
    op.send('REHASH');
    // the restart options still differ from what runs: they are reported again
    assert.deepEqual(await op.collectUntil('needs a restart'), [
      `:irc.test 382 rehc ${file} Rehashing`,
      ':irc.test NOTICE rehc :*** REHASH: changed but needs a restart (the old value stays in effect): lean-sockets, history-max-per-target',
    ]);
  });
});

describe('REHASH: limits, plugins and the TLS certificate', () => {
  let dir: string;
  let file: string;
  let srv: TestServer;

  async function pems(): Promise<{ cert: string; key: string }> {
    const p = await generate([{ name: 'commonName', value: 'irc.test' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    return { cert: p.cert, key: p.private };
  }
  const fingerprint = (port: number) => new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { resolve(s.getPeerCertificate().fingerprint256); s.destroy(); });
    s.once('error', reject);
  });
  const write = (extra: string[]) => writeFileSync(file, [
    `tls-cert = "${join(dir, 'cert.pem')}"`, `tls-key = "${join(dir, 'key.pem')}"`, `oper-password = "${PASS}"`, ...extra,
  ].join('\n') + '\n');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-rehash-tls-'));
    file = join(dir, 'freeq.toml');
    const a = await pems();
    writeFileSync(join(dir, 'cert.pem'), a.cert);
    writeFileSync(join(dir, 'key.pem'), a.key, { mode: 0o600 });
    write([]);
    srv = await bootServer({}, undefined, undefined, { configFile: file });
  });
  after(async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); });

  test('a renewed certificate is served to new connections; a key that does not match keeps the old one', async () => {
    const op = await srv.client('tlsop');
    op.send(`OPER x :${PASS}`);
    await op.expect(':tlsop MODE tlsop +o');
    const first = await fingerprint(srv.tlsPort!);
    const b = await pems();
    writeFileSync(join(dir, 'cert.pem'), b.cert);
    writeFileSync(join(dir, 'key.pem'), b.key, { mode: 0o600 });
    op.send('REHASH');
    assert.deepEqual(await op.collectUntil('*** REHASH: TLS'), [
      `:irc.test 382 tlsop ${file} Rehashing`,
      `:irc.test NOTICE tlsop :*** REHASH: TLS certificate reloaded from ${join(dir, 'cert.pem')}`,
    ]);
    const second = await fingerprint(srv.tlsPort!);
    assert.notEqual(second, first);
    // a certificate with another certificate's key: refused, the second one stays
    writeFileSync(join(dir, 'cert.pem'), (await pems()).cert);
    op.send('REHASH');
    assert.match(await op.expect('*** REHASH: TLS'), /^:irc\.test NOTICE tlsop :\*\*\* REHASH: TLS certificate NOT reloaded \(.+\): the old one stays in use$/);
    assert.equal(await fingerprint(srv.tlsPort!), second);
    writeFileSync(join(dir, 'cert.pem'), b.cert);
  });

  test('max-connections-per-ip and a plugin change at once', async () => {
    const op = await srv.client('limop');
    op.send(`OPER x :${PASS}`);
    await op.expect(':limop MODE limop +o');
    write(['max-connections-per-ip = 2', '[[plugin]]', 'name = "greeter"', '[plugin.options]', 'message = "Hello {nick}, this is {channel}"']);
    op.send('REHASH');
    assert.deepEqual((await op.collectUntil('plugins started')).slice(1), [
      ':irc.test NOTICE limop :*** REHASH: now in effect: max-connections-per-ip, plugin',
      `:irc.test NOTICE limop :*** REHASH: TLS certificate reloaded from ${join(dir, 'cert.pem')}`,
      ':irc.test NOTICE limop :*** REHASH: plugins started again with the new configuration',
    ]);
    // a third connection from one (other) address is refused now
    const from = { localAddress: '127.0.0.5' };
    const one = await srv.client('ipone', from);
    await srv.connect(from);
    const third = await srv.connect(from);
    assert.equal(await third.expect('ERROR'), 'ERROR :Too many connections from your IP');
    one.send('JOIN #greet');
    assert.equal(await one.expect('NOTICE ipone'), ':irc.test NOTICE ipone :Hello ipone, this is #greet');
  });
});

test('SIGHUP reloads the configuration file of a running server, and the log says what changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'freeq-sighup-'));
  const file = join(dir, 'freeq.toml');
  writeFileSync(file, 'nick-len = 30\n');
  const child = await startChildServer({ args: ['--config', file] });
  try {
    writeFileSync(file, 'nick-len = 9\nreadq = 9000\n');
    child.proc.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!child.out().includes('REHASH: configuration reloaded')) {
      if (Date.now() > deadline) throw new Error(`no reload logged:\n${child.out()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const logged = child.out().split('\n').filter((l) => l.includes('"msg":"REHASH'));
    const reloaded = JSON.parse(logged.find((l) => l.includes('configuration reloaded'))!) as { by: string; applied: string[]; restart: string[] };
    assert.equal(reloaded.by, 'SIGHUP');
    assert.deepEqual(reloaded.applied, ['nick-len']);
    assert.deepEqual(reloaded.restart, ['readq']);
    assert.ok(logged.some((l) => l.includes('"level":40') && l.includes('need a restart')));
    const c = await RawClient.connect({ port: child.ports.irc });
    c.send('NICK sighupped', 'USER s 0 * :S');
    const burst = await c.collectUntil(/ (376|422) /);
    assert.ok(burst.some((l) => parse(l).command === '005' && parse(l).params.includes('NICKLEN=9')), burst.join('\n'));
    c.destroy();
  } finally {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
