import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { fedDirs, FAST_LINKS, freeTcpPort, freeUdpPort, until } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyEnvelope } from '../../src/federation/envelope.js';
import type { EnvelopeMessage } from '../../src/federation/messages.js';

// Two servers linked over TLS (#14), booted through the composition root (config → startServer):
// users on each see one network; a netsplit and the reconnect that follows.

const { dataDir, cleanup } = fedDirs();
const running: TestServer[] = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  cleanup();
});



const FAST = { ...FAST_LINKS };


describe('two servers over TLS', () => {
  test('one network: joins, messages, topic, modes, kick, LUSERS/LINKS/MAP/WHOIS; a netsplit and the reconnect', async () => {
    const a = dataDir();
    const b = dataDir();
    const aPort = await freeTcpPort();
    const A = await bootServer({ ...FAST, 'server-name': 'a.test', 's2s-listen-addr': `127.0.0.1:${aPort}`, 's2s-allowed-peers': b.id }, a.dir);
    running.push(A);
    const B = await bootServer({ ...FAST, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}`, 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked');

    const alice = await A.client('alice');
    const bob = await B.client('bob');
    alice.send('JOIN #fed');
    await alice.expect(/ 366 alice #fed /);
    await until(() => B.server.context.world.findChannel('#fed')?.members.size === 1, '#fed at B');
    bob.send('JOIN #fed');
    await bob.expect(/ 353 bob = #fed :.*@alice/);
    await alice.expect(/^:bob!~?bob@\S+ JOIN #fed$/);

    // messages both ways, with the origin's msgid and signature kept
    alice.send('PRIVMSG #fed :hello from a');
    await bob.expect(/^:alice!\S+ PRIVMSG #fed :hello from a$/);
    bob.send('PRIVMSG #fed :hello from b');
    await alice.expect(/^:bob!\S+ PRIVMSG #fed :hello from b$/);
    // A's audit log keeps B's envelope as received: it still verifies against B's key
    const row = A.server.federation!.audit.latest(50).find((r) => r.kind === 'message' && r.envelope.includes('hello from b'));
    assert.ok(row, 'the message is in the audit log');
    assert.deepEqual([row.origin, row.via, row.outcome], [b.id, b.id, 'applied']);
    assert.equal(verifyEnvelope(JSON.parse(row.envelope) as EnvelopeMessage), true);
    // stored encrypted at rest, like message bodies
    const file = new Database(join(a.dir, 'freeq.db'), { readonly: true });
    const stored = file.prepare("SELECT envelope FROM s2s_audit WHERE kind = 'message'").pluck().all() as string[];
    file.close();
    assert.ok(stored.length > 0 && stored.every((e) => e.startsWith('fq1:') && !e.includes('hello')), 'encrypted envelopes');

    // alice (op, first on #fed) sets a topic and +m; bob (not op) cannot
    alice.send('TOPIC #fed :the federated topic');
    await bob.expect(/^:alice!\S+ TOPIC #fed :the federated topic$/);
    alice.send('MODE #fed +m');
    await bob.expect(/^:alice!\S+ MODE #fed \+m$/);
    bob.send('MODE #fed -m');
    await bob.expect(/ 482 bob #fed /);
    // +m holds on both servers: bob (no voice) cannot speak, on his own server
    bob.send('PRIVMSG #fed :muted?');
    await bob.expect(/ 404 bob #fed /);
    alice.send('MODE #fed +v bob');
    await bob.expect(/^:alice!\S+ MODE #fed \+v bob$/);
    bob.send('PRIVMSG #fed :voiced');
    await alice.expect(/^:bob!\S+ PRIVMSG #fed :?voiced$/);

    // the network as users see it
    bob.send('LUSERS');
    await bob.expect(/ 251 bob :There are 2 users and 0 invisible on 2 servers$/);
    await bob.expect(/ 255 bob :I have 1 clients and 1 servers$/);
    bob.send('LINKS');
    const links = await bob.collectUntil(/ 365 bob /);
    assert.ok(links.some((l) => / 364 bob b\.test b\.test :0 /.test(l)), links.join('\n'));
    assert.ok(links.some((l) => / 364 bob a\.test b\.test :1 /.test(l)), links.join('\n'));
    bob.send('MAP');
    const map = await bob.collectUntil(/ 007 bob /);
    assert.ok(map.some((l) => / 006 bob :b\.test \[/.test(l)) && map.some((l) => /a\.test \[.* 1 users/.test(l)), map.join('\n'));
    bob.send('WHOIS alice');
    const whois = await bob.collectUntil(/ 318 bob alice /);
    assert.ok(whois.some((l) => / 312 bob alice a\.test :/.test(l)), whois.join('\n'));
    // 672 is for clients connected over iroh only (#16): alice is on A over TCP
    assert.ok(!whois.some((l) => / 672 /.test(l)), whois.join('\n'));

    // a kick across: alice kicks bob (on B)
    alice.send('KICK #fed bob :out');
    await bob.expect(/^:alice!\S+ KICK #fed bob :?out$/);
    bob.send('JOIN #fed');
    await alice.expect(/^:bob!\S+ JOIN #fed$/);

    // netsplit: the link drops; bob sees alice quit with the two server names, then B redials
    // and the burst brings her back (netjoin)
    // a client with the batch capability gets the QUITs in a netsplit batch
    const dave = await B.client('dave', { caps: ['batch', 'message-tags'] });
    dave.send('JOIN #fed');
    await dave.expect(/ 366 dave #fed /);
    B.server.federation!.peers.linkTo(a.id)!.close('test cut');
    await bob.expect(/^:alice!\S+ QUIT :b\.test a\.test$/, 5000);
    const open = await dave.expect(/^(@\S+ )?:b\.test BATCH \+(\S+) netsplit b\.test a\.test$/);
    const ref = /BATCH \+(\S+)/.exec(open)![1]!;
    await dave.expect(new RegExp(`^@(\\S*;)?batch=${ref}(;\\S*)? :alice!\\S+ QUIT :b\\.test a\\.test$`));
    await dave.expect(new RegExp(`^(@\\S+ )?:b\\.test BATCH -${ref}$`));
    bob.send('LUSERS');
    await bob.expect(/ 251 bob :There are 2 users and 0 invisible on 1 servers$/);
    await bob.expect(/^:alice!\S+ JOIN #fed$/, 5000);
    alice.send('PRIVMSG #fed :after the split');
    await bob.expect(/^:alice!\S+ PRIVMSG #fed :after the split$/);

    // A stops: its users quit as they are closed ("Server shutting down") before its links go
    await A.stop();
    running.splice(running.indexOf(A), 1);
    await bob.expect(/^:alice!\S+ QUIT :Server shutting down$/, 5000);

    // A back on the same address and keys: B redials (backoff) and the network is whole again
    const A2 = await bootServer({ ...FAST, 'server-name': 'a.test', 's2s-listen-addr': `127.0.0.1:${aPort}`, 's2s-allowed-peers': b.id }, a.dir);
    running.push(A2);
    await until(() => A2.server.federation!.peers.linked.length === 1, 'relinked', 10_000);
    const carol = await A2.client('carol');
    carol.send('JOIN #fed');
    await bob.expect(/^:carol!\S+ JOIN #fed$/);
    carol.send('WHOIS bob');
    const w2 = await carol.collectUntil(/ 318 carol bob /);
    assert.ok(w2.some((l) => / 312 carol bob b\.test :/.test(l)), w2.join('\n'));
  });

  test('a peer not on the allowlist is refused both ways; start-up refuses s2s-peers that are not allowed', async () => {
    const a = dataDir();
    const b = dataDir();
    const c = dataDir();
    const A = await bootServer({ ...FAST, 'server-name': 'a.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': c.id }, a.dir);
    running.push(A);
    const aPort = A.server.addresses.s2s!.port;
    // B allows A, A does not allow B: B dials, A refuses; no link on either side
    const B = await bootServer({ ...FAST, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}`, 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(A.server.federation!.peers.linked.length, 0);
    assert.equal(B.server.federation!.peers.linked.length, 0);
    await B.stop();
    running.splice(running.indexOf(B), 1);
    // a dialled peer that is not allowed: a configuration error, the server does not start
    await assert.rejects(bootServer({ 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}` }, b.dir), /s2s-peers: .* is not allowed/);
  });

  test('SQUIT closes a link and keeps it closed, on either side, until CONNECT; KILL of a remote user is refused', async () => {
    const a = dataDir();
    const b = dataDir();
    const oper = { 'oper-password': 'correct horse battery' };
    const A = await bootServer({ ...FAST, ...oper, 'server-name': 'a.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': b.id }, a.dir);
    running.push(A);
    const aPort = A.server.addresses.s2s!.port;
    const B = await bootServer({ ...FAST, ...oper, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${aPort}`, 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    const linked = (): boolean => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1;
    await until(linked, 'linked');
    const alice = await A.client('alice');
    const bob = await B.client('bob');
    bob.send('OPER bob :correct horse battery');
    await bob.expect(/ 381 bob /);
    alice.send('JOIN #s');
    await alice.expect(/ 366 alice #s /);
    bob.send('JOIN #s');
    await bob.expect(/ 366 bob #s /);

    // KILL of alice (A's user) on B: refused, she stays
    bob.send('KILL alice :no');
    await bob.expect(/ 481 bob :Permission Denied- alice is a user of another server/);

    // SQUIT by name on the dialling side: split, and no redial
    bob.send('SQUIT a.test :maintenance');
    await bob.expect(/^:alice!\S+ QUIT :b\.test a\.test$/);
    // while split, alice (op) changes the topic and a mode on A: they reach B when the link is back
    alice.send('TOPIC #s :set during the split', 'MODE #s +s', 'MODE #s +b *!*@banned.example');
    await alice.expect(/ MODE #s \+b \*!\*@banned\.example$/);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(B.server.federation!.peers.linked.length, 0);
    assert.equal(B.server.context.world.findChannel('#s')?.topic, undefined);
    bob.send('CONNECT a.test');
    await bob.expect(/NOTICE bob :CONNECT a\.test/);
    // after a SQUIT the name is no longer linked: CONNECT by peer id works too; either way it is back
    await until(linked, 'relinked after CONNECT');
    await bob.expect(/^:alice!\S+ JOIN #s$/);
    // the merged registers, shown as one MODE from this server
    await bob.expect(/^:b\.test MODE #s \+sb \*!\*@banned\.example$/);
    await bob.expect(/^:alice!\S+ TOPIC #s :set during the split$/);
    const atB = B.server.context.world.findChannel('#s')!;
    const atA = A.server.context.world.findChannel('#s')!;
    await until(() => atB.lists.b.length === 1, '+b at B');
    // the same registers and the same stamps (the ban entry keeps its addition's stamp: lists merge entry by entry)
    assert.deepEqual([atB.topic?.text, atB.modes.s, atB.stamps.topic, atB.lists.b.entries[0]?.mask, atB.lists.b.entries[0]?.stamp],
      [atA.topic?.text, atA.modes.s, atA.stamps.topic, atA.lists.b.entries[0]?.mask, atA.lists.b.entries[0]?.stamp]);

    // SQUIT on the accepting side, by peer id: B keeps dialling, A keeps refusing
    alice.send(`OPER alice :correct horse battery`);
    await alice.expect(/ 381 alice /);
    alice.send(`SQUIT ${b.id} :not now`);
    await alice.expect(/^:bob!\S+ QUIT :a\.test b\.test$/);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(A.server.federation!.peers.linked.length, 0);
    alice.send(`CONNECT ${b.id}`);
    await until(linked, 'relinked after CONNECT on the accepting side', 15_000);
    // an unknown server
    alice.send('SQUIT nowhere.test');
    await alice.expect(/ 402 alice nowhere\.test :No such server/);
  });

  test('over iroh (QUIC, relays off): the link, messages both ways, a netsplit and the redial', async () => {
    const a = dataDir();
    const b = dataDir();
    const aUdp = await freeUdpPort();
    const iroh = { iroh: true, 'iroh-relay-mode': 'disabled' };
    const A = await bootServer({ ...FAST, ...iroh, 'server-name': 'a.test', 'iroh-bind-addr': `127.0.0.1:${aUdp}`, 's2s-allowed-peers': b.id }, a.dir);
    running.push(A);
    assert.ok(A.server.addresses.iroh!.some((x) => x.endsWith(`:${aUdp}`)), String(A.server.addresses.iroh));
    const B = await bootServer({ ...FAST, ...iroh, 'server-name': 'b.test', 'iroh-bind-addr': '127.0.0.1:0', 's2s-peers': `${a.id}@127.0.0.1:${aUdp}`, 's2s-allowed-peers': a.id }, b.dir);
    running.push(B);
    await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked over iroh');
    const alice = await A.client('alice');
    const bob = await B.client('bob');
    alice.send('JOIN #q');
    await alice.expect(/ 366 alice #q /);
    await until(() => B.server.context.world.findChannel('#q') !== undefined, '#q at B');
    bob.send('JOIN #q');
    await alice.expect(/^:bob!\S+ JOIN #q$/);
    alice.send('PRIVMSG #q :over quic');
    await bob.expect(/^:alice!\S+ PRIVMSG #q :over quic$/);
    bob.send('PRIVMSG #q :and back');
    await alice.expect(/^:bob!\S+ PRIVMSG #q :and back$/);
    B.server.federation!.peers.linkTo(a.id)!.close('test cut');
    await bob.expect(/^:alice!\S+ QUIT :b\.test a\.test$/, 5000);
    await bob.expect(/^:alice!\S+ JOIN #q$/, 8000);
  });

  test('the product documents\' two-server example: each server dials the other (iroh); exactly one link stays', async () => {
    const a = dataDir();
    const b = dataDir();
    const [aUdp, bUdp] = [await freeUdpPort(), await freeUdpPort()];
    const iroh = { iroh: true, 'iroh-relay-mode': 'disabled' };
    // freeq-server --iroh --s2s-peers <peer-id-b> --s2s-allowed-peers <peer-id-b> (and the mirror
    // image on B), with direct addresses as relays and discovery are off here
    const [A, B] = await Promise.all([
      bootServer({ ...FAST, ...iroh, 'server-name': 'a.test', 'iroh-bind-addr': `127.0.0.1:${aUdp}`, 's2s-peers': `${b.id}@127.0.0.1:${bUdp}`, 's2s-allowed-peers': b.id }, a.dir),
      bootServer({ ...FAST, ...iroh, 'server-name': 'b.test', 'iroh-bind-addr': `127.0.0.1:${bUdp}`, 's2s-peers': `${a.id}@127.0.0.1:${aUdp}`, 's2s-allowed-peers': a.id }, b.dir),
    ]);
    running.push(A, B);
    await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked');
    // both kept the same connection (dialled by one, accepted by the other; when both dials got
    // through, the one dialled by the lower id)
    await new Promise((r) => setTimeout(r, 300));
    const la = A.server.federation!.peers.linkTo(b.id)!;
    const lb = B.server.federation!.peers.linkTo(a.id)!;
    assert.notEqual(la.direction, lb.direction);
    const alice = await A.client('alice');
    const bob = await B.client('bob');
    alice.send('JOIN #seed');
    await alice.expect(/ 366 alice #seed /);
    await until(() => B.server.context.world.findChannel('#seed') !== undefined, '#seed at B');
    bob.send('JOIN #seed');
    await alice.expect(/^:bob!\S+ JOIN #seed$/);
    bob.send('PRIVMSG #seed :one link, one copy');
    await alice.expect(/^:bob!\S+ PRIVMSG #seed :one link, one copy$/);
    await alice.expectNone(/one link, one copy/, 300);
  });

  test('a peer\'s users are not held to this server\'s per-IP channel-creation rate (their server applied its own): every channel reaches the peer', async () => {
    const a = dataDir();
    const b = dataDir();
    const A = await bootServer({ ...FAST, 'server-name': 'a.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': b.id }, a.dir);
    running.push(A);
    const B = await bootServer({ ...FAST, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${A.server.addresses.s2s!.port}`, 's2s-allowed-peers': a.id, 'channel-creation-per-ip': 2, 'channel-creation-exempt': [] }, b.dir);
    running.push(B);
    await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked');
    const users = [await A.client('u1'), await A.client('u2'), await A.client('u3')];
    users.forEach((c, i) => c.send(`JOIN #r${i}a,#r${i}b`));
    await until(() => [0, 1, 2].every((i) => B.server.context.world.findChannel(`#r${i}b`)?.members.size === 1), 'six channels at B');
    assert.equal([...B.server.context.world.channels.keys()].filter((n) => n.startsWith('#r')).length, 6);
    // B's own users still are: the third channel from one address is refused
    const local = await B.client('local');
    local.send('JOIN #l1', 'JOIN #l2', 'JOIN #l3');
    await local.expect(/ 405 local #l3 /);
  });
});
