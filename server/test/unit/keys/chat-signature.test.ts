import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalForm, channelVenue, dmVenue, kidOf, signCanonical, verifySigTag, type ChatEvent } from '../../../src/keys/chat-signature.js';

// The reference's chat-signing vectors (fixtures/freeq/, MIT, see LICENSE there): our JCS + sha256 +
// ed25519 must reproduce `canonical` and `sigTag` byte for byte, and reach every negative's verdict.

interface Vector { name: string; seed: string; publicKey: string; kid: string; canonical: string; sigTag: string; input: Record<string, unknown> & { kind: string } }
interface Negative { name: string; vector: string; expected: string; tamperedCanonical?: string; sigTag?: string }
const data = JSON.parse(readFileSync(new URL('../../fixtures/freeq/chat-signing-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[]; negatives: Negative[] };

function eventOf(i: Vector['input']): ChatEvent {
  const s = (k: string) => i[k] as string;
  const o = (k: string) => i[k] as string | undefined;
  switch (i.kind) {
    case 'message': return { kind: 'message', from: s('from'), msgid: s('msgid'), target: s('target'), body: s('bodyText'), reply: o('reply'), edit: o('edit'), tags: i.tags as Record<string, string> | undefined };
    case 'coordination': return { kind: 'coordination', from: s('from'), msgid: s('msgid'), target: s('target'), event: s('eventType'), payload: s('payload'), ref: o('ref'), evidence: o('evidence') };
    case 'delete': return { kind: 'delete', from: s('from'), msgid: s('msgid'), target: s('target'), subject: s('subject') };
    default: return { kind: i.kind as 'react', from: s('from'), msgid: s('msgid'), target: s('target'), subject: s('subject'), emoji: s('emoji') };
  }
}

describe('chat signatures: reference vectors', () => {
  test('the fixture has every kind', () => {
    assert.equal(data.vectors.length, 13);
    assert.deepEqual([...new Set(data.vectors.map((v) => v.input.kind))].sort(), ['coordination', 'delete', 'message', 'react', 'unreact']);
  });

  for (const v of data.vectors) {
    test(`${v.name}: canonical form, kid and signature byte for byte`, () => {
      const seed = Buffer.from(v.seed, 'hex');
      const pub = ed25519.getPublicKey(seed);
      assert.equal(Buffer.from(pub).toString('base64url'), v.publicKey);
      assert.equal(kidOf(pub), v.kid);
      assert.equal(kidOf(pub).length, 22);
      const canonical = canonicalForm(eventOf(v.input));
      assert.equal(canonical, v.canonical);
      assert.equal(signCanonical(seed, canonical), v.sigTag);
      assert.equal(verifySigTag(v.sigTag, v.canonical, (k) => (k === v.kid ? pub : undefined)), 'valid');
    });
  }

  for (const n of data.negatives) {
    test(`negative ${n.name}: ${n.expected}`, () => {
      const v = data.vectors.find((x) => x.name === n.vector)!;
      const pub = Buffer.from(v.publicKey, 'base64url');
      const keyFor = (k: string) => (k === v.kid ? pub : undefined);
      const verdict = n.sigTag !== undefined ? verifySigTag(n.sigTag, v.canonical, keyFor) : verifySigTag(v.sigTag, n.tamperedCanonical!, keyFor);
      assert.equal(verdict, n.expected);
    });
  }

  test('venues: channels lowercased, DMs sorted', () => {
    assert.equal(channelVenue('#Ops'), '#ops');
    assert.equal(dmVenue('did:plc:k2n3e2vsihf3farequ44t5j7', 'did:plc:aaa'), 'dm:did:plc:aaa,did:plc:k2n3e2vsihf3farequ44t5j7');
    const dm = data.vectors.find((x) => x.name === 'message-dm-venue')!;
    const [p1, p2] = dm.input.dmParticipants as [string, string];
    assert.equal(dmVenue(p1, p2), dm.input.target);
  });

  test('a signature over a different body is invalid, a tampered signature too', () => {
    const v = data.vectors[0]!;
    const pub = Buffer.from(v.publicKey, 'base64url');
    const sig = v.sigTag.split(':')[2]!;
    const flipped = Buffer.from(sig, 'base64url');
    flipped[0]! ^= 1;
    assert.equal(verifySigTag(`ed25519:${v.kid}:${flipped.toString('base64url')}`, v.canonical, () => pub), 'invalid');
    assert.equal(verifySigTag(`ed25519:${v.kid}:${sig.slice(0, 20)}`, v.canonical, () => pub), 'unverifiable', 'truncated = malformed');
  });
});
