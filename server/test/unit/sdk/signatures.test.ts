import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { messageCanonical, signingKeysFrom, venueOf, verifySignature, type SignedMessage } from '../../../../sdk/src/common.js';

// The SDK's check of the server's message signatures (#15, sdk/src/signatures.ts) against the
// reference's signing vectors (test/fixtures/freeq/chat-signing-vectors.json): every message
// vector's canonical form byte for byte and its signature, and every attack refused.

interface Vector { name: string; canonical: string; sigTag: string; publicKey: string; input: Record<string, unknown> & { kind: string } }
const V = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/freeq/chat-signing-vectors.json'), 'utf8')) as {
  vectors: Vector[]; negatives: { name: string; vector: string; sigTag?: string; tamperedCanonical?: string }[];
};
const messages = V.vectors.filter((v) => v.input.kind === 'message');

const asMessage = (v: Vector): SignedMessage => {
  const i = v.input as unknown as { from: string; msgid: string; target: string; bodyText: string; reply?: string; edit?: string; tags?: Record<string, string> };
  const tags: Record<string, string> = { ...(i.tags ?? {}) };
  if (i.reply !== undefined) tags['+reply'] = i.reply;
  if (i.edit !== undefined) tags['+draft/edit'] = i.edit;
  return { from: i.from, msgid: i.msgid, target: i.target, body: i.bodyText, tags };
};

test('every message vector: the same canonical form, and its signature verifies with the published key', () => {
  assert.ok(messages.length >= 6);
  for (const v of messages) {
    assert.equal(messageCanonical(asMessage(v)), v.canonical, v.name);
    const keys = signingKeysFrom({ public_key: v.publicKey });
    assert.equal(verifySignature(v.sigTag, asMessage(v), keys), true, v.name);
  }
});

test('attacks on a message are refused: a tampered document, a wrong kid, another algorithm, a bare signature; a rotated key still verifies', () => {
  for (const n of V.negatives) {
    const v = messages.find((x) => x.name === n.vector);
    if (!v) continue;
    const keys = signingKeysFrom({ public_key: v.publicKey });
    if (n.sigTag !== undefined) {
      assert.equal(verifySignature(n.sigTag, asMessage(v), keys), false, n.name);
    } else {
      // the vector's own signature does not cover the tampered document
      const [, , sig] = v.sigTag.split(':');
      assert.equal(ed25519.verify(Buffer.from(sig!, 'base64url'), Buffer.from(n.tamperedCanonical!), Buffer.from(v.publicKey, 'base64url')), false, n.name);
      assert.notEqual(n.tamperedCanonical, v.canonical);
    }
  }
  const v = messages[0]!;
  const m = asMessage(v);
  assert.equal(verifySignature(v.sigTag, { ...m, body: `${m.body}!` }, signingKeysFrom({ public_key: v.publicKey })), false, 'another body');
  assert.equal(verifySignature(v.sigTag, m, signingKeysFrom({ public_key: 'not-a-key' })), false, 'no usable key');
  assert.equal(verifySignature(undefined, m, signingKeysFrom({ public_key: v.publicKey })), false, 'no tag');
  // after a rotation the old key is in previous_keys
  assert.equal(verifySignature(v.sigTag, m, signingKeysFrom({ public_key: Buffer.alloc(32, 7).toString('base64url'), previous_keys: [{ public_key: v.publicKey }] })), true);
  assert.equal(venueOf('#Ops', 'did:a'), '#ops');
  assert.equal(venueOf('bob', 'did:plc:z', 'did:plc:a'), 'dm:did:plc:a,did:plc:z');
  assert.equal(venueOf('bob', 'did:plc:z'), undefined, 'a guest has no DM venue');
});
