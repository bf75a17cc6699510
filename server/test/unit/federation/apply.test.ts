import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteApplier, type Trust } from '../../../src/federation/apply.js';
import type { Cloaks } from '../../../src/state/cloak.js';
import type { StateEvent } from '../../../src/state/events.js';
import { encodeHlc } from '../../../src/state/hlc.js';
import { serverIdPrefix } from '../../../src/state/ids.js';
import type { MessageRecord } from '../../../src/state/message-ops.js';
import { Ops } from '../../../src/state/ops.js';
import type { AccountStore, ChannelStore } from '../../../src/state/store.js';
import { User, type Deliverable, type Recipient } from '../../../src/state/user.js';
import type { WireEvent, WireUser } from '../../../src/state/wire.js';
import { World } from '../../../src/state/world.js';

// #14 "One authorization path": a peer's events go through Ops with the remote user as the actor,
// after the checks only federation has (trust per kind, users must be the origin's own, uid
// prefixes, DIDs only from full peers). Server A is this Ops; B and C are peers.

const A = 'a1'.repeat(32);
const B = 'b2'.repeat(32);
const C = 'c3'.repeat(32);
const DID = 'did:plc:founderfounderfounder';
const noStore: ChannelStore = { loadAll: () => [], saveChannel() {}, deleteChannel() {}, addListEntry() {}, removeListEntry() {}, setListTombstone() {}, removeListTombstone() {}, addDidOp() {}, removeDidOp() {}, addDidInvite() {}, removeDidInvite() {} };
const accounts: AccountStore = { loadAll: () => [], save() {} };

function serverA(o: { maxUsersPerOrigin?: number } = {}) {
  const world = new World();
  const events: StateEvent[] = [];
  const recorded: MessageRecord[] = [];
  let signed = 0;
  const ops = new Ops(world, noStore, accounts, (ev) => events.push(ev), {
    maxListEntries: 100, whowasLen: 0, maxChannels: 100, operDids: [], cloaks: { did: () => 'did.cloak', guest: () => 'guest.cloak' } as unknown as Cloaks,
    maxChannelsTotal: 1000, maxChannelsPerAccount: 50, channelExpiry: 0, foundedChannelExpiry: 0, serverId: A,
    knocks: { knockChannelRate: 2, knockRateWindow: 60_000 },
  }, { now: () => 1_000_000 }, {
    onMessage: () => ({ action: 'allow' }), newMsgid: () => 'local-msgid', channelVenue: (n) => n.toLowerCase(), dmVenue: (a, b) => `dm:${a},${b}`,
    sign: (m) => { signed++; return new Map([...(m.tags ?? []), ['+freeq.at/sig', 'signed-by-A']]); },
    record: (m) => { recorded.push(m); return true; }, visibility: () => 0,
  });
  ops.guestNumber = () => 10000;
  let n = 0;
  /** a local user with a link that records what it is sent */
  const local = (nick: string, account?: string) => {
    const got: Deliverable[] = [];
    const link: Recipient = { tagMask: 0, hasCap: () => true, deliver: (o) => got.push(o), disconnect() {} };
    const u = new User(++n, '192.0.2.1', false, link, 500, 'local.host');
    ops.addUser(u);
    ops.setNick(u, nick);
    ops.setIdent(u, 'l', nick);
    if (account) ops.login(u, { did: account });
    ops.completeRegistration(u);
    return { u, got };
  };
  const applier = new RemoteApplier(ops, world, () => 2_000_000, o.maxUsersPerOrigin);
  return { world, ops, events, recorded, local, applier, signedCount: () => signed };
}

let seq = 0;
const wu = (origin: string, nick: string, account?: string): WireUser & { realname: string; signonAt: number } => ({
  uid: `${serverIdPrefix(origin)}${String(++seq).padStart(6, '0')}`, nick, username: 'r', host: 'remote.host', realname: nick, signonAt: 100, ...(account ? { account } : {}),
});
const ok = (r: { ok: boolean; reason?: string }) => assert.ok(r.ok, r.ok ? '' : r.reason);
const no = (r: { ok: boolean; reason?: string }, reason: RegExp) => { assert.equal(r.ok, false); assert.match(r.ok ? '' : r.reason!, reason); };

function scene(trust: Trust = 'full') {
  const s = serverA();
  const founder = s.local('Founder', DID);
  s.ops.join(founder.u, '#c', undefined);
  const far = wu(B, 'far');
  ok(s.applier.apply(B, trust === 'readonly' ? 'full' : trust, { kind: 'register', user: far }));
  ok(s.applier.apply(B, trust === 'readonly' ? 'full' : trust, { kind: 'join', user: far, channel: '#c', status: '', ts: 0 }));
  s.events.length = 0;
  founder.got.length = 0;
  return { ...s, founder, far, trust };
}

describe('remote users are introduced by their own server', () => {
  test('register: the user is in the world as remote, with the origin\'s uid; a relay peer\'s DID claim is dropped, a full peer\'s kept', () => {
    const s = serverA();
    const r = wu(B, 'rita', 'did:plc:rita');
    ok(s.applier.apply(B, 'relay', { kind: 'register', user: r }));
    const u = s.world.findUser('rita')!;
    assert.equal(u.local, false);
    assert.equal(u.origin, B);
    assert.equal(u.uid, r.uid);
    assert.equal(u.account, undefined, 'a relay peer cannot bring DID rights');
    const f = wu(B, 'fred', 'did:plc:fred');
    ok(s.applier.apply(B, 'full', { kind: 'register', user: f }));
    assert.equal(s.world.findUser('fred')!.account, 'did:plc:fred');
  });

  test('a uid with another server\'s prefix is refused; introducing a user again (a burst after a duplicate link) changes nothing', () => {
    const s = serverA();
    no(s.applier.apply(B, 'full', { kind: 'register', user: wu(C, 'x') }), /is not of origin/);
    const r = wu(B, 'y');
    ok(s.applier.apply(B, 'full', { kind: 'register', user: r }));
    ok(s.applier.apply(B, 'full', { kind: 'register', user: { ...r, nick: 'z' } }));
    assert.equal(s.world.findUser('x'), undefined);
    assert.equal(s.world.findUser('z'), undefined);
    assert.equal(s.world.findUser('y')?.uid, r.uid);
  });

  test('s2s-max-users-per-origin: a register beyond the cap is refused; a netsplit drops only that origin\'s users', () => {
    const s = serverA({ maxUsersPerOrigin: 2 });
    ok(s.applier.apply(B, 'full', { kind: 'register', user: wu(B, 'b1') }));
    ok(s.applier.apply(B, 'full', { kind: 'register', user: wu(B, 'b2') }));
    no(s.applier.apply(B, 'full', { kind: 'register', user: wu(B, 'b3') }), /s2s-max-users-per-origin/);
    ok(s.applier.apply(C, 'full', { kind: 'register', user: wu(C, 'c1') }));
    assert.equal(s.applier.dropOrigin(B, 'a.test b.test'), 2);
    assert.equal(s.world.findUser('b1'), undefined);
    assert.ok(s.world.findUser('c1'));
    // the cap counts users present: after the split B may introduce two again
    ok(s.applier.apply(B, 'full', { kind: 'register', user: wu(B, 'b3') }));
  });

  test('a readonly peer originates nothing', () => {
    const s = serverA();
    no(s.applier.apply(B, 'readonly', { kind: 'register', user: wu(B, 'ro') }), /not accepted from a readonly peer/);
    assert.equal(s.world.findUser('ro'), undefined);
  });

  test('never from a peer: lockdown, server bans, notices to our users, channel drops', () => {
    const s = serverA();
    const l = s.local('loc');
    const events: WireEvent[] = [
      { kind: 'lockdown', actor: 'x', from: 'off', to: 'closed' },
      { kind: 'server-ban', actor: 'x', adding: true, target: '*!*@*', banKind: 'mask' },
      { kind: 'server-notice', target: { uid: l.u.uid, nick: 'loc', username: 'l', host: 'local.host' }, text: 'phish' },
      { kind: 'channel-dropped', channel: '#c', reason: 'expired' },
    ];
    for (const ev of events) no(s.applier.apply(B, 'full', ev), /is not accepted from a full peer/);
    assert.equal(s.world.lockdown, 'off');
    assert.equal(l.got.length, 0);
  });
});

/** claim stamps, in order, before the servers' clock (1,000,000 ms) */
const T1 = encodeHlc(997_000, 0);
const T2 = encodeHlc(998_000, 0);
const T3 = encodeHlc(999_000, 0);

describe('nick ownership from a full peer', () => {
  test('a DID\'s nick is owned here too: a local guest holding it is moved off; a later claim of another DID is refused; never from a relay peer', () => {
    const s = serverA();
    const guest = s.local('owned');
    no(s.applier.apply(B, 'relay', { kind: 'nick-owner', did: 'did:plc:x', nick: 'owned', claimed: T1 }), /is not accepted from a relay peer/);
    assert.equal(guest.u.nick, 'owned');
    ok(s.applier.apply(B, 'full', { kind: 'nick-owner', did: 'did:plc:x', nick: 'owned', claimed: T1 }));
    assert.equal(s.world.nickOwners.get('owned'), 'did:plc:x');
    assert.notEqual(guest.u.nick, 'owned');
    // a later claim of another DID is refused: the earlier one keeps the nick
    no(s.applier.apply(B, 'full', { kind: 'nick-owner', did: 'did:plc:y', nick: 'owned', claimed: T2 }), /owned by another DID here/);
    assert.equal(s.world.nickOwners.get('owned'), 'did:plc:x');
    // a claim far in the future is refused (it could never be overtaken)
    no(s.applier.apply(B, 'full', { kind: 'nick-owner', did: 'did:plc:z', nick: 'other', claimed: '9999999999999.000000' }), /too far in the future/);
  });

  test('the earlier claim keeps a nick two DIDs claimed (a split): the same owner whatever the order; a DID\'s older binding does not move it back', () => {
    const order1 = serverA();
    const order2 = serverA();
    const x = { kind: 'nick-owner', did: 'did:plc:x', nick: 'Shared', claimed: T2 } as const;
    const y = { kind: 'nick-owner', did: 'did:plc:y', nick: 'shared', claimed: T1 } as const;
    ok(order1.applier.apply(B, 'full', x));
    ok(order1.applier.apply(B, 'full', y)); // the earlier claim takes the nick over
    ok(order2.applier.apply(B, 'full', y));
    no(order2.applier.apply(B, 'full', x), /an earlier claim/);
    for (const s of [order1, order2]) {
      assert.equal(s.world.nickOwners.get('shared'), 'did:plc:y');
      assert.equal(s.world.accountNicks.get('did:plc:x'), undefined, 'the later claimant owns no nick');
    }
    // y moves to another nick later; its older binding, arriving again (a burst), changes nothing
    ok(order1.applier.apply(B, 'full', { kind: 'nick-owner', did: 'did:plc:y', nick: 'elsewhere', claimed: T3 }));
    ok(order1.applier.apply(B, 'full', y));
    assert.equal(order1.world.accountNicks.get('did:plc:y')?.nick, 'elsewhere');
    assert.equal(order1.world.nickOwners.get('shared'), undefined);
  });
});

describe('remote events through Ops', () => {
  test('a message to a channel reaches local members with the origin\'s msgid, time and signature (not re-signed); history keeps it', () => {
    const s = scene();
    ok(s.applier.apply(B, 'full', { kind: 'message', from: s.far, command: 'PRIVMSG', target: '#c', channel: '#c', text: 'hi from B', tags: { '+freeq.at/sig': 'signed-by-B' }, msgid: 'b-msgid', at: 123 }));
    const ev = s.events.find((e) => e.kind === 'message');
    assert.ok(ev?.kind === 'message');
    assert.equal(ev.msgid, 'b-msgid');
    assert.equal(ev.at, 123);
    assert.equal(ev.tags?.get('+freeq.at/sig'), 'signed-by-B');
    assert.equal(s.signedCount(), 0, 'never signed by this server');
    assert.deepEqual(s.recorded.map((r) => [r.msgid, r.text, r.clientTags]), [['b-msgid', 'hi from B', { '+freeq.at/sig': 'signed-by-B' }]]);
  });

  test('speaking as a local user, or as another server\'s user, is refused and nothing is sent', () => {
    const s = scene();
    const asLocal: WireUser = { uid: s.founder.u.uid, nick: 'Founder', username: 'l', host: 'local.host' };
    no(s.applier.apply(B, 'full', { kind: 'message', from: asLocal, command: 'PRIVMSG', target: '#c', channel: '#c', text: 'forged', msgid: 'm', at: 1 }), /is not of origin/);
    const cUser = wu(C, 'cee');
    ok(s.applier.apply(C, 'full', { kind: 'register', user: cUser }));
    no(s.applier.apply(B, 'full', { kind: 'message', from: cUser, command: 'PRIVMSG', target: 'Founder', text: 'forged', msgid: 'm', at: 1 }), /is not of origin/);
    no(s.applier.apply(B, 'full', { kind: 'quit', user: cUser, reason: 'gone' }), /is not of origin/);
    assert.equal(s.events.filter((e) => e.kind === 'message' || e.kind === 'quit').length, 0);
    assert.ok(s.world.findUser('cee'));
  });

  test('the same permission rules as local users: a remote member cannot op itself (482), can once the founder opped it', () => {
    const s = scene();
    const op = (nick: string) => ({ kind: 'channel-mode' as const, source: 'far!r@remote.host', by: { kind: 'user' as const, user: s.far }, channel: '#c', changes: [{ adding: true, mode: 'o', param: nick }] });
    no(s.applier.apply(B, 'full', op('far')), /^482 #c/);
    assert.equal(s.world.findChannel('#c')!.isOp(s.world.findUser('far')!), false);
    s.ops.changeChannelModes(s.founder.u, s.world.findChannel('#c')!, [{ adding: true, mode: 'o', param: 'far' }], () => {});
    ok(s.applier.apply(B, 'full', { kind: 'channel-mode', source: 'far!r@remote.host', by: { kind: 'user', user: s.far }, channel: '#c', changes: [{ adding: true, mode: 'b', param: '*!*@spam.example' }] }));
    assert.equal(s.world.findChannel('#c')!.lists.b.entries[0]?.mask, '*!*@spam.example');
    no(s.applier.apply(B, 'full', { kind: 'kick', source: 'far!r@remote.host', by: { kind: 'user', user: s.far }, channel: '#c', target: { uid: s.founder.u.uid, nick: 'Founder', username: 'l', host: 'local.host' }, reason: 'x' }), /^484 /);
  });

  test('relay trust: talk, joins and -t topics only; modes and kicks are refused by trust, +t topics even from a channel op', () => {
    const s = scene('relay');
    no(s.applier.apply(B, 'relay', { kind: 'channel-mode', by: { kind: 'user', user: s.far }, channel: '#c', changes: [{ adding: false, mode: 't' }] }), /channel-mode is not accepted from a relay peer/);
    no(s.applier.apply(B, 'relay', { kind: 'kick', source: 'x', by: { kind: 'user', user: s.far }, channel: '#c', target: s.far, reason: 'x' }), /kick is not accepted/);
    s.ops.changeChannelModes(s.founder.u, s.world.findChannel('#c')!, [{ adding: true, mode: 'o', param: 'far' }], () => {});
    no(s.applier.apply(B, 'relay', { kind: 'topic', source: 'x', by: { kind: 'user', user: s.far }, channel: '#c', topic: { text: 'new', setBy: 'x', setAt: 1 } }), /\+t channel from a relay peer/);
    s.ops.changeChannelModes(s.founder.u, s.world.findChannel('#c')!, [{ adding: false, mode: 't' }], () => {});
    ok(s.applier.apply(B, 'relay', { kind: 'topic', source: 'x', by: { kind: 'user', user: s.far }, channel: '#c', topic: { text: 'new', setBy: 'x', setAt: 1 } }));
    assert.equal(s.world.findChannel('#c')!.topic?.text, 'new');
    no(s.applier.apply(B, 'relay', { kind: 'topic', source: 'x', by: { kind: 'server', name: 'b.test' }, channel: '#c', topic: { text: 'srv', setBy: 'x', setAt: 1 } }), /may not act as a server/);
  });

  test('no peer acts as a server or an operator here, even a full one; quit removes the user and what it says next is refused', () => {
    const s = scene();
    const l = s.local('loc');
    s.ops.join(l.u, '#c', undefined);
    no(s.applier.apply(B, 'full', { kind: 'kick', source: 'b.test', by: { kind: 'server', name: 'b.test' }, channel: '#c', target: { uid: l.u.uid, nick: 'loc', username: 'l', host: 'local.host' }, reason: 'netsplit cleanup' }), /may not act as a server/);
    no(s.applier.apply(B, 'full', { kind: 'channel-mode', by: { kind: 'operator', name: 'root' }, channel: '#c', changes: [{ adding: false, mode: 'o', param: 'loc' }] }), /may not act as an operator/);
    assert.equal(s.world.findChannel('#c')!.members.has(l.u), true);
    ok(s.applier.apply(B, 'full', { kind: 'quit', user: s.far, reason: 'bye' }));
    assert.equal(s.world.findUser('far'), undefined);
    no(s.applier.apply(B, 'full', { kind: 'message', from: s.far, command: 'PRIVMSG', target: '#c', channel: '#c', text: 'ghost', msgid: 'g', at: 1 }), /is not of origin/);
  });

  test('a message dated far in the future is refused (it would stay the latest in history for good)', () => {
    const s = scene();
    no(s.applier.apply(B, 'full', { kind: 'message', from: s.far, command: 'PRIVMSG', target: '#c', channel: '#c', text: 'from 2100', msgid: 'f', at: 2_000_000 + 61_000 }), /too far in the future/);
    assert.deepEqual(s.recorded, []);
    ok(s.applier.apply(B, 'full', { kind: 'message', from: s.far, command: 'PRIVMSG', target: '#c', channel: '#c', text: 'now', msgid: 'n', at: 2_000_000 }));
  });

  test('a target named by a uid that does not match the user holding that nick is refused', () => {
    const s = scene();
    const l = s.local('loc');
    s.ops.join(l.u, '#c', undefined);
    no(s.applier.apply(B, 'full', { kind: 'kick', source: 'far', by: { kind: 'user', user: s.far }, channel: '#c', target: { uid: 'A1A1A1A1999999', nick: 'loc', username: 'l', host: 'local.host' }, reason: 'x' }), /unknown user/);
    assert.equal(s.world.findChannel('#c')!.members.has(l.u), true);
  });

  test('a relay peer cannot take a local nick by claiming an early registration: its user counts as registered now', () => {
    const s = serverA();
    const l = s.local('mine'); // signed on at 500
    const r = { ...wu(B, 'MINE'), signonAt: 1 }; // claims to be older
    ok(s.applier.apply(B, 'relay', { kind: 'register', user: r }));
    assert.equal(l.u.nick, 'mine');
    assert.equal(s.applier.user(r.uid)?.nick, 'Guest10000');
  });

  test('a nick collision on introduction follows the rule: the earlier registration keeps the nick (a full peer\'s time believed in its burst only)', () => {
    const s = serverA();
    const l = s.local('dup'); // signed on at 500
    const r = { ...wu(B, 'DUP'), signonAt: 100 }; // earlier
    ok(s.applier.apply(B, 'full', { kind: 'register', user: r, netjoin: true }));
    assert.equal(s.world.findUser('dup')?.uid, r.uid);
    assert.equal(l.u.nick, 'Guest10000');
    // a live registration claiming an early time happened now: the local holder keeps the nick
    const l2 = s.local('dup2');
    const r2 = { ...wu(B, 'DUP2'), signonAt: 1 };
    ok(s.applier.apply(B, 'full', { kind: 'register', user: r2 }));
    assert.equal(l2.u.nick, 'dup2');
    assert.notEqual(s.applier.user(r2.uid)?.nick, 'DUP2');
  });
});

describe('KNOCK from a peer (#16): the same rules as a local knock (state/knock.ts)', () => {
  test('a relay peer\'s user knocks on a +i channel here; on the channel, open, hidden, or someone else\'s user: refused', () => {
    const s = scene('relay');
    const ch = s.world.findChannel('#c')!;
    const kim = wu(B, 'kim');
    ok(s.applier.apply(B, 'relay', { kind: 'register', user: kim }));
    no(s.applier.apply(B, 'relay', { kind: 'knock', user: kim, channel: '#c' }), /^713 /);
    s.ops.changeChannelModes(s.founder.u, ch, [{ adding: true, mode: 'i' }], () => {});
    s.events.length = 0;
    ok(s.applier.apply(B, 'relay', { kind: 'knock', user: kim, channel: '#c', reason: 'let me in' }));
    assert.deepEqual(s.events.map((e) => e.kind === 'knock' && [e.user.nick, e.channel.name, e.reason]), [['kim', '#c', 'let me in']]);
    no(s.applier.apply(B, 'relay', { kind: 'knock', user: s.far, channel: '#c' }), /^714 /);
    no(s.applier.apply(C, 'full', { kind: 'knock', user: kim, channel: '#c' }), /origin/);
    s.ops.changeChannelModes(s.founder.u, ch, [{ adding: true, mode: 's' }], () => {});
    s.events.length = 0;
    no(s.applier.apply(B, 'relay', { kind: 'knock', user: kim, channel: '#c' }), /^403 /);
    assert.deepEqual(s.events, []);
  });

  test('a peer\'s users count against the channel\'s knock window (knock-channel-rate), as local knockers do; a long reason is cut', () => {
    const s = scene('relay');
    const ch = s.world.findChannel('#c')!;
    s.ops.changeChannelModes(s.founder.u, ch, [{ adding: true, mode: 'i' }], () => {});
    const knockers = ['k1', 'k2', 'k3'].map((n) => wu(B, n));
    for (const k of knockers) ok(s.applier.apply(B, 'relay', { kind: 'register', user: k }));
    s.events.length = 0;
    ok(s.applier.apply(B, 'relay', { kind: 'knock', user: knockers[0]!, channel: '#c', reason: 'x'.repeat(5000) }));
    ok(s.applier.apply(B, 'relay', { kind: 'knock', user: knockers[1]!, channel: '#c' }));
    no(s.applier.apply(B, 'relay', { kind: 'knock', user: knockers[2]!, channel: '#c' }), /^712 .*\(channel\)/);
    // a local user knocking now meets the same full window
    const local = s.local('localk');
    assert.throws(() => s.ops.knocks.knock(local.u, ch), /Too many KNOCKs \(channel\)/);
    const delivered = s.events.filter((e) => e.kind === 'knock');
    assert.equal(delivered.length, 2);
    assert.equal(delivered[0]!.kind === 'knock' && delivered[0]!.reason?.length, 390);
  });
});
