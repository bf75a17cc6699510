import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ReplayGuard, sealEnvelope, verifyEnvelope } from '../../../src/federation/envelope.js';
import { parseS2s, type EnvelopeMessage } from '../../../src/federation/messages.js';
import type { WireEvent } from '../../../src/state/wire.js';

// #14 phase 2: envelopes signed by their origin, verified against the origin's id (its public key),
// never the link's; a relay cannot alter or forge one; replays are dropped per origin.

const server = () => { const seed = randomBytes(32); return { seed, id: Buffer.from(ed25519.getPublicKey(seed)).toString('hex') }; };
const A = server();
const B = server();
const user = { uid: `${A.id.slice(0, 8).toUpperCase()}000001`, nick: 'alice', username: 'a', host: 'a.host' };
const msg: WireEvent = { kind: 'message', from: user, command: 'PRIVMSG', target: '#c', channel: '#c', text: 'hello', msgid: 'm1', at: 1_733_443_200_000 };
const HLC = '1733443200000.000000';

describe('signed envelopes', () => {
  test('sealed by its origin: schema-valid, verifies, and survives JSON (a relay forwards it unchanged)', () => {
    const e = sealEnvelope(A.seed, A.id, 1, HLC, msg);
    const relayed = JSON.parse(JSON.stringify(e)) as unknown;
    const p = parseS2s(relayed);
    assert.ok(p.ok, p.ok ? '' : p.reason);
    assert.equal(verifyEnvelope(p.msg as EnvelopeMessage), true);
  });

  test('forged origin: signed by A but claiming to come from B → refused', () => {
    const e = sealEnvelope(A.seed, A.id, 1, HLC, msg);
    assert.equal(verifyEnvelope({ ...e, origin: B.id }), false);
    // and A signing with B's name from the start
    assert.equal(verifyEnvelope(sealEnvelope(A.seed, B.id, 1, HLC, msg)), false);
  });

  test('any change by a relay breaks the signature: payload text, sender, seq, since, hlc', () => {
    const e = sealEnvelope(A.seed, A.id, 7, HLC, msg, 3);
    assert.equal(e.since, 3);
    assert.equal(verifyEnvelope(e), true);
    const m = e.payload as Extract<WireEvent, { kind: 'message' }>;
    for (const forged of [
      { ...e, payload: { ...m, text: 'hello!' } },
      { ...e, payload: { ...m, from: { ...m.from, nick: 'bob' } } },
      { ...e, seq: 8 },
      { ...e, since: 7 },
      { ...e, hlc: '1733443200001.000000' },
    ]) assert.equal(verifyEnvelope(forged), false);
  });

  test('a missing or malformed signature is refused by the schema or the check, never a crash', () => {
    const e = sealEnvelope(A.seed, A.id, 1, HLC, msg);
    const { sig: _sig, ...unsigned } = e;
    assert.equal(parseS2s(unsigned).ok, false);
    assert.equal(parseS2s({ ...e, sig: 'x'.repeat(86) }).ok, true, 'well-formed but wrong');
    assert.equal(verifyEnvelope({ ...e, sig: 'x'.repeat(86) }), false);
    assert.equal(parseS2s({ ...e, sig: e.sig.slice(1) }).ok, false);
    assert.equal(parseS2s({ ...e, since: e.seq + 1 }).ok, false, 'a run cannot start after its envelope');
  });

  test('a signature from another domain (a chat message signature over the same bytes) does not pass', () => {
    const e = sealEnvelope(A.seed, A.id, 1, HLC, msg);
    const canonicalOnly = Buffer.from(JSON.stringify({ hlc: e.hlc, origin: e.origin, payload: e.payload, seq: e.seq }));
    const wrongDomain = Buffer.from(ed25519.sign(canonicalOnly, A.seed)).toString('base64url');
    assert.equal(verifyEnvelope({ ...e, sig: wrongDomain }), false);
  });
});

describe('ReplayGuard', () => {
  test('per origin: a sequence number not above the last accepted one is dropped', () => {
    const g = new ReplayGuard();
    assert.equal(g.accept(A.id, 1), true);
    assert.equal(g.accept(A.id, 1), false, 'replay');
    assert.equal(g.accept(A.id, 3), true, 'a gap is accepted');
    assert.equal(g.accept(A.id, 2), false, 'older');
    assert.equal(g.accept(B.id, 1), true, 'origins are independent');
    assert.equal(g.lastSeq(A.id), 3);
  });

  test('bounded: beyond maxOrigins the oldest origin is forgotten', () => {
    const g = new ReplayGuard(2);
    g.accept('a', 5);
    g.accept('b', 5);
    g.accept('c', 5);
    assert.equal(g.lastSeq('a'), undefined);
    assert.equal(g.lastSeq('c'), 5);
  });
});
