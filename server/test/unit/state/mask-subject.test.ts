import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cloaks } from '../../../src/state/cloak.js';
import { Ops } from '../../../src/state/ops.js';
import type { AccountStore, ChannelStore } from '../../../src/state/store.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';

// The folded texts bans are matched against (Ops.maskSubject) are built once per user and kept
// (User.foldedMasks): a nick, username or host change must build them again, or a ban on the new
// nick/host would miss (and one on the old would still hit).

const store: ChannelStore = {
  loadAll: () => [], saveChannel() {}, deleteChannel() {}, addListEntry() {}, removeListEntry() {}, setListTombstone() {}, removeListTombstone() {},
  addDidOp() {}, removeDidOp() {}, addDidInvite() {}, removeDidInvite() {},
};
const accounts: AccountStore = { loadAll: () => [], save() {} };
const link: Recipient = { tagMask: 0, hasCap: () => false, deliver() {}, disconnect() {} };

test('ban subjects are kept per user and rebuilt after a nick, username or host change', () => {
  const world = new World();
  const ops = new Ops(world, store, accounts, () => {}, {
    maxListEntries: 100, whowasLen: 0, maxChannels: 100, operDids: [], cloaks: {} as Cloaks,
    maxChannelsTotal: 100, maxChannelsPerAccount: 10, channelExpiry: 0, foundedChannelExpiry: 0,
  }, { now: () => 0 });
  const user = (id: number, nick: string) => {
    const u = new User(id, '192.0.2.7', false, link, 0, 'guest/abc');
    ops.addUser(u);
    ops.setHost(u, nick.toLowerCase(), 'guest/abc');
    ops.setNick(u, nick);
    return u;
  };
  const op = user(1, 'Op');
  const u = user(2, 'Alice');
  ops.join(op, '#c', undefined);
  const ch = world.findChannel('#c')!;
  ops.changeChannelModes(op, ch, [
    { adding: true, mode: 'b', param: 'bad[nick]!*@*' },
    { adding: true, mode: 'b', param: '*!*@banned.example' },
    { adding: true, mode: 'b', param: '*!evil@*' },
  ], (e) => assert.fail(e.message));

  const first = ops.maskSubject(u).texts;
  assert.deepEqual(first, ['alice!alice@guest/abc', 'alice!alice@192.0.2.7']);
  assert.equal(ops.maskSubject(u).texts, first, 'the same folded strings, not built again');
  assert.equal(ops.isBanned(ch, u), false);

  ops.setNick(u, 'BAD{NICK}');
  assert.equal(ops.isBanned(ch, u), true, 'a ban on the new nick (rfc1459 folding) hits');
  assert.deepEqual(ops.maskSubject(u).texts, ['bad{nick}!alice@guest/abc', 'bad{nick}!alice@192.0.2.7']);
  ops.setNick(u, 'Alice');
  assert.equal(ops.isBanned(ch, u), false, 'and no longer after the nick changes back');

  ops.setHost(u, 'alice', 'banned.example');
  assert.equal(ops.isBanned(ch, u), true, 'a ban on the new host hits');
  ops.setHost(u, 'evil', 'guest/abc');
  assert.equal(ops.isBanned(ch, u), true, 'a ban on the new username hits');
  ops.setHost(u, 'alice', 'guest/abc');
  assert.equal(ops.isBanned(ch, u), false);
});
