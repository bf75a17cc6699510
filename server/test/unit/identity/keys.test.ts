import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base58btc } from 'multiformats/bases/base58';
import { challengeKeys, atprotoKey, handleOf, pdsEndpoint } from '../../../src/identity/did-doc.js';
import { didKeyDocument } from '../../../src/identity/did-resolver.js';
import { formatMultikey, parseMultikey, parseVerificationMethod, verifySignature, verifySignatureAsync } from '../../../src/identity/keys.js';
import type { DidDocument, VerificationKey } from '../../../src/identity/types.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/atproto/${name}`, import.meta.url), 'utf8')) as unknown;

interface SigFixture {
  comment: string; messageBase64: string; algorithm: 'ES256' | 'ES256K'; didDocSuite: string;
  publicKeyDid: string; publicKeyMultibase: string; signatureBase64: string; validSignature: boolean; tags: string[];
}

const DID = 'did:web:example.com';

describe('signature fixtures (atproto interop vectors)', () => {
  const fixtures = fixture('signature-fixtures.json') as SigFixture[];
  assert.ok(fixtures.length >= 6);
  for (const f of fixtures) {
    test(f.comment, async () => {
      const data = new Uint8Array(Buffer.from(f.messageBase64, 'base64'));
      const sig = new Uint8Array(Buffer.from(f.signatureBase64, 'base64'));
      // the key as a legacy verification method (raw compressed key, no multicodec) …
      const legacy = parseVerificationMethod({ id: '#k', type: f.didDocSuite, controller: DID, publicKeyMultibase: f.publicKeyMultibase }, DID);
      assert.ok(legacy, 'legacy key parses');
      assert.equal(legacy.type, f.algorithm === 'ES256K' ? 'secp256k1' : 'p256');
      assert.equal(legacy.id, `${DID}#k`);
      // … and as a did:key (Multikey) must be the same key
      const viaDidKey = challengeKeys(didKeyDocument(f.publicKeyDid))[0];
      assert.ok(viaDidKey);
      assert.deepEqual(viaDidKey.publicKey, legacy.publicKey);
      assert.equal(verifySignature(legacy, data, sig), f.validSignature);
      assert.equal(verifySignature(viaDidKey, data, sig), f.validSignature);
      // the thread-pool variant the SASL path uses gives the same answer
      assert.equal(await verifySignatureAsync(legacy, data, sig), f.validSignature);
      assert.equal(await verifySignatureAsync(viaDidKey, data, sig), f.validSignature);
    });
  }

  test('the high-S vectors verify once normalised to low S (so the rejection is the S check, not a broken vector)', () => {
    for (const f of fixtures.filter((x) => x.tags.includes('high-s'))) {
      const curve = f.algorithm === 'ES256K' ? secp256k1 : p256;
      const sig = curve.Signature.fromBytes(new Uint8Array(Buffer.from(f.signatureBase64, 'base64')), 'compact');
      assert.equal(sig.hasHighS(), true);
      const low = new curve.Signature(sig.r, curve.Point.CURVE().n - sig.s).toBytes('compact');
      const key = challengeKeys(didKeyDocument(f.publicKeyDid))[0]!;
      assert.equal(verifySignature(key, new Uint8Array(Buffer.from(f.messageBase64, 'base64')), low), true);
    }
  });
});

describe('verifySignatureAsync', () => {
  test('ed25519: good, tampered, wrong key, bad shapes', async () => {
    const priv = ed25519.utils.randomSecretKey();
    const did = `did:key:${formatMultikey('ed25519', ed25519.getPublicKey(priv))}`;
    const [key] = challengeKeys(didKeyDocument(did));
    assert.ok(key);
    const msg = new Uint8Array([1, 2, 3, 4]);
    const sig = ed25519.sign(msg, priv);
    assert.equal(await verifySignatureAsync(key, msg, sig), true);
    assert.equal(await verifySignatureAsync(key, new Uint8Array([1, 2, 3, 5]), sig), false);
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    assert.equal(await verifySignatureAsync({ ...key, publicKey: other }, msg, sig), false);
    assert.equal(await verifySignatureAsync(key, msg, sig.subarray(0, 63)), false);
    assert.equal(await verifySignatureAsync({ ...key, publicKey: new Uint8Array(31) }, msg, sig), false);
    assert.equal(await verifySignatureAsync({ ...key, type: 'p256' }, msg, sig), false);
  });
});

describe('did:key vectors (W3C)', () => {
  test('K-256: did:key from the private key matches, and signatures verify', () => {
    const vectors = fixture('w3c_didkey_K256.json') as { privateKeyBytesHex: string; publicDidKey: string }[];
    assert.ok(vectors.length > 0);
    for (const v of vectors) {
      const priv = new Uint8Array(Buffer.from(v.privateKeyBytesHex, 'hex'));
      const pub = secp256k1.getPublicKey(priv, true);
      assert.equal(`did:key:${formatMultikey('secp256k1', pub)}`, v.publicDidKey);
      const doc = didKeyDocument(v.publicDidKey);
      const [key] = challengeKeys(doc);
      assert.ok(key);
      assert.equal(key.type, 'secp256k1');
      assert.equal(key.id, `${v.publicDidKey}#${v.publicDidKey.slice(8)}`);
      assert.deepEqual(key.publicKey, pub);
      const msg = new TextEncoder().encode('hello');
      assert.equal(verifySignature(key, msg, secp256k1.sign(msg, priv)), true);
      assert.equal(verifySignature(key, new TextEncoder().encode('hellO'), secp256k1.sign(msg, priv)), false);
    }
  });

  test('P-256: did:key from the private key matches', () => {
    const vectors = fixture('w3c_didkey_P256.json') as { privateKeyBytesBase58: string; publicDidKey: string }[];
    for (const v of vectors) {
      const priv = base58btc.baseDecode(v.privateKeyBytesBase58);
      const pub = p256.getPublicKey(priv, true);
      assert.equal(`did:key:${formatMultikey('p256', pub)}`, v.publicDidKey);
      const [key] = challengeKeys(didKeyDocument(v.publicDidKey));
      assert.equal(key?.type, 'p256');
      const msg = new TextEncoder().encode('challenge');
      assert.equal(verifySignature(key, msg, p256.sign(msg, priv)), true);
    }
  });

  test('ed25519 did:key (z6Mk…) verifies RFC 8032 signatures over raw bytes', () => {
    const { secretKey, publicKey } = ed25519.keygen();
    const did = `did:key:${formatMultikey('ed25519', publicKey)}`;
    assert.match(did, /^did:key:z6Mk/);
    const doc = didKeyDocument(did);
    assert.deepEqual(doc.authentication, doc.assertionMethod);
    const [key] = challengeKeys(doc);
    assert.equal(key?.type, 'ed25519');
    const msg = new Uint8Array([1, 2, 3]);
    const sig = ed25519.sign(msg, secretKey);
    assert.equal(verifySignature(key, msg, sig), true);
    assert.equal(verifySignature(key, new Uint8Array([1, 2, 4]), sig), false);
    assert.equal(verifySignature(key, msg, sig.subarray(0, 63)), false);
  });

  test('malformed or unsupported did:key is refused', () => {
    for (const bad of ['did:key:zzzz', 'did:key:z6Mk', 'did:key:abc', `did:key:${base58btc.encode(new Uint8Array([0x12, 0x00, 1, 2, 3]))}`]) {
      assert.throws(() => didKeyDocument(bad), (e: Error & { code?: string }) => e.code === 'bad-did', bad);
    }
    // a non-canonical (uncompressed) secp256k1 did:key is refused: one DID per key
    const pub = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    assert.throws(() => didKeyDocument(`did:key:${base58btc.encode(new Uint8Array([0xe7, 0x01, ...pub]))}`), /did:key/);
  });

  test('an ed25519 did:key with a small-order point is refused (forgeable under a cofactorless check)', async () => {
    // all zeros (order 4) and the identity (order 1)
    const identity = new Uint8Array(32); identity[0] = 1;
    for (const raw of [new Uint8Array(32), identity]) {
      const mb = base58btc.encode(new Uint8Array([0xed, 0x01, ...raw]));
      assert.equal(parseMultikey(mb), undefined);
      assert.throws(() => didKeyDocument(`did:key:${mb}`), (e: Error & { code?: string }) => e.code === 'bad-did');
    }
    // why it matters: with the all-zeros key, OpenSSL accepts the all-zeros signature for some messages
    const zeroKey = { id: 'k', type: 'ed25519' as const, publicKey: new Uint8Array(32) };
    let forged = 0;
    for (let i = 0; i < 16; i++) if (await verifySignatureAsync(zeroKey, new Uint8Array([i]), new Uint8Array(64))) forged++;
    assert.ok(forged > 0, 'the parser is the guard: the signature check alone would accept forgeries');
  });
});

describe('verification method encodings', () => {
  test('legacy PLC key: base58btc of the raw uncompressed secp256k1 key, no multicodec', async () => {
    const kp = await Secp256k1Keypair.create({ exportable: true });
    const uncompressed = secp256k1.Point.fromBytes(kp.publicKeyBytes()).toBytes(false);
    assert.equal(uncompressed.length, 65);
    const vm = { id: '#atproto', type: 'EcdsaSecp256k1VerificationKey2019', controller: 'did:plc:x', publicKeyMultibase: base58btc.encode(uncompressed) };
    const key = parseVerificationMethod(vm, 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa');
    assert.ok(key);
    assert.equal(key.id, 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa#atproto');
    assert.deepEqual(key.publicKey, kp.publicKeyBytes()); // normalised to compressed
    const msg = new TextEncoder().encode('sign me');
    assert.equal(verifySignature(key, msg, await kp.sign(msg)), true);
  });

  test('legacy P-256 key (EcdsaSecp256r1VerificationKey2019), uncompressed', async () => {
    const kp = await P256Keypair.create({ exportable: true });
    const uncompressed = p256.Point.fromBytes(kp.publicKeyBytes()).toBytes(false);
    const key = parseVerificationMethod({ id: `${DID}#irc`, type: 'EcdsaSecp256r1VerificationKey2019', publicKeyMultibase: base58btc.encode(uncompressed) }, DID);
    assert.equal(key?.type, 'p256');
    const msg = new TextEncoder().encode('p256');
    assert.equal(verifySignature(key, msg, await kp.sign(msg)), true);
  });

  test('Multikey for all three curves; legacy Ed25519 2018 (publicKeyBase58) and 2020 (multicodec)', () => {
    const ed = ed25519.keygen();
    const k1 = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
    const r1 = p256.getPublicKey(p256.utils.randomSecretKey(), true);
    assert.deepEqual(parseMultikey(formatMultikey('ed25519', ed.publicKey)), { type: 'ed25519', publicKey: ed.publicKey });
    assert.deepEqual(parseMultikey(formatMultikey('secp256k1', k1)), { type: 'secp256k1', publicKey: k1 });
    assert.deepEqual(parseMultikey(formatMultikey('p256', r1)), { type: 'p256', publicKey: r1 });
    const e2018 = parseVerificationMethod({ id: '#a', type: 'Ed25519VerificationKey2018', publicKeyBase58: base58btc.baseEncode(ed.publicKey) }, DID);
    const e2020 = parseVerificationMethod({ id: '#b', type: 'Ed25519VerificationKey2020', publicKeyMultibase: formatMultikey('ed25519', ed.publicKey) }, DID);
    assert.deepEqual(e2018?.publicKey, ed.publicKey);
    assert.deepEqual(e2020?.publicKey, ed.publicKey);
  });

  test('publicKeyJwk (EC and OKP)', () => {
    const priv = p256.utils.randomSecretKey();
    const unc = p256.getPublicKey(priv, false);
    const jwk = { kty: 'EC', crv: 'P-256', x: Buffer.from(unc.subarray(1, 33)).toString('base64url'), y: Buffer.from(unc.subarray(33)).toString('base64url') };
    const key = parseVerificationMethod({ id: '#j', type: 'JsonWebKey2020', publicKeyJwk: jwk }, DID);
    assert.equal(key?.type, 'p256');
    assert.deepEqual(key?.publicKey, p256.getPublicKey(priv, true));
    assert.equal(parseVerificationMethod({ id: '#j', type: 'JsonWebKey2020', publicKeyJwk: { ...jwk, d: 'secret' } }, DID), undefined);
    assert.equal(parseVerificationMethod({ id: '#j', type: 'JsonWebKey2020', publicKeyJwk: { ...jwk, y: jwk.x } }, DID), undefined, 'not on the curve');
  });

  test('garbage keys, foreign ids and unknown types are skipped, never thrown', () => {
    const k1 = formatMultikey('secp256k1', secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
    for (const vm of [
      null, 'str', 42, {}, { id: '#a' }, { id: '#a', type: 'Multikey' },
      { id: '#a', type: 'Multikey', publicKeyMultibase: 'zNotBase58!!' },
      { id: '#a', type: 'Multikey', publicKeyMultibase: `m${k1.slice(1)}` },
      { id: '#a', type: 'Multikey', publicKeyMultibase: base58btc.encode(new Uint8Array([0xe7, 0x01, 2, ...new Uint8Array(32).fill(0xff)])) },
      { id: 'did:web:other.example#a', type: 'Multikey', publicKeyMultibase: k1 },
      { id: '#a', type: 'RsaVerificationKey2018', publicKeyMultibase: k1 },
    ]) assert.equal(parseVerificationMethod(vm, DID), undefined, JSON.stringify(vm));
  });
});

describe('verifySignature never throws on bad input', () => {
  const priv = secp256k1.utils.randomSecretKey();
  const key: VerificationKey = { id: `${DID}#k`, type: 'secp256k1', publicKey: secp256k1.getPublicKey(priv, true) };
  const msg = new Uint8Array([9, 9, 9]);
  const good = secp256k1.sign(msg, priv);

  test('valid signature verifies (control)', () => assert.equal(verifySignature(key, msg, good), true));
  test('DER form of a valid signature is rejected', () => {
    const der = secp256k1.Signature.fromBytes(good, 'compact').toBytes('der');
    assert.equal(verifySignature(key, msg, der), false);
  });
  test('wrong length, zeros, garbage key, wrong key type: false', () => {
    assert.equal(verifySignature(key, msg, new Uint8Array(65)), false);
    assert.equal(verifySignature(key, msg, new Uint8Array(64)), false);
    assert.equal(verifySignature({ ...key, publicKey: new Uint8Array(33) }, msg, good), false);
    assert.equal(verifySignature({ ...key, type: 'p256' }, msg, good), false);
    assert.equal(verifySignature({ ...key, type: 'ed25519' }, msg, good), false);
    assert.equal(verifySignature({ ...key, type: 'rsa' as never }, msg, good), false);
    assert.equal(verifySignature(key, 'not bytes' as never, good), false);
  });
  test('noble prehash gotcha: a signature over sha256(msg) as if it were the message does not verify', () => {
    const noPrehash = secp256k1.sign(msg, priv, { prehash: false });
    assert.equal(verifySignature(key, msg, noPrehash), false);
  });
});

describe('document helpers', () => {
  const did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
  const a = formatMultikey('secp256k1', secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
  const b = formatMultikey('p256', p256.getPublicKey(p256.utils.randomSecretKey(), true));
  const doc: DidDocument = {
    id: did,
    alsoKnownAs: ['https://x.example', 'at://not_a_handle', 'at://Alice.Example.COM', 'at://second.example'],
    verificationMethod: [
      { id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: a },
      { id: '#irc', type: 'Multikey', controller: did, publicKeyMultibase: b },
    ],
    service: [
      { id: '#other', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://wrong.example' },
      { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: { uri: 'https://object.example' } },
      { id: `${did}#atproto_pds`, type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com/' },
    ],
  };

  test('did:plc challenge keys: every VM except #atproto; atprotoKey is #atproto', () => {
    assert.deepEqual(challengeKeys(doc).map((k) => k.id), [`${did}#irc`]);
    assert.equal(atprotoKey(doc)?.id, `${did}#atproto`);
    assert.equal(atprotoKey({ ...doc, verificationMethod: [] }), undefined);
  });

  test('did:web challenge keys come only from authentication/assertionMethod', () => {
    const web = { ...doc, id: DID, verificationMethod: [{ id: '#irc', type: 'Multikey', publicKeyMultibase: b }] };
    assert.deepEqual(challengeKeys(web), []);
    assert.deepEqual(challengeKeys({ ...web, assertionMethod: ['#irc', `${DID}#irc`] }).map((k) => k.id), [`${DID}#irc`]);
  });

  test('pdsEndpoint skips object endpoints and wrong ids, strips the trailing slash', () => {
    assert.equal(pdsEndpoint(doc), 'https://pds.example.com');
    assert.equal(pdsEndpoint({ id: did }), undefined);
    assert.equal(pdsEndpoint({ id: did, service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'ftp://x' }] }), undefined);
  });

  test('handleOf: first valid at:// alias, lowercased', () => {
    assert.equal(handleOf(doc), 'alice.example.com');
    assert.equal(handleOf({ id: did }), undefined);
  });
});

test('ed25519 (native verify): a malleated signature with S + L is rejected, the original accepted', () => {
  const sk = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(sk);
  const msg = new TextEncoder().encode('challenge bytes');
  const sig = ed25519.sign(msg, sk);
  const key = { id: 'did:key:x#x', type: 'ed25519' as const, publicKey: pub };
  assert.equal(verifySignature(key, msg, sig), true);
  // S is little-endian in the second half; S + L is the classic malleation (RFC 8032 §5.1.7 requires S < L)
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
  const s2 = s + L;
  const forged = new Uint8Array(sig);
  let v = s2;
  for (let i = 32; i < 64; i++) { forged[i] = Number(v & 0xffn); v >>= 8n; }
  assert.equal(v, 0n, 'S + L still fits in 32 bytes');
  assert.equal(verifySignature(key, msg, forged), false);
  assert.equal(verifySignature(key, new TextEncoder().encode('other bytes'), sig), false);
});
