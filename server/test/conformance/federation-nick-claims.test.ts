import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fedDirs, FAST_LINKS, until } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';
import { ed25519Signer, loginWithDidKey } from './sasl-helpers.js';

// Nick ownership converges (#14, state/nick-claims.ts): two DIDs that claimed one nick on the two
// sides of a split end with the same owner on both servers, the earlier claim; the later
// claimant's user is moved off the nick. Two servers over TLS, real did:key SASL logins.

const { dataDir, cleanup } = fedDirs();
const running: TestServer[] = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  cleanup();
});

test('two DIDs claim one nick during a split: once linked, both servers give it to the earlier claim; the other user is renamed', async () => {
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
