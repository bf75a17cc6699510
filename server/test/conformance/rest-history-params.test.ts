// GET /api/v1/channels/{name}/history (#16): `before` / `after` are validated (400 on anything but
// a msgid, an ISO 8601 time with its zone, or ms since the epoch), `after` pages forward, and a
// CTCP ACTION comes as `kind: "action"` with its text, not the raw \x01 framing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';

interface Msg { msgid: string; time: string; command: string; kind: string; nick: string; text: string }
interface Page { channel: string; messages: Msg[]; has_more: boolean; next_before?: string | null; next_after?: string | null }

describe('REST history: before/after and actions', () => {
  let srv: TestServer;
  let alice: RawClient;
  const get = (query: string): Promise<Response> => fetch(`http://127.0.0.1:${srv.webPort}/api/v1/channels/%23hist/history${query}`);
  const page = async (query: string): Promise<Page> => {
    const r = await get(query);
    assert.equal(r.status, 200, await r.clone().text());
    return await r.json() as Page;
  };

  before(async () => {
    srv = await bootServer();
    alice = await srv.client('alice');
    alice.send('JOIN #hist');
    for (let i = 1; i <= 10; i++) alice.send(`PRIVMSG #hist :m${i}`);
    // modern.ircdocs.horse CTCP "ACTION": "\x01ACTION <text>\x01"; clients also leave out the last \x01
    alice.send('PRIVMSG #hist :\x01ACTION waves\x01', 'PRIVMSG #hist :\x01ACTION shrugs', 'PRIVMSG #hist :\x01ACTION\x01', 'NOTICE #hist :\x01VERSION\x01');
    await alice.sync();
  });
  after(async () => { await srv.stop(); });

  test('garbage in before or after is 400 (with its message); both at once is 400', async () => {
    const bad = ['', 'abc', 'not-a-msgid', '01J0000000000000000000000', '1e9', '-5', '2025-05-01', '2025-05-01T12:00:00',
      '2025-02-30T12:00:00Z', '2025-13-01T00:00:00Z', '2025-05-01T24:00:00Z', 'yesterday', '%00', '1234567890123456'];
    for (const v of bad) {
      for (const name of ['before', 'after']) {
        const r = await get(`?${name}=${encodeURIComponent(v)}`);
        assert.equal(r.status, 400, `${name}=${JSON.stringify(v)}`);
        assert.deepEqual(await r.json(), { error: 'BadRequest', message: `${name} must be a msgid, an ISO 8601 time with its zone or milliseconds since the epoch` });
      }
    }
    const both = await get('?before=0&after=0');
    assert.equal(both.status, 400);
    assert.deepEqual(await both.json(), { error: 'BadRequest', message: 'before and after cannot be combined' });
  });

  test('valid forms: a msgid, ms, ISO with Z or an offset, with or without fractions', async () => {
    const all = await page('?limit=200');
    const m5 = all.messages.find((m) => m.text === 'm5')!;
    assert.match(m5.msgid, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.deepEqual((await page(`?before=${m5.msgid}&limit=2`)).messages.map((m) => m.text), ['m3', 'm4']);
    const t = Date.parse(all.messages.at(-1)!.time) + 1;
    for (const v of [String(t), new Date(t).toISOString(), '2999-01-01T00:00:00Z', '2999-01-01T00:00:00.123456789Z', '2999-01-01T00:00+02:00', '2999-01-01T00:00:00-05:30']) {
      assert.equal((await page(`?before=${encodeURIComponent(v)}&limit=1`)).messages.length, 1, v);
    }
  });

  test('after pages forward: the oldest `limit` after the reference, next_after to go on, to the end', async () => {
    const first = await page('?after=0&limit=4');
    assert.deepEqual(first.messages.map((m) => m.text), ['m1', 'm2', 'm3', 'm4']);
    assert.equal(first.has_more, true);
    assert.equal(first.next_after, first.messages[3]!.msgid);
    assert.equal('next_before' in first, false);
    const seen = first.messages.map((m) => m.text);
    let p = first;
    while (p.has_more) {
      p = await page(`?after=${p.next_after!}&limit=4`);
      seen.push(...p.messages.map((m) => m.text));
    }
    assert.equal(p.next_after, null);
    assert.deepEqual(seen, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'waves', 'shrugs', '', '\x01VERSION\x01']);
    // the newest page still pages backwards with next_before
    const newest = await page('?limit=2');
    assert.equal(newest.next_before, newest.messages[0]!.msgid);
  });

  test('CTCP ACTION is kind "action" with the text inside the framing; everything else kind "message", as sent', async () => {
    const ms = (await page('?limit=4')).messages;
    assert.deepEqual(ms.map((m) => [m.command, m.kind, m.text]), [
      ['PRIVMSG', 'action', 'waves'],
      ['PRIVMSG', 'action', 'shrugs'],
      ['PRIVMSG', 'action', ''],
      ['NOTICE', 'message', '\x01VERSION\x01'],
    ]);
    assert.ok(!JSON.stringify(ms.slice(0, 3)).includes('\\u0001'), 'no raw \\u0001 in an action');
    assert.equal((await page('?after=0&limit=1')).messages[0]!.kind, 'message');
  });
});
