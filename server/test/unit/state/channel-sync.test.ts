import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Channel } from '../../../src/state/channel.js';
import { channelStateOf, deltaStamps, mergeChannelState } from '../../../src/state/channel-sync.js';
import { encodeHlc, type Stamp } from '../../../src/state/hlc.js';

// The whole-list registers (+b/+e/+I, DID ops) and the founder's min-register of
// state/channel-sync.ts (#14); the flag/topic/key/limit registers have property tests
// (test/property/channel-sync.property.test.ts).

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const st = (ms: number, origin = A): Stamp => ({ hlc: encodeHlc(1_700_000_000_000 + ms, 0), origin });
const OP = { op: true, member: true };

function chan(): Channel {
  return new Channel('#c', '#c', 1);
}

describe('lists and DID ops: the later list wins as a whole', () => {
  test('a newer +b list replaces ours: entries it lacks are removed, its own added, each a MODE change', () => {
    const ch = chan();
    ch.lists.b.add({ mask: '*!*@old.example', setBy: 'x', setAt: 1, stamp: st(1) });
    ch.lists.b.add({ mask: '*!*@kept.example', setBy: 'x', setAt: 1, stamp: st(1) });
    ch.stamps.bans = st(1);
    const r = mergeChannelState(ch, { channel: '#c', lists: { b: { value: [{ mask: '*!*@kept.example', setBy: 'x', setAt: 1 }, { mask: '*!*@new.example', setBy: 'y', setAt: 5 }], stamp: st(5, B) } } }, OP);
    assert.deepEqual(ch.lists.b.entries.map((e) => e.mask), ['*!*@kept.example', '*!*@new.example']);
    assert.deepEqual(r.modes, [{ adding: false, mode: 'b', param: '*!*@old.example' }, { adding: true, mode: 'b', param: '*!*@new.example' }]);
    assert.deepEqual(r.listRemoved, [{ mode: 'b', mask: '*!*@old.example' }]);
    assert.deepEqual(r.listAdded.map((x) => x.entry.mask), ['*!*@new.example']);
    assert.deepEqual(ch.stamps.bans, st(5, B));
    // an older list changes nothing; the same list again changes nothing
    assert.deepEqual(mergeChannelState(ch, { channel: '#c', lists: { b: { value: [], stamp: st(2) } } }, OP).modes, []);
    assert.deepEqual(mergeChannelState(ch, channelStateOf(ch), OP).modes, []);
    assert.equal(ch.lists.b.length, 2);
  });

  test('without a channel operator of the origin on the channel, lists, DID ops and the founder are refused', () => {
    const ch = chan();
    const r = mergeChannelState(ch, {
      channel: '#c',
      lists: { e: { value: [{ mask: '*!*@x', setBy: 'x', setAt: 1 }], stamp: st(3) } },
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
