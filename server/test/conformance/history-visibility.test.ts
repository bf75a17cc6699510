// #12 finding 10: history visibility is recorded per message when it is said. What was said while
// a channel was +s/+k never becomes readable to outsiders after -s/-k (REST), and with
// history-cutoff a member sees only what they may have seen: not what was said while the channel
// was restricted before they joined (default `restricted`), nothing from before their join
// (`always`), everything (`none`).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import { parse, type RawClient } from '../harness/raw-client.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { apiToken as token, connectLoggedIn, DID_A, DID_B, DID_C } from './identity-helpers.js';
import { history, HISTORY_CAPS, sleep, texts } from './history-helpers.js';

interface Page { messages: { text: string }[]; has_more: boolean }

async function restTexts(srv: TestServer, channel: string, tok?: string): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${srv.webPort}/api/v1/channels/${encodeURIComponent(channel)}/history`, { headers: tok ? { authorization: `Bearer ${tok}` } : {} });
  assert.equal(r.status, 200, await r.clone().text());
  return ((await r.json()) as Page).messages.map((m) => m.text);
}

/** alice says `text` in `ch`; `seen` (a member) has received it when this resolves */
async function say(alice: RawClient, seen: RawClient, ch: string, text: string): Promise<void> {
  alice.send(`PRIVMSG ${ch} :${text}`);
  await seen.expect((_l, m) => m.command === 'PRIVMSG' && m.params[1] === text);
}

describe('#12: REST never shows outsiders what was said while the channel was secret or keyed', () => {
  test('said while +s or +k: hidden from anonymous readers and non-member tokens after -s / -k; members and the founder still read it', async () => {
    const srv = await bootServer();
    try {
      const alice = await connectLoggedIn(srv, 'alice', DID_A); // founder
      const bob = await connectLoggedIn(srv, 'bob', DID_B); // member from the start
      const carol = await connectLoggedIn(srv, 'carol', DID_C); // never a member
      alice.send('JOIN #vis');
      await alice.expect(/ 366 alice #vis /);
      bob.send('JOIN #vis');
      await bob.expect(/ 366 bob #vis /);
      await say(alice, bob, '#vis', 'open 1');
      alice.send('MODE #vis +s');
      await bob.expect(/ MODE #vis \+s/);
      await say(alice, bob, '#vis', 'secret 1');
      await say(alice, bob, '#vis', 'secret 2');
      alice.send('MODE #vis -s');
      await bob.expect(/ MODE #vis -s/);
      await say(alice, bob, '#vis', 'open 2');
      alice.send('MODE #vis +k sesame');
      await bob.expect(/ MODE #vis \+k/);
      await say(alice, bob, '#vis', 'keyed 1');
      alice.send('MODE #vis -k sesame');
      await bob.expect(/ MODE #vis -k/);
      await say(alice, bob, '#vis', 'open 3');

      const everything = ['open 1', 'secret 1', 'secret 2', 'open 2', 'keyed 1', 'open 3'];
      assert.deepEqual(await restTexts(srv, '#vis'), ['open 1', 'open 2', 'open 3'], 'anonymous');
      assert.deepEqual(await restTexts(srv, '#vis', await token(carol)), ['open 1', 'open 2', 'open 3'], 'a token whose account is not a member');
      assert.deepEqual(await restTexts(srv, '#vis', await token(bob)), everything, 'a member who was there');
      assert.deepEqual(await restTexts(srv, '#vis', await token(alice)), everything, 'the founder');
    } finally {
      await srv.stop();
    }
  });
});

/**
 * In #k: "public before" (channel open), then +k, "keyed before", bob joins with the key,
 * "keyed after". What bob's CHATHISTORY shows depends on history-cutoff.
 */
async function lateJoiner(options: Record<string, unknown>): Promise<{ chathistory: string[]; rest: string[] }> {
  const srv = await bootServer(options);
  try {
    const alice = await connectLoggedIn(srv, 'alice', DID_A);
    const watcher = await srv.client('watcher', { caps: HISTORY_CAPS });
    alice.send('JOIN #k');
    await alice.expect(/ 366 alice #k /);
    watcher.send('JOIN #k');
    await watcher.expect(/ 366 watcher #k /);
    await say(alice, watcher, '#k', 'public before');
    alice.send('MODE #k +k sesame');
    await watcher.expect(/ MODE #k \+k/);
    await say(alice, watcher, '#k', 'keyed before');
    await sleep(5); // bob's join is a later millisecond than anything said before it
    const bob = await connectLoggedIn(srv, 'bob', DID_B, { caps: HISTORY_CAPS });
    bob.send('JOIN #k sesame');
    await bob.expect(/ 366 bob #k /);
    await sleep(5); // a later millisecond than bob's join, whatever the host's speed
    await say(alice, bob, '#k', 'keyed after');
    const got = await history(bob, 'CHATHISTORY LATEST #k * 50');
    const rest = await restTexts(srv, '#k', await token(bob));
    // the founder is never cut off
    assert.deepEqual(await restTexts(srv, '#k', await token(alice)), ['public before', 'keyed before', 'keyed after']);
    return { chathistory: texts(got), rest };
  } finally {
    await srv.stop();
  }
}

describe('#12: history-cutoff', () => {
  test('restricted (default): a later member does not see what was said while the channel was +k before they joined', async () => {
    const r = await lateJoiner({});
    assert.deepEqual(r.chathistory, ['public before', 'keyed after']);
    assert.deepEqual(r.rest, ['public before', 'keyed after'], 'REST with the member\'s token: the same rule');
  });

  test('none: a later member sees everything the channel kept', async () => {
    const r = await lateJoiner({ 'history-cutoff': 'none' });
    assert.deepEqual(r.chathistory, ['public before', 'keyed before', 'keyed after']);
    assert.deepEqual(r.rest, ['public before', 'keyed before', 'keyed after']);
  });

  test('always: a later member sees nothing from before their join', async () => {
    const r = await lateJoiner({ 'history-cutoff': 'always' });
    assert.deepEqual(r.chathistory, ['keyed after']);
    assert.deepEqual(r.rest, ['keyed after']);
  });

  test('an unknown value stops the start with a configuration error', () => {
    // refused by loadConfig (exit 2, also for `config print`), before startServer could run
    assert.throws(() => loadConfig({ env: {}, cli: { 'history-cutoff': 'sometimes', 'data-dir': '/nonexistent/never-created', 'log-level': 'silent' } }),
      (e: Error) => e instanceof ConfigError && /history-cutoff: must be none, restricted, always \(got "sometimes"\)/.test(e.message));
  });
});

describe('#12: a channel created again under an old name does not inherit what the old one said while restricted', () => {
  test('the old channel was +s and emptied (dropped at once with channel-expiry 0): the new one\'s members, even with history-cutoff none, and its founder read only what was said in the open', async () => {
    const srv = await bootServer({ 'channel-expiry': '0', 'history-cutoff': 'none' });
    try {
      const a = await srv.client('olda', { caps: HISTORY_CAPS });
      const b = await srv.client('oldb', { caps: HISTORY_CAPS, localAddress: '127.0.0.2' });
      for (const c of [a, b]) { c.send('JOIN #reborn'); await c.expect(/ 366 \S+ #reborn /); }
      await say(a, b, '#reborn', 'open before');
      a.send('MODE #reborn +s');
      await b.expect(/ MODE #reborn \+s/);
      await say(a, b, '#reborn', 'old secret');
      for (const c of [a, b]) { c.send('PART #reborn'); await c.expect(/ PART #reborn/); }
      await sleep(20);
      // the channel is gone; a stranger creates #reborn anew, and a DID user founds nothing here
      // but joins as a member: neither reads the old channel's secret line
      const stranger = await srv.client('newc', { caps: HISTORY_CAPS, localAddress: '127.0.0.3' });
      stranger.send('JOIN #reborn');
      await stranger.expect(/ 366 newc #reborn /);
      const r = await history(stranger, 'CHATHISTORY LATEST #reborn * 50');
      assert.deepEqual(texts(r), ['open before']);
      const founder = await connectLoggedIn(srv, 'founder', DID_A);
      founder.send('JOIN #reborn');
      await founder.expect(/ 366 founder #reborn /);
      assert.deepEqual(await restTexts(srv, '#reborn', await token(founder)), ['open before']);
    } finally {
      await srv.stop();
    }
  });
});

describe('#12: CHATHISTORY TARGETS follows history-cutoff', () => {
  test('a member who joined a +k channel later is not told when its hidden messages were said', async () => {
    const srv = await bootServer();
    try {
      const a = await srv.client('ta', { caps: [...HISTORY_CAPS, 'echo-message'] });
      a.send('JOIN #tk', 'MODE #tk +k pw');
      await a.expect(/ MODE #tk \+k/);
      a.send('PRIVMSG #tk :hidden from later members');
      // the echo leaves once history committed the message (#12), so TARGETS below can see it
      await a.expect(/ PRIVMSG #tk :hidden from later members/);
      await sleep(5);
      const b = await srv.client('tb', { caps: HISTORY_CAPS, localAddress: '127.0.0.2' });
      b.send('JOIN #tk pw');
      await b.expect(/ 366 tb #tk /);
      const window = 'timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 50';
      const before = await history(b, `CHATHISTORY TARGETS ${window}`, 'draft/chathistory-targets');
      assert.deepEqual(before.items, []);
      // ta (a guest, in the channel since before the message) still sees it
      const own = await history(a, `CHATHISTORY TARGETS ${window}`, 'draft/chathistory-targets');
      assert.equal(own.items.length, 1);
      await sleep(5); // a later millisecond than tb's join
      a.send('PRIVMSG #tk :said after the join');
      const said = await b.expectMsg((_l, m) => m.command === 'PRIVMSG' && m.params[1] === 'said after the join');
      await a.expect(/ PRIVMSG #tk :said after the join/); // committed
      const after = await history(b, `CHATHISTORY TARGETS ${window}`, 'draft/chathistory-targets');
      assert.equal(after.items.length, 1);
      assert.deepEqual(parse(after.items[0]!).params, ['TARGETS', '#tk', said.tags.get('time')]);
    } finally {
      await srv.stop();
    }
  });
});
