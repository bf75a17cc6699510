import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { ed25519 } from '@noble/curves/ed25519.js';
import { federationTlsIdentity } from '../../../src/federation/cert.js';
import { Peers } from '../../../src/federation/peers.js';
import { dialS2sTls, listenS2sTls, type LinkLog } from '../../../src/federation/tls-link.js';
import { Fanout } from '../../../src/session/fanout.js';
import type { Outgoing } from '../../../src/session/outgoing.js';
import { EventBus } from '../../../src/state/bus.js';
import type { Cloaks } from '../../../src/state/cloak.js';
import { Ops } from '../../../src/state/ops.js';
import type { AccountStore, ChannelStore } from '../../../src/state/store.js';
import { User, type Recipient } from '../../../src/state/user.js';
import { World } from '../../../src/state/world.js';

// #14: two servers in one process, linked over real TLS on 127.0.0.1: bursts introduce each
// side's users, changes made on one side reach the other as signed envelopes applied through its
// Ops, and nothing is echoed back.

const noStore: ChannelStore = { loadAll: () => [], saveChannel() {}, deleteChannel() {}, addListEntry() {}, removeListEntry() {}, setListTombstone() {}, removeListTombstone() {}, addDidOp() {}, removeDidOp() {}, addDidInvite() {}, removeDidInvite() {} };
const accounts: AccountStore = { loadAll: () => [], save() {} };
const servers: tls.Server[] = [];
after(() => { for (const s of servers) s.close(); });

async function server(name: string) {
  const seed = randomBytes(32);
  const peerId = Buffer.from(ed25519.getPublicKey(seed)).toString('hex');
  const world = new World();
  let bus: EventBus | undefined;
  const ops = new Ops(world, noStore, accounts, (ev) => bus!.publish(ev), {
    maxListEntries: 100, whowasLen: 0, maxChannels: 100, operDids: [], cloaks: { did: () => 'did.cloak', guest: () => 'guest.cloak' } as unknown as Cloaks,
    maxChannelsTotal: 1000, maxChannelsPerAccount: 50, channelExpiry: 0, foundedChannelExpiry: 0, serverId: peerId,
  }, { now: () => Date.now() }, {
    onMessage: () => ({ action: 'allow' }), newMsgid: () => `${name}-${randomBytes(4).toString('hex')}`, channelVenue: (n) => n.toLowerCase(), dmVenue: (a, b) => `dm:${a},${b}`,
    sign: (m) => m.tags, record: () => false, visibility: () => 0,
  });
  const logs: string[] = [];
  const log: LinkLog = { info: (_o, m) => logs.push(m), warn: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`) };
  bus = new EventBus(peerId, ops.hlc, (err) => { throw err; });
  const fanout = new Fanout({ world, serverName: () => name, maxModes: () => 6, now: () => Date.now() });
  bus.subscribe('fanout', fanout.onEvent);
  const tlsId = await federationTlsIdentity(seed, peerId);
  let n = 0;
  const local = (nick: string) => {
    const got: string[] = [];
    const link: Recipient = { tagMask: 0, hasCap: () => false, deliver: (o) => { const b = (o as Outgoing).base; got.push(`:${b.source ?? ''} ${b.command} ${b.params.join(' ')}`); }, disconnect() {} };
    const u = new User(++n, '192.0.2.1', false, link, Date.now(), `${nick}.${name}`);
    ops.addUser(u);
    ops.setNick(u, nick);
    ops.setIdent(u, nick, nick);
    ops.completeRegistration(u);
    return { u, got };
  };
  return { name, seed, peerId, world, ops, bus, tlsId, logs, log, local, sent: () => bus.lastSeq };
}

const until = async (cond: () => boolean, what: string, ms = 4000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('two linked servers', () => {
  test('burst, live joins, a message across, a kick across, no echo', async () => {
    const A = await server('a.test');
    const B = await server('b.test');
    const alice = A.local('alice');
    A.ops.join(alice.u, '#c', undefined); // before the link: travels in the burst
    const bob = B.local('bob');
    const pa = new Peers({ self: { peerId: A.peerId, seed: A.seed, name: 'a.test' }, ops: A.ops, world: A.world, bus: A.bus, hlc: A.ops.hlc, policy: (id) => id === B.peerId ? { trust: 'full' } : undefined, log: A.log, now: () => Date.now() });
    const pb = new Peers({ self: { peerId: B.peerId, seed: B.seed, name: 'b.test' }, ops: B.ops, world: B.world, bus: B.bus, hlc: B.ops.hlc, policy: (id) => id === A.peerId ? { trust: 'full' } : undefined, log: B.log, now: () => Date.now() });
    const srv = listenS2sTls({ self: A.tlsId, name: 'a.test', log: A.log, events: pa, allowed: (id) => id === B.peerId });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    await dialS2sTls({ self: B.tlsId, name: 'b.test', log: B.log, events: pb, host: '127.0.0.1', port: (srv.address() as AddressInfo).port, expect: A.peerId });
    await until(() => pa.linked.length === 1 && pb.linked.length === 1, 'linked');

    // the bursts: each side knows the other's user, alice already on #c at B
    await until(() => B.world.findUser('alice') !== undefined && A.world.findUser('bob') !== undefined, 'bursts applied');
    const aliceAtB = B.world.findUser('alice')!;
    assert.equal(aliceAtB.local, false);
    assert.equal(aliceAtB.uid, alice.u.uid);
    await until(() => B.world.findChannel('#c')?.members.has(aliceAtB) === true, 'alice on #c at B');

    // a live join on B reaches A; A's alice sees it through A's own fan-out
    B.ops.join(bob.u, '#c', undefined);
    await until(() => alice.got.some((l) => l.startsWith(`:bob!bob@bob.b.test JOIN #c`)), 'alice sees bob join');

    // bob speaks on B: alice on A gets it with B's msgid
    const ev = B.ops.message(bob.u, { command: 'PRIVMSG', target: '#c', text: 'hello across' });
    assert.ok(ev);
    await until(() => alice.got.some((l) => l === ':bob!bob@bob.b.test PRIVMSG #c hello across'), 'message across');
    const atA = A.world.findUser('bob')!;
    assert.equal(atA.local, false);

    // alice (first in #c on both sides: +o) kicks bob on A; B applies it with alice as the actor
    A.ops.kick(alice.u, A.world.findChannel('#c')!, atA, 'bye');
    await until(() => B.world.findChannel('#c')!.members.has(bob.u) === false, 'kick applied at B');
    assert.ok(bob.got.some((l) => l.startsWith(':alice!alice@alice.a.test KICK #c bob')));

    // nothing was refused, and nothing came back as an echo (each side applied the other's events once)
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(A.logs.filter((l) => l.startsWith('S2S event refused')), []);
    assert.deepEqual(B.logs.filter((l) => l.startsWith('S2S event refused')), []);
    assert.equal(alice.got.filter((l) => l.includes('hello across')).length, 1);
    // bob back on #c, so he sees the netsplit below
    B.ops.join(bob.u, '#c', undefined);
    await until(() => A.world.findChannel('#c')!.members.has(atA), 'bob back at A');
    pa.close('test over');
    pb.close('test over');
    await until(() => pa.linked.length === 0 && pb.linked.length === 0, 'links closed');
    // netsplit: each side's view lost the other's users, with the two server names as the reason
    assert.equal(A.world.findUser('bob'), undefined);
    assert.equal(B.world.findUser('alice'), undefined);
    assert.ok(bob.got.includes(':alice!alice@alice.a.test QUIT b.test a.test'), bob.got.join('\n'));
  });
});
