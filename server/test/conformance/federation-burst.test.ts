import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fedDirs, FAST_LINKS, freeUdpPort, until } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';

// A burst larger than the link's sendq (#14, federation/burst.ts): it is streamed at the pace the
// peer reads, so it gets through whole and the link stays up (built at once, it closed the link on
// its sendq, and again after every redial). Both transports; booted through the composition root.
// Over iroh a link's sendq is what QUIC has not taken yet, so an unpaced burst of this size
// overflows it (that case fails without the pacing); over TLS the kernel's socket buffers on
// loopback absorb this much, so there the case shows the streamed burst arrives whole and in order.

const { dataDir, cleanup } = fedDirs();
const running: TestServer[] = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  cleanup();
});

const CHANNELS = 100;
const MEMBERS = 8;
const chan = (i: number): string => `#a-channel-with-a-rather-long-name-${String(i).padStart(3, '0')}`;

for (const transport of ['tls', 'iroh'] as const) {
  test(`${transport}: a burst of ${CHANNELS * MEMBERS} joins (about 450 KB) through a 256 KiB sendq arrives whole, the link never closes`, async () => {
    const a = dataDir();
    const b = dataDir();
    const aUdp = transport === 'iroh' ? await freeUdpPort() : 0;
    const link = transport === 'tls'
      ? { a: { 's2s-listen-addr': '127.0.0.1:0' }, b: (aPort: number) => ({ 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}` }) }
      : {
        a: { iroh: true, 'iroh-relay-mode': 'disabled', 'iroh-bind-addr': `127.0.0.1:${aUdp}` },
        b: () => ({ iroh: true, 'iroh-relay-mode': 'disabled', 'iroh-bind-addr': '127.0.0.1:0', 's2s-peers': `${a.id}@127.0.0.1:${aUdp}` }),
      };
    const A = await bootServer({
      ...FAST_LINKS, ...link.a, 'server-name': 'a.test', 's2s-allowed-peers': b.id, 's2s-sendq': '256k', 'channel-creation-per-connection': 1000,
    }, a.dir, undefined, { captureLogs: true });
    running.push(A);
    // MEMBERS users on A, each on every channel; the first founds them all (channel operator) and sets a topic on each
    const users = [];
    for (let m = 0; m < MEMBERS; m++) {
      const c = await A.client(`member${m}`);
      for (let i = 0; i < CHANNELS; i += 10) c.send(`JOIN ${Array.from({ length: 10 }, (_, k) => chan(i + k)).join(',')}`);
      await c.expect(new RegExp(` 366 member${m} ${chan(CHANNELS - 1)} `), 10000);
      users.push(c);
    }
    for (let i = 0; i < CHANNELS; i++) users[0]!.send(`TOPIC ${chan(i)} :topic ${i}`);
    await users[0]!.expect(new RegExp(` TOPIC ${chan(CHANNELS - 1)} :topic ${CHANNELS - 1}$`), 10000);

    const B = await bootServer({ ...FAST_LINKS, ...link.b(A.server.addresses.s2s?.port ?? 0), 'server-name': 'b.test', 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    await until(() => A.server.federation!.peers.linked.length === 1, 'linked', 15000);
    const first = A.server.federation!.peers.linkTo(b.id);
    const world = B.server.context.world;
    await until(() => {
      for (let i = 0; i < CHANNELS; i++) {
        const ch = world.findChannel(chan(i));
        if (ch?.members.size !== MEMBERS || ch.topic?.text !== `topic ${i}`) return false;
      }
      return true;
    }, `${CHANNELS} channels x ${MEMBERS} members and their topics at B`, 30000);

    assert.equal(A.server.federation!.peers.linkTo(b.id), first, 'the same link throughout');
    const closes = A.logs.filter((l) => /S2S link closed/.test(l.msg));
    assert.deepEqual(closes.map((l) => l['reason']), [], 'no link closed (sendq)');
    // a live message after the burst still crosses
    const bob = await B.client('bob');
    bob.send(`JOIN ${chan(0)}`);
    await users[3]!.expect(/^:bob!\S+ JOIN #a-channel-with-a-rather-long-name-000$/);
    users[3]!.send(`PRIVMSG ${chan(0)} :after the burst`);
    await bob.expect(/^:member3!\S+ PRIVMSG #a-channel-with-a-rather-long-name-000 :after the burst$/);
  });
}
