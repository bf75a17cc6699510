import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Channel } from '../../../src/state/channel.js';
import { channelStateOf, deltaStamps, mergeChannelState } from '../../../src/state/channel-sync.js';
import { encodeHlc, type Stamp } from '../../../src/state/hlc.js';

// The lists (+b/+e/+I, entry by entry), the DID ops' whole-set register and the founder's min-register of
// state/channel-sync.ts (#14); the flag/topic/key/limit registers have property tests
// (test/property/channel-sync.property.test.ts).

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const st = (ms: number, origin = A): Stamp => ({ hlc: encodeHlc(1_700_000_000_000 + ms, 0), origin });
const OP = { op: true, member: true };

function chan(): Channel {
  return new Channel('#c', '#c', 1);
}

describe('lists entry by entry; DID ops as a whole', () => {
  test('per mask the later of addition and removal wins: edits from both sides of a split are all kept', () => {
    const ch = chan();
    ch.lists.b.add({ mask: '*!*@old.example', setBy: 'x', setAt: 1, stamp: st(1) });
    ch.lists.b.add({ mask: '*!*@kept.example', setBy: 'x', setAt: 1, stamp: st(1) });
    ch.lists.b.add({ mask: '*!*@mine.example', setBy: 'x', setAt: 6, stamp: st(6) });
    // the peer removed old (after our addition), added new, and never heard of mine
    const r = mergeChannelState(ch, { channel: '#c', lists: { b: {
      entries: [{ mask: '*!*@kept.example', setBy: 'x', setAt: 1, stamp: st(1) }, { mask: '*!*@new.example', setBy: 'y', setAt: 5, stamp: st(5, B) }],
      removed: [{ mask: '*!*@old.example', stamp: st(4, B) }],
    } } }, OP);
    assert.deepEqual(ch.lists.b.entries.map((e) => e.mask), ['*!*@kept.example', '*!*@mine.example', '*!*@new.example']);
    assert.deepEqual(r.modes, [{ adding: false, mode: 'b', param: '*!*@old.example' }, { adding: true, mode: 'b', param: '*!*@new.example' }]);
    assert.deepEqual(r.listRemoved, [{ mode: 'b', mask: '*!*@old.example' }]);
    assert.deepEqual(r.listAdded.map((x) => x.entry.mask), ['*!*@new.example']);
    assert.deepEqual(r.tombstonesSet, [{ mode: 'b', mask: '*!*@old.example', stamp: st(4, B) }]);
    assert.deepEqual(ch.removed.b.get('*!*@old.example'), st(4, B));
    // the same delta again, or our own state, changes nothing
    assert.deepEqual(mergeChannelState(ch, { channel: '#c', lists: { b: { entries: [], removed: [{ mask: '*!*@old.example', stamp: st(4, B) }] } } }, OP).modes, []);
    assert.deepEqual(mergeChannelState(ch, channelStateOf(ch), OP).modes, []);
    // a removal older than our addition loses; an addition older than our removal loses
    assert.deepEqual(mergeChannelState(ch, { channel: '#c', lists: { b: { entries: [{ mask: '*!*@old.example', setBy: 'z', setAt: 2, stamp: st(2) }], removed: [{ mask: '*!*@mine.example', stamp: st(5) }] } } }, OP).modes, []);
    assert.equal(ch.lists.b.length, 3);
    // a later addition brings a removed mask back and drops its tombstone
    const back = mergeChannelState(ch, { channel: '#c', lists: { b: { entries: [{ mask: '*!*@old.example', setBy: 'z', setAt: 9, stamp: st(9) }], removed: [] } } }, OP);
    assert.deepEqual(back.modes, [{ adding: true, mode: 'b', param: '*!*@old.example' }]);
    assert.deepEqual(back.tombstonesDropped, [{ mode: 'b', mask: '*!*@old.example' }]);
    assert.equal(ch.removed.b.size, 0);
  });

  test('an entry both sides have keeps the later addition, so a removal between the two loses on every server', () => {
    const one = chan();
    const two = chan();
    one.lists.b.add({ mask: '*!*@x', setBy: 'a', setAt: 1, stamp: st(1) });
    two.lists.b.add({ mask: '*!*@x', setBy: 'a', setAt: 1, stamp: st(1) });
    const readd = { channel: '#c', lists: { b: { entries: [{ mask: '*!*@x', setBy: 'c', setAt: 3, stamp: st(3, B) }], removed: [] } } };
    const remove = { channel: '#c', lists: { b: { entries: [], removed: [{ mask: '*!*@x', stamp: st(2, B) }] } } };
    mergeChannelState(one, readd, OP);
    mergeChannelState(one, remove, OP);
    mergeChannelState(two, remove, OP);
    mergeChannelState(two, readd, OP);
    for (const c of [one, two]) assert.deepEqual(c.lists.b.entries.map((e) => [e.mask, e.stamp]), [['*!*@x', st(3, B)]]);
  });

  test('without a channel operator of the origin on the channel, lists, DID ops and the founder are refused', () => {
    const ch = chan();
    const r = mergeChannelState(ch, {
      channel: '#c',
      lists: { e: { entries: [{ mask: '*!*@x', setBy: 'x', setAt: 1, stamp: st(3) }], removed: [] } },
      didops: { value: [{ did: 'did:plc:op', by: 'x', at: 1 }], stamp: st(3) },
      founder: { value: 'did:plc:founder', stamp: st(3) },
    }, { op: false, member: true });
    assert.deepEqual(r.refused, ['+e list', 'DID ops', 'founder']);
    assert.equal(ch.lists.e.length, 0);
    assert.equal(ch.didOps.size, 0);
    assert.equal(ch.founder, undefined);
  });

  test('a newer DID op set replaces ours', () => {
    const ch = chan();
    ch.didOps.set('did:plc:gone', { by: 'x', at: 1, stamp: st(1) });
    ch.stamps.didops = st(1);
    const r = mergeChannelState(ch, { channel: '#c', didops: { value: [{ did: 'did:plc:new', by: 'y', at: 4 }], stamp: st(4) } }, OP);
    assert.deepEqual([...ch.didOps.keys()], ['did:plc:new']);
    assert.deepEqual(r.didOpsRemoved, ['did:plc:gone']);
    assert.deepEqual(r.didOpsAdded.map((g) => g.did), ['did:plc:new']);
  });
});

describe('the founder: the earliest claim wins everywhere', () => {
  test('in either order of arrival two servers end with the same founder', () => {
    const early = { value: 'did:plc:early', stamp: st(10, B) };
    const late = { value: 'did:plc:late', stamp: st(20, A) };
    for (const order of [[early, late], [late, early]]) {
      const ch = chan();
      for (const f of order) mergeChannelState(ch, { channel: '#c', founder: f }, OP);
      assert.equal(ch.founder, 'did:plc:early');
      assert.deepEqual(ch.stamps.founder, early.stamp);
    }
    // a server with its own later founder gives way to the earlier one
    const ch = chan();
    ch.founder = 'did:plc:late';
    ch.stamps.founder = late.stamp;
    assert.equal(mergeChannelState(ch, { channel: '#c', founder: early }, OP).founder, true);
    assert.equal(ch.founder, 'did:plc:early');
  });

  test('every stamp a delta carries is checked against the clock (deltaStamps)', () => {
    const ch = chan();
    ch.topic = { text: 't', setBy: 'x', setAt: 1 };
    ch.stamps.topic = st(1);
    ch.lists.I.add({ mask: '*!*@i', setBy: 'x', setAt: 1, stamp: st(2) });
    ch.stamps.invex = st(2);
    ch.founder = 'did:plc:f';
    ch.stamps.founder = st(3);
    assert.deepEqual(deltaStamps(channelStateOf(ch)).map((s) => s.hlc).sort(), [st(1).hlc, st(2).hlc, st(3).hlc]);
  });
});
