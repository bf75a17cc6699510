import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { chanMode, join, tracked } from './channels-helpers.js';

// #12 finding 13: each +b/+e/+I list is compiled once per change. Over real sockets: a ban applies
// to messages and JOIN as soon as it is added, stops as soon as it is removed, whatever else the
// list holds; matching stays rfc1459 case-insensitive and covers the real IP. (Equivalence with
// the old matcher is proven in test/unit/state/mask-list.test.ts; this guards the invalidation.)

const BANNED = (nick: string, ch: string) => `:irc.test 404 ${nick} ${ch} :Cannot send to channel (you are banned)`;

/** PRIVMSG from `c` (`text` has a space, so it is sent as a trailing parameter): its 404 line, or '' after the watcher `w` received it */
async function say(c: RawClient, w: RawClient, ch: string, text: string): Promise<string> {
  c.send(`PRIVMSG ${ch} :${text}`);
  const refusal = (await c.sync()).find((l) => / 404 /.test(l));
  if (refusal) return refusal;
  await w.expect((l) => l.endsWith(`PRIVMSG ${ch} :${text}`));
  return '';
}

describe('channel bans after list changes', () => {
  let srv: TestServer;
  const { client, quitAll } = tracked(() => srv);
  before(async () => { srv = await bootServer(); });
  afterEach(quitAll);
  after(async () => { await srv.stop(); });

  test('+b / +e / -e / -b take effect on the next message, among 99 other masks', async () => {
    const op = await client('bop');
    const v = await client('bvictim');
    await join(op, '#bl');
    await join(v, '#bl');
    for (let i = 0; i < 99; i += 3) await chanMode(op, '#bl', `+bbb other${i}!*@* *!nobody${i}@* *!*@10.9.${i}.*`);
    assert.equal(await say(v, op, '#bl', 'say one'), '');
    await chanMode(op, '#bl', '+b BVICTIM!*@*'); // another case: rfc1459 case-insensitive
    assert.equal(await say(v, op, '#bl', 'say two'), BANNED('bvictim', '#bl'));
    await chanMode(op, '#bl', '+e *!bvictim@*');
    assert.equal(await say(v, op, '#bl', 'say three'), '');
    await chanMode(op, '#bl', '-e *!bvictim@*');
    assert.equal(await say(v, op, '#bl', 'say four'), BANNED('bvictim', '#bl'));
    await chanMode(op, '#bl', '-b bvictim!*@*');
    assert.equal(await say(v, op, '#bl', 'say five'), '');
    // the real IP matches too
    await chanMode(op, '#bl', '+b *!*@127.0.0.1');
    assert.equal(await say(v, op, '#bl', 'say six'), BANNED('bvictim', '#bl'));
    await chanMode(op, '#bl', '-b *!*@127.0.0.1');
    assert.equal(await say(v, op, '#bl', 'say seven'), '');
  });

  // The 474 and 473 here are not repeats of channels.test.ts: lists compile lazily on their first check
  // (state/mask-list.ts), so each refused JOIN compiles the list that the -b / +I after it must invalidate;
  // without them this would only show that a list compiled from scratch is right. The 473 after -b also
  // shows the ban is gone (bans are checked before +i), and +I is added in another case than the nick.
  test('JOIN: 474 while banned, in after -b; +I lets a matching user into +i after it is added', async () => {
    const op = await client('jop');
    const v = await client('jvictim');
    await join(op, '#jb');
    await chanMode(op, '#jb', '+b jvictim!*@*');
    v.send('JOIN #jb');
    assert.equal(await v.expect(/ (474|JOIN) /), ':irc.test 474 jvictim #jb :Cannot join channel (+b)');
    await chanMode(op, '#jb', '-b jvictim!*@*');
    await chanMode(op, '#jb', '+i');
    v.send('JOIN #jb');
    assert.equal(await v.expect(/ (473|JOIN) /), ':irc.test 473 jvictim #jb :Cannot join channel (+i)');
    await chanMode(op, '#jb', '+I JVICTIM!*@*');
    await join(v, '#jb');
  });
});
