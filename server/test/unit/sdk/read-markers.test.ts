import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ed25519Signer, FreeqClient, generateSecretKey, parseMessage, readMarkerOf, ReadMarkerSender,
  type CryptoSasl, type FreeqClientOptions, type MarkerClock, type ReadMarkerEvent,
} from '../../../../sdk/src/index.js';
import { bootServer, type TestServer } from '../../harness/server.js';

// The SDK's draft/read-marker (#15, sdk/src/read-markers.ts): markRead() sends MARKREAD at most
// once a second per target (the newest time wins), the server's MARKREAD lines come as
// `readMarker` events; over a real server, two sessions of one account (logged in with a did:key)
// share the marker, a later session gets it on JOIN, and a guest's works for its connection.

const servers: TestServer[] = [];
const clients: FreeqClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.stop();
});

/** a clock the test moves by hand */
class ManualClock implements MarkerClock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = ++this.next; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(id: unknown): void { this.timers = this.timers.filter((x) => x.id !== id); }
  advance(ms: number): void {
    this.t += ms;
    for (const due of this.timers.filter((x) => x.at <= this.t)) { this.clearTimeout(due.id); due.fn(); }
  }
}

const iso = (ms: number): string => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

test('ReadMarkerSender: the first at once, the next within a second folded into one with the newest time; nothing older than what was sent or heard', () => {
  const clock = new ManualClock();
  const sent: string[] = [];
  const s = new ReadMarkerSender((target, time) => sent.push(`${target} ${time}`), 1000, clock);
  s.mark('#a', iso(10));
  assert.deepEqual(sent, [`#a ${iso(10)}`]);
  s.mark('#a', iso(20));
  s.mark('#a', iso(30));
  s.mark('#a', iso(25)); // older than the one waiting
  s.mark('#b', iso(5)); // another target: its own second
  assert.deepEqual(sent, [`#a ${iso(10)}`, `#b ${iso(5)}`]);
  clock.advance(999);
  assert.equal(sent.length, 2);
  clock.advance(1);
  assert.deepEqual(sent.slice(2), [`#a ${iso(30)}`]);
  clock.advance(5000);
  s.mark('#A', iso(30)); // not after what was sent (targets are case-insensitive)
  s.heard('#b', iso(50)); // another session read further
  s.mark('#b', iso(40));
  assert.equal(sent.length, 3);
  s.mark('#b', iso(60));
  assert.deepEqual(sent.slice(3), [`#b ${iso(60)}`]);
  // reset (a new connection): nothing waiting is sent, the markers are the server's again
  s.mark('#b', iso(70));
  s.reset();
  clock.advance(5000);
  assert.equal(sent.length, 4);
  s.mark('#b', iso(60));
  assert.deepEqual(sent.slice(4), [`#b ${iso(60)}`]);
  assert.throws(() => s.mark('#a', 'yesterday'), /not a time/);
});

test('readMarkerOf: a marker, none (`*`), and what is not one', () => {
  const of = (l: string): ReadMarkerEvent | undefined => readMarkerOf(parseMessage(l)!);
  assert.deepEqual(of(':srv MARKREAD #c timestamp=2026-01-01T00:00:00.000Z'), { target: '#c', time: '2026-01-01T00:00:00.000Z' });
  assert.deepEqual(of(':srv MARKREAD bob *'), { target: 'bob', time: undefined });
  assert.equal(of(':srv MARKREAD #c timestamp=never'), undefined);
  assert.equal(of(':srv MARKREAD #c'), undefined);
  assert.equal(of(':srv PRIVMSG #c :timestamp=2026-01-01T00:00:00.000Z'), undefined);
});

async function client(srv: TestServer, nick: string, extra: Partial<FreeqClientOptions> = {}): Promise<FreeqClient> {
  const c = new FreeqClient({ url: `irc://127.0.0.1:${srv.port}`, nick, ...extra });
  clients.push(c);
  await c.connect();
  return c;
}
const joined = async (c: FreeqClient, channel: string): Promise<void> => {
  const j = c.next('join');
  c.join(channel);
  const [ev] = await j;
  assert.ok(ev.self && ev.channel === channel);
};
/** the next `readMarker` event of `c` for which `pred` holds (set up before what causes it) */
const marker = (c: FreeqClient, pred: (ev: ReadMarkerEvent) => boolean): Promise<ReadMarkerEvent> => new Promise((resolve) => {
  const fn = (ev: ReadMarkerEvent): void => { if (pred(ev)) { c.off('readMarker', fn); resolve(ev); } };
  c.on('readMarker', fn);
});

test('over a real server: two sessions of one account share the marker, a later one gets it on JOIN; guests get theirs; no capability, nothing sent', async () => {
  const srv = await bootServer();
  servers.push(srv);
  const key = ed25519Signer(generateSecretKey('ed25519'));
  const sasl: CryptoSasl = { mechanism: 'ATPROTO-CHALLENGE', method: 'crypto', did: key.did, sign: key };
  const phone = await client(srv, 'phone', { sasl, requireSasl: true });
  const laptop = await client(srv, 'laptop', { sasl, requireSasl: true });
  assert.equal(phone.did, key.did);
  assert.ok(phone.enabledCaps.has('draft/read-marker'), 'requested by default');
  const none = marker(phone, (ev) => ev.target === '#rm');
  await joined(phone, '#rm');
  assert.deepEqual(await none, { target: '#rm', time: undefined }, 'no marker yet: `*` on JOIN');
  await joined(laptop, '#rm');

  const talker = await client(srv, 'talker');
  await joined(talker, '#rm');
  const times: string[] = [];
  const sixth = new Promise<void>((resolve) => phone.on('message', (m) => { if (m.from !== 'talker') return; times.push(m.tags.time!); if (m.text === 'six') resolve(); }));
  // a few ms apart: server times have millisecond resolution, and the marks below need six distinct ones
  for (const t of ['one', 'two', 'three', 'four', 'five', 'six']) { talker.privmsg('#rm', t); await new Promise((r) => setTimeout(r, 5)); }
  await sixth;
  assert.equal(times.length, 6);
  assert.equal(new Set(times).size, 6, `distinct times: ${times.join(' ')}`);

  const own = marker(phone, (ev) => ev.time === times[0]);
  const other = marker(laptop, (ev) => ev.time !== undefined);
  assert.equal(phone.markRead('#rm', times[0]!), true);
  assert.deepEqual(await other, { target: '#rm', time: times[0] }, 'the other session of the account hears it');
  await own;

  const tablet = await client(srv, 'tablet', { sasl, requireSasl: true });
  const onJoin = marker(tablet, (ev) => ev.target === '#rm');
  await joined(tablet, '#rm');
  assert.deepEqual(await onJoin, { target: '#rm', time: times[0] }, 'a later session gets it on JOIN');

  // marks in a row on a channel not marked yet: the first at once, the rest folded into one
  await joined(phone, '#rm2');
  await joined(laptop, '#rm2');
  const answers: string[] = [];
  phone.on('readMarker', (ev) => { if (ev.target === '#rm2' && ev.time !== undefined) answers.push(ev.time); });
  const newest = marker(phone, (ev) => ev.target === '#rm2' && ev.time === times[5]);
  const toLaptop = marker(laptop, (ev) => ev.target === '#rm2' && ev.time === times[5]);
  for (const t of times.slice(1)) phone.markRead('#rm2', t);
  await newest;
  await toLaptop;
  assert.deepEqual(answers, [times[1], times[5]], 'two MARKREADs sent for five marks');

  // a guest: `*` on JOIN, then its own marker for as long as it is connected
  const guest = await client(srv, 'guest');
  const guestNone = marker(guest, (ev) => ev.target === '#rm');
  await joined(guest, '#rm');
  assert.deepEqual(await guestNone, { target: '#rm', time: undefined });
  const guestMark = marker(guest, (ev) => ev.time !== undefined);
  assert.equal(guest.markRead('#rm', times[3]!), true);
  assert.deepEqual(await guestMark, { target: '#rm', time: times[3] });
  assert.equal(guest.did, undefined);

  const bare = await client(srv, 'bare', { caps: ['server-time'] });
  const lines: string[] = [];
  bare.on('raw', (l) => lines.push(l));
  assert.equal(bare.markRead('#rm', times[3]!), false, 'the capability is not enabled');
  bare.raw('PING :sync');
  await new Promise<void>((resolve) => bare.on('raw', (_l, m) => { if (m?.command === 'PONG') resolve(); }));
  assert.ok(!lines.some((l) => / MARKREAD /.test(l)), 'no MARKREAD answered: none sent');
});
