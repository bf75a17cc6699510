import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { fedDirs, FAST_LINKS, until } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';

// Multi-hop (#14 phase 2): servers that do not link directly hear each other through a relay,
// which forwards the origin's signed envelopes unchanged. Three in-process servers over TLS.

const { dataDir, cleanup } = fedDirs();
const running: TestServer[] = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  cleanup();
});


const FAST = { ...FAST_LINKS, 'oper-password': 'correct horse battery' };


describe('three servers in a line: a — b — c', () => {
  test('a and c hear each other through b; LINKS shows the path; a split between b and c takes only c away, and it comes back', async () => {
    const [a, b, c] = [dataDir(), dataDir(), dataDir()];
    // every server allows every other (an origin must be allowed even when it is not dialled)
    const allow = (me: string) => [a.id, b.id, c.id].filter((x) => x !== me).join(',');
    const B = await bootServer({ ...FAST, 'server-name': 'b.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': allow(b.id) }, b.dir);
    running.push(B);
    const port = B.server.addresses.s2s!.port;
    const A = await bootServer({ ...FAST, 'server-name': 'a.test', 's2s-peers': `tls:${b.id}@127.0.0.1:${port}`, 's2s-allowed-peers': allow(a.id) }, a.dir);
    running.push(A);
    const C = await bootServer({ ...FAST, 'server-name': 'c.test', 's2s-peers': `tls:${b.id}@127.0.0.1:${port}`, 's2s-allowed-peers': allow(c.id) }, c.dir);
    running.push(C);
    const worlds = () => [A, B, C].map((s) => s.server.context.world);
    await until(() => worlds().every((w) => w.servers.size === 2), 'every server reaches both others');

    const alice = await A.client('alice');
    const carol = await C.client('carol');
    alice.send('JOIN #line');
    await alice.expect(/ 366 alice #line /);
    await until(() => C.server.context.world.findChannel('#line')?.members.size === 1, '#line at c');
    carol.send('JOIN #line');
    await alice.expect(/^:carol!\S+ JOIN #line$/);
    carol.send('PRIVMSG #line :two hops');
    await alice.expect(/^:carol!\S+ PRIVMSG #line :two hops$/);
    alice.send('PRIVMSG #line :and back');
    await carol.expect(/^:alice!\S+ PRIVMSG #line :and back$/);
    // exactly once: b relays, nobody echoes
    await alice.expectNone(/two hops/, 200);

    alice.send('LINKS');
    const links = await alice.collectUntil(/ 365 alice /);
    assert.ok(links.some((l) => / 364 alice b\.test a\.test :1 /.test(l)), links.join('\n'));
    assert.ok(links.some((l) => / 364 alice c\.test b\.test :2 /.test(l)), links.join('\n'));
    alice.send('LUSERS');
    await alice.expect(/ 251 alice :There are 2 users and 0 invisible on 3 servers$/);
    await alice.expect(/ 255 alice :I have 1 clients and 1 servers$/);
    carol.send('WHOIS alice');
    const w = await carol.collectUntil(/ 318 carol alice /);
    assert.ok(w.some((l) => / 312 carol alice a\.test :/.test(l)), w.join('\n'));

    // b cuts c off: a sees carol leave with the names of the broken link; then c is back
    const oper = await B.client('boper');
    oper.send('OPER boper :correct horse battery');
    await oper.expect(/ 381 boper /);
    oper.send('SQUIT c.test :cut');
    await alice.expect(/^:carol!\S+ QUIT :b\.test c\.test$/, 5000);
    await until(() => A.server.context.world.servers.size === 1, 'c gone from a');
    oper.send('CONNECT c.test');
    await until(() => worlds().every((x) => x.servers.size === 2), 'c back everywhere', 10_000);
    await alice.expect(/^:carol!\S+ JOIN #line$/, 5000);
    carol.send('PRIVMSG #line :back again');
    await alice.expect(/^:carol!\S+ PRIVMSG #line :back again$/);
  });

  test('a triangle: one link cut is no netsplit (the other path carries on), each message arrives once', async () => {
    const [a, b, c] = [dataDir(), dataDir(), dataDir()];
    const allow = (me: string) => [a.id, b.id, c.id].filter((x) => x !== me).join(',');
    const B = await bootServer({ ...FAST, 'server-name': 'b.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': allow(b.id) }, b.dir);
    running.push(B);
    const C = await bootServer({ ...FAST, 'server-name': 'c.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-peers': `tls:${b.id}@127.0.0.1:${B.server.addresses.s2s!.port}`, 's2s-allowed-peers': allow(c.id) }, c.dir);
    running.push(C);
    const A = await bootServer({ ...FAST, 'server-name': 'a.test', 's2s-peers': `tls:${b.id}@127.0.0.1:${B.server.addresses.s2s!.port},tls:${c.id}@127.0.0.1:${C.server.addresses.s2s!.port}`, 's2s-allowed-peers': allow(a.id) }, a.dir);
    running.push(A);
    await until(() => [A, B, C].every((s) => s.server.federation!.peers.linked.length === 2), 'triangle up');
    const alice = await A.client('alice');
    const carol = await C.client('carol');
    alice.send('JOIN #tri');
    await alice.expect(/ 366 alice #tri /);
    await until(() => C.server.context.world.findChannel('#tri')?.members.size === 1, '#tri at c');
    carol.send('JOIN #tri');
    await alice.expect(/^:carol!\S+ JOIN #tri$/);
    // cut a—c: carol stays (reached through b), messages still flow, once
    A.server.context.federation!.squit(c.id, 'test');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(A.server.context.world.findUser('carol'), 'carol still known at a');
    await alice.expectNone(/QUIT/, 200);
    carol.send('PRIVMSG #tri :via b');
    await alice.expect(/^:carol!\S+ PRIVMSG #tri :via b$/);
    await alice.expectNone(/via b/, 300);
    alice.send('LINKS');
    const links = await alice.collectUntil(/ 365 alice /);
    assert.ok(links.some((l) => / 364 alice c\.test b\.test :2 /.test(l)), links.join('\n'));
  });
});
