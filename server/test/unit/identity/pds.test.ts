import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityError } from '../../../src/identity/types.js';
import { json, makeIdentity, stubServer, type Stub, type TestIdentity } from './stub.js';

const DID = 'did:plc:abcdefghijklmnopqrstuvwx';

describe('PDS calls against a stub PDS', () => {
  let pds: Stub;
  let id: TestIdentity;
  let mode = 'normal';
  before(async () => {
    pds = await stubServer((req, res, body) => {
      const auth = req.headers.authorization ?? '';
      switch (`${req.method} ${req.url}`) {
        case 'GET /xrpc/com.atproto.server.getSession':
          if (mode === 'garbage') return json(res, 200, { handle: 'x.test' });
          if (mode === 'nonce400') return json(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': 'n400' });
          if (mode === 'nonce-no-header') return json(res, 401, { error: 'use_dpop_nonce' });
          if (auth === 'Bearer good-access') return json(res, 200, { did: DID, handle: 'alice.test', active: true });
          if (auth === 'DPoP oauth-token') {
            if (req.headers.dpop === 'proof-with-nonce') return json(res, 200, { did: DID });
            return json(res, 401, { error: 'use_dpop_nonce', message: 'Authorization server requires nonce in DPoP proof' }, { 'DPoP-Nonce': 'nonce-123' });
          }
          return json(res, 401, { error: 'InvalidToken', message: 'Bad token scope' });
        case 'POST /xrpc/com.atproto.server.createSession': {
          const { identifier, password } = JSON.parse(body) as { identifier: string; password: string };
          if (identifier === 'alice.test' && password === 'app-pass-word') {
            return json(res, 200, { did: DID, handle: 'alice.test', accessJwt: 'acc', refreshJwt: 'ref', didDoc: { id: DID } });
          }
          if (identifier === 'teapot') return json(res, 418, {});
          return json(res, 401, { error: 'AuthenticationRequired', message: 'Invalid identifier or password' });
        }
        case 'POST /xrpc/com.atproto.server.deleteSession':
          if (mode === 'delete500') return json(res, 500, { error: 'InternalServerError' });
          res.writeHead(200); res.end();
          return;
        default:
          json(res, 404, { error: 'MethodNotImplemented' });
      }
    });
    id = makeIdentity({});
  });
  after(async () => { id.close(); await pds.close(); });

  test('getSession with a Bearer token', async () => {
    mode = 'normal';
    const r = await id.svc.getSession(`${pds.localUrl}/`, { scheme: 'Bearer', token: 'good-access' }, DID);
    assert.deepEqual(r, { ok: true, did: DID, handle: 'alice.test' });
    assert.equal(pds.last?.headers.authorization, 'Bearer good-access');
    assert.equal(pds.last?.headers.dpop, undefined);
    assert.equal(pds.hits.at(-1), 'GET /xrpc/com.atproto.server.getSession');
  });

  test('getSession with a bad token → ok:false with the status and error name, token not echoed', async () => {
    const r = await id.svc.getSession(pds.url, { scheme: 'Bearer', token: 'stolen-or-expired' }, DID);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'getSession answered 401 InvalidToken');
    assert.equal(!r.ok && r.dpopNonce, undefined);
    assert.doesNotMatch(JSON.stringify(r), /stolen-or-expired/);
  });

  test('DPoP: sends Authorization: DPoP + DPoP header; use_dpop_nonce → dpopNonce, exactly one request (no retry)', async () => {
    const n = pds.hits.length;
    const r = await id.svc.getSession(pds.url, { scheme: 'DPoP', token: 'oauth-token', dpopProof: 'proof-without-nonce' }, DID);
    assert.deepEqual(r, { ok: false, reason: 'use_dpop_nonce', dpopNonce: 'nonce-123' });
    assert.equal(pds.hits.length, n + 1);
    assert.equal(pds.last?.headers.authorization, 'DPoP oauth-token');
    assert.equal(pds.last?.headers.dpop, 'proof-without-nonce');
    const ok = await id.svc.getSession(pds.url, { scheme: 'DPoP', token: 'oauth-token', dpopProof: 'proof-with-nonce' }, DID);
    assert.deepEqual(ok, { ok: true, did: DID });
  });

  test('use_dpop_nonce on a 400 also counts; without the DPoP-Nonce header it does not', async () => {
    mode = 'nonce400';
    assert.deepEqual(await id.svc.getSession(pds.url, { scheme: 'DPoP', token: 't', dpopProof: 'p' }, DID), { ok: false, reason: 'use_dpop_nonce', dpopNonce: 'n400' });
    mode = 'nonce-no-header';
    const r = await id.svc.getSession(pds.url, { scheme: 'DPoP', token: 't', dpopProof: 'p' }, DID);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.dpopNonce, undefined);
    assert.equal(!r.ok && r.reason, 'getSession answered 401 use_dpop_nonce');
    mode = 'normal';
  });

  test('DPoP without a proof is refused locally', async () => {
    const n = pds.hits.length;
    const r = await id.svc.getSession(pds.url, { scheme: 'DPoP', token: 't' }, DID);
    assert.equal(r.ok, false);
    assert.equal(pds.hits.length, n);
  });

  test('a 200 without a did → ok:false', async () => {
    mode = 'garbage';
    const r = await id.svc.getSession(pds.url, { scheme: 'Bearer', token: 'good-access' }, DID);
    assert.equal(r.ok, false);
    mode = 'normal';
  });

  test('header injection in a token is refused without a request', async () => {
    const n = pds.hits.length;
    const r = await id.svc.getSession(pds.url, { scheme: 'Bearer', token: 'a\r\nX-Evil: 1' }, DID);
    assert.equal(r.ok, false);
    assert.equal(pds.hits.length, n);
  });

  test('createSession: right password → tokens; JSON body carries identifier and password', async () => {
    const s = await id.svc.createSession(pds.url, 'alice.test', 'app-pass-word', DID);
    assert.deepEqual(s, { did: DID, handle: 'alice.test', accessJwt: 'acc', refreshJwt: 'ref' });
    assert.equal(pds.last?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(pds.last.body), { identifier: 'alice.test', password: 'app-pass-word' });
  });

  test('createSession: wrong password → bad-token, password not in the message', async () => {
    await assert.rejects(id.svc.createSession(pds.url, 'alice.test', 'wrong-secret', DID), (e) => {
      assert.ok(e instanceof IdentityError);
      assert.equal(e.code, 'bad-token');
      assert.doesNotMatch(e.message, /wrong-secret/);
      return true;
    });
  });

  test('createSession: unexpected status → network', async () => {
    await assert.rejects(id.svc.createSession(pds.url, 'teapot', 'x', DID), (e) => e instanceof IdentityError && e.code === 'network');
  });

  test('deleteSession posts the refresh token as Bearer; failures are swallowed', async () => {
    await id.svc.deleteSession(pds.url, 'ref');
    assert.equal(pds.hits.at(-1), 'POST /xrpc/com.atproto.server.deleteSession');
    assert.equal(pds.last?.headers.authorization, 'Bearer ref');
    mode = 'delete500';
    await id.svc.deleteSession(pds.url, 'ref');
    mode = 'normal';
    const closed = await stubServer(() => undefined);
    await closed.close();
    await id.svc.deleteSession(closed.url, 'ref'); // connection refused: still no throw
  });
});
