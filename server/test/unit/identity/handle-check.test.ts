// identity/handle-check.ts (#12 finding 5) through the real identity service: the claimed handle
// is shown only when it resolves back to the DID; results are cached (verified: did-cache-ttl,
// refuted: 60 s, failures: not at all); the answer never takes longer than http-timeout.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DidDocument } from '../../../src/identity/types.js';
import { json, makeIdentity, plcDid, stubServer, type Stub, type TestIdentity } from './stub.js';

describe('verifiedHandle', () => {
  let xrpc: Stub;
  let id: TestIdentity;
  /** handle → the DID the resolver answers, 'error' (500) or 'hang' */
  const answers = new Map<string, string>();
  const hits = (h: string) => xrpc.hits.filter((x) => x === `GET /xrpc/com.atproto.identity.resolveHandle?handle=${h}`).length;
  const doc = (did: string, handle?: string): DidDocument => ({ id: did, ...(handle ? { alsoKnownAs: [`at://${handle}`] } : {}) });

  before(async () => {
    xrpc = await stubServer((req, res) => {
      const h = new URL(req.url!, 'http://x').searchParams.get('handle')!;
      const a = answers.get(h);
      if (a === 'hang') return;
      if (a === 'error') return json(res, 500, { error: 'InternalServerError' });
      if (a === undefined) return json(res, 400, { error: 'InvalidRequest', message: 'Unable to resolve handle' });
      json(res, 200, { did: a });
    });
    id = makeIdentity({ 'handle-resolver-url': xrpc.url, 'did-cache-ttl': '1h', 'http-timeout': '300ms' });
  });
  after(async () => { id.close(); await xrpc.close(); });

  test('a handle that resolves back is returned (lower-cased) and remembered for did-cache-ttl', async () => {
    const did = plcDid('good');
    answers.set('good.test', did);
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'Good.Test')), 'good.test');
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'good.test')), 'good.test');
    assert.equal(hits('good.test'), 1);
    id.clock.t += 3600_000;
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'good.test')), 'good.test');
    assert.equal(hits('good.test'), 2);
  });

  test('a handle that resolves to another DID, or nowhere: undefined, remembered for 60 s', async () => {
    const did = plcDid('claimer');
    answers.set('taken.test', plcDid('owner'));
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'taken.test')), undefined);
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'unknown.test')), undefined);
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'taken.test')), undefined);
    assert.equal(hits('taken.test'), 1);
    assert.equal(hits('unknown.test'), 1);
    id.clock.t += 60_000;
    answers.set('taken.test', did); // the handle moved to this DID
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'taken.test')), 'taken.test');
    assert.equal(hits('taken.test'), 2);
  });

  test('a resolver failure hides the handle and is not remembered', async () => {
    const did = plcDid('flaky');
    answers.set('flaky.test', 'error');
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'flaky.test')), undefined);
    answers.set('flaky.test', did);
    assert.equal(await id.svc.verifiedHandle(did, doc(did, 'flaky.test')), 'flaky.test');
    assert.equal(hits('flaky.test'), 2);
  });

  test('no claimed handle (or a malformed one): undefined without any request', async () => {
    const did = plcDid('plain');
    const n = xrpc.hits.length;
    assert.equal(await id.svc.verifiedHandle(did, doc(did)), undefined);
    assert.equal(await id.svc.verifiedHandle(did, { id: did, alsoKnownAs: ['at://not a handle', 'https://x.test'] }), undefined);
    assert.equal(xrpc.hits.length, n);
  });

  test('a resolver that never answers: undefined once http-timeout has passed', async () => {
    const did = plcDid('slow');
    answers.set('slow.test', 'hang');
    let settled = false;
    const p = id.svc.verifiedHandle(did, doc(did, 'slow.test')).finally(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(settled, false, 'still waiting before http-timeout');
    assert.equal(await p, undefined);
  });
});
