import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ed25519PublicKeyOf, ed25519Sign, ed25519Verify } from '../../../src/util/ed25519.js';

// util/ed25519.ts (node:crypto) against an independent implementation (@noble/curves): the same
// public keys and signatures (Ed25519 is deterministic), each verifying the other's.

test('node:crypto and @noble/curves agree on keys and signatures, both ways', () => {
  for (let i = 0; i < 20; i++) {
    const seed = randomBytes(32);
    const msg = randomBytes(i * 7);
    const pub = ed25519PublicKeyOf(seed);
    assert.deepEqual(pub, Buffer.from(ed25519.getPublicKey(seed)));
    const sig = ed25519Sign(seed, msg);
    assert.deepEqual(sig, Buffer.from(ed25519.sign(msg, seed)));
    assert.equal(ed25519.verify(sig, msg, pub), true);
    assert.equal(ed25519Verify(pub.toString('hex'), msg, Buffer.from(ed25519.sign(msg, seed))), true);
  }
});

test('a wrong message, key or signature, or a malformed one, is false, never a throw', () => {
  const seed = randomBytes(32);
  const pub = ed25519PublicKeyOf(seed).toString('hex');
  const msg = Buffer.from('hello');
  const sig = ed25519Sign(seed, msg);
  assert.equal(ed25519Verify(pub, Buffer.from('hellO'), sig), false);
  assert.equal(ed25519Verify(ed25519PublicKeyOf(randomBytes(32)).toString('hex'), msg, sig), false);
  const bad = Buffer.from(sig);
  bad[5] = bad[5]! ^ 1;
  assert.equal(ed25519Verify(pub, msg, bad), false);
  assert.equal(ed25519Verify(pub, msg, sig.subarray(0, 63)), false);
  assert.equal(ed25519Verify('zz', msg, sig), false);
  assert.equal(ed25519Verify('00'.repeat(32), msg, sig), false);
});
