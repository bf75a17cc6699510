import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse } from '../harness/raw-client.js';
import { guestCloak } from '../harness/cloaks.js';

// labeled-response + batch (https://ircv3.net/specs/extensions/labeled-response)

function body(line: string): string {
  return line.startsWith('@') ? line.slice(line.indexOf(' ') + 1) : line;
}

describe('ircv3 labeled-response', () => {
  let srv: TestServer;
  let G: string; // guest cloak for 127.0.0.1
  before(async () => { srv = await bootServer(); G = guestCloak(srv); });
  after(async () => { await srv.stop(); });

  test('single reply labeled; error labeled; no reply → ACK', async () => {
    const c = await srv.client('lr1', { caps: ['labeled-response', 'batch'] });
    c.send('@label=abc PING tok');
    assert.equal(await c.expect('PONG'), '@label=abc :irc.test PONG irc.test tok');
    c.send('@label=e1 PRIVMSG nobody :hello there');
    assert.equal(await c.expect('401'), '@label=e1 :irc.test 401 lr1 nobody :No such nick/channel');
    c.send('@label=nf FROB');
    assert.equal(await c.expect('421'), '@label=nf :irc.test 421 lr1 FROB :Unknown command');
    c.send('JOIN #lr');
    await c.expect('366');
    c.send('@label=p1 PRIVMSG #lr :hello there');
    assert.equal(await c.expect('ACK'), '@label=p1 :irc.test ACK');
    c.send('@label=pong PONG :whatever');
    assert.equal(await c.expect('ACK'), '@label=pong :irc.test ACK');
    c.send('@label=bad\\sval PRIVMSG #lr :hi there');
    // the label value round-trips with its escaping
    assert.equal(await c.expect('ACK'), '@label=bad\\sval :irc.test ACK');
  });

  test('multi-line reply in one labeled-response BATCH', async () => {
    const c = await srv.client('lr2', { caps: ['labeled-response', 'batch'] });
    c.send('@label=j1 JOIN #lrb');
    const lines = await c.collectUntil((l, m) => m.command === 'BATCH' && m.params[0]!.startsWith('-'));
    const first = parse(lines[0]!);
    assert.equal(first.command, 'BATCH');
    assert.equal(first.tags.get('label'), 'j1');
    const id = first.params[0]!.slice(1);
    assert.equal(lines[0], `@label=j1 :irc.test BATCH +${id} labeled-response`);
    assert.equal(lines.at(-1), `:irc.test BATCH -${id}`);
    const inner = lines.slice(1, -1);
    assert.deepEqual(inner.map((l) => parse(l).tags.get('batch')), inner.map(() => id));
    assert.ok(inner.every((l) => !parse(l).tags.has('label')), 'only the batch start is labeled');
    assert.deepEqual(inner.map(body), [
      `:lr2!lr2@${G} JOIN #lrb`,
      ':irc.test 353 lr2 = #lrb @lr2',
      ':irc.test 366 lr2 #lrb :End of /NAMES list',
    ]);
  });

  test('echo-message + label: the echo is the labeled response, with the msgid recipients see', async () => {
    const c = await srv.client('lr3', { caps: ['labeled-response', 'batch', 'echo-message', 'message-tags'] });
    const r = await srv.client('lr3r', { caps: ['message-tags'] });
    for (const x of [c, r]) { x.send('JOIN #lre'); await x.expect('366'); }
    await c.sync();
    c.send('@label=m1 PRIVMSG #lre :hello there');
    const echo = parse(await c.expect('PRIVMSG'));
    const got = parse(await r.expect('PRIVMSG'));
    assert.equal(echo.tags.get('label'), 'm1');
    assert.ok(echo.tags.get('msgid'));
    assert.equal(echo.tags.get('msgid'), got.tags.get('msgid'));
    assert.ok(!got.tags.has('label'), 'the recipient never sees the label');
    // a message to oneself: the echo is labeled, the delivered copy is not
    c.send('@label=s1 PRIVMSG lr3 :to me');
    const lines = (await c.sync()).filter((l) => parse(l).command === 'PRIVMSG');
    assert.equal(lines.length, 2);
    assert.equal(parse(lines[0]!).tags.get('label'), 's1');
    assert.ok(!parse(lines[1]!).tags.has('label'));
    assert.equal(body(lines[0]!), body(lines[1]!));
  });

  test('message to oneself without echo-message: ACK, and the delivered copy is not labeled', async () => {
    const c = await srv.client('lr4', { caps: ['labeled-response', 'batch'] });
    c.send('@label=s2 PRIVMSG lr4 :to me');
    const lines = await c.sync();
    assert.deepEqual(lines.slice(0, 2), ['@label=s2 :irc.test ACK', `:lr4!lr4@${G} PRIVMSG lr4 :to me`]);
  });

  test('label ignored without labeled-response, and without batch (labeled-response depends on it)', async () => {
    const none = await srv.client('lr5');
    none.send('@label=abc PING tok', '@label=abd PRIVMSG lr5x :hello there');
    assert.equal(await none.expect('PONG'), ':irc.test PONG irc.test tok');
    assert.equal(await none.expect('401'), ':irc.test 401 lr5 lr5x :No such nick/channel');
    const noBatch = await srv.client('lr6', { caps: ['labeled-response'] });
    noBatch.send('@label=abc PING tok', '@label=x JOIN #lr6');
    assert.equal(await noBatch.expect('PONG'), ':irc.test PONG irc.test tok');
    const lines = await noBatch.collectUntil('366');
    assert.ok(lines.every((l) => !l.startsWith('@') && parse(l).command !== 'BATCH'), lines.join('\n'));
    noBatch.send('@label=n PONG x');
    const after = await noBatch.sync();
    assert.equal(after.length, 1, 'no ACK without batch');
  });

  test('FAIL INVALID_UTF8 is labeled', async () => {
    const c = await srv.client('lr7', { caps: ['labeled-response', 'batch'] });
    c.sendRaw(Buffer.concat([Buffer.from('@label=u8 PRIVMSG lr7 :bad '), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n')]));
    assert.equal(await c.expect('FAIL'), '@label=u8 :irc.test FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software MUST use UTF-8');
  });
});
