import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aadFor, DecryptError, ENC_PREFIX, FieldCipher, keyFingerprint } from '../../../src/storage/crypto.js';

describe('storage/crypto: AES-256-GCM fields', () => {
  const key = randomBytes(32);
  const c = new FieldCipher(key);
  const aad = aadFor('channels', 'topic', '#a');

  test('round trip; stored form is versioned, hides the text and uses a fresh nonce each time', () => {
    const text = 'the secret plans 🔒';
    const e1 = c.encrypt(text, aad);
    const e2 = c.encrypt(text, aad);
    assert.ok(e1.startsWith(ENC_PREFIX));
    assert.notEqual(e1, e2, 'same plaintext, different nonce');
    assert.ok(!e1.includes('secret'));
    const raw = Buffer.from(e1.slice(ENC_PREFIX.length), 'base64url');
    assert.equal(raw.length, 12 + Buffer.byteLength(text) + 16);
    assert.equal(c.decrypt(e1, aad), text);
    assert.equal(c.decrypt(c.encrypt('', aad), aad), '');
  });

  test('nonces never repeat, also across refills of the nonce pool (4096 per refill)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const e = c.encrypt('x', aad);
      seen.add(Buffer.from(e.slice(ENC_PREFIX.length), 'base64url').subarray(0, 12).toString('hex'));
      if (i % 997 === 0) assert.equal(c.decrypt(e, aad), 'x');
    }
    assert.equal(seen.size, 10_000);
  });

  test('a value moved to another column or row does not decrypt (AAD)', () => {
    const e = c.encrypt('k3y', aadFor('channels', 'chan_key', '#a'));
    assert.throws(() => c.decrypt(e, aadFor('channels', 'topic', '#a')), DecryptError);
    assert.throws(() => c.decrypt(e, aadFor('channels', 'chan_key', '#b')), DecryptError);
  });

  test('wrong key, tampering, truncation and plaintext throw DecryptError, never return text', () => {
    const e = c.encrypt('hello', aad);
    assert.throws(() => new FieldCipher(randomBytes(32)).decrypt(e, aad), /decryption failed/);
    const raw = Buffer.from(e.slice(ENC_PREFIX.length), 'base64url');
    raw[14]! ^= 0x01;
    assert.throws(() => c.decrypt(ENC_PREFIX + raw.toString('base64url'), aad), DecryptError);
    assert.throws(() => c.decrypt(ENC_PREFIX + 'AAAA', aad), /too short/);
    assert.throws(() => c.decrypt('hello', aad), /not encrypted/);
  });

  test('optional values and key checks', () => {
    assert.equal(c.encryptOpt(undefined, aad), null);
    assert.equal(c.decryptOpt(null, aad), undefined);
    assert.throws(() => new FieldCipher(randomBytes(16)), /32-byte/);
    assert.match(c.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(c.fingerprint, keyFingerprint(key));
    assert.notEqual(keyFingerprint(randomBytes(32)), c.fingerprint);
    assert.ok(!key.toString('hex').includes(c.fingerprint));
  });
});
