import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FreeqClient, type HistoryMessage } from '../../../../sdk/src/index.js';
import { bootServer, type TestServer } from '../../harness/server.js';

// The SDK's reconnect and resume (#15, sdk/src/resume.ts) against a real server: a client whose
// connection is lost (KILLed by an operator) comes back after its backoff, rejoins its channels
// and gets what was said meanwhile as `history` events, once; quit() does not reconnect.

const servers: TestServer[] = [];
const clients: FreeqClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.stop();
});

test('a lost connection: reconnect after the backoff, rejoin, the missed messages as history; quit() stays gone', async () => {
  const srv = await bootServer({ 'oper-password': 'correct horse battery' });
  servers.push(srv);
  const url = `irc://127.0.0.1:${srv.port}`;
  const away = new FreeqClient({ url, nick: 'away', reconnect: { minMs: 1500, maxMs: 3000 } });
  const oper = new FreeqClient({ url, nick: 'oper' });
  clients.push(away, oper);
  await away.connect();
  await oper.connect();
  await oper.request('OPER', ['oper', 'correct horse battery']);
  const joined = (c: FreeqClient): Promise<void> => new Promise((resolve) => c.on('join', (ev) => { if (ev.self) resolve(); }));
  let j = joined(away);
  away.join('#r');
  await j;
  j = joined(oper);
  oper.join('#r');
  await j;
  const seen = new Promise<void>((resolve) => away.on('message', (m) => { if (m.text === 'before') resolve(); }));
  oper.privmsg('#r', 'before');
  await seen;

  const history: HistoryMessage[] = [];
  away.on('history', (m) => history.push(m));
  const back = new Promise<void>((resolve) => away.on('reconnected', () => resolve()));
  const gone = new Promise<void>((resolve) => oper.on('raw', (_l, m) => { if (m?.command === 'QUIT' && m.source?.startsWith('away!')) resolve(); }));
  oper.send('KILL', 'away', 'test');
  await gone;
  // said while away was gone (its backoff is at least 1.1 s)
  oper.privmsg('#r', 'while you were away');
  await back;
  assert.deepEqual(history.map((m) => [m.from, m.text]), [['oper', 'while you were away']], 'the missed message, once');
  assert.equal(away.registered, true);
  const names = await oper.request('NAMES', ['#r']);
  assert.match(names.map((m) => m.params.at(-1)).join(' '), /\baway\b/, 'away is back on #r');

  // quit() ends it for good
  await away.quit('bye');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(away.connected, false);
});
