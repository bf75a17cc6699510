import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Burst } from '../../../src/federation/burst.js';
import type { WireEvent } from '../../../src/state/wire.js';
import { createOpsHarness, type OpsHarness } from '../state/ops-harness.js';

// The streamed burst (#14, federation/burst.ts) over a real World built through Ops: its content
// and order, its pacing on the links' sendq, and live events that come while it streams.

const harnesses: OpsHarness[] = [];
after(() => { for (const h of harnesses) h.close(); });

/** 5 local users, each in the same 20 channels (100 joins); #c0 has a topic; a remote user on #c1 */
function world(): OpsHarness {
  const h = createOpsHarness({ limits: { maxChannels: 50 } });
  harnesses.push(h);
  const users = [0, 1, 2, 3, 4].map((i) => h.user(`u${i}`));
  for (const u of users) for (let c = 0; c < 20; c++) h.join(u, `#c${c}`);
  h.topic(users[0]!, '#c0', 'a topic');
  const remote = h.remoteUser('far').user;
  h.join(remote, '#c1');
  return h;
}

/** a link whose sendq the test sets; each payload adds 100 bytes */
function burstOf(h: OpsHarness, lowWater = 1000): { burst: Burst; link: { peerId: string; peerName: string; pending: number }; sent: WireEvent[] } {
  const link = { peerId: 'PEER', peerName: 'peer.test', pending: 0 };
  const sent: WireEvent[] = [];
  const burst = new Burst({ world: h.world, lowWater, links: () => [link], emit: (ps) => { sent.push(...ps); link.pending += 100 * ps.length; } });
  return { burst, link, sent };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

/** the payloads as short strings, for order checks */
function keys(sent: WireEvent[]): string[] {
  return sent.map((p) => {
    switch (p.kind) {
      case 'register': return `register ${p.user.nick}`;
      case 'join': return `join ${p.user.nick} ${p.channel}`;
      case 'channel-state': return `state ${p.channel}`;
      case 'peer-link': return `link ${p.peer}`;
      default: return p.kind;
    }
  });
}

/** every join after its user's register, every channel-state after the channel's joins; no payload twice */
function assertCausal(sent: WireEvent[]): void {
  const k = keys(sent);
  assert.equal(new Set(k).size, k.length, 'no payload twice');
  k.forEach((x, i) => {
    const [kind, a] = x.split(' ');
    if (kind === 'join') assert.ok(k.indexOf(`register ${a}`) < i, `${x} after register ${a}`);
    if (kind === 'state') for (const j of k.keys()) if (k[j]!.startsWith('join ') && k[j]!.endsWith(` ${a}`)) assert.ok(j < i, `${x} after ${k[j]}`);
  });
}

test('the burst: the links, every local user, then channel by channel the local members\' joins and the durable registers', async () => {
  const h = world();
  const { burst, link, sent } = burstOf(h, Infinity);
  burst.start();
  while (burst.active) { link.pending = 0; await tick(); }
  const k = keys(sent);
  assert.equal(k[0], 'link PEER');
  assert.deepEqual(k.slice(1, 6), ['register u0', 'register u1', 'register u2', 'register u3', 'register u4']);
  assert.equal(k.filter((x) => x.startsWith('join ')).length, 100, 'every local membership, no remote one');
  assert.ok(!k.some((x) => x.includes('far')), 'a remote user is its own server\'s to send');
  assert.ok(k.includes('state #c0'), 'the topic\'s register');
  for (const p of sent) if (p.kind === 'join') assert.equal(p.netjoin, true);
  const founder = sent.find((p): p is Extract<WireEvent, { kind: 'join' }> => p.kind === 'join' && p.user.nick === 'u0' && p.channel === '#c3');
  assert.equal(founder?.status, 'o', 'the channel\'s creator joins with its status');
  assertCausal(sent);
});

test('it is paced on the links\' sendq: nothing more is sealed while a link holds more than the low-water mark', async () => {
  const h = world();
  const { burst, link, sent } = burstOf(h, 1000);
  burst.start();
  // 100 bytes a payload: the 11th takes the link over 1000 bytes, then the burst waits
  assert.equal(sent.length, 11);
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(sent.length, 11, 'still waiting: the peer has not read');
  assert.equal(burst.active, true);
  link.pending = 0;
  await until(() => sent.length === 22);
  assert.equal(sent.length, 22, 'goes on once the link drained, to the mark again');
  while (burst.active) { link.pending = 0; await tick(); }
  assert.equal(keys(sent).filter((x) => x.startsWith('join ')).length, 100);
});

test('a live event takes the parts of the burst it depends on first: its user, its channel\'s members and registers; they are not sent twice', async () => {
  const h = world();
  const { burst, link, sent } = burstOf(h, 500);
  burst.start();
  assert.equal(sent.length, 6, 'the link and five users, then the burst waits');
  // u4 speaks on #c19, the last channel: its members and topic go first
  const ev = h.message(h.world.findUser('u4')!, '#c19', 'during the burst');
  assert.ok(ev);
  burst.cover(ev);
  const before = keys(sent);
  assert.deepEqual(before.slice(6), ['join u0 #c19', 'join u1 #c19', 'join u2 #c19', 'join u3 #c19', 'join u4 #c19'], 'the channel before the message');
  // a user who registers during the burst and joins: the join names a user and a channel the burst has done or covers
  const late = h.user('late');
  h.join(late, '#c0');
  burst.cover(h.events.at(-1)!);
  assert.ok(keys(sent).includes('register late'), 'the new user before its join');
  while (burst.active) { link.pending = 0; await tick(); }
  assertCausal(sent);
  assert.equal(keys(sent).filter((x) => x === 'join u4 #c19').length, 1, '#c19 is not sent again');
});

test('it stops when no link is left, and starts from the beginning again', async () => {
  const h = world();
  let links = [{ peerId: 'PEER', peerName: 'peer.test', pending: 0 }];
  const sent: WireEvent[] = [];
  const burst = new Burst({ world: h.world, lowWater: 500, links: () => links, emit: (ps) => { sent.push(...ps); for (const l of links) l.pending += 100 * ps.length; } });
  burst.start();
  assert.equal(burst.active, true);
  links = [];
  await until(() => !burst.active);
  links = [{ peerId: 'OTHER', peerName: 'other.test', pending: 0 }];
  sent.length = 0;
  burst.start();
  assert.deepEqual(keys(sent).slice(0, 2), ['link OTHER', 'register u0'], 'from the beginning');
  burst.stop();
  assert.equal(burst.active, false);
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await tick();
  assert.ok(cond(), 'condition reached');
}
