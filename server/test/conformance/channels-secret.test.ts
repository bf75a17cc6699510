import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { chanMode, join } from './channels-helpers.js';

// #12 finding 14: `MODE #secret` and `TOPIC #secret` showed a +s channel's existence and modes to
// outsiders. A non-member now gets, for a +s or +p channel, exactly what a channel that does not
// exist gets — byte for byte apart from the name, which is echoed as typed.

/** Everything the server answers to `line` (up to our PING's PONG), with `name` replaced by <chan>. */
async function answer(c: RawClient, line: string, name: string): Promise<string[]> {
  c.send(line);
  const lines = await c.sync();
  lines.pop(); // the PONG
  return lines.map((l) => l.split(name).join('<chan>'));
}

/** Send `template` with <chan> = `secret`, then = `missing`; both answers, normalised. */
async function both(c: RawClient, template: string, secret: string, missing: string): Promise<[string[], string[]]> {
  const a = await answer(c, template.replaceAll('<chan>', secret), secret);
  const b = await answer(c, template.replaceAll('<chan>', missing), missing);
  return [a, b];
}

const OPER_PW = 'secret-oper-pw';

describe('a +s / +p channel looks like a missing one to outsiders', () => {
  let srv: TestServer;
  let owner: RawClient;
  let out: RawClient;
  before(async () => {
    srv = await bootServer({ 'oper-password': OPER_PW });
    owner = await srv.client('sowner');
    await join(owner, '#secret');
    await chanMode(owner, '#secret', '+s');
    owner.send('TOPIC #secret :hidden topic');
    await owner.expect(' TOPIC ');
    await join(owner, '#private');
    await chanMode(owner, '#private', '+p');
    out = await srv.client('soutsider');
  });
  after(async () => { await srv.stop(); });

  const commands = [
    'MODE <chan>',
    'MODE <chan> +i',
    'MODE <chan> b',
    'MODE <chan> +b foo!*@*',
    'MODE <chan> +Z',
    'TOPIC <chan>',
    'TOPIC <chan> :new topic',
    'PART <chan>',
    'KICK <chan> sowner',
    'INVITE sowner <chan>',
    'NAMES <chan>',
    'PRIVMSG <chan> :hello',
    'NOTICE <chan> :hello',
    'WHO <chan>',
    'LIST <chan>',
  ];

  for (const cmd of commands) {
    test(`${cmd}: same answer for #secret and a missing channel`, async () => {
      const [secret, missing] = await both(out, cmd, '#secret', '#nosuch');
      assert.deepEqual(secret, missing);
    });
  }

  test('exact replies: MODE and TOPIC answer 403 with the name as typed (another case included)', async () => {
    assert.deepEqual(await answer(out, 'MODE #SECRET', '#none'), [':irc.test 403 soutsider #SECRET :No such channel']);
    assert.deepEqual(await answer(out, 'TOPIC #Secret', '#none'), [':irc.test 403 soutsider #Secret :No such channel']);
    assert.deepEqual(await answer(out, 'NAMES #SECRET', '#none'), [':irc.test 366 soutsider #SECRET :End of /NAMES list']);
    assert.deepEqual(await answer(out, 'PRIVMSG #secret :x', '#none'), [':irc.test 403 soutsider #secret :No such channel']);
  });

  test('an outsider\'s PRIVMSG / NOTICE to #secret or #private reaches nobody (NOTICE: no answer either)', async () => {
    for (const ch of ['#secret', '#private']) {
      assert.deepEqual(await answer(out, `PRIVMSG ${ch} :leak`, '#none'), [`:irc.test 403 soutsider ${ch} :No such channel`]);
      assert.deepEqual(await answer(out, `NOTICE ${ch} :leak`, '#none'), []);
    }
    // the outsider's PONG came after both were handled: anything delivered is on its way by now
    await owner.expectNone(/^:soutsider!\S+ (PRIVMSG|NOTICE) /);
  });

  test('+p is hidden the same way', async () => {
    for (const cmd of ['MODE <chan>', 'TOPIC <chan>', 'MODE <chan> b', 'PART <chan>', 'NAMES <chan>']) {
      const [priv, missing] = await both(out, cmd, '#private', '#nosuch');
      assert.deepEqual(priv, missing, cmd);
    }
  });

  test('nothing changed: the topic and modes of #secret are as the owner set them', async () => {
    owner.send('MODE #secret');
    assert.equal(await owner.expect(' 324 '), ':irc.test 324 sowner #secret +nst');
    owner.send('TOPIC #secret');
    assert.equal(await owner.expect(' 332 '), ':irc.test 332 sowner #secret :hidden topic');
    owner.send('MODE #secret b');
    assert.equal(await owner.expect(' 368 '), ':irc.test 368 sowner #secret :End of channel ban list');
  });

  test('a server operator who is not on #secret gets the real MODE, TOPIC and NAMES answers (as from WHO and WHOIS)', async () => {
    const oper = await srv.client('soper');
    oper.send(`OPER soper ${OPER_PW}`);
    await oper.expect(' 381 ');
    await oper.expect(' MODE soper +o');
    const mode = await answer(oper, 'MODE #secret', '#none');
    assert.equal(mode.length, 2, mode.join('\n'));
    assert.equal(mode[0], ':irc.test 324 soper #secret +nst');
    assert.match(mode[1]!, /^:irc\.test 329 soper #secret \d+$/);
    assert.match((await answer(oper, 'MODE #private', '#none'))[0]!, /^:irc\.test 324 soper #private \+npt$/);
    assert.deepEqual((await answer(oper, 'TOPIC #secret', '#none'))[0], ':irc.test 332 soper #secret :hidden topic');
    assert.deepEqual(await answer(oper, 'NAMES #secret', '#none'), [':irc.test 353 soper @ #secret @sowner', ':irc.test 366 soper #secret :End of /NAMES list']);
    // still not a member: no channel-operator powers
    assert.deepEqual(await answer(oper, 'MODE #secret +i', '#none'), [":irc.test 482 soper #secret :You're not channel operator"]);
    oper.send('QUIT');
    await oper.expect(/^ERROR /);
  });

  test('a member still gets the real answers, and outsiders do for a visible channel', async () => {
    await join(out, '#open');
    owner.send('MODE #open');
    assert.equal(await owner.expect(/ (324|403) /), ':irc.test 324 sowner #open +nt');
    owner.send('TOPIC #open');
    assert.equal(await owner.expect(/ (331|403|442) /), ':irc.test 331 sowner #open :No topic is set');
    owner.send('MODE #open b');
    assert.equal(await owner.expect(/ (368|403|442) /), ':irc.test 368 sowner #open :End of channel ban list');
    owner.send('PART #open');
    assert.equal(await owner.expect(/ (442|403) /), ":irc.test 442 sowner #open :You're not on that channel");
  });
});
