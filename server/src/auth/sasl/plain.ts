import type { IdentityService } from '../../identity/types.js';
import { decodeBase64 } from './base64.js';
import { errorReason, type VerifyOutcome } from './atproto-challenge.js';
import { isDid, safeHandle } from './names.js';

/**
 * SASL PLAIN (RFC 4616) with a Bluesky identity: `authzid \0 authcid \0 password`, where authcid
 * is a handle or a DID and the password an **app password**. This is what lets irssi, WeeChat and
 * HexChat log in without a custom mechanism.
 *
 * The password is checked by the user's own PDS (the one its DID document names) with
 * createSession; the session is deleted again at once. The password is never stored or logged,
 * and the decoded bytes are zeroed as soon as it has been extracted.
 */
export interface PlainCredentials {
  /** a DID, or a handle (lower-cased) */
  authcid: string;
  password: string;
}

export function parsePlain(text: string): PlainCredentials | string {
  const raw = decodeBase64(text);
  if (!raw) return 'payload is not base64';
  try {
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < raw.length; i++) if (raw[i] === 0) { parts.push(raw.subarray(start, i)); start = i + 1; }
    parts.push(raw.subarray(start));
    if (parts.length !== 3) return 'payload is not authzid\\0authcid\\0password';
    const [authzidB, authcidB, passwordB] = parts as [Buffer, Buffer, Buffer];
    const authzid = authzidB.toString('utf8');
    let authcid = authcidB.toString('utf8');
    if (authcid === '' || passwordB.length === 0) return 'empty authcid or password';
    if (!authcid.startsWith('did:')) authcid = authcid.toLowerCase().replace(/^@/, '');
    const z = authzid.startsWith('did:') ? authzid : authzid.toLowerCase().replace(/^@/, '');
    // we do not act on behalf of another identity: the authzid is empty or the same identity
    if (z !== '' && z !== authcid) return 'authzid differs from authcid';
    if (authcid.startsWith('did:') ? !isDid(authcid) : safeHandle(authcid) === undefined) return 'authcid is neither a DID nor a handle';
    return { authcid, password: passwordB.toString('utf8') };
  } finally {
    raw.fill(0);
  }
}

export async function verifyPlain(identity: IdentityService, cred: PlainCredentials): Promise<VerifyOutcome> {
  try {
    const did = cred.authcid.startsWith('did:') ? cred.authcid : await identity.resolveHandle(cred.authcid);
    if (!isDid(did)) return { kind: 'fail', reason: 'handle resolved to an unusable DID' };
    const doc = await identity.resolveDid(did);
    if (doc.id !== did) return { kind: 'fail', reason: 'DID document id mismatch' };
    const pds = identity.pdsEndpoint(doc);
    if (!pds) return { kind: 'fail', reason: 'DID document names no PDS' };
    const s = await identity.createSession(pds, did, cred.password, did);
    // we only wanted the check: end the session now (best effort, never delays the login)
    Promise.resolve().then(() => identity.deleteSession(pds, s.refreshJwt)).catch(() => undefined);
    if (s.did !== did) return { kind: 'fail', reason: 'createSession answered for another DID' };
    return { kind: 'ok', did, doc };
  } catch (e) {
    return { kind: 'fail', reason: errorReason(e) };
  }
}
