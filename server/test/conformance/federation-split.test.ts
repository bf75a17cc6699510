import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fedDirs, FAST_LINKS, until } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';
import type { RawClient } from '../harness/raw-client.js';
import { ed25519Signer, loginWithDidKey } from './sasl-helpers.js';

// What two servers did on the two sides of a split, merged (#14): nick ownership converges
// (state/nick-claims.ts: the earlier claim keeps a nick two DIDs claimed), and ban list edits from
// both sides are all kept (state/channel-sync.ts: lists entry by entry). Two servers over TLS,
// split by SQUIT and joined by CONNECT; real did:key SASL logins.

const { dataDir, cleanup } = fedDirs();
const running: TestServer[] = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  cleanup();
});

/** A and B linked over TLS; `op` is an operator on B (SQUIT / CONNECT) */
async function pair(): Promise<{ A: TestServer; B: TestServer; op: RawClient; linked: () => boolean }> {
  const a = dataDir();
  const b = dataDir();
  const oper = { 'oper-password': 'correct horse battery' };
  const A = await bootServer({ ...FAST_LINKS, ...oper, 'server-name': 'a.test', 's2s-listen-addr': '127.0.0.1:0', 's2s-allowed-peers': b.id }, a.dir);
  running.push(A);
  const B = await bootServer({ ...FAST_LINKS, ...oper, 'server-name': 'b.test', 's2s-peers': `tls:${a.id}@127.0.0.1:${A.server.addresses.s2s!.port}`, 's2s-allowed-peers': a.id }, b.dir);
  running.push(B);
  const linked = (): boolean => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1;
  await until(linked, 'linked');
  const op = await B.client('op');
  op.send('OPER op :correct horse battery');
  await op.expect(/ 381 op /);
  return { A, B, op, linked };
}

test('two DIDs claim one nick during a split: once linked, both servers give it to the earlier claim; the other user is renamed', async () => {
  const { A, B, op, linked } = await pair();
  op.send('SQUIT a.test :split');
  await until(() => !linked(), 'split');

  const x = ed25519Signer();
  const y = ed25519Signer();
  const ux = await loginWithDidKey(A, 'shared', x); // the earlier claim, on A
  await new Promise((r) => setTimeout(r, 20));
  const uy = await loginWithDidKey(B, 'shared', y); // the later one, on B
  assert.equal(A.server.context.world.nickOwners.get('shared'), x.did);
  assert.equal(B.server.context.world.nickOwners.get('shared'), y.did);

  op.send('CONNECT a.test');
  await until(linked, 'relinked');
  // y's user on B is moved off the nick it no longer owns
  await uy.expect(/NOTICE \S+ :Nick shared is registered to another identity; you are now Guest\d+/);
  for (const s of [A, B]) {
    const w = s.server.context.world;
    await until(() => w.nickOwners.get('shared') === x.did && w.findUser('shared')?.account === x.did, `${s.config.serverName}: shared is x's`);
    assert.equal(w.accountNicks.get(y.did), undefined, 'y owns no nick');
  }
  // and stays so across a restart of B (persisted)
  const B2 = await B.restart();
  running.push(B2);
  assert.equal(B2.server.context.world.nickOwners.get('shared'), x.did);
  assert.equal(B2.server.context.world.accountNicks.get(y.did), undefined);
  ux.send('QUIT');
});

test('ban list edits on both sides of a split are all kept: each side\'s additions, and a removal over the older addition', async () => {
  const { A, B, op, linked } = await pair();
  const alice = await A.client('alice');
  alice.send('JOIN #l');
  await alice.expect(/ 366 alice #l /);
  await until(() => B.server.context.world.findChannel('#l') !== undefined, '#l at B');
  op.send('JOIN #l');
  await alice.expect(/^:op!\S+ JOIN #l$/);
  alice.send('MODE #l +o op', 'MODE #l +bb *!*@one.example *!*@gone.example');
  await op.expect(/^:alice!\S+ MODE #l \+bb \*!\*@one\.example \*!\*@gone\.example$/);
  op.send('SQUIT a.test :split');
  await until(() => !linked(), 'split');
  // A removes one ban and adds another; B adds its own
  alice.send('MODE #l -b+b *!*@gone.example *!*@a-side.example');
  await alice.expect(/ MODE #l -b\+b \*!\*@gone\.example \*!\*@a-side\.example$/);
  op.send('MODE #l +b *!*@b-side.example');
  await op.expect(/ MODE #l \+b \*!\*@b-side\.example$/);
  op.send('CONNECT a.test');
  await until(linked, 'relinked');
  const bans = (s: TestServer): string[] => s.server.context.world.findChannel('#l')!.lists.b.entries.map((e) => e.mask).sort();
  const want = ['*!*@a-side.example', '*!*@b-side.example', '*!*@one.example'];
  await until(() => JSON.stringify(bans(A)) === JSON.stringify(want) && JSON.stringify(bans(B)) === JSON.stringify(want), `bans ${want.join(' ')} on both (A: ${bans(A).join(' ')}; B: ${bans(B).join(' ')})`);
  // B's members saw the removal as the server's MODE
  await op.expect(/^:b\.test MODE #l .*-b[^ ]* .*\*!\*@gone\.example/);
  // kept across a restart (the tombstone too: B does not take the removed ban back from an old copy)
  const B2 = await B.restart();
  running.push(B2);
  assert.deepEqual(B2.server.context.world.findChannel('#l')!.lists.b.entries.map((e) => e.mask).sort(), want);
  assert.ok(B2.server.context.world.findChannel('#l')!.removed.b.has('*!*@gone.example'));
});
