import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FreeqClient, type HistoryMessage } from '../../../../sdk/src/index.js';
import { bootServer, type TestServer } from '../../harness/server.js';

// The SDK's labeled requests and CHATHISTORY helpers (#15) against a real server: answers resolve
// the request (one line, ACK, or a whole batch), history is never a live `message` event, and
// history replayed on JOIN (a batch nobody asked for) comes as `history` events.

const servers: TestServer[] = [];
const clients: FreeqClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.stop();
});

async function client(srv: TestServer, nick: string, caps?: string[]): Promise<FreeqClient> {
  const c = new FreeqClient({ url: `irc://127.0.0.1:${srv.port}`, nick, ...(caps ? { caps } : {}) });
  clients.push(c);
  await c.connect();
  return c;
}

const joined = (c: FreeqClient, channel: string): Promise<void> => new Promise((resolve) => c.on('join', (ev) => { if (ev.self && ev.channel === channel) resolve(); }));

test('history: latest, before a msgid, targets; labeled requests resolve with one line, an ACK or a batch; a FAIL rejects', async () => {
  const srv = await bootServer();
  servers.push(srv);
  const alice = await client(srv, 'alice');
  const j = joined(alice, '#h');
  alice.join('#h');
  await j;
  for (let i = 1; i <= 6; i++) alice.privmsg('#h', `line ${i}`);
  const bob = await client(srv, 'bob');
  const live: string[] = [];
  bob.on('message', (m) => live.push(m.text));
  const jb = joined(bob, '#h');
  bob.join('#h');
  await jb;
  // wait until the six are stored: the latest is line 6
  let latest: HistoryMessage[] = [];
  for (let i = 0; i < 50 && latest.at(-1)?.text !== 'line 6'; i++) latest = await bob.history('#h', { limit: 3 });
  assert.deepEqual(latest.map((m) => m.text), ['line 4', 'line 5', 'line 6'], 'the latest three, oldest first');
  assert.ok(latest.every((m) => m.msgid && m.time && m.from === 'alice' && m.target === '#h' && m.command === 'PRIVMSG'));
  const older = await bob.history('#h', { before: latest[0]!.msgid!, limit: 2 });
  assert.deepEqual(older.map((m) => m.text), ['line 2', 'line 3']);
  const targets = await bob.historyTargets('1970-01-01T00:00:00.000Z', new Date(Date.now() + 60_000).toISOString());
  assert.ok(targets.some((t) => t.target === '#h' && t.latest.startsWith('20')), JSON.stringify(targets));
  assert.deepEqual(live, [], 'history is not a live message');

  // one line (PONG), and none (ACK: a PRIVMSG without echo-message answers nothing)
  const pong = await bob.request('PING', ['are-you-there']);
  assert.deepEqual(pong.map((m) => [m.command, m.params.at(-1)]), [['PONG', 'are-you-there']]);
  assert.deepEqual(await bob.request('PRIVMSG', ['#h', 'labeled']), []);
  await assert.rejects(bob.history('#nowhere'), /./);
});

test('history replayed on JOIN (no draft/chathistory, but batch): `history` events, not `message` ones', async () => {
  const srv = await bootServer({ 'history-replay-on-join': 10 });
  servers.push(srv);
  const alice = await client(srv, 'alice');
  const j = joined(alice, '#r');
  alice.join('#r');
  await j;
  alice.privmsg('#r', 'before you came');
  // a PING round trip: the message is stored
  await alice.request('PING', ['sync']);
  const carol = await client(srv, 'carol', ['batch', 'server-time', 'message-tags']);
  const live: string[] = [];
  const replayed: string[] = [];
  carol.on('message', (m) => live.push(m.text));
  carol.on('history', (m) => replayed.push(m.text));
  const jc = joined(carol, '#r');
  carol.join('#r');
  await jc;
  for (let i = 0; i < 100 && replayed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(replayed, ['before you came']);
  assert.deepEqual(live, []);
  // the request API needs labeled-response, which carol did not ask for
  await assert.rejects(carol.request('PING', ['x']), /labeled-response/);
});
