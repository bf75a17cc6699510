import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyError } from '../../../src/protocol/reply-error.js';
import type { Channel } from '../../../src/state/channel.js';
import type { Cloaks } from '../../../src/state/cloak.js';
import type { StateEvent } from '../../../src/state/events.js';
import { Ops, type OpsLimits } from '../../../src/state/ops.js';
import type { AccountStore, ChannelStore, PersistedChannel } from '../../../src/state/store.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';

// #12 finding 8: the expiry of empty channels (state/channel-lifecycle.ts), driven through Ops (its
// only caller) with a manual clock and an in-memory store, restarts included: a restart must not
// reset a grace period, founded channels expire after founded-channel-expiry and can be reclaimed
// at max-channels-total, and every drop is a `channel-dropped` event.

const E = 60_000; // channel-expiry
const F = 600_000; // founded-channel-expiry
const DID = 'did:key:z6MkfounderfounderfounderfounderfounderfounderXX';
const DID2 = 'did:key:z6MkotherotherotherotherotherotherotherotherXXXX';

/** the rows a restart reads back (what storage/repos/channels.ts keeps, for these tests) */
class MemoryStore implements ChannelStore {
  readonly rows = new Map<string, PersistedChannel>();
  loadAll(): PersistedChannel[] { return [...this.rows.values()].map((r) => ({ ...r })); }
  saveChannel(ch: Channel): void {
    const modes = (['i', 'm', 'n', 'p', 's', 't'] as const).filter((f) => ch.modes[f]).join('');
    this.rows.set(ch.folded, {
      name: ch.name, createdAt: ch.createdAt, topic: ch.topic, modes, lists: { b: [], e: [], I: [] },
      founder: ch.founder, didOps: [], didInvites: [], emptySince: ch.emptySince,
    });
  }
  deleteChannel(folded: string): void { this.rows.delete(folded); }
  addListEntry(): void {}
  removeListEntry(): void {}
  setListTombstone(): void {}
  removeListTombstone(): void {}
  addDidOp(): void {}
  removeDidOp(): void {}
  addDidInvite(): void {}
  removeDidInvite(): void {}
}

const accounts: AccountStore = { loadAll: () => [], save: () => {} };
const link: Recipient = { tagMask: 0, hasCap: () => false, deliver: () => {}, disconnect: () => {} };

/** one server life on `store`: world, Ops, events; `restart()` is a new life on the same rows */
function server(store: MemoryStore, clock: { t: number }, limits: Partial<OpsLimits> = {}) {
  const world = new World();
  const events: StateEvent[] = [];
  const ops = new Ops(world, store, accounts, (ev) => events.push(ev), {
    maxListEntries: 100, whowasLen: 0, maxChannels: 100, operDids: [], cloaks: {} as Cloaks,
    maxChannelsTotal: 1000, maxChannelsPerAccount: 50, channelExpiry: E, foundedChannelExpiry: F,
    ...limits,
  }, { now: () => clock.t });
  ops.restore();
  let ids = 0;
  const user = (nick: string, account?: string) => {
    const u = new User(++ids, '192.0.2.1', false, link, clock.t, 'h');
    u.nick = nick;
    u.account = account;
    return u;
  };
  /** create `name` (a topic, so it is worth keeping), then leave it empty */
  const leftEmpty = (name: string, account?: string) => {
    const u = user('maker', account);
    ops.join(u, name, undefined);
    const ch = world.findChannel(name)!;
    ops.setTopic(u, ch, 'kept');
    ops.part(u, ch);
    return ch;
  };
  const dropped = () => events.flatMap((e) => e.kind === 'channel-dropped' ? [`${e.channel.name} ${e.reason}`] : []);
  return { world, ops, events, user, leftEmpty, dropped, has: (name: string) => world.findChannel(name) !== undefined };
}

describe('channel expiry with a manual clock (state/channel-lifecycle.ts)', () => {
  test('a restart keeps the grace period: emptied at t0, restored at t0 + 0.9 E, still there; gone at t0 + E, also from the store', () => {
    const store = new MemoryStore();
    const clock = { t: 1_000_000 };
    const t0 = clock.t;
    server(store, clock).leftEmpty('#kept');
    assert.equal(store.rows.get('#kept')?.emptySince, t0);
    clock.t = t0 + 0.9 * E;
    const s = server(store, clock);
    assert.equal(s.has('#kept'), true, 'restored in its grace period');
    assert.equal(s.ops.expireChannels(), 0);
    assert.equal(s.has('#kept'), true);
    clock.t = t0 + E - 1;
    assert.equal(s.ops.expireChannels(), 0, 'not before t0 + E');
    clock.t = t0 + E;
    assert.equal(s.ops.expireChannels(), 1);
    assert.equal(s.has('#kept'), false, 'the restart did not start the grace period over');
    assert.equal(store.rows.has('#kept'), false);
    assert.deepEqual(s.dropped(), ['#kept expired']);
  });

  test('a restart after the grace period: not loaded, row deleted', () => {
    const store = new MemoryStore();
    const clock = { t: 5_000 };
    server(store, clock).leftEmpty('#late');
    clock.t += E;
    const s = server(store, clock);
    assert.equal(s.has('#late'), false);
    assert.equal(store.rows.has('#late'), false);
  });

  test('a founded channel expires after founded-channel-expiry, not channel-expiry; a plain one emptied later still expires on time', () => {
    const store = new MemoryStore();
    const clock = { t: 1_000_000 };
    const t0 = clock.t;
    const s = server(store, clock);
    s.leftEmpty('#founded', DID);
    assert.equal(store.rows.get('#founded')?.emptySince, t0, 'its emptySince is persisted');
    clock.t = t0 + 10;
    s.leftEmpty('#plain');
    // the founded channel was queued first and is not due: a single queue would stop at it
    clock.t = t0 + 10 + E;
    assert.equal(s.ops.expireChannels(), 1);
    assert.deepEqual([s.has('#founded'), s.has('#plain')], [true, false]);
    clock.t = t0 + F - 1;
    assert.equal(s.ops.expireChannels(), 0);
    clock.t = t0 + F;
    assert.equal(s.ops.expireChannels(), 1);
    assert.equal(s.has('#founded'), false);
    assert.equal(store.rows.has('#founded'), false);
    assert.deepEqual(s.dropped(), ['#plain expired', '#founded expired']);
  });

  test('a founded channel: a restart keeps its grace period too (0.9 F kept, F gone)', () => {
    const store = new MemoryStore();
    const clock = { t: 2_000_000 };
    const t0 = clock.t;
    server(store, clock).leftEmpty('#fr', DID);
    clock.t = t0 + 0.9 * F;
    const s = server(store, clock);
    assert.equal(s.has('#fr'), true);
    assert.equal(s.ops.expireChannels(), 0);
    clock.t = t0 + F;
    assert.equal(s.ops.expireChannels(), 1);
    assert.equal(s.has('#fr'), false);
    clock.t = t0 + 2 * F;
    const after = server(store, clock);
    assert.equal(after.has('#fr'), false, 'its row went with it');
  });

  test('joining a founded channel in its grace period stops the clock', () => {
    const store = new MemoryStore();
    const clock = { t: 0 };
    const s = server(store, clock);
    s.leftEmpty('#back', DID);
    clock.t = F - 1;
    s.ops.join(s.user('founder', DID), '#back', undefined);
    assert.equal(store.rows.get('#back')?.emptySince, undefined);
    clock.t = 10 * F;
    assert.equal(s.ops.expireChannels(), 0);
    assert.equal(s.has('#back'), true);
  });

  test('an expired founded channel no longer counts against its founder\'s max-channels-per-account', () => {
    const store = new MemoryStore();
    const clock = { t: 0 };
    const s = server(store, clock, { maxChannelsPerAccount: 1 });
    s.leftEmpty('#one', DID);
    assert.throws(() => s.ops.join(s.user('f', DID), '#two', undefined), (e: ReplyError) => e.text.startsWith('You have founded the maximum'));
    clock.t = F;
    s.ops.expireChannels();
    assert.equal(s.ops.join(s.user('f', DID), '#two', undefined), true);
  });

  test('at max-channels-total an empty founded channel is reclaimed (the empty channel closest to its expiry goes first)', () => {
    const store = new MemoryStore();
    const clock = { t: 0 };
    const s = server(store, clock, { maxChannelsTotal: 3 });
    s.leftEmpty('#f1', DID);
    s.leftEmpty('#f2', DID2);
    s.ops.join(s.user('busy'), '#busy', undefined);
    clock.t = F - 100;
    s.leftEmpty('#p'); // at the cap: #f1 and #f2 are due at F, #f1 was queued first
    assert.deepEqual(s.dropped(), ['#f1 reclaimed']);
    clock.t = F - 50;
    s.ops.join(s.user('late'), '#new', undefined); // #f2 is due at F, #p only at F - 100 + E
    assert.deepEqual(s.dropped(), ['#f1 reclaimed', '#f2 reclaimed']);
    assert.deepEqual([...s.world.channels.keys()].sort(), ['#busy', '#new', '#p']);
  });

  test('founded-channel-expiry 0: founded channels are kept for good and never reclaimed', () => {
    const store = new MemoryStore();
    const clock = { t: 0 };
    const s = server(store, clock, { foundedChannelExpiry: 0, maxChannelsTotal: 1 });
    s.leftEmpty('#forever', DID);
    assert.equal(store.rows.get('#forever')?.emptySince, undefined);
    clock.t = 1e12;
    assert.equal(s.ops.expireChannels(), 0);
    assert.throws(() => s.ops.join(s.user('x'), '#other', undefined), (e: ReplyError) => e.text.startsWith('The server has too many channels'));
    const again = server(store, clock, { foundedChannelExpiry: 0 });
    assert.equal(again.has('#forever'), true);
  });

  test('a channel with nothing to keep is dropped when emptied: channel-dropped "empty"', () => {
    const store = new MemoryStore();
    const s = server(store, { t: 0 });
    const u = s.user('u');
    s.ops.join(u, '#bare', undefined);
    s.ops.part(u, s.world.findChannel('#bare')!);
    assert.deepEqual(s.dropped(), ['#bare empty']);
  });
});
