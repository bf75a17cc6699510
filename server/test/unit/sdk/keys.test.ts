import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as atcrypto from '@atproto/crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { base58btc } from 'multiformats/bases/base58';
import {
  didKeyFromPublicKey, ed25519Signer, generateSecretKey, multikeyFromPublicKey, p256Signer, publicKeyFromDidKey, secp256k1Signer,
} from '../../../../sdk/src/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

describe('sdk: did:key encoding', () => {
  test('ed25519: RFC 8032 test vector 1 (key and signature) and the z6Mk did:key', () => {
    const signer = ed25519Signer(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
    assert.deepEqual(Buffer.from(signer.publicKey).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    assert.equal(Buffer.from(signer(new Uint8Array())).toString('hex'),
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
    assert.equal(signer.keyType, 'ed25519');
    assert.match(signer.did, /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);
    const raw = base58btc.decode(signer.did.slice('did:key:'.length));
    assert.deepEqual([...raw.slice(0, 2)], [0xed, 0x01]);
    assert.deepEqual(Buffer.from(raw.slice(2)), Buffer.from(signer.publicKey));
  });

  test('secp256k1 and P-256 did:keys are what @atproto/crypto derives for the same private key', async () => {
    const k = generateSecretKey('secp256k1');
    const ref = await atcrypto.Secp256k1Keypair.import(k);
    assert.equal(secp256k1Signer(k).did, ref.did());
    assert.match(ref.did(), /^did:key:zQ3s/);
    const pk = generateSecretKey('p256');
    const pref = await atcrypto.P256Keypair.import(pk);
    assert.equal(p256Signer(pk).did, pref.did());
    assert.match(pref.did(), /^did:key:zDn/);
  });

  test('uncompressed EC keys are compressed; parse round-trips; bad input is refused', () => {
    const k = generateSecretKey('secp256k1');
    const compressed = secp256k1.getPublicKey(k, true);
    const uncompressed = secp256k1.getPublicKey(k, false);
    assert.equal(uncompressed.length, 65);
    assert.equal(didKeyFromPublicKey('secp256k1', uncompressed), didKeyFromPublicKey('secp256k1', compressed));
    const parsed = publicKeyFromDidKey(didKeyFromPublicKey('secp256k1', uncompressed));
    assert.equal(parsed.type, 'secp256k1');
    assert.deepEqual(Buffer.from(parsed.publicKey), Buffer.from(compressed));
    const ed = ed25519Signer(generateSecretKey('ed25519'));
    assert.deepEqual(publicKeyFromDidKey(ed.did), { type: 'ed25519', publicKey: ed.publicKey });
    assert.equal(multikeyFromPublicKey('ed25519', ed.publicKey), ed.did.slice(8));
    assert.throws(() => didKeyFromPublicKey('ed25519', new Uint8Array(31)), /32/);
    assert.throws(() => publicKeyFromDidKey('did:key:z' + base58btc.encode(new Uint8Array([0x12, 0x00, 1, 2])).slice(1)), /unsupported/);
    assert.throws(() => publicKeyFromDidKey('did:key:mAAAA'), /base58btc/);
    assert.throws(() => ed25519Signer(new Uint8Array(16)), /32 bytes/);
  });
});

describe('sdk: signers produce what the server verifies', () => {
  const msg = new TextEncoder().encode('{"session_id":"c1","nonce":"abc","timestamp":1700000000}');

  test('secp256k1: 64-byte compact, low-S, SHA-256 prehash (accepted by @atproto/crypto strict verify)', async () => {
    for (let i = 0; i < 8; i++) {
      const s = secp256k1Signer(generateSecretKey('secp256k1'));
      const sig = s(msg);
      assert.equal(sig.length, 64);
      const parsed = secp256k1.Signature.fromBytes(sig, 'compact');
      assert.ok(parsed.s <= secp256k1.Point.CURVE().n / 2n, 'low-S');
      assert.equal(await atcrypto.verifySignature(s.did, msg, sig), true);
      // over the raw bytes, not something else
      assert.equal(await atcrypto.verifySignature(s.did, new TextEncoder().encode('other'), sig), false);
    }
  });

  test('P-256: 64-byte compact, low-S, verified by @atproto/crypto', async () => {
    const s = p256Signer(generateSecretKey('p256'));
    const sig = s(msg);
    assert.equal(sig.length, 64);
    assert.ok(p256.Signature.fromBytes(sig, 'compact').s <= p256.Point.CURVE().n / 2n);
    assert.equal(await atcrypto.verifySignature(s.did, msg, sig), true);
  });

  test('ed25519 signs the raw bytes (no prehash)', async () => {
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const s = ed25519Signer(generateSecretKey('ed25519'));
    const sig = s(msg);
    assert.equal(sig.length, 64);
    assert.equal(ed25519.verify(sig, msg, s.publicKey), true);
  });
});
