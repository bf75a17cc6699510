import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Secp256k1Keypair } from '@atproto/crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base58btc } from 'multiformats/bases/base58';
import { handleOf } from '../../../src/identity/did-doc.js';
import { didWebUrl } from '../../../src/identity/did-resolver.js';
import { formatMultikey } from '../../../src/identity/keys.js';
import { IdentityError } from '../../../src/identity/types.js';
import { json, makeIdentity, plcDid, stubServer, type Stub, type TestIdentity } from './stub.js';

const isCode = (code: string) => (e: unknown) => e instanceof IdentityError && e.code === code;
const enc = new TextEncoder();

describe('did:web and did:plc resolution against local servers', () => {
  let web: Stub;
  let plc: Stub;
  let id: TestIdentity;
  const webDocs = new Map<string, unknown>();
  const plcDocs = new Map<string, (res: ServerResponse) => void>();
  let webDid: string;

  const ed = ed25519.keygen();
  const k1Priv = secp256k1.utils.randomSecretKey();
  const r1Priv = p256.utils.randomSecretKey();

  before(async () => {
    web = await stubServer((req, res) => {
      const doc = webDocs.get(req.url!);
      if (doc === undefined) json(res, 404, { error: 'nope' }); else json(res, 200, doc);
    });
    plc = await stubServer((req, res) => {
      const h = plcDocs.get(req.url!.slice(1));
      if (h) h(res); else json(res, 404, { message: 'DID not registered' });
    });
    webDid = `did:web:localhost%3A${web.port}`;
    webDocs.set('/.well-known/did.json', {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: webDid,
      alsoKnownAs: ['at://web.example'],
      verificationMethod: [
        { id: `${webDid}#ed`, type: 'Multikey', controller: webDid, publicKeyMultibase: formatMultikey('ed25519', ed.publicKey) },
        { id: '#k1', type: 'EcdsaSecp256k1VerificationKey2019', controller: webDid, publicKeyMultibase: base58btc.encode(secp256k1.getPublicKey(k1Priv, false)) },
        { id: '#unused', type: 'Multikey', controller: webDid, publicKeyMultibase: formatMultikey('secp256k1', secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)) },
      ],
      authentication: [`${webDid}#ed`, '#missing'],                      // absolute ref; dangling ref ignored
      assertionMethod: [
        '#k1',                                                            // relative ref to a legacy key
        `${webDid}#ed`,                                                   // duplicate of authentication: deduped
        { id: '#inline', type: 'Multikey', controller: webDid, publicKeyMultibase: formatMultikey('p256', p256.getPublicKey(r1Priv, true)) },
      ],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'http://localhost:2583/' }],
    });
    id = makeIdentity({ 'plc-url': plc.url, 'http-timeout': '1s', 'did-cache-ttl': '1h' });
  });
  after(async () => { id.close(); await web.close(); await plc.close(); });

  test('did:web:localhost%3A<port>: http on loopback, relative/absolute refs, inline VM, Multikey + legacy', async () => {
    const doc = await id.svc.resolveDid(webDid);
    assert.equal(doc.id, webDid);
    const keys = id.svc.challengeKeys(doc);
    assert.deepEqual(keys.map((k) => [k.id, k.type]), [
      [`${webDid}#ed`, 'ed25519'],
      [`${webDid}#k1`, 'secp256k1'],
      [`${webDid}#inline`, 'p256'],
    ]);
    const msg = enc.encode('{"session_id":"1","nonce":"abc","timestamp":1}');
    assert.equal(await id.svc.verifySignature(keys[0]!, msg, ed25519.sign(msg, ed.secretKey)), true);
    assert.equal(await id.svc.verifySignature(keys[1]!, msg, secp256k1.sign(msg, k1Priv)), true);
    assert.equal(await id.svc.verifySignature(keys[2]!, msg, p256.sign(msg, r1Priv)), true);
    assert.equal(await id.svc.verifySignature(keys[1]!, msg, ed25519.sign(msg, ed.secretKey)), false);
    assert.equal(id.svc.pdsEndpoint(doc), 'http://localhost:2583');
    assert.equal(handleOf(doc), 'web.example');
    assert.equal(id.svc.atprotoKey(doc), undefined);
  });

  test('second resolve is a cache hit (no request), and survives a restart via SQLite', async () => {
    const before = web.hits.length;
    await id.svc.resolveDid(webDid);
    assert.equal(web.hits.length, before);
    const row = id.db.prepare('SELECT doc, fetched_at FROM did_cache WHERE did = ?').get(webDid) as { doc: string; fetched_at: number };
    assert.equal(JSON.parse(row.doc).id, webDid);
    assert.equal(row.fetched_at, id.clock.t);
    const restarted = id.reopen();
    assert.equal((await restarted.resolveDid(webDid)).id, webDid);
    assert.equal(web.hits.length, before);
  });

  test('after did-cache-ttl the document is fetched again', async () => {
    const n = web.hits.length;
    id.clock.t += 3600_000 + 1;
    await id.svc.resolveDid(webDid);
    assert.equal(web.hits.length, n + 1);
    await id.svc.resolveDid(webDid);
    assert.equal(web.hits.length, n + 1);
  });

  test('a stale document is served when the refresh fails on the network (≤ 24 h)', async () => {
    const did = plcDid('stale');
    let up = true;
    plcDocs.set(did, (res) => (up ? json(res, 200, { id: did }) : res.destroy()));
    await id.svc.resolveDid(did);
    up = false;
    id.clock.t += 2 * 3600_000;
    assert.equal((await id.svc.resolveDid(did)).id, did);
    id.clock.t += 25 * 3600_000;
    await assert.rejects(id.svc.resolveDid(did), isCode('network'));
  });

  test('did:web with a path: /path/segments/did.json', async () => {
    const did = `did:web:localhost%3A${web.port}:users:alice`;
    webDocs.set('/users/alice/did.json', { id: did });
    assert.equal((await id.svc.resolveDid(did)).id, did);
    assert.ok(web.hits.includes('GET /users/alice/did.json'));
  });

  test('document id must equal the DID', async () => {
    const did = `did:web:localhost%3A${web.port}:mismatch`;
    webDocs.set('/mismatch/did.json', { id: 'did:web:evil.example' });
    await assert.rejects(id.svc.resolveDid(did), (e) => isCode('bad-document')(e) && /does not match/.test((e as Error).message));
  });

  test('non-object documents and wrongly typed fields are bad-document', async () => {
    const a = `did:web:localhost%3A${web.port}:arr`;
    webDocs.set('/arr/did.json', [1, 2]);
    await assert.rejects(id.svc.resolveDid(a), isCode('bad-document'));
    const b = `did:web:localhost%3A${web.port}:vmobj`;
    webDocs.set('/vmobj/did.json', { id: b, verificationMethod: { id: '#x' } });
    await assert.rejects(id.svc.resolveDid(b), isCode('bad-document'));
  });

  test('404 → not-found, remembered for at most 60 s', async () => {
    const did = `did:web:localhost%3A${web.port}:ghost`;
    await assert.rejects(id.svc.resolveDid(did), isCode('not-found'));
    const n = web.hits.length;
    webDocs.set('/ghost/did.json', { id: did });
    await assert.rejects(id.svc.resolveDid(did), isCode('not-found'));
    assert.equal(web.hits.length, n, 'negative answer served from memory');
    id.clock.t += 60_001;
    assert.equal((await id.svc.resolveDid(did)).id, did);
    assert.equal(web.hits.length, n + 1);
  });

  test('stub PLC: production form (absolute ids, Multikey) and legacy form (relative ids, uncompressed)', async () => {
    const user = await Secp256k1Keypair.create({ exportable: true });
    const pdsKey = await Secp256k1Keypair.create({ exportable: true });
    const prod = plcDid('production');
    plcDocs.set(prod, (res) => json(res, 200, {
      id: prod,
      alsoKnownAs: ['at://alice.test'],
      verificationMethod: [
        { id: `${prod}#atproto`, type: 'Multikey', controller: prod, publicKeyMultibase: pdsKey.did().slice(8) },
        { id: `${prod}#irc`, type: 'Multikey', controller: prod, publicKeyMultibase: user.did().slice(8) },
      ],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example' }],
    }));
    const legacy = plcDid('legacyform');
    plcDocs.set(legacy, (res) => json(res, 200, {
      id: legacy,
      verificationMethod: [
        { id: '#atproto', type: 'EcdsaSecp256k1VerificationKey2019', controller: legacy, publicKeyMultibase: base58btc.encode(secp256k1.Point.fromBytes(pdsKey.publicKeyBytes()).toBytes(false)) },
        { id: '#irc', type: 'EcdsaSecp256k1VerificationKey2019', controller: legacy, publicKeyMultibase: base58btc.encode(secp256k1.Point.fromBytes(user.publicKeyBytes()).toBytes(false)) },
      ],
    }));
    const msg = enc.encode('challenge bytes');
    const sig = await user.sign(msg);
    for (const did of [prod, legacy]) {
      const doc = await id.svc.resolveDid(did);
      const keys = id.svc.challengeKeys(doc);
      assert.deepEqual(keys.map((k) => k.id), [`${did}#irc`], 'the PDS-held #atproto key is not a challenge key');
      assert.equal(await id.svc.verifySignature(keys[0]!, msg, sig), true);
      assert.deepEqual(id.svc.atprotoKey(doc)?.publicKey, pdsKey.publicKeyBytes());
    }
    assert.ok(plc.hits.includes(`GET /${prod}`));
  });

  test('concurrent resolves of one DID share a single request', async () => {
    const did = plcDid('concurrent');
    plcDocs.set(did, (res) => setTimeout(() => json(res, 200, { id: did }), 50));
    const n = plc.hits.length;
    const docs = await Promise.all([1, 2, 3, 4, 5].map(() => id.svc.resolveDid(did)));
    assert.ok(docs.every((d) => d.id === did));
    assert.equal(plc.hits.length, n + 1);
  });

  test('syntax and method are checked before any request', async () => {
    const n = web.hits.length + plc.hits.length;
    for (const bad of ['did:plc:short', 'did:plc:AAAAAAAAAAAAAAAAAAAAAAAA', 'did:example:123', 'did:web:', 'not-a-did', 'did:web:localhost%3A1:..', 'did:web:a%2Fb', 'did:web:host%3A99999', `did:web:localhost%3A${web.port}:a%2F..`]) {
      await assert.rejects(id.svc.resolveDid(bad), isCode('bad-did'), bad);
    }
    assert.equal(web.hits.length + plc.hits.length, n);
  });

  test('did:key resolves locally without any request', async () => {
    const kp = await Secp256k1Keypair.create();
    const n = web.hits.length + plc.hits.length;
    const doc = await id.svc.resolveDid(kp.did());
    assert.equal(doc.id, kp.did());
    assert.deepEqual(id.svc.challengeKeys(doc)[0]?.publicKey, kp.publicKeyBytes());
    assert.equal(web.hits.length + plc.hits.length, n);
  });
});

describe('didWebUrl', () => {
  test('https by default; port and path decoded; http only for loopback when allowed', () => {
    assert.equal(didWebUrl('did:web:example.com', false), 'https://example.com/.well-known/did.json');
    assert.equal(didWebUrl('did:web:example.com:u:bob', false), 'https://example.com/u/bob/did.json');
    assert.equal(didWebUrl('did:web:localhost%3A8443', false), 'https://localhost:8443/.well-known/did.json');
    assert.equal(didWebUrl('did:web:localhost%3A8443', true), 'http://localhost:8443/.well-known/did.json');
    assert.equal(didWebUrl('did:web:127.0.0.1%3A80', true), 'http://127.0.0.1:80/.well-known/did.json');
    assert.equal(didWebUrl('did:web:example.com', true), 'https://example.com/.well-known/did.json');
  });
});
