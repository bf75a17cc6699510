import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assembleMultiline, batches, FreeqClient, messageLines, parseMessage, parseMultilineCap, wireLines, type IrcMessage, type MessageEvent,
} from '../../../../sdk/src/index.js';
import { bootServer, type TestServer } from '../../harness/server.js';

// The SDK's draft/multiline (#15, sdk/src/multiline.ts): a text of several lines (or a line too
// long for one IRC line) goes as one batch within the server's max-bytes / max-lines, else one
// PRIVMSG per line; a received batch is one message, live and in CHATHISTORY.

const servers: TestServer[] = [];
const clients: FreeqClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.stop();
});

const refs = (): (() => string) => { let n = 0; return () => `r${++n}`; };
const bytes = (s: string): number => Buffer.byteLength(s);

test('wireLines: split at CRLF / CR / LF, outer blank lines dropped, long lines cut at a space, never inside a character', () => {
  assert.deepEqual(wireLines('a\r\nb\rc\n\nd\n\n', 100), [
    { text: 'a', concat: false }, { text: 'b', concat: false }, { text: 'c', concat: false }, { text: '', concat: false }, { text: 'd', concat: false },
  ]);
  assert.deepEqual(wireLines('\n  \n', 100), []);
  const long = 'word '.repeat(50);
  const pieces = wireLines(long, 64);
  assert.ok(pieces.length > 1 && pieces.every((p) => bytes(p.text) <= 64), JSON.stringify(pieces));
  assert.deepEqual(pieces.map((p) => p.concat), pieces.map((_, i) => i > 0));
  assert.equal(pieces.map((p) => p.text).join(''), long, 'joined back, the same text');
  assert.ok(pieces.slice(0, -1).every((p) => p.text.endsWith(' ')), 'cut after a space');
  // no space: cut anywhere, but never inside a character (3-byte é… 4-byte emoji)
  const wide = '€😀'.repeat(40);
  const w = wireLines(wide, 10);
  assert.equal(w.map((p) => p.text).join(''), wide);
  assert.ok(w.every((p) => bytes(p.text) <= 10 && !/[\uD800-\uDBFF]$/.test(p.text)), JSON.stringify(w));
});

test('batches: within max-lines and max-bytes as the server counts them (a line feed per non-concat line after the first)', () => {
  const lines = wireLines(Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n'), 400);
  assert.deepEqual(batches(lines, { maxBytes: 1000, maxLines: 4 }).map((b) => b.length), [4, 4, 2]);
  // "line 0\nline 1" is 13 bytes: max-bytes 13 fits two, 12 only one
  assert.deepEqual(batches(lines.slice(0, 2), { maxBytes: 13, maxLines: 10 }).map((b) => b.length), [2]);
  assert.deepEqual(batches(lines.slice(0, 2), { maxBytes: 12, maxLines: 10 }).map((b) => b.length), [1, 1]);
  // a concat line adds no line feed; a batch never starts with a concat or a blank line
  const cont = [{ text: 'abc', concat: false }, { text: 'def', concat: true }, { text: '', concat: false }, { text: 'x', concat: false }];
  assert.deepEqual(batches(cont, { maxBytes: 6, maxLines: 10 }), [[{ text: 'abc', concat: false }, { text: 'def', concat: true }], [{ text: 'x', concat: false }]]);
  assert.deepEqual(batches(cont, { maxBytes: 3, maxLines: 10 }), [[{ text: 'abc', concat: false }], [{ text: 'def', concat: false }], [{ text: 'x', concat: false }]]);
  assert.deepEqual(parseMultilineCap('max-bytes=4096,max-lines=24'), { maxBytes: 4096, maxLines: 24 });
  assert.deepEqual(parseMultilineCap('max-bytes=4096'), { maxBytes: 4096, maxLines: Infinity });
  assert.equal(parseMultilineCap('max-lines=5'), undefined);
  assert.equal(parseMultilineCap(undefined), undefined);
});

test('messageLines: one plain line when it fits; a batch with concat tags; one PRIVMSG per line without the capability', () => {
  const o = { nick: 'me', limits: { maxBytes: 4096, maxLines: 100 } };
  assert.deepEqual(messageLines('PRIVMSG', '#c', 'hello', { ...o, nextRef: refs() }), ['PRIVMSG #c hello']);
  assert.deepEqual(messageLines('PRIVMSG', '#c', 'a\n\nb c', { ...o, nextRef: refs() }), [
    'BATCH +r1 draft/multiline #c', '@batch=r1 PRIVMSG #c a', '@batch=r1 PRIVMSG #c :', '@batch=r1 PRIVMSG #c :b c', 'BATCH -r1',
  ]);
  const long = messageLines('NOTICE', '#c', 'x'.repeat(1000), { ...o, nextRef: refs() });
  assert.match(long[0]!, /^BATCH \+r1 draft\/multiline #c$/);
  assert.match(long[2]!, /^@batch=r1;draft\/multiline-concat NOTICE #c x+$/);
  assert.ok(long.every((l) => bytes(l) <= 512), 'every line fits');
  assert.deepEqual(messageLines('PRIVMSG', 'bob', 'one\n\ntwo\n', { nick: 'me', limits: undefined, nextRef: refs() }), ['PRIVMSG bob one', 'PRIVMSG bob two']);
  assert.deepEqual(messageLines('PRIVMSG', 'bob', ' \n', { ...o, nextRef: refs() }), [], 'nothing to say');
});

test('assembleMultiline: a batch is one message with the start\'s tags; other lines pass; an unfinished batch says nothing', () => {
  const lines = [
    '@batch=h1 :srv BATCH +m1 draft/multiline #c', // nested in a chathistory batch
    ':srv PING x',
    '@batch=m1 :a!u@h PRIVMSG #c :hello',
    '@batch=m1;draft/multiline-concat :a!u@h PRIVMSG #c : world',
    '@batch=m1 :a!u@h PRIVMSG #c :',
    '@batch=m1 :a!u@h PRIVMSG #c :end',
    ':srv BATCH -m1',
    ':srv BATCH +m2 draft/multiline #c',
    '@batch=m2 :a!u@h PRIVMSG #c :never ends',
  ].map((l) => parseMessage(l)!);
  lines[0]!.tags.set('msgid', 'id1').set('time', '2026-01-01T00:00:00.000Z');
  lines[0]!.source = 'a!u@h';
  const out = assembleMultiline(lines);
  assert.deepEqual(out.map((m: IrcMessage) => [m.command, m.source, m.params]), [['PING', 'srv', ['x']], ['PRIVMSG', 'a!u@h', ['#c', 'hello world\n\nend']]]);
  assert.deepEqual([...out[1]!.tags], [['msgid', 'id1'], ['time', '2026-01-01T00:00:00.000Z']], 'the start\'s tags, not its batch');
});

async function client(srv: TestServer, nick: string, caps?: string[]): Promise<FreeqClient> {
  const c = new FreeqClient({ url: `irc://127.0.0.1:${srv.port}`, nick, ...(caps ? { caps } : {}) });
  clients.push(c);
  await c.connect();
  return c;
}
const joined = async (c: FreeqClient, channel: string): Promise<void> => {
  const j = new Promise<void>((resolve) => c.on('join', (ev) => { if (ev.self && ev.channel === channel) resolve(); }));
  c.join(channel);
  await j;
};
/** messages of `from` that `c` hears until `last` holds for one */
const hear = (c: FreeqClient, from: string, last: (m: MessageEvent) => boolean): Promise<string[]> => new Promise((resolve) => {
  const got: string[] = [];
  c.on('message', (m) => { if (m.from !== from) return; got.push(m.text); if (last(m)) resolve(got); });
});

test('over a real server: lines and a long line as one message (live and in history), max-lines respected, a plain client\'s batch, one line each without the cap', async () => {
  const srv = await bootServer({ 'multiline-max-lines': 4 });
  servers.push(srv);
  const alice = await client(srv, 'alice');
  const bob = await client(srv, 'bob');
  assert.ok(alice.enabledCaps.has('draft/multiline'), 'requested by default');
  const refused: string[] = [];
  alice.on('raw', (line, m) => { if (m?.command === 'FAIL' || /^4\d\d$/.test(m?.command ?? '')) refused.push(line); });
  await joined(alice, '#ml');
  await joined(bob, '#ml');
  const ml = await srv.client('mlpeer', { caps: ['batch', 'draft/multiline', 'message-tags'] });
  const plain = await srv.client('plain');
  ml.send('JOIN #ml');
  plain.send('JOIN #ml');
  await ml.expect(/ 366 mlpeer #ml /);
  await plain.expect(/ 366 plain #ml /);

  const text = 'first line\nsecond line\n\nafter a blank line';
  const first = hear(bob, 'alice', () => true);
  alice.privmsg('#ml', `${text}\n\n`);
  assert.deepEqual(await first, [text], 'one message; the trailing blank lines left out');
  assert.match(await ml.expect(/:alice!\S+ BATCH \+\S+ draft\/multiline #ml$/), /msgid=/, 'one batch, its msgid on the start');
  for (const l of ['first line', 'second line', 'after a blank line']) await plain.expect(new RegExp(`^:alice!\\S+ PRIVMSG #ml :${l}$`));

  const long = `${'many words '.repeat(90)}and an end`;
  const heardLong = hear(bob, 'alice', () => true);
  alice.privmsg('#ml', long);
  assert.deepEqual(await heardLong, [long], 'cut into concat lines, the same text again');

  const ten = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`);
  const heardTen = hear(bob, 'alice', (m) => m.text.endsWith('line 10'));
  alice.privmsg('#ml', ten.join('\n'));
  const three = await heardTen;
  assert.deepEqual(three, ['line 1\nline 2\nline 3\nline 4', 'line 5\nline 6\nline 7\nline 8', 'line 9\nline 10'], 'max-lines 4: three messages');

  const fromPeer = hear(bob, 'mlpeer', () => true);
  ml.send('BATCH +p1 draft/multiline #ml', '@batch=p1 PRIVMSG #ml :hello', '@batch=p1;draft/multiline-concat PRIVMSG #ml : world', '@batch=p1 PRIVMSG #ml :next', 'BATCH -p1');
  assert.deepEqual(await fromPeer, ['hello world\nnext']);

  let h = await bob.history('#ml', { limit: 20 });
  for (let i = 0; i < 100 && !h.some((m) => m.from === 'mlpeer'); i++) h = await bob.history('#ml', { limit: 20 });
  assert.deepEqual(h.map((m) => m.text), [text, long, ...three, 'hello world\nnext'], 'each message once, whole');
  assert.ok(h.every((m) => m.msgid !== undefined && m.time !== undefined));

  const bare = await client(srv, 'bare', ['message-tags', 'server-time']);
  await joined(bare, '#ml');
  const two = hear(bob, 'bare', (m) => m.text === 'two');
  bare.privmsg('#ml', 'one\ntwo');
  assert.deepEqual(await two, ['one', 'two'], 'without the capability: one PRIVMSG per line');
  assert.deepEqual(refused, [], 'nothing refused');
});
