import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../harness/federation.js';
import { LyingPeer, nextSeq, peerKey, wire, type PeerKey } from '../harness/lying-peer.js';
import { bootServer, type TestServer } from '../harness/server.js';

// Causal order across servers (#14, federation/peers.ts withAfter): a join that another server's
// INVITE admitted names that INVITE's envelope, and a server that has the join first (the two come
// from different servers, by different paths) waits for the invite instead of refusing the join
// on +i. One real server; the two other servers are scripted peers (test/harness/lying-peer.ts)
// speaking the protocol honestly, so the order of arrival is the test's to choose.

const running: TestServer[] = [];
const peers: LyingPeer[] = [];
after(async () => {
  for (const p of peers) p.close();
  for (const s of running) await s.stop().catch(() => {});
});

/** one real server S and two peers a and c, both full, linked to it */
async function network(): Promise<{ S: TestServer; A: PeerKey; C: PeerKey; a: LyingPeer; c: LyingPeer; port: number; world: TestServer['server']['context']['world'] }> {
  const A = peerKey();
  const C = peerKey();
  const S = await bootServer({ 'server-name': 's.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': `${A.id},${C.id}` }, undefined, undefined, { captureLogs: true });
  running.push(S);
  const port = S.server.addresses.s2s!.port;
  const a = await LyingPeer.connect({ port, key: A, name: 'a.test' });
  const c = await LyingPeer.connect({ port, key: C, name: 'c.test' });
  peers.push(a, c);
  return { S, A, C, a, c, port, world: S.server.context.world };
}

test('a join admitted by another server\'s INVITE waits for it; what its server sent after waits behind it; without the reference it is refused', async () => {
  // a: alice's server (she owns +i #inv); c: carol's server (alice invites carol)
  const { S, A, C, a, c, world } = await network();

  const alice = a.register('alice');
  a.join(alice, '#inv', { status: 'o' });
  const watcher = await S.client('watcher');
  await until(() => world.findChannel('#inv')?.members.size === 1, '#inv at S');
  watcher.send('JOIN #inv');
  await watcher.expect(/ 366 watcher #inv /);
  a.emit({ kind: 'channel-mode', by: { kind: 'user', user: wire(alice) }, channel: '#inv', changes: [{ adding: true, mode: 'i' }] });
  await watcher.expect(/^:alice!\S+ MODE #inv \+i$/);

  const carol = c.register('carol');
  const dave = c.register('dave');
  // alice invites carol on A; carol joins on C; C's join (naming the invite) and then carol's
  // message reach S before A's invite does
  const invite = a.seal({ kind: 'invite', source: wire(alice), target: wire(carol), channel: '#inv' });
  c.emit({ kind: 'join', user: wire(carol), channel: '#inv', status: '', ts: Date.now(), after: { origin: A.id, seq: invite.seq } });
  c.say(carol, '#inv', 'hello after my join');
  await c.sync();
  assert.equal(world.findChannel('#inv')!.members.size, 2, 'carol waits for the invite');
  a.send(invite);
  await watcher.expect(/^:carol!\S+ JOIN #inv$/);
  await watcher.expect(/^:carol!\S+ PRIVMSG #inv :hello after my join$/);
  assert.ok(world.findChannel('#inv')!.members.has(world.findUser('carol')!));

  // the same without the reference: refused on +i (with a log line), and it stays refused when the invite comes
  const invite2 = a.seal({ kind: 'invite', source: wire(alice), target: wire(dave), channel: '#inv' });
  c.join(dave, '#inv');
  await c.sync();
  a.send(invite2);
  await a.sync();
  assert.ok(!world.findChannel('#inv')!.members.has(world.findUser('dave')!), 'dave is not on #inv');
  assert.ok(S.logs.some((l) => l.msg === 'S2S event refused' && l['origin'] === C.id && String(l['reason']).startsWith('473 ')), 'the refusal is logged');
});

test('a server that restarted starts a new run of sequence numbers (`since`): its first envelopes are applied at once, not held for the gap its restart left', async () => {
  const net = await network();
  const { S, C, a, port, world } = net;
  let c = net.c;
  const alice = a.register('alice');
  c.register('old');
  await c.sync();
  assert.ok(world.findUser('old'));
  // C goes down (its users leave) and comes back with a new run: its numbers jump ahead
  c.close();
  await until(() => !world.findUser('old'), 'C\'s users gone');
  c = await LyingPeer.connect({ port, key: C, name: 'c.test' });
  peers.push(c);
  const start = nextSeq(C.id) + 1000;
  const carol = c.user('carol');
  c.emit({ kind: 'register', user: carol }, { seq: start, since: start });
  // A, which heard of carol, invites her to a channel at once
  a.join(alice, '#back', { status: 'o' });
  a.emit({ kind: 'invite', source: wire(alice), target: wire(carol), channel: '#back' });
  await a.sync();
  assert.ok(world.findUser('carol'), 'carol is known without waiting for the numbers before the restart');
  assert.ok(!S.logs.some((l) => l.msg === 'S2S event refused' && l['kind'] === 'invite'), 'the invite was applied');
  assert.equal(world.findUser('carol')!.invitedTo?.has(world.findChannel('#back')!), true);
});
