import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fedDirs, FAST_LINKS, freeTcpPort, until } from '../harness/federation.js';
import { bootServer, type TestServer } from '../harness/server.js';

// Peers named by did:web (#14, s2s-did.ts): B publishes its federation key and TLS endpoint at
// /.well-known/did.json (s2s-did); A names B only by its DID (s2s-peers did:web:…), resolves the
// document (over http on loopback: ssrf-allow-loopback, as test stacks do; https otherwise), pins
// the peer id and dials it. Two real servers through the composition root.

const { dataDir, cleanup } = fedDirs();
const running: TestServer[] = [];
after(async () => {
  for (const s of running) await s.stop().catch(() => {});
  cleanup();
});

test('a peer named by did:web: its document gives the peer id and the address; the link comes up and works', async () => {
  const a = dataDir();
  const b = dataDir();
  const [bWeb, bS2s] = [await freeTcpPort(), await freeTcpPort()];
  const did = `did:web:127.0.0.1%3A${bWeb}`;
  const B = await bootServer({
    ...FAST_LINKS, 'server-name': 'b.test', 'web-addr': `127.0.0.1:${bWeb}`, 's2s-listen-addr': `127.0.0.1:${bS2s}`,
    's2s-did': did, 's2s-did-endpoint': `tls://127.0.0.1:${bS2s}`, 's2s-allowed-peers': a.id,
  }, b.dir);
  running.push(B);
  const res = await fetch(`http://127.0.0.1:${bWeb}/.well-known/did.json`);
  assert.equal(res.status, 200);
  const doc = await res.json() as { id: string; verificationMethod: { id: string; publicKeyMultibase: string }[]; service: { serviceEndpoint: string }[] };
  assert.equal(doc.id, did);
  assert.equal(doc.verificationMethod[0]!.id, `${did}#freeq-s2s`);
  assert.equal(doc.service[0]!.serviceEndpoint, `tls://127.0.0.1:${bS2s}`);

  const A = await bootServer({ ...FAST_LINKS, 'server-name': 'a.test', 's2s-peers': did, 'ssrf-allow-loopback': true }, a.dir, undefined, { captureLogs: true });
  running.push(A);
  await until(() => A.server.federation!.peers.linked.length === 1 && B.server.federation!.peers.linked.length === 1, 'linked by did:web', 15000);
  assert.deepEqual(A.server.federation!.peers.linked, [b.id], 'the key the document names');
  const resolved = A.logs.find((l) => l.msg === 'S2S did:web peer resolved');
  assert.deepEqual([resolved?.['did'], resolved?.['peer'], resolved?.['transport']], [did, b.id, 'tls']);
  const alice = await A.client('alice');
  const bob = await B.client('bob');
  alice.send('JOIN #web');
  await alice.expect(/ 366 alice #web /);
  await until(() => B.server.context.world.findChannel('#web') !== undefined, '#web at B');
  bob.send('JOIN #web');
  await alice.expect(/^:bob!\S+ JOIN #web$/);
  bob.send('PRIVMSG #web :named by my DID');
  await alice.expect(/^:bob!\S+ PRIVMSG #web :named by my DID$/);
});

test('a did:web that cannot be resolved, or names this server\'s own key, is logged and tried again; nothing links; a server without s2s-did serves no document', async () => {
  const a = dataDir();
  const deadWeb = await freeTcpPort();
  const A = await bootServer({ ...FAST_LINKS, 'server-name': 'a.test', 's2s-peers': `did:web:127.0.0.1%3A${deadWeb}`, 'ssrf-allow-loopback': true }, a.dir, undefined, { captureLogs: true });
  running.push(A);
  await until(() => A.logs.some((l) => l.msg === 'S2S did:web peer not resolved'), 'the failure logged');
  const line = A.logs.find((l) => l.msg === 'S2S did:web peer not resolved')!;
  assert.equal(line['retryInS'], 10);
  assert.equal(A.server.federation!.peers.linked.length, 0);
  assert.equal((await fetch(`http://127.0.0.1:${A.webPort}/.well-known/did.json`)).status, 404);
  // a document naming the resolving server's own key
  const c = dataDir();
  const cWeb = await freeTcpPort();
  const selfDid = `did:web:127.0.0.1%3A${cWeb}`;
  const C = await bootServer({ ...FAST_LINKS, 'server-name': 'c.test', 'web-addr': `127.0.0.1:${cWeb}`, 's2s-did': selfDid, 's2s-peers': selfDid, 'ssrf-allow-loopback': true }, c.dir, undefined, { captureLogs: true });
  running.push(C);
  await until(() => C.logs.some((l) => l.msg === 'S2S did:web peer not resolved'), 'refused');
  assert.match(String(C.logs.find((l) => l.msg === 'S2S did:web peer not resolved')!['reason']), /own key/);
});
