import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { isupportLines } from '../../src/protocol/isupport.js';
import { VERSION } from '../../src/version.js';

describe('VERSION, TIME, ADMIN, INFO', () => {
  let srv: TestServer;
  before(async () => {
    srv = await bootServer({ 'admin-location': 'Oulu, Finland', 'admin-location2': 'freeq test lab', 'admin-email': 'admin@irc.test' });
  });
  after(async () => { await srv.stop(); });

  test('VERSION: 351 then the 005 lines again', async () => {
    const c = await srv.client('alice');
    c.send('VERSION');
    assert.equal(await c.expect('351'), `:irc.test 351 alice ${VERSION} irc.test :freeq IRC server`);
    const expected = isupportLines(srv.server.context.isupport).map((toks) => `:irc.test 005 alice ${toks.join(' ')} :are supported by this server`);
    assert.ok(expected.length >= 2, 'more than 13 tokens: several 005 lines');
    const got = (await c.sync()).filter((l) => parse(l).command === '005');
    assert.deepEqual(got, expected);
  });

  test('VERSION with our name, a matching mask or a nick answers; another server gets 402', async () => {
    const c = await srv.client('vquery');
    c.send('VERSION irc.test');
    await c.expect('351');
    c.send('VERSION *.TEST');
    await c.expect('351');
    c.send('VERSION vquery');
    await c.expect('351');
    c.send('VERSION other.example');
    assert.equal(await c.expect(/ (351|402) /), ':irc.test 402 vquery other.example :No such server');
    c.send('VERSION :bad name');
    assert.equal(await c.expect(/ (351|402) /), ':irc.test 402 vquery * :No such server');
  });

  test('TIME: 391 with a UNIX timestamp and a human-readable time', async () => {
    const c = await srv.client('timer');
    const before = Math.floor(Date.now() / 1000);
    c.send('TIME');
    const m = parse(await c.expect('391'));
    const after = Math.floor(Date.now() / 1000);
    assert.equal(m.source, 'irc.test');
    assert.equal(m.params.length, 4);
    assert.deepEqual(m.params.slice(0, 2), ['timer', 'irc.test']);
    const ts = Number(m.params[2]);
    assert.ok(ts >= before && ts <= after, `timestamp ${m.params[2]} not within [${before}, ${after}]`);
    assert.equal(m.params[3], new Date(ts * 1000).toUTCString());
    c.send('TIME elsewhere.example');
    assert.equal(await c.expect(/ (391|402) /), ':irc.test 402 timer elsewhere.example :No such server');
  });

  test('ADMIN: 256-259 from the admin-* options', async () => {
    const c = await srv.client('adm');
    c.send('ADMIN');
    const lines = await c.collectUntil('259');
    assert.deepEqual(lines.slice(-4), [
      ':irc.test 256 adm irc.test :Administrative info',
      ':irc.test 257 adm :Oulu, Finland',
      ':irc.test 258 adm :freeq test lab',
      ':irc.test 259 adm admin@irc.test', // no ':' needed without a space
    ]);
    c.send('ADMIN nowhere.example');
    assert.equal(await c.expect(/ (256|402) /), ':irc.test 402 adm nowhere.example :No such server');
  });

  test('INFO: 371 lines then 374', async () => {
    const c = await srv.client('inf');
    c.send('INFO');
    const lines = await c.collectUntil('374');
    const info = lines.filter((l) => parse(l).command === '371');
    assert.equal(info[0], `:irc.test 371 inf :${VERSION}: the freeq IRC server`);
    assert.ok(info.includes(':irc.test 371 inf :Server irc.test on network freeq'), info.join('\n'));
    assert.equal(lines.at(-1), ':irc.test 374 inf :End of INFO list');
    c.send('INFO x.example');
    assert.equal(await c.expect(/ (371|402) /), ':irc.test 402 inf x.example :No such server');
  });

  test('before registration these commands get 451', async () => {
    const c = await srv.connect();
    c.send('VERSION');
    assert.equal(await c.expect('451'), ':irc.test 451 * :You have not registered');
  });
});

describe('HELP', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer(); });
  after(async () => { await srv.stop(); });

  test('HELP <command>: 704 usage, empty 705, text, 706 (subject casefolded)', async () => {
    const c = await srv.client('helper');
    c.send('HELP privmsg');
    const lines = await c.collectUntil('706');
    assert.deepEqual(lines, [
      ':irc.test 704 helper PRIVMSG :PRIVMSG <target>[,<target>...] :<text>',
      ':irc.test 705 helper PRIVMSG :',
      ':irc.test 705 helper PRIVMSG :Sends a message to channels (#chan, or @#chan / +#chan for ops / voiced only) or nicks.',
      ':irc.test 706 helper PRIVMSG :End of /HELP',
    ]);
  });

  test('HELP for an operator command says so', async () => {
    const c = await srv.client('helper2');
    c.send('HELP KILL');
    const lines = await c.collectUntil('706');
    assert.equal(lines[0], ':irc.test 704 helper2 KILL :KILL <nick> [:<reason>]');
    assert.ok(lines.includes(':irc.test 705 helper2 KILL :Operators only.'), lines.join('\n'));
  });

  test('HELP alone lists every documented command', async () => {
    const c = await srv.client('helper3');
    c.send('HELP');
    const lines = await c.collectUntil('706');
    assert.equal(lines[0], ':irc.test 704 helper3 * :** freeq help **');
    assert.equal(lines[1], ':irc.test 705 helper3 * :');
    assert.equal(lines.at(-1), ':irc.test 706 helper3 * :End of /HELP');
    const words = lines.slice(3, -1).flatMap((l) => parse(l).params[2]!.split(' '));
    for (const cmd of ['ADMIN', 'HELP', 'INFO', 'JOIN', 'OPER', 'PRIVMSG', 'TIME', 'VERSION', 'KILL*', 'WALLOPS*']) assert.ok(words.includes(cmd), `missing ${cmd}: ${words.join(' ')}`);
    for (const l of lines) assert.ok(Buffer.byteLength(l) + 2 <= 512, 'line fits in 512 bytes');
  });

  test('unknown subject: 524, with * when it cannot be a middle parameter', async () => {
    const c = await srv.client('helper4');
    c.send('HELP frobnicate');
    assert.equal(await c.expect('524'), ':irc.test 524 helper4 frobnicate :No help available on this topic');
    c.send('HELP :unknown subject');
    assert.equal(await c.expect('524'), ':irc.test 524 helper4 * :No help available on this topic');
  });
});

describe('MOTD', () => {
  let srv: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'freeq-motd-'));
    const file = join(dir, 'motd.txt');
    writeFileSync(file, 'Welcome to irc.test\r\n\r\nBe excellent to each other.\n');
    srv = await bootServer({ 'motd-file': file });
  });
  after(async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); });

  const expected = (nick: string) => [
    `:irc.test 375 ${nick} :- irc.test Message of the day - `,
    `:irc.test 372 ${nick} :- Welcome to irc.test`,
    `:irc.test 372 ${nick} :- `,
    `:irc.test 372 ${nick} :- Be excellent to each other.`,
    `:irc.test 376 ${nick} :End of /MOTD command.`,
  ];

  test('registration burst ends with the MOTD file', async () => {
    const c = await srv.connect();
    c.send('NICK motdy', 'USER motdy 0 * :M');
    const lines = await c.collectUntil('376');
    assert.deepEqual(lines.slice(-5), expected('motdy'));
    assert.ok(!lines.some((l) => parse(l).command === '422'));
  });

  test('MOTD command: exact lines; another server gets 402', async () => {
    const c = await srv.client('motdz');
    c.send('MOTD');
    assert.deepEqual(await c.collectUntil('376'), expected('motdz'));
    c.send('MOTD irc.test');
    assert.deepEqual(await c.collectUntil('376'), expected('motdz'));
    c.send('MOTD other.example');
    assert.equal(await c.expect(/ (375|402) /), ':irc.test 402 motdz other.example :No such server');
  });

  test('a missing MOTD file gives 422', async () => {
    const other = await bootServer({ 'motd-file': join(dir, 'does-not-exist.txt') });
    try {
      const c = await other.connect();
      c.send('NICK nomotd', 'USER nomotd 0 * :N');
      assert.equal(await c.expect(/ (375|422) /), ':irc.test 422 nomotd :MOTD File is missing');
      c.send('MOTD');
      assert.equal(await c.expect(/ (375|422) /), ':irc.test 422 nomotd :MOTD File is missing');
    } finally {
      await other.stop();
    }
  });
});

describe('LUSERS', () => {
  let srv: TestServer;
  before(async () => { srv = await bootServer({ 'oper-password': 'lusers-secret' }); });
  after(async () => { await srv.stop(); });

  async function lusers(c: Awaited<ReturnType<TestServer['client']>>): Promise<string[]> {
    c.send('LUSERS');
    return c.collectUntil('266');
  }

  test('counts users, invisible users, operators, unknown connections and channels', async () => {
    const a = await srv.client('lu1');
    const b = await srv.client('lu2');
    const pending = await srv.connect();
    pending.send('NICK halfway');
    await pending.sync(); // the server has seen this unregistered connection
    a.send('JOIN #one', 'JOIN #two');
    await a.expect(/ 366 lu1 #two /);
    b.send('OPER anyone lusers-secret');
    await b.expect('381');
    b.send('MODE lu2 +i');
    await b.expect(/MODE lu2 :?\+i/);

    assert.deepEqual(await lusers(a), [
      ':irc.test 251 lu1 :There are 1 users and 1 invisible on 1 servers',
      ':irc.test 252 lu1 1 :operator(s) online',
      ':irc.test 253 lu1 1 :unknown connection(s)',
      ':irc.test 254 lu1 2 :channels formed',
      ':irc.test 255 lu1 :I have 2 clients and 0 servers',
      ':irc.test 265 lu1 2 2 :Current local users 2, max 2',
      ':irc.test 266 lu1 2 2 :Current global users 2, max 2',
    ]);

    // the operator and the unregistered connection leave, a channel goes away: counts drop, max stays
    b.send('QUIT');
    await b.waitClosed();
    pending.destroy();
    await pending.waitClosed();
    a.send('PART #two');
    await a.expect('PART');
    await new Promise((r) => setTimeout(r, 50)); // let the server see the closed socket
    assert.deepEqual(await lusers(a), [
      ':irc.test 251 lu1 :There are 1 users and 0 invisible on 1 servers',
      ':irc.test 252 lu1 0 :operator(s) online',
      ':irc.test 253 lu1 0 :unknown connection(s)',
      ':irc.test 254 lu1 1 :channels formed',
      ':irc.test 255 lu1 :I have 1 clients and 0 servers',
      ':irc.test 265 lu1 1 2 :Current local users 1, max 2',
      ':irc.test 266 lu1 1 2 :Current global users 1, max 2',
    ]);
  });
});
