// SignatureVerifier: SASL signature checks on their own thread, batched per turn, with the libuv
// pool as the fallback when the thread is closed or cannot run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ed25519 } from '@noble/curves/ed25519.js';
import pino from 'pino';
import { challengeKeys } from '../../../src/identity/did-doc.js';
import { didKeyDocument } from '../../../src/identity/did-resolver.js';
import { formatMultikey, verifySignature } from '../../../src/identity/keys.js';
import type { VerificationKey } from '../../../src/identity/types.js';
import { SignatureVerifier } from '../../../src/identity/verifier.js';

interface SigFixture { messageBase64: string; publicKeyDid: string; signatureBase64: string; validSignature: boolean; comment: string }
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/atproto/signature-fixtures.json', import.meta.url), 'utf8')) as SigFixture[];

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c))); cb(); } }));
  return { log, lines };
}

/** n ed25519 checks: every third one signed by another key, every fifth one over other data */
function edCases(n: number) {
  const other = ed25519.keygen();
  return Array.from({ length: n }, (_, i) => {
    const kp = ed25519.keygen();
    const key = challengeKeys(didKeyDocument(`did:key:${formatMultikey('ed25519', kp.publicKey)}`))[0]!;
    const data = new Uint8Array(Buffer.from(`challenge ${i}`));
    const signed = i % 5 === 0 ? new Uint8Array(Buffer.from(`other ${i}`)) : data;
    const sig = ed25519.sign(signed, i % 3 === 0 ? other.secretKey : kp.secretKey);
    return { key, data, sig, want: i % 3 !== 0 && i % 5 !== 0 };
  });
}

test('the thread gives the same answers as the synchronous check (atproto vectors, high-S rejected)', async () => {
  const { log, lines } = capture();
  const v = new SignatureVerifier(log);
  try {
    assert.equal(v.state, 'idle', 'no thread before the first check');
    const answers = await Promise.all(fixtures.map((f) => {
      const key = challengeKeys(didKeyDocument(f.publicKeyDid))[0]!;
      return v.verify(key, new Uint8Array(Buffer.from(f.messageBase64, 'base64')), new Uint8Array(Buffer.from(f.signatureBase64, 'base64')));
    }));
    assert.deepEqual(answers, fixtures.map((f) => f.validSignature));
    assert.ok(fixtures.some((f) => !f.validSignature) && fixtures.some((f) => f.validSignature));
    assert.equal(v.state, 'running');
    assert.deepEqual(lines.filter((l) => (l.level as number) >= 50), [], 'no error logged');
  } finally {
    v.close();
  }
});

test('hundreds of concurrent checks, valid and not, each get their own answer', async () => {
  const v = new SignatureVerifier(capture().log);
  try {
    const cases = edCases(300);
    const got = await Promise.all(cases.map((c) => v.verify(c.key, c.data, c.sig)));
    assert.deepEqual(got, cases.map((c) => c.want));
    assert.ok(got.filter(Boolean).length > 100 && got.filter((x) => !x).length > 100);
    // malformed input is just false: wrong signature length, wrong key length, unknown key type
    const c = cases[1]!;
    assert.equal(await v.verify(c.key, c.data, c.sig.subarray(0, 63)), false);
    assert.equal(await v.verify({ ...c.key, publicKey: c.key.publicKey.subarray(0, 31) }, c.data, c.sig), false);
    assert.equal(await v.verify({ ...c.key, type: 'rsa' as VerificationKey['type'] }, c.data, c.sig), false);
    assert.equal(v.state, 'running');
  } finally {
    v.close();
  }
});

test('close() with checks in flight: all of them, and later ones, are answered on the pool', async () => {
  const v = new SignatureVerifier(capture().log);
  const cases = edCases(60);
  const first = cases.slice(0, 30).map((c) => v.verify(c.key, c.data, c.sig));
  await new Promise((r) => setImmediate(r)); // the first batch is on its way to the thread
  const second = cases.slice(30, 45).map((c) => v.verify(c.key, c.data, c.sig)); // still queued here
  v.close();
  assert.equal(v.state, 'pool');
  const later = cases.slice(45).map((c) => v.verify(c.key, c.data, c.sig));
  assert.deepEqual(await Promise.all([...first, ...second, ...later]), cases.map((c) => c.want));
});

test('a thread that cannot start: one error logged, every check still answered correctly on the pool', async () => {
  const { log, lines } = capture();
  const v = new SignatureVerifier(log, 'no-such-verify-worker');
  try {
    const cases = edCases(40);
    const got = await Promise.all(cases.map((c) => v.verify(c.key, c.data, c.sig)));
    assert.deepEqual(got, cases.map((c) => c.want));
    assert.equal(v.state, 'pool');
    const errors = lines.filter((l) => (l.level as number) >= 50);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]!.msg), /signature thread failed/);
    // the synchronous check agrees (the fallback is the same code)
    assert.equal(verifySignature(cases[1]!.key, cases[1]!.data, cases[1]!.sig), cases[1]!.want);
  } finally {
    v.close();
  }
});
