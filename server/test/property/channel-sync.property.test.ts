// Property tests of the channel-state CRDT (#14 "State"; state/channel-sync.ts): last-writer-wins
// registers (topic, flag modes, key, limit), each with the HLC stamp of its last change, and the
// +b/+e/+I lists entry by entry (a last-writer-wins element set with tombstones). Random
// edits on several replicas, their deltas delivered to every replica in any order with duplicates,
// end in the same registers everywhere, equal to applying the edits in stamp order; a delta merged
// without authority changes nothing, and a member who is not an operator moves only a -t topic.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Channel } from '../../src/state/channel.js';
import { channelStateOf, mergeChannelState, type ChannelStateDelta, type SyncAuthority } from '../../src/state/channel-sync.js';
import { encodeHlc, stampAfter, type Stamp } from '../../src/state/hlc.js';
import type { ModeChange } from '../../src/state/events.js';

const FLAGS = ['i', 'm', 'n', 'p', 's', 't'] as const;
const FULL: SyncAuthority = { op: true, member: true };
const NONE: SyncAuthority = { op: false, member: false };
const MEMBER: SyncAuthority = { op: false, member: true };
/** HLC wall clock of the edits: a narrow range, so replicas' stamps often tie on the wall or on the whole hlc */
const WALL0 = 1_733_443_200_000;

type TopicValue = { text: string; setBy: string; setAt: number } | null;
type Edit =
  | { reg: 'topic'; value: TopicValue; stamp: Stamp }
  | { reg: 'flags'; value: string; stamp: Stamp }
  | { reg: 'key'; value: string | null; stamp: Stamp }
  | { reg: 'limit'; value: number | null; stamp: Stamp };

const newChannel = (): Channel => new Channel('#crdt', '#crdt', 0);

/** everything the CRDT converges, stamps included, as a plain value */
function registers(ch: Channel): unknown {
  return {
    topic: ch.topic ? { ...ch.topic } : null,
    flags: FLAGS.filter((f) => ch.modes[f]).join(''),
    key: ch.modes.k ?? null,
    limit: ch.modes.l ?? null,
    stamps: { topic: ch.stamps.topic ?? null, modes: ch.stamps.modes ?? null, key: ch.stamps.key ?? null, limit: ch.stamps.limit ?? null },
  };
}

/** the delta of one edit: that register alone */
function deltaOf(e: Edit): ChannelStateDelta {
  switch (e.reg) {
    case 'topic': return { channel: '#crdt', topic: { value: e.value ? { ...e.value } : null, stamp: e.stamp } };
    case 'flags': return { channel: '#crdt', flags: { value: e.value, stamp: e.stamp } };
    case 'key': return { channel: '#crdt', key: { value: e.value, stamp: e.stamp } };
    case 'limit': return { channel: '#crdt', limit: { value: e.value, stamp: e.stamp } };
  }
}

/** the edits applied one after another in stamp order, by plain assignment (no merge) */
function inStampOrder(edits: Edit[]): Channel {
  const ch = newChannel();
  const sorted = [...edits].sort((a, b) => (stampAfter(a.stamp, b.stamp) ? 1 : stampAfter(b.stamp, a.stamp) ? -1 : 0));
  for (const e of sorted) {
    switch (e.reg) {
      case 'topic': ch.topic = e.value ? { ...e.value } : undefined; ch.stamps.topic = e.stamp; break;
      case 'flags': for (const f of FLAGS) ch.modes[f] = e.value.includes(f); ch.stamps.modes = e.stamp; break;
      case 'key': ch.modes.k = e.value ?? undefined; ch.stamps.key = e.stamp; break;
      case 'limit': ch.modes.l = e.value ?? undefined; ch.stamps.limit = e.stamp; break;
    }
  }
  return ch;
}

/**
 * Merge `d` into `ch` and check what the merge reports against what it did: the mode changes it
 * shows members turn the old modes into the new ones, and `topic` is set exactly when the text
 * changed.
 */
function mergeChecked(ch: Channel, d: ChannelStateDelta, auth: SyncAuthority): ReturnType<typeof mergeChannelState> {
  const before = { modes: { ...ch.modes }, topic: ch.topic?.text };
  const r = mergeChannelState(ch, d, auth);
  const replayed = { ...before.modes };
  for (const c of r.modes) applyChange(replayed, c);
  assert.deepEqual(normalModes(replayed), normalModes(ch.modes), `reported changes ${JSON.stringify(r.modes)} do not lead from ${JSON.stringify(before.modes)} to ${JSON.stringify(ch.modes)}`);
  assert.equal(r.topic, before.topic !== ch.topic?.text, 'topic reported changed exactly when its text changed');
  return r;
}

function applyChange(m: Channel['modes'], c: ModeChange): void {
  if (c.mode === 'k') m.k = c.adding ? c.param : undefined;
  else if (c.mode === 'l') m.l = c.adding ? Number(c.param) : undefined;
  else m[c.mode as (typeof FLAGS)[number]] = c.adding;
}
const normalModes = (m: Channel['modes']): unknown => ({ ...Object.fromEntries(FLAGS.map((f) => [f, m[f]])), k: m.k ?? null, l: m.l ?? null });

// ---- generators ----------------------------------------------------------------------------------

const origin = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const topicValue: fc.Arbitrary<TopicValue> = fc.option(fc.record({
  text: fc.string({ minLength: 1, maxLength: 12 }),
  setBy: fc.constantFrom('alice!a@h', 'bob!b@h', 'a.test'),
  setAt: fc.nat({ max: 1_000_000 }),
}), { freq: 4 });
const flagsValue = fc.subarray([...FLAGS]).map((fs) => fs.join(''));
const keyValue = fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { freq: 3 });
const limitValue = fc.option(fc.integer({ min: 1, max: 1000 }), { freq: 3 });
/** an edit without its stamp */
const change = fc.oneof(
  fc.record({ reg: fc.constant('topic' as const), value: topicValue }),
  fc.record({ reg: fc.constant('flags' as const), value: flagsValue }),
  fc.record({ reg: fc.constant('key' as const), value: keyValue }),
  fc.record({ reg: fc.constant('limit' as const), value: limitValue }),
);
/** one replica's clock step: the same millisecond (logical + 1 + extra) or a later one */
const step = fc.record({ dWall: fc.nat({ max: 2 }), logical: fc.nat({ max: 2 }) });

/**
 * Replicas (2–4, each with a random origin) and their edits, stamped with strictly increasing
 * HLC stamps per replica; the replicas' clocks start near one another, so stamps of different
 * replicas interleave and tie (then the origin decides).
 */
const replicasWithEdits = fc.uniqueArray(origin, { minLength: 2, maxLength: 4 }).chain((origins) =>
  fc.tuple(...origins.map((o) => fc.tuple(fc.nat({ max: 3 }), fc.array(fc.tuple(change, step), { maxLength: 8 })).map(([start, xs]) => {
    let wall = WALL0 + start;
    let logical = 0;
    return xs.map(([c, s]): Edit => {
      if (s.dWall > 0) { wall += s.dWall; logical = s.logical; } else logical += 1 + s.logical;
      return { ...c, stamp: { hlc: encodeHlc(wall, logical), origin: o } };
    });
  }))).map((perReplica) => ({ origins, perReplica })));

/**
 * For each of `n` replicas, the order in which it receives the `m` deltas: every delta at least
 * once, some twice or more, shuffled.
 */
const deliveries = (n: number, m: number): fc.Arbitrary<number[][]> => fc.tuple(...Array.from({ length: n }, () =>
  fc.tuple(fc.array(fc.nat({ max: Math.max(0, m - 1) }), { maxLength: m === 0 ? 0 : m }), fc.array(fc.nat(), { minLength: 2 * m, maxLength: 2 * m }))
    .map(([dups, keys]) => {
      const all = [...Array.from({ length: m }, (_, i) => i), ...dups];
      return all.map((d, i) => ({ d, k: keys[i % keys.length]! })).sort((a, b) => a.k - b.k).map((x) => x.d);
    })));

const scenario = replicasWithEdits.chain(({ origins, perReplica }) => {
  const edits = perReplica.flat();
  return deliveries(origins.length, edits.length).map((orders) => ({ origins, perReplica, edits, orders }));
});

/** a channel in some state: random edits merged with full authority */
const someChannel = fc.array(fc.tuple(change, step), { maxLength: 8 }).map((xs) => {
  const ch = newChannel();
  let wall = WALL0;
  let logical = 0;
  for (const [c, s] of xs) {
    if (s.dWall > 0) { wall += s.dWall; logical = s.logical; } else logical += 1 + s.logical;
    mergeChannelState(ch, deltaOf({ ...c, stamp: { hlc: encodeHlc(wall, logical), origin: 'a'.repeat(64) } }), FULL);
  }
  return ch;
});
/** a delta with any subset of the registers, stamped anywhere around (before, at, after) the channel's stamps */
const someDelta: fc.Arbitrary<ChannelStateDelta> = fc.record({
  topic: fc.option(fc.record({ value: topicValue })),
  flags: fc.option(fc.record({ value: flagsValue })),
  key: fc.option(fc.record({ value: keyValue })),
  limit: fc.option(fc.record({ value: limitValue })),
  wall: fc.nat({ max: 40 }),
  logical: fc.nat({ max: 3 }),
  origin,
}).map(({ wall, logical, origin: o, ...regs }) => {
  const stamp = { hlc: encodeHlc(WALL0 + wall, logical), origin: o };
  const d: ChannelStateDelta = { channel: '#crdt' };
  if (regs.topic) d.topic = { value: regs.topic.value, stamp };
  if (regs.flags) d.flags = { value: regs.flags.value, stamp };
  if (regs.key) d.key = { value: regs.key.value, stamp };
  if (regs.limit) d.limit = { value: regs.limit.value, stamp };
  return d;
});

// ---- properties ----------------------------------------------------------------------------------

describe('channel-state CRDT (mergeChannelState / channelStateOf)', () => {
  test('every replica, receiving every delta in any order with duplicates, ends with the same registers: the edits applied in stamp order', () => {
    fc.assert(fc.property(scenario, ({ origins, edits, orders }) => {
      const deltas = edits.map(deltaOf);
      const replicas = origins.map(() => newChannel());
      replicas.forEach((ch, r) => { for (const i of orders[r]!) mergeChecked(ch, deltas[i]!, FULL); });
      const expected = registers(inStampOrder(edits));
      replicas.forEach((ch, r) => assert.deepEqual(registers(ch), expected, `replica ${r}`));
      // and the full state a replica sends in a burst changes nothing at a converged replica
      for (const from of replicas) {
        for (const to of replicas) {
          const r = mergeChecked(to, channelStateOf(from), FULL);
          assert.deepEqual([r.modes, r.topic, r.refused], [[], false, []]);
        }
      }
      replicas.forEach((ch) => assert.deepEqual(registers(ch), expected));
    }), { numRuns: 500 });
  });

  test('replicas that each saw only some deltas converge once they exchange their full state (a burst per link), in any order', () => {
    fc.assert(fc.property(scenario.chain((s) => fc.tuple(
      fc.constant(s),
      // what each replica saw before the links came up: its own edits, and any of the others'
      fc.tuple(...s.origins.map(() => fc.array(fc.boolean(), { minLength: s.edits.length, maxLength: s.edits.length }))),
      // the bursts: ordered pairs (from, to), each pair at least once
      fc.shuffledSubarray(s.origins.flatMap((_, i) => s.origins.map((__, j) => [i, j] as const)).filter(([i, j]) => i !== j), { minLength: s.origins.length * (s.origins.length - 1) }),
    )), ([{ origins, perReplica, edits }, saw, bursts]) => {
      const replicas = origins.map(() => newChannel());
      let k = 0;
      perReplica.forEach((own, r) => {
        for (const e of own) mergeChecked(replicas[r]!, deltaOf(e), FULL);
        k += own.length;
      });
      assert.equal(k, edits.length);
      replicas.forEach((ch, r) => edits.forEach((e, i) => { if (saw[r]![i]) mergeChecked(ch, deltaOf(e), FULL); }));
      // a burst carries the sender's state as it is when sent (with what earlier bursts brought it);
      // one burst per ordered pair is enough: every replica gets each one's own edits directly
      for (const [from, to] of bursts) mergeChecked(replicas[to]!, channelStateOf(replicas[from]!), FULL);
      const expected = registers(inStampOrder(edits));
      replicas.forEach((ch, r) => assert.deepEqual(registers(ch), expected, `replica ${r}`));
    }), { numRuns: 300 });
  });

  test('a delta merged without authority ({op: false, member: false}) changes nothing, and names every newer register it refused', () => {
    fc.assert(fc.property(someChannel, someDelta, (ch, d) => {
      const before = registers(ch);
      const newer = (['topic', 'flags', 'key', 'limit'] as const).filter((reg) => {
        const incoming = d[reg]?.stamp;
        const ours = ch.stamps[reg === 'flags' ? 'modes' : reg];
        return incoming !== undefined && (ours === undefined || stampAfter(incoming, ours));
      }).map((reg) => (reg === 'flags' ? 'modes' : reg)).sort();
      const r = mergeChannelState(ch, d, NONE);
      assert.deepEqual(registers(ch), before);
      assert.deepEqual([r.modes, r.topic], [[], false]);
      assert.deepEqual([...r.refused].sort(), newer);
    }), { numRuns: 1000 });
  });

  test('a member who is not an operator ({op: false, member: true}) changes the topic only where the channel is not +t, and nothing else', () => {
    fc.assert(fc.property(someChannel, someDelta, fc.boolean(), (ch, d, t) => {
      ch.modes.t = t;
      const before = registers(ch) as { topic: unknown; stamps: { topic: Stamp | null } };
      const topicNewer = d.topic !== undefined && (ch.stamps.topic === undefined || stampAfter(d.topic.stamp, ch.stamps.topic));
      mergeChecked(ch, d, MEMBER);
      const after = registers(ch) as typeof before;
      // modes, key, limit and their stamps: untouched
      const rest = (x: typeof before): unknown => ({ ...x, topic: undefined, stamps: { ...x.stamps, topic: undefined } });
      assert.deepEqual(rest(after), rest(before));
      if (topicNewer && !t) {
        assert.deepEqual(after.topic, d.topic!.value ? { ...d.topic!.value } : null);
        assert.deepEqual(after.stamps.topic, d.topic!.stamp);
      } else {
        assert.deepEqual([after.topic, after.stamps.topic], [before.topic, before.stamps.topic]);
      }
    }), { numRuns: 1000 });
  });

  test('lists: additions and removals of masks on several replicas, delivered in any order with duplicates, end in the same list everywhere: per mask, the later of its last addition and last removal', () => {
    const MASKS = ['*!*@a', '*!*@b', '*!*@c'];
    const listEdit = fc.record({ mask: fc.constantFrom(...MASKS), adding: fc.boolean(), wall: fc.nat({ max: 6 }), logical: fc.nat({ max: 2 }), replica: fc.nat({ max: 2 }) });
    const origins = ['a', 'b', 'c'].map((x) => x.repeat(64));
    fc.assert(fc.property(fc.array(listEdit, { maxLength: 12 }).chain((edits) => deliveries(3, edits.length).map((orders) => ({ edits, orders }))), ({ edits, orders }) => {
      // each edit as the delta its replica would send: the entry with its addition's stamp, or the tombstone
      const deltas: ChannelStateDelta[] = edits.map((e, i) => {
        const stamp = { hlc: encodeHlc(WALL0 + e.wall, e.logical * 100 + i), origin: origins[e.replica]! };
        return { channel: '#crdt', lists: { b: e.adding ? { entries: [{ mask: e.mask, setBy: 'x', setAt: 1, stamp }], removed: [] } : { entries: [], removed: [{ mask: e.mask, stamp }] } } };
      });
      const replicas = orders.map((order) => {
        const ch = newChannel();
        for (const d of order) mergeChannelState(ch, deltas[d]!, FULL);
        return ch;
      });
      // the model: per mask, present when its latest edit (by stamp) is an addition
      const want = MASKS.filter((m) => {
        let last: { adding: boolean; stamp: Stamp } | undefined;
        deltas.forEach((d, i) => {
          if (edits[i]!.mask !== m) return;
          const stamp = (d.lists!.b!.entries[0] ?? d.lists!.b!.removed[0])!.stamp;
          if (!last || stampAfter(stamp, last.stamp)) last = { adding: edits[i]!.adding, stamp };
        });
        return last?.adding === true;
      });
      for (const r of replicas) assert.deepEqual(r.lists.b.entries.map((e) => e.mask).sort(), want);
      // and a replica's full state, merged into a fresh one, gives the same list
      const fresh = newChannel();
      mergeChannelState(fresh, channelStateOf(replicas[0]!), FULL);
      assert.deepEqual(fresh.lists.b.entries.map((e) => e.mask).sort(), want);
    }), { numRuns: 1000 });
  });
});
