import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { IdentityError } from '../../../src/identity/types.js';
import { json, makeIdentity, stubServer, type Stub, type TestIdentity } from './stub.js';

const AUD = 'did:web:irc.example.com';
const b64u = (x: string | Uint8Array) => Buffer.from(x).toString('base64url');

interface Signer { sign(msg: Uint8Array): Promise<Uint8Array>; jwtAlg: string }

async function makeJwt(kp: Signer, payload: Record<string, unknown>, header: Record<string, unknown> = { typ: 'JWT', alg: kp.jwtAlg }): Promise<string> {
  const h = b64u(JSON.stringify(header));
  const p = b64u(JSON.stringify(payload));
  const sig = await kp.sign(new TextEncoder().encode(`${h}.${p}`));
  return `${h}.${p}.${b64u(sig)}`;
}

/** the `iss` a token names ('' when unreadable): what a client claiming the issuer's DID sends */
function issOf(jwt: string): string {
  try {
    const iss = (JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : '';
  } catch {
    return '';
  }
}

const rejects = (p: Promise<unknown>, why: RegExp) =>
  assert.rejects(p, (e) => e instanceof IdentityError && e.code === 'bad-token' && why.test(e.message));

describe('service-auth JWT verification', () => {
  let web: Stub;
  let id: TestIdentity;
  let k1: Secp256k1Keypair;
  let r1: P256Keypair;
  let k1Did: string;
  let r1Did: string;
  const docs = new Map<string, unknown>();
  const now = () => Math.floor(id.clock.t / 1000);
  const claims = (iss: string, extra: Record<string, unknown> = {}) => ({ iss, aud: AUD, iat: now(), exp: now() + 60, jti: randomUUID(), lxm: 'chat.freeq.irc.login', ...extra });
  const atprotoDoc = (did: string, multikey: string) => ({
    id: did,
    verificationMethod: [{ id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: multikey }],
  });

  before(async () => {
    web = await stubServer((req, res) => {
      const d = docs.get(req.url!);
      if (d) json(res, 200, d); else json(res, 404, {});
    });
    k1 = await Secp256k1Keypair.create({ exportable: true });
    r1 = await P256Keypair.create({ exportable: true });
    k1Did = `did:web:localhost%3A${web.port}:k1`;
    r1Did = `did:web:localhost%3A${web.port}:r1`;
    docs.set('/k1/did.json', atprotoDoc(k1Did, k1.did().slice(8)));
    docs.set('/r1/did.json', atprotoDoc(r1Did, r1.did().slice(8)));
    id = makeIdentity({});
  });
  after(async () => { id.close(); await web.close(); });
  /** the port, for a login that claims the DID the token names */
  const verify = (jwt: string, aud: string) => id.svc.verifyServiceAuth(jwt, aud, issOf(jwt));

  test('a token whose iss is not the claimed DID is refused before the issuer is resolved', async () => {
    const other = `did:web:localhost%3A${web.port}:other`;
    docs.set('/other/did.json', atprotoDoc(other, k1.did().slice(8)));
    const n = web.hits.length;
    await rejects(id.svc.verifyServiceAuth(await makeJwt(k1, claims(other)), AUD, k1Did), /claimed DID/);
    await rejects(id.svc.verifyServiceAuth(await makeJwt(k1, claims(k1Did)), AUD, other), /claimed DID/);
    assert.equal(web.hits.length, n, 'no DID document fetched');
    // the same token, claimed by its issuer, is still good (the refusal did not burn its jti)
    const jwt = await makeJwt(k1, claims(other));
    await rejects(id.svc.verifyServiceAuth(jwt, AUD, k1Did), /claimed DID/);
    assert.deepEqual(await id.svc.verifyServiceAuth(jwt, AUD, other), { did: other });
  });

  test('a valid ES256K token → the issuer DID', async () => {
    assert.deepEqual(await verify(await makeJwt(k1, claims(k1Did)), AUD), { did: k1Did });
  });

  test('a valid ES256 (P-256) token, without typ', async () => {
    const jwt = await makeJwt(r1, claims(r1Did), { alg: 'ES256' });
    assert.deepEqual(await verify(jwt, AUD), { did: r1Did });
  });

  test('replayed jti → rejected', async () => {
    const jwt = await makeJwt(k1, claims(k1Did));
    await verify(jwt, AUD);
    await rejects(verify(jwt, AUD), /replayed/);
  });

  test('wrong audience', async () => {
    await rejects(verify(await makeJwt(k1, claims(k1Did, { aud: 'did:web:other.example' })), AUD), /aud/);
    await rejects(verify(await makeJwt(k1, claims(k1Did, { aud: `${AUD}#irc` })), AUD), /aud/);
  });

  test('expired', async () => {
    await rejects(verify(await makeJwt(k1, claims(k1Did, { iat: now() - 120, exp: now() - 1 })), AUD), /expired/);
    await rejects(verify(await makeJwt(k1, claims(k1Did, { iat: now() - 60, exp: now() })), AUD), /expired/);
  });

  test('lifetime over 5 minutes, or expiry too far ahead without iat', async () => {
    await rejects(verify(await makeJwt(k1, claims(k1Did, { iat: now() - 10, exp: now() + 300 })), AUD), /lifetime/);
    await rejects(verify(await makeJwt(k1, claims(k1Did, { iat: undefined, exp: now() + 3600 })), AUD), /future/);
    // exactly 300 s is fine
    await verify(await makeJwt(k1, claims(k1Did, { exp: now() + 300 })), AUD);
  });

  test('issued in the future (beyond 30 s skew)', async () => {
    await rejects(verify(await makeJwt(k1, claims(k1Did, { iat: now() + 120, exp: now() + 180 })), AUD), /future/);
  });

  test('missing jti, missing exp, iss not a plain DID', async () => {
    await rejects(verify(await makeJwt(k1, claims(k1Did, { jti: undefined })), AUD), /jti/);
    await rejects(verify(await makeJwt(k1, claims(k1Did, { exp: undefined })), AUD), /exp/);
    await rejects(verify(await makeJwt(k1, claims(`${k1Did}#atproto_labeler`)), AUD), /iss/);
  });

  test('bad signature: signed by another key, tampered payload, alg/key mismatch', async () => {
    const other = await Secp256k1Keypair.create();
    await rejects(verify(await makeJwt(other, claims(k1Did)), AUD), /signature/);
    const good = await makeJwt(k1, claims(k1Did));
    const [h, , s] = good.split('.');
    // k1's signature presented as another issuer's token
    const forged = `${h}.${b64u(JSON.stringify(claims(r1Did)))}.${s}`;
    await rejects(verify(forged, AUD), /signature/);
    const tampered = `${h}.${b64u(JSON.stringify({ ...claims(k1Did), aud: AUD }))}.${s}`;
    await rejects(verify(tampered, AUD), /signature/);
    // an ES256 header over a secp256k1 #atproto key
    await rejects(verify(await makeJwt(k1, claims(k1Did), { typ: 'JWT', alg: 'ES256' }), AUD), /signature/);
  });

  test('high-S and DER signatures are rejected', async () => {
    const jwt = await makeJwt(k1, claims(k1Did));
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const sig = secp256k1.Signature.fromBytes(new Uint8Array(Buffer.from(s, 'base64url')), 'compact');
    const high = new secp256k1.Signature(sig.r, secp256k1.Point.CURVE().n - sig.s).toBytes('compact');
    await rejects(verify(`${h}.${p}.${b64u(high)}`, AUD), /signature/);
    await rejects(verify(`${h}.${p}.${b64u(sig.toBytes('der'))}`, AUD), /64-byte/);
    // the original, low-S, still works: the rejections above did not burn the jti
    assert.deepEqual(await verify(jwt, AUD), { did: k1Did });
  });

  test('malformed tokens and unsupported algorithms', async () => {
    const c = claims(k1Did);
    for (const bad of ['', 'a.b', 'a.b.c.d', '!!.??.**', `${b64u('{')}.${b64u('{}')}.${b64u('x')}`]) {
      await rejects(verify(bad, AUD), /malformed/);
    }
    await rejects(verify(await makeJwt(k1, c, { alg: 'none' }), AUD), /alg/);
    await rejects(verify(await makeJwt(k1, c, { alg: 'HS256' }), AUD), /alg/);
    await rejects(verify(await makeJwt(k1, c, { alg: 'ES256K', typ: 'dpop+jwt' }), AUD), /typ/);
  });

  test('a rotated #atproto key is picked up (cached document refetched after a signature failure)', async () => {
    const did = `did:web:localhost%3A${web.port}:rot`;
    const oldKey = await Secp256k1Keypair.create();
    const newKey = await Secp256k1Keypair.create();
    docs.set('/rot/did.json', atprotoDoc(did, oldKey.did().slice(8)));
    await verify(await makeJwt(oldKey, claims(did)), AUD);
    docs.set('/rot/did.json', atprotoDoc(did, newKey.did().slice(8)));
    id.clock.t += 61_000;
    assert.deepEqual(await verify(await makeJwt(newKey, claims(did)), AUD), { did });
    await rejects(verify(await makeJwt(oldKey, claims(did)), AUD), /signature/);
  });

  test('an issuer whose DID cannot be resolved → the resolver error', async () => {
    await assert.rejects(verify(await makeJwt(k1, claims(`did:web:localhost%3A${web.port}:nobody`)), AUD), (e) => e instanceof IdentityError && e.code === 'not-found');
  });

  test('a did:key issuer has no #atproto key → bad-token', async () => {
    await rejects(verify(await makeJwt(k1, claims(k1.did())), AUD), /signature/);
  });
});
