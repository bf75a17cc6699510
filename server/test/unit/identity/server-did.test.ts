import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildS2sConfig, parseServerEndpoint } from '../../../src/config/s2s.js';
import { formatMultikey } from '../../../src/identity/keys.js';
import { serverDidDocument, serverPeerOf } from '../../../src/identity/server-did.js';
import { ed25519PublicKeyOf } from '../../../src/util/ed25519.js';

// A federation server's did:web document (#14, identity/server-did.ts): what this server
// publishes, and what it reads from a peer's: the #freeq-s2s ed25519 key as the peer id, the
// #freeq-s2s service as where to dial it.

const DID = 'did:web:irc-b.example.net';
const peerId = (): string => ed25519PublicKeyOf(randomBytes(32)).toString('hex');

test('the document this server publishes names its peer id and endpoint, and reads back to them', () => {
  const id = peerId();
  const doc = serverDidDocument(DID, id, 'tls://irc-b.example.net:7000');
  assert.equal(doc.id, DID);
  assert.deepEqual(serverPeerOf(doc), { peerId: id, endpoint: { transport: 'tls', host: 'irc-b.example.net', port: 7000 } });
  // without an endpoint: iroh, found by discovery
  assert.deepEqual(serverPeerOf(serverDidDocument(DID, id)), { peerId: id, endpoint: { transport: 'iroh' } });
  assert.deepEqual(serverPeerOf(serverDidDocument(DID, id, 'iroh://[::1]:4433')), { peerId: id, endpoint: { transport: 'iroh', host: '::1', port: 4433 } });
});

test('a document without the #freeq-s2s ed25519 key, or with a malformed endpoint, names no peer (a reason instead)', () => {
  const id = peerId();
  const good = serverDidDocument(DID, id, 'tls://irc-b.example.net:7000');
  const vm = (good.verificationMethod as Record<string, unknown>[])[0]!;
  assert.match(serverPeerOf({ id: DID }) as string, /no #freeq-s2s key/);
  assert.match(serverPeerOf({ ...good, verificationMethod: [{ ...vm, id: `${DID}#other` }] }) as string, /no #freeq-s2s key/);
  // a key of another DID (an absolute id that is not this document's) is not this server's
  assert.match(serverPeerOf({ ...good, verificationMethod: [{ ...vm, id: 'did:web:evil.example#freeq-s2s' }] }) as string, /no #freeq-s2s key/);
  const p256 = formatMultikey('p256', new Uint8Array([0x02, ...randomBytes(32)]));
  const r = serverPeerOf({ ...good, verificationMethod: [{ ...vm, publicKeyMultibase: p256 }] });
  assert.ok(typeof r === 'string' && /(not ed25519|no #freeq-s2s key)/.test(r), JSON.stringify(r));
  for (const bad of ['http://irc-b.example.net:7000', 'tls://irc-b.example.net', 'tls://irc b:7000', 'tls://h:0', 42]) {
    assert.match(serverPeerOf({ ...good, service: [{ id: '#freeq-s2s', type: 'FreeqS2s', serviceEndpoint: bad }] }) as string, /service endpoint/, String(bad));
  }
});

test('config: a did:web entry in s2s-peers is a peer named by DID (allowed by naming it); endpoints parse strictly', () => {
  const problems: string[] = [];
  const c = buildS2sConfig({ peers: ['did:web:irc-b.example.net', 'did:web:irc-c.example.net%3A8443'], allowedPeers: [], openDev: false, iroh: false, relayMode: 'default' }, new Map(), problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(c.didPeers, ['did:web:irc-b.example.net', 'did:web:irc-c.example.net%3A8443']);
  assert.deepEqual(c.dial, []);
  const bad: string[] = [];
  buildS2sConfig({ peers: ['did:plc:abc', 'tls:did:web:x.example', 'did:web:irc-b.example.net', 'did:web:irc-b.example.net'], allowedPeers: [], openDev: false, iroh: false, relayMode: 'default' }, new Map(), bad);
  assert.equal(bad.length, 3, bad.join('\n'));
  assert.ok(bad.some((p) => /given twice/.test(p)));
  assert.deepEqual(parseServerEndpoint('tls://127.0.0.1:7000'), { transport: 'tls', host: '127.0.0.1', port: 7000 });
  assert.equal(parseServerEndpoint('tls://127.0.0.1:70000'), undefined);
});
