// REST read API (issue 5, freeq-reference.md §1.11): GET /api/v1/channels and
// GET /api/v1/channels/{name}/history over real HTTP, messages sent over real IRC sockets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { apiToken as token, connectLoggedIn, DID_A, DID_B, DID_C } from './identity-helpers.js';

interface Msg { msgid: string; time: string; command: string; nick: string; account?: string; text: string }
interface Page { channel: string; messages: Msg[]; has_more: boolean }

describe('REST: channels and history', () => {
  let srv: TestServer;
  let alice: RawClient, bob: RawClient, carol: RawClient;
  let aliceToken: string, bobToken: string, carolToken: string;
  const get = (path: string, tok?: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${srv.webPort}${path}`, { headers: tok ? { authorization: `Bearer ${tok}` } : {} });
  const history = async (name: string, query = '', tok?: string): Promise<Page> => {
    const r = await get(`/api/v1/channels/${encodeURIComponent(name)}/history${query}`, tok);
    assert.equal(r.status, 200, await r.clone().text());
    return await r.json() as Page;
  };

  before(async () => {
    srv = await bootServer();
    alice = await connectLoggedIn(srv, 'alice', DID_A);
    bob = await connectLoggedIn(srv, 'bob', DID_B);
    carol = await connectLoggedIn(srv, 'carol', DID_C);
    [aliceToken, bobToken, carolToken] = [await token(alice), await token(bob), await token(carol)];
    // alice founds every channel; bob joins the restricted ones; carol stays out
    alice.send('JOIN #pub,#secret,#priv,#inv,#keyed', 'TOPIC #pub :public talk', 'MODE #secret +s', 'MODE #priv +p', 'MODE #inv +i', 'MODE #keyed +k sesame');
    alice.send('INVITE bob #inv');
    await alice.sync();
    bob.send('JOIN #pub,#secret,#priv,#inv', 'JOIN #keyed sesame');
    await bob.expect(/ 366 bob #keyed /);
    for (let i = 1; i <= 250; i++) alice.send(`PRIVMSG #pub :m${i}`);
    alice.send('PRIVMSG #secret :secret words', 'PRIVMSG #inv :invite only words', 'PRIVMSG bob :a private word');
    await alice.sync();
  });
  after(async () => { await srv.stop(); });

  test('GET /api/v1/channels lists public channels only, with topic and member count', async () => {
    const r = await get('/api/v1/channels');
    assert.equal(r.status, 200);
    const body = await r.json() as { channels: { name: string; topic: string | null; members: number }[] };
    assert.deepEqual(body.channels, [{ name: '#pub', topic: 'public talk', members: 2 }]);
  });

  test('history: newest page by default (50, oldest → newest), limit capped at 200, paging with before', async () => {
    const first = await history('#pub');
    assert.equal(first.channel, '#pub');
    assert.deepEqual(first.messages.map((m) => m.text), Array.from({ length: 50 }, (_, i) => `m${201 + i}`));
    assert.equal(first.has_more, true);
    const m = first.messages[0]!;
    assert.equal(m.nick, 'alice');
    assert.equal(m.account, DID_A);
    assert.equal(m.command, 'PRIVMSG');
    assert.match(m.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const capped = await history('#pub', '?limit=1000');
    assert.equal(capped.messages.length, 200, 'cap');
    assert.equal(capped.messages[0]!.text, 'm51');

    // walk back from the newest page to the beginning
    const seen: string[] = first.messages.map((x) => x.text);
    let page = first;
    while (page.has_more) {
      page = await history('#pub', `?limit=90&before=${page.messages[0]!.msgid}`);
      seen.unshift(...page.messages.map((x) => x.text));
    }
    assert.deepEqual(seen, Array.from({ length: 250 }, (_, i) => `m${i + 1}`));

    // before as a time: nothing is older than the epoch; everything is older than the future
    assert.deepEqual((await history('#pub', '?before=0')).messages, []);
    const future = await history('#pub', `?limit=3&before=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.deepEqual(future.messages.map((x) => x.text), ['m248', 'm249', 'm250']);
    // a name without # means the #channel
    assert.equal((await history('pub', '?limit=1')).messages[0]!.text, 'm250');
  });

  test('bad query parameters are 400', async () => {
    for (const q of ['?limit=0', '?limit=-1', '?limit=abc', '?before=not%20an%20id']) {
      const r = await get(`/api/v1/channels/%23pub/history${q}`);
      assert.equal(r.status, 400, q);
    }
  });

  test('unknown channels and hidden channels one may not read are the same 404', async () => {
    const unknown = await get('/api/v1/channels/%23nowhere/history');
    assert.equal(unknown.status, 404);
    const unknownBody = await unknown.text();
    for (const [name, tok] of [['#secret', undefined], ['#secret', carolToken], ['#priv', undefined], ['#priv', carolToken]] as const) {
      const r = await get(`/api/v1/channels/${encodeURIComponent(name)}/history`, tok);
      assert.equal(r.status, 404, `${name} ${tok ? 'with' : 'without'} a token`);
      assert.equal(await r.text(), unknownBody);
    }
  });

  test('restricted channels: readable with the token of a member or the founder', async () => {
    assert.deepEqual((await history('#secret', '', bobToken)).messages.map((m) => m.text), ['secret words']);
    assert.deepEqual((await history('#priv', '', bobToken)).messages, []);
    // the founder keeps access after leaving
    alice.send('PART #secret');
    await alice.sync();
    assert.deepEqual((await history('#secret', '', aliceToken)).messages.map((m) => m.text), ['secret words']);
    // +i / +k are visible channels: 401 without a token, 403 with one that may not read
    for (const name of ['#inv', '#keyed']) {
      const none = await get(`/api/v1/channels/${encodeURIComponent(name)}/history`);
      assert.equal(none.status, 401, name);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await get(`/api/v1/channels/${encodeURIComponent(name)}/history`, carolToken)).status, 403, name);
    }
    assert.deepEqual((await history('#inv', '', bobToken)).messages.map((m) => m.text), ['invite only words']);
    // a public channel does not need a token, and a valid one changes nothing
    assert.equal((await history('#pub', '?limit=1', carolToken)).messages[0]!.text, 'm250');
  });

  test('a bad token is 401 whatever the channel; DMs are never served', async () => {
    for (const name of ['#pub', '#secret', '#nowhere']) {
      const r = await get(`/api/v1/channels/${encodeURIComponent(name)}/history`, 'not-a-real-token');
      assert.equal(r.status, 401, name);
    }
    const dm = await get(`/api/v1/channels/${encodeURIComponent(`dm:${[DID_A, DID_B].sort().join(',')}`)}/history`, bobToken);
    assert.equal(dm.status, 404);
    const all = JSON.stringify(await (await get('/api/v1/channels')).json());
    assert.ok(!all.includes('private word'));
  });
});

describe('REST: the HTTP rate limit covers the read API', () => {
  test('beyond http-rate-limit requests per minute: 429', async () => {
    const srv = await bootServer({ 'http-rate-limit': 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const path = i % 2 ? '/api/v1/channels' : '/api/v1/channels/%23x/history';
        statuses.push((await fetch(`http://127.0.0.1:${srv.webPort}${path}`)).status);
      }
      assert.deepEqual(statuses, [404, 200, 404, 200, 404, 429, 429]);
    } finally {
      await srv.stop();
    }
  });
});
