import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type EventMeta } from '../../../src/state/bus.js';
import type { StateEvent } from '../../../src/state/events.js';
import { decodeHlc, encodeHlc, HybridClock, MAX_HLC_DRIFT_MS, stampAfter } from '../../../src/state/hlc.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { toWire } from '../../../src/state/wire.js';
import { sampleEvents } from './event-fixtures.js';

// #13: the event bus (origin, per-origin sequence, HLC stamp), the hybrid logical clock, and the
// serialisable form of every event kind.

const link: Recipient = { tagMask: 0, hasCap: () => false, deliver() {}, disconnect() {} };
const ORIGIN = 'ab'.repeat(32);

describe('HybridClock', () => {
  test('follows wall-clock time; never goes backwards; ticks within one millisecond', () => {
    let t = 1_000;
    const c = new HybridClock(() => t);
    assert.equal(c.now(), encodeHlc(1_000, 0));
    assert.equal(c.now(), encodeHlc(1_000, 1));
    t = 999; // the wall clock stepped back
    assert.equal(c.now(), encodeHlc(1_000, 2));
    t = 2_000;
    assert.equal(c.now(), encodeHlc(2_000, 0));
  });

  test('string order is time order (fixed width)', () => {
    const a = encodeHlc(999, 999_999), b = encodeHlc(1_000, 0), c = encodeHlc(1_000, 10);
    assert.ok(a < b && b < c);
    assert.deepEqual(decodeHlc(c), { wall: 1_000, logical: 10 });
    assert.equal(decodeHlc('1000.1'), undefined);
    assert.equal(decodeHlc('x'.repeat(20)), undefined);
  });

  test('receive: moves past a peer\'s stamp, so the next local change orders after it', () => {
    let t = 1_000;
    const c = new HybridClock(() => t);
    c.now();
    const remote = encodeHlc(5_000, 7); // a peer's clock is ahead (within the drift)
    assert.equal(c.receive(remote), true);
    const next = c.now();
    assert.ok(next > remote, `${next} after ${remote}`);
    assert.equal(next, encodeHlc(5_000, 9));
    t = 6_000;
    assert.equal(c.now(), encodeHlc(6_000, 0));
  });

  test('receive: a stamp far in the future or malformed is refused and changes nothing', () => {
    const c = new HybridClock(() => 1_000);
    const before = c.now();
    assert.equal(c.receive(encodeHlc(1_000 + MAX_HLC_DRIFT_MS + 1, 0)), false);
    assert.equal(c.receive('not a stamp'), false);
    assert.equal(c.now(), encodeHlc(1_000, 1), `after ${before}`);
  });

  test('the logical counter overflowing borrows the next millisecond, order kept', () => {
    const c = new HybridClock(() => 1_000);
    assert.equal(c.receive(encodeHlc(1_000, 999_999)), true);
    const s = c.now();
    assert.ok(s > encodeHlc(1_000, 999_999));
  });

  test('LWW ties are broken by origin, the same on every server', () => {
    const x = { hlc: encodeHlc(1, 0), origin: 'a' }, y = { hlc: encodeHlc(1, 0), origin: 'b' };
    assert.equal(stampAfter(y, x), true);
    assert.equal(stampAfter(x, y), false);
    assert.equal(stampAfter({ hlc: encodeHlc(2, 0), origin: 'a' }, y), true);
  });
});

describe('EventBus', () => {
  const user = (nick: string): User => {
    const u = new User(1, '192.0.2.1', false, link, 0, 'h');
    u.uid = 'ABABABAB000001';
    u.nick = nick;
    u.username = 'u';
    return u;
  };

  test('stamps our origin, a per-origin sequence and increasing HLC stamps; subscribers in order, by kind', () => {
    let t = 10_000;
    const errors: string[] = [];
    const bus = new EventBus(ORIGIN, new HybridClock(() => t), (_e, name) => errors.push(name));
    const seen: string[] = [];
    const metas: EventMeta[] = [];
    bus.subscribe('all', (ev, m) => { seen.push(`all:${ev.kind}`); metas.push(m); });
    bus.on('away-only', 'away', (ev) => seen.push(`away:${ev.user.nick}`));
    const u = user('amy');
    bus.publish({ kind: 'setname', user: u });
    bus.publish({ kind: 'away', user: u });
    t = 10_000; // same millisecond
    bus.publish({ kind: 'away', user: u });
    assert.deepEqual(seen, ['all:setname', 'all:away', 'away:amy', 'all:away', 'away:amy']);
    assert.deepEqual(metas.map((m) => [m.origin, m.seq]), [[ORIGIN, 1], [ORIGIN, 2], [ORIGIN, 3]]);
    assert.ok(metas[0]!.hlc < metas[1]!.hlc && metas[1]!.hlc < metas[2]!.hlc);
    assert.equal(bus.lastSeq, 3);
    assert.deepEqual(errors, []);
  });

  test('a subscriber that throws is reported and skipped; the others still hear of the change', () => {
    const errors: string[] = [];
    const bus = new EventBus(ORIGIN, new HybridClock(() => 1), (e, name, ev) => errors.push(`${name}:${ev.kind}:${(e as Error).message}`));
    const after: string[] = [];
    bus.subscribe('broken', () => { throw new Error('boom'); });
    const off = bus.subscribe('fine', (ev) => after.push(ev.kind));
    bus.publish({ kind: 'setname', user: user('x') });
    assert.deepEqual(errors, ['broken:setname:boom']);
    assert.deepEqual(after, ['setname']);
    off();
    bus.publish({ kind: 'setname', user: user('x') });
    assert.deepEqual(after, ['setname'], 'unsubscribed');
  });
});

describe('toWire: every event kind is plain data', () => {
  const { events } = sampleEvents();

  test('all kinds are covered here', () => {
    // a Record over the union's kinds: a new kind does not compile until it is listed here
    const ALL: Record<StateEvent['kind'], true> = {
      join: true, part: true, kick: true, quit: true, nick: true, topic: true, 'channel-mode': true, 'user-mode': true,
      away: true, setname: true, chghost: true, invite: true, 'server-notice': true, account: true, 'channel-dropped': true,
      message: true, lockdown: true, register: true, 'nick-owner': true, 'did-op': true, handle: true, 'server-ban': true,
      knock: true, redact: true,
    };
    assert.deepEqual(new Set(events.map((e) => e.kind)), new Set(Object.keys(ALL)));
  });

  for (const ev of events) {
    test(`${ev.kind}${ev.kind === 'message' ? ` ${ev.command}` : ''}: survives JSON unchanged, names users by uid, holds no address`, () => {
      const w = toWire(ev);
      assert.deepEqual(JSON.parse(JSON.stringify(w)), w, 'plain data only');
      const text = JSON.stringify(w);
      assert.ok(!text.includes('192.0.2.'), 'no real address');
      assert.equal(w.kind, ev.kind);
      if ('user' in ev) assert.equal((w as { user: { uid: string } }).user.uid, ev.user.uid);
    });
  }

  test('kick: the kicker travels as an actor (by uid), so the receiver can authorize it again', () => {
    assert.deepEqual(toWire(events[2]!), {
      kind: 'kick', source: 'wendy!w@cloak.host', by: { kind: 'user', user: { uid: 'ABABABAB00000A', nick: 'wendy', username: 'w', host: 'cloak.host', account: 'did:plc:wendy' } },
      channel: '#Room', target: { uid: 'ABABABAB00000B', nick: 'vic', username: 'v', host: 'other.host' }, reason: 'r',
    });
  });

  test('message: what a peer needs to deliver and verify it (a multiline message as its lines only: no line feed on the wire)', () => {
    assert.deepEqual(toWire(events[15]!), {
      kind: 'message', from: { uid: 'ABABABAB00000A', nick: 'wendy', username: 'w', host: 'cloak.host', account: 'did:plc:wendy' },
      command: 'PRIVMSG', target: '@#Room', channel: '#Room', minRank: 'o',
      lines: [{ text: 'a', concat: false }, { text: 'b', concat: false }], tags: { '+freeq.at/sig': 's' }, msgid: 'm1', at: 11,
    });
  });
});
