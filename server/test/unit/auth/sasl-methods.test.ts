import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loginHandle, parseAtprotoResponse, verifyAtproto } from '../../../src/auth/sasl/atproto-challenge.js';
import { ChallengeStore } from '../../../src/auth/sasl/challenge-store.js';
import { parsePlain } from '../../../src/auth/sasl/plain.js';
import { LoginTokens } from '../../../src/auth/login-tokens.js';
import { IdentityError, type IdentityService } from '../../../src/identity/types.js';

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

describe('ATPROTO-CHALLENGE response parsing', () => {
  test('method absent or null means crypto; unknown fields are ignored', () => {
    assert.deepEqual(parseAtprotoResponse(enc({ did: DID, signature: 'c2ln', extra: 1 })), { did: DID, method: 'crypto', signature: 'c2ln' });
    assert.equal((parseAtprotoResponse(enc({ did: DID, signature: 'x', method: null })) as { method: string }).method, 'crypto');
  });

  test('optional fields map to camelCase', () => {
    const r = parseAtprotoResponse(enc({ did: DID, signature: 't', method: 'pds-oauth', pds_url: 'https://pds.example', dpop_proof: 'p', challenge_nonce: 'n' }));
    assert.deepEqual(r, { did: DID, method: 'pds-oauth', signature: 't', pds_url: 'https://pds.example', dpop_proof: 'p', challenge_nonce: 'n' });
  });

  test('rejections', () => {
    for (const [v, why] of [
      [{ signature: 's' }, 'no did'],
      [{ did: 'alice.bsky.social', signature: 's' }, 'not a DID'],
      [{ did: 'did:plc:a b', signature: 's' }, 'space in DID'],
      [{ did: `did:web:${'a'.repeat(300)}`, signature: 's' }, 'DID too long for an IRC line'],
      [{ did: DID }, 'no signature'],
      [{ did: DID, signature: '' }, 'empty signature'],
      [{ did: DID, signature: 's', method: 'web-login' }, 'unknown method'],
      [{ did: DID, signature: 's', pds_url: 5 }, 'non-string optional'],
      [[DID], 'array'],
    ] as const) assert.equal(typeof parseAtprotoResponse(enc(v)), 'string', why);
    assert.equal(typeof parseAtprotoResponse('%%%'), 'string');
    assert.equal(typeof parseAtprotoResponse(Buffer.from('{"did":').toString('base64url')), 'string');
  });
});

describe('PLAIN payload', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  test('handle or DID as authcid; authzid empty or the same identity', () => {
    assert.deepEqual(parsePlain(b64('\0Alice.Bsky.Social\0pw')), { authcid: 'alice.bsky.social', password: 'pw' });
    assert.deepEqual(parsePlain(b64('alice.bsky.social\0alice.bsky.social\0pw')), { authcid: 'alice.bsky.social', password: 'pw' });
    assert.deepEqual(parsePlain(b64(`${DID}\0${DID}\0p\u00e4ss`)), { authcid: DID, password: 'p\u00e4ss' });
  });
  test('rejections', () => {
    for (const [s, why] of [
      ['alice\0pw', 'two parts'],
      ['\0\0pw', 'empty authcid'],
      ['\0alice.bsky.social\0', 'empty password'],
      [`bob.bsky.social\0alice.bsky.social\0pw`, 'authzid of someone else'],
      ['\0not a handle\0pw', 'not a handle'],
      ['\0a\0b\0c', 'four parts'],
    ]) assert.equal(typeof parsePlain(b64(s!)), 'string', why);
    assert.equal(typeof parsePlain('!!'), 'string');
  });
});

/** An identity port whose calls are recorded; only what a test sets is implemented. */
function fakeIdentity(over: Partial<IdentityService>): IdentityService & { calls: string[] } {
  const calls: string[] = [];
  const no = (name: string) => () => { calls.push(name); throw new Error(`${name} not expected`); };
  const base: IdentityService = {
    forClient: no('forClient'), verifiedHandle: async () => undefined,
    resolveDid: no('resolveDid'), challengeKeys: no('challengeKeys'), atprotoKey: no('atprotoKey'), verifySignature: no('verifySignature'),
    pdsEndpoint: no('pdsEndpoint'), resolveHandle: no('resolveHandle'), getSession: no('getSession'),
    createSession: no('createSession'), deleteSession: no('deleteSession'), verifyServiceAuth: no('verifyServiceAuth'),
  };
  const wrapped = Object.fromEntries(Object.entries({ ...base, ...over }).map(([k, f]) => [k, (...a: unknown[]) => { calls.push(k); return (f as (...x: unknown[]) => unknown)(...a); }]));
  return Object.assign(wrapped as unknown as IdentityService, { calls });
}

describe('ATPROTO-CHALLENGE method checks (identity port faked)', () => {
  const ch = new ChallengeStore({ now: () => 1_700_000_000_000 }, 60_000).issue();
  const doc = { id: DID, alsoKnownAs: ['at://alice.test'] };

  test('service-auth: audience is the server DID; the issuer must be the claimed DID', async () => {
    let aud = '';
    let claimed = '';
    const id = fakeIdentity({
      verifyServiceAuth: async (_jwt, audience, did) => { aud = audience; claimed = did; return { did: DID }; },
      resolveDid: async () => doc, verifiedHandle: async () => 'alice.test',
    });
    const ok = await verifyAtproto({ identity: id, serverDid: 'did:web:irc.test', loginTokens: new LoginTokens() }, { did: DID, method: 'service-auth', signature: 'jwt' }, ch);
    // the mechanism verifies the DID only; the handle is looked up afterwards (loginHandle)
    assert.deepEqual(ok, { kind: 'ok', did: DID });
    assert.ok(!id.calls.includes('verifiedHandle'));
    assert.equal(ok.kind === 'ok' ? await loginHandle(id, ok) : 'not ok', 'alice.test');
    assert.equal(aud, 'did:web:irc.test');
    assert.equal(claimed, DID, 'the claimed DID goes to the verifier (checked before any lookup)');
    const bad = await verifyAtproto({ identity: id, serverDid: 'did:web:irc.test', loginTokens: new LoginTokens() }, { did: 'did:plc:someoneelseeeeeeeeeeeeeee', method: 'service-auth', signature: 'jwt' }, ch);
    assert.equal(bad.kind, 'fail');
  });

  test('service-auth: a rejected token fails with a loggable reason', async () => {
    const id = fakeIdentity({ verifyServiceAuth: async () => { throw new IdentityError('bad-token', 'jti replayed'); } });
    const r = await verifyAtproto({ identity: id, serverDid: 'did:web:irc.test', loginTokens: new LoginTokens() }, { did: DID, method: 'service-auth', signature: 'jwt' }, ch);
    assert.deepEqual(r, { kind: 'fail', reason: 'bad-token: jti replayed' });
  });

  test('crypto: the signature is checked over the exact challenge bytes with every key', async () => {
    const seen: string[] = [];
    const id = fakeIdentity({
      resolveDid: async () => doc,
      challengeKeys: () => [{ id: `${DID}#a`, type: 'ed25519', publicKey: new Uint8Array(32) }, { id: `${DID}#b`, type: 'ed25519', publicKey: new Uint8Array(32) }],
      verifySignature: async (k, data) => { seen.push(k.id); assert.deepEqual(Buffer.from(data), ch.bytes); return k.id.endsWith('#b'); },
    });
    const r = await verifyAtproto({ identity: id, serverDid: 'x', loginTokens: new LoginTokens() }, { did: DID, method: 'crypto', signature: Buffer.alloc(64, 1).toString('base64url') }, ch);
    assert.equal(r.kind, 'ok');
    assert.deepEqual(seen, [`${DID}#a`, `${DID}#b`]);
  });

  test('crypto: a document for another DID is refused', async () => {
    const id = fakeIdentity({ resolveDid: async () => ({ id: 'did:plc:other' }) });
    const r = await verifyAtproto({ identity: id, serverDid: 'x', loginTokens: new LoginTokens() }, { did: DID, method: 'crypto', signature: 'AAAA' }, ch);
    assert.equal(r.kind, 'fail');
    assert.ok(!id.calls.includes('verifySignature'));
  });

  test('a handle that is unsafe in an IRC line is dropped (display only)', async () => {
    const id = fakeIdentity({
      resolveDid: async () => doc, pdsEndpoint: () => 'https://pds.example',
      getSession: async () => ({ ok: true, did: DID }), verifiedHandle: async () => 'evil handle\r\nQUIT',
    });
    const r = await verifyAtproto({ identity: id, serverDid: 'x', loginTokens: new LoginTokens() }, { did: DID, method: 'pds-session', signature: 't', challenge_nonce: ch.nonce }, ch);
    assert.deepEqual(r, { kind: 'ok', did: DID, doc });
    assert.equal(r.kind === 'ok' ? await loginHandle(id, r) : 'not ok', undefined);
  });

  test('loginHandle: a failed lookup shows the DID (display only, never a failure)', async () => {
    const id = fakeIdentity({ resolveDid: async () => { throw new IdentityError('network', 'down'); } });
    assert.equal(await loginHandle(id, { kind: 'ok', did: DID }), undefined);
    const id2 = fakeIdentity({ verifiedHandle: async () => { throw new Error('bug'); } });
    assert.equal(await loginHandle(id2, { kind: 'ok', did: DID, doc }), undefined);
  });

  test('pds-oauth: an unusable DPoP nonce from the PDS is a failure, not a NOTICE', async () => {
    const id = fakeIdentity({
      resolveDid: async () => doc, pdsEndpoint: () => 'https://pds.example',
      getSession: async () => ({ ok: false, reason: 'use_dpop_nonce', dpopNonce: 'a b' }),
    });
    const r = await verifyAtproto({ identity: id, serverDid: 'x', loginTokens: new LoginTokens() }, { did: DID, method: 'pds-oauth', signature: 't', dpop_proof: 'p', challenge_nonce: ch.nonce }, ch);
    assert.equal(r.kind, 'fail');
  });

  test('web-token: a token is spent on its first use, for its own DID only; nothing is looked up', async () => {
    const tokens = new LoginTokens();
    const id = fakeIdentity({});
    const deps = { identity: id, serverDid: 'x', loginTokens: tokens };
    const t1 = tokens.issue({ did: DID, handle: 'alice.test' });
    assert.match(t1, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await verifyAtproto(deps, { did: DID, method: 'web-token', signature: t1 }, ch), { kind: 'ok', did: DID, handle: 'alice.test' });
    const again = await verifyAtproto(deps, { did: DID, method: 'web-token', signature: t1 }, ch);
    assert.equal(again.kind, 'fail', 'single use');
    // another DID's token: refused, and spent too (one attempt per token)
    const t2 = tokens.issue({ did: 'did:plc:someoneelseeeeeeeeeeeeeee' });
    assert.equal((await verifyAtproto(deps, { did: DID, method: 'web-token', signature: t2 }, ch)).kind, 'fail');
    assert.equal(tokens.take(t2), undefined);
    assert.equal((await verifyAtproto(deps, { did: DID, method: 'web-token', signature: 'x'.repeat(43) }, ch)).kind, 'fail');
    assert.equal((await verifyAtproto(deps, { did: DID, method: 'web-token', signature: 'not a token' }, ch)).kind, 'fail');
    assert.deepEqual(id.calls, [], 'no identity lookup for a web-token');
  });
});
