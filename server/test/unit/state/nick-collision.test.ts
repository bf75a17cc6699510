import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyError } from '../../../src/protocol/reply-error.js';
import type { Cloaks } from '../../../src/state/cloak.js';
import type { StateEvent } from '../../../src/state/events.js';
import { collisionLoser, serverIdPrefix } from '../../../src/state/ids.js';
import { MaskList } from '../../../src/state/mask-list.js';
import { Ops } from '../../../src/state/ops.js';
import type { AccountStore, ChannelStore } from '../../../src/state/store.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';

// #13: network-wide user ids and the nick-collision rule federation will use, with two simulated
// origins: server A (this Ops) and server B (a peer whose users Ops.addRemoteUser introduces).
// Rule (state/ids.ts): the DID owning the nick wins; else the earlier registration; else the
// smaller uid. The loser is renamed, never killed, and both servers pick the same loser.

const A = 'a1b2c3d4'.repeat(8); // this server's peer id (64 hex)
const B = 'f0e1d2c3'.repeat(8); // the peer's
const OWNER = 'did:key:z6MkownerownerownerownerownerownerownerownerXXXX';

const noStore: ChannelStore = {
  loadAll: () => [], saveChannel() {}, deleteChannel() {}, addListEntry() {}, removeListEntry() {}, setListTombstone() {}, removeListTombstone() {},
  addDidOp() {}, removeDidOp() {}, addDidInvite() {}, removeDidInvite() {},
};
const accounts: AccountStore = { loadAll: () => [{ did: OWNER, nick: 'Carol', nickFolded: 'carol', lastLoginAt: 0 }], save() {} };
const link: Recipient = { tagMask: 0, hasCap: () => false, deliver() {}, disconnect() {} };

function serverA() {
  const world = new World();
  const events: StateEvent[] = [];
  const clock = { t: 1_000 };
  const ops = new Ops(world, noStore, accounts, (ev) => events.push(ev), {
    maxListEntries: 100, whowasLen: 10, maxChannels: 100, operDids: [], cloaks: {} as Cloaks,
    maxChannelsTotal: 1000, maxChannelsPerAccount: 50, channelExpiry: 0, foundedChannelExpiry: 0, serverId: A,
  }, { now: () => clock.t });
  ops.restore();
  ops.guestNumber = () => 10000;
  let ids = 0;
  /** a local user registered at `at` */
  const local = (nick: string, at: number, account?: string): User => {
    const u = new User(++ids, '192.0.2.7', false, link, at, 'local.host');
    u.username = 'u';
    ops.addUser(u);
    ops.setNick(u, nick);
    u.account = account;
    ops.completeRegistration(u);
    return u;
  };
  let remoteN = 0;
  /** a user of server B, registered there at `at` */
  const remote = (nick: string, at: number, account?: string): User => {
    const u = new User(++ids, '', false, link, at, 'remote.host');
    u.origin = B;
    u.uid = `${serverIdPrefix(B)}${String(remoteN++).padStart(6, '0')}`;
    u.username = 'r';
    u.nick = nick;
    u.nickFolded = nick.toLowerCase();
    u.account = account;
    return u;
  };
  return { world, events, ops, local, remote, clock };
}

describe('#13 network-wide user ids', () => {
  test('local users get ids with this server\'s prefix, all distinct; a remote user keeps its own', () => {
    const s = serverA();
    const a = s.local('alice', 1), b = s.local('bob', 1);
    assert.match(a.uid, /^A1B2C3D4[0-9A-Z]{6}$/);
    assert.notEqual(a.uid, b.uid);
    assert.equal(a.local, true);
    const r = s.remote('rita', 1);
    s.ops.addRemoteUser(r);
    assert.match(r.uid, /^F0E1D2C3/);
    assert.equal(r.local, false);
    assert.equal(s.world.findUser('rita'), r);
    assert.equal(s.world.registeredCount, 3);
  });

  test('a remote user without origin or uid is refused', () => {
    const s = serverA();
    const r = s.remote('x', 1);
    r.origin = undefined;
    assert.throws(() => s.ops.addRemoteUser(r), /origin and uid/);
  });

  test('ban masks: a local user matches on its real IP too, a remote user only on what every server knows', () => {
    const s = serverA();
    const l = s.local('loc', 1);
    const r = s.remote('rem', 1);
    s.ops.addRemoteUser(r);
    const byIp = new MaskList([{ mask: '*!*@192.0.2.7', setBy: 'x', setAt: 0 }]);
    assert.equal(byIp.matches(s.ops.maskSubject(l)), true);
    const anyIpOfRemote = new MaskList([{ mask: '*!*@', setBy: 'x', setAt: 0 }]);
    assert.equal(anyIpOfRemote.matches(s.ops.maskSubject(r)), false, 'the remote user\'s empty address is never matched');
    const byHost = new MaskList([{ mask: 'rem!*@remote.host', setBy: 'x', setAt: 0 }]);
    assert.equal(byHost.matches(s.ops.maskSubject(r)), true);
  });
});

describe('#13 nick collisions (two origins)', () => {
  test('no owner, the local user registered first: the remote user comes in renamed, the local one is untouched', () => {
    const s = serverA();
    const l = s.local('dave', 100);
    const r = s.remote('Dave', 200);
    const before = s.events.length;
    assert.equal(s.ops.addRemoteUser(r), r);
    assert.equal(l.nick, 'dave');
    assert.equal(r.nick, 'Guest10000');
    assert.equal(s.world.findUser('dave'), l);
    assert.equal(s.world.findUser('Guest10000'), r);
    // no NICK for a user nobody has seen yet: only its introduction, under the nick it got (MONITOR follows `register`)
    assert.deepEqual(s.events.slice(before).map((e) => [e.kind, 'user' in e ? e.user.nick : '']), [['register', 'Guest10000']]);
  });

  test('no owner, the remote user registered first: the local user is renamed (NICK + notice), not killed', () => {
    const s = serverA();
    const l = s.local('erin', 300);
    const r = s.remote('ERIN', 200);
    s.events.length = 0;
    assert.equal(s.ops.addRemoteUser(r), l);
    assert.equal(l.nick, 'Guest10000');
    assert.equal(r.nick, 'ERIN');
    assert.equal(s.world.users.has(l.id), true, 'still connected');
    // the local user's rename first, then the remote user comes online under the nick
    assert.deepEqual(s.events.map((e) => e.kind), ['nick', 'server-notice', 'register']);
    const notice = s.events[1] as Extract<StateEvent, { kind: 'server-notice' }>;
    assert.equal(notice.target, l);
    assert.match(notice.text, /^Nick erin is registered to another identity; you are now Guest10000\./);
  });

  test('the DID that owns the nick wins whatever the times: a remote owner takes it from an earlier local guest', () => {
    const s = serverA();
    const l = s.local('Carol2', 1); // a guest
    // a guest cannot take an owned nick here; the race: the nick was not yet owned when each side took it
    s.world.nickOwners.delete('carol');
    s.ops.setNick(l, 'carol');
    s.world.nickOwners.set('carol', OWNER);
    const r = s.remote('Carol', 500, OWNER);
    assert.equal(s.ops.addRemoteUser(r), l);
    assert.equal(r.nick, 'Carol');
    assert.equal(l.nick, 'Guest10000');
  });

  test('the owner on this server keeps the nick against an earlier remote user', () => {
    const s = serverA();
    const l = s.local('Carol', 900, OWNER);
    const r = s.remote('carol', 1);
    assert.equal(s.ops.addRemoteUser(r), r);
    assert.equal(l.nick, 'Carol');
    assert.equal(r.nick, 'Guest10000');
  });

  test('same registration time: the smaller uid wins, and both servers pick the same loser', () => {
    const s = serverA();
    const l = s.local('frank', 50);
    const r = s.remote('frank', 50);
    assert.ok(l.uid < r.uid); // A1B2… < F0E1…
    assert.equal(collisionLoser(l, r, undefined), r);
    assert.equal(collisionLoser(r, l, undefined), r, 'argument order does not matter');
    assert.equal(s.ops.addRemoteUser(r), r);
    assert.equal(l.nick, 'frank');
  });

  test('a remote nick change onto a local nick follows the rule; a local user gets 433 as before', () => {
    const s = serverA();
    const l = s.local('gina', 10);
    const r = s.remote('rob', 5);
    s.ops.addRemoteUser(r);
    s.events.length = 0;
    s.ops.setNick(r, 'Gina'); // r registered earlier: r wins
    assert.equal(r.nick, 'Gina');
    assert.equal(l.nick, 'Guest10000');
    assert.deepEqual(s.events.map((e) => e.kind), ['nick', 'server-notice', 'nick']);
    const m = s.local('mia', 1);
    assert.throws(() => s.ops.setNick(m, 'gina'), (e: unknown) => e instanceof ReplyError && e.code === '433');
    const late = s.remote('late', 99);
    s.ops.addRemoteUser(late);
    s.ops.setNick(late, 'MIA'); // registered after mia: late loses and is renamed instead
    assert.equal(m.nick, 'mia');
    assert.match(late.nick, /^Guest\d+$/);
  });
});
