import type { DidDocument, IdentityService } from '../../identity/types.js';
import { decodeBase64 } from './base64.js';
import type { IssuedChallenge } from './challenge-store.js';
import { isDid, safeHandle } from './names.js';
import type { LoginTokens } from '../login-tokens.js';
import { ATPROTO_METHODS, type AtprotoMethod, type AtprotoResponse } from '@freeq/protocol';

/**
 * SASL ATPROTO-CHALLENGE: the client's answer and its verification (DESIGN.md §6,
 * freeq-reference.md §1.4, atproto-testing.md §d/§F). Only this file knows the five methods; the
 * AUTHENTICATE command does the framing, counting and replies.
 */

// the methods and the response's wire type are shared with the SDK and the web client (@freeq/protocol, #15)
export { ATPROTO_METHODS, type AtprotoMethod, type AtprotoResponse };

export type VerifyOutcome =
  /**
   * `did` is verified; `doc` is its document when the method fetched it. `handle` is added by
   * loginHandle after the mechanism, outside its deadline (AUTHENTICATE).
   */
  | { kind: 'ok'; did: string; doc?: DidDocument; handle?: string }
  /** `reason` is for the debug log only: never a token, signature or proof */
  | { kind: 'fail'; reason: string }
  /** pds-oauth: the PDS wants a DPoP nonce; the client must answer a fresh challenge with it */
  | { kind: 'dpop-nonce'; nonce: string };

/** a DPoP nonce goes into a NOTICE: printable ASCII without spaces, bounded */
const DPOP_NONCE_RE = /^[\x21-\x7e]{1,256}$/;

const optString = (v: unknown): string | undefined | null =>
  v === undefined || v === null ? undefined : typeof v === 'string' ? v : null;

/**
 * Decode the client's response (base64, either alphabet, padded or not → JSON). Unknown fields
 * are ignored; `method` absent (or null) means `crypto`. Returns a reason string on failure.
 */
export function parseAtprotoResponse(text: string): AtprotoResponse | string {
  const raw = decodeBase64(text);
  if (!raw) return 'response is not base64';
  let j: unknown;
  try { j = JSON.parse(raw.toString('utf8')); } catch { return 'response is not JSON'; }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return 'response is not a JSON object';
  const o = j as Record<string, unknown>;
  if (typeof o.did !== 'string' || !isDid(o.did)) return 'missing or malformed did';
  if (typeof o.signature !== 'string' || o.signature === '') return 'missing signature';
  const method = o.method === undefined || o.method === null ? 'crypto' : o.method;
  if (typeof method !== 'string' || !(ATPROTO_METHODS as readonly string[]).includes(method)) return 'unknown method';
  const pdsUrl = optString(o.pds_url), dpopProof = optString(o.dpop_proof), challengeNonce = optString(o.challenge_nonce);
  if (pdsUrl === null || dpopProof === null || challengeNonce === null) return 'optional field is not a string';
  const r: AtprotoResponse = { did: o.did, method: method as AtprotoMethod, signature: o.signature };
  if (pdsUrl !== undefined) r.pds_url = pdsUrl;
  if (dpopProof !== undefined) r.dpop_proof = dpopProof;
  if (challengeNonce !== undefined) r.challenge_nonce = challengeNonce;
  return r;
}

const trimSlash = (u: string): string => u.replace(/\/+$/, '');

export interface VerifyDeps {
  identity: IdentityService;
  /** audience of service-auth tokens */
  serverDid: string;
  /** `web-token`: the single-use tokens the web login issues (auth/login-tokens.ts) */
  loginTokens: Pick<LoginTokens, 'take'>;
}

/**
 * Verify one response against the challenge it answers (already taken from the store, so it is
 * single-use whatever this returns). Throws only on bugs; identity errors become `fail`.
 */
export async function verifyAtproto(d: VerifyDeps, r: AtprotoResponse, ch: IssuedChallenge): Promise<VerifyOutcome> {
  const { identity } = d;
  try {
    switch (r.method) {
      case 'crypto': {
        const sig = decodeBase64(r.signature);
        if (!sig || sig.length === 0) return { kind: 'fail', reason: 'signature is not base64' };
        const doc = await identity.resolveDid(r.did);
        if (doc.id !== r.did) return { kind: 'fail', reason: 'DID document id mismatch' };
        const keys = identity.challengeKeys(doc);
        if (keys.length === 0) return { kind: 'fail', reason: 'no usable key in the DID document' };
        const data = new Uint8Array(ch.bytes);
        const sigBytes = new Uint8Array(sig);
        let ok = false;
        for (const k of keys) if ((ok = await identity.verifySignature(k, data, sigBytes))) break;
        if (!ok) return { kind: 'fail', reason: `signature matches none of ${keys.length} key(s)` };
        return { kind: 'ok', did: r.did, doc };
      }
      case 'pds-session':
      case 'pds-oauth': {
        // the echo binds the token use to this exchange (weakly: see freeq-reference.md §1.4)
        if (r.challenge_nonce !== ch.nonce) return { kind: 'fail', reason: 'challenge_nonce does not match' };
        if (r.method === 'pds-oauth' && !r.dpop_proof) return { kind: 'fail', reason: 'pds-oauth without dpop_proof' };
        const doc = await identity.resolveDid(r.did);
        if (doc.id !== r.did) return { kind: 'fail', reason: 'DID document id mismatch' };
        // SSRF / token forwarding: only ever talk to the PDS the DID document names, and refuse
        // before any request when the client claims another one
        const pds = identity.pdsEndpoint(doc);
        if (!pds) return { kind: 'fail', reason: 'DID document names no PDS' };
        if (r.pds_url !== undefined && trimSlash(r.pds_url) !== trimSlash(pds)) return { kind: 'fail', reason: 'pds_url differs from the DID document' };
        const res = r.method === 'pds-session'
          ? await identity.getSession(pds, { scheme: 'Bearer', token: r.signature }, r.did)
          : await identity.getSession(pds, { scheme: 'DPoP', token: r.signature, dpopProof: r.dpop_proof! }, r.did);
        if (!res.ok) {
          if (r.method === 'pds-oauth' && res.dpopNonce !== undefined) {
            if (!DPOP_NONCE_RE.test(res.dpopNonce)) return { kind: 'fail', reason: 'PDS sent an unusable DPoP nonce' };
            return { kind: 'dpop-nonce', nonce: res.dpopNonce };
          }
          return { kind: 'fail', reason: `getSession refused: ${res.reason}` };
        }
        // getSession's did is the authority (atproto-testing.md §F7)
        if (res.did !== r.did) return { kind: 'fail', reason: 'getSession answered for another DID' };
        return { kind: 'ok', did: r.did, doc };
      }
      case 'web-token': {
        // spent whatever happens next: a token is good for one attempt
        const owner = d.loginTokens.take(r.signature);
        if (!owner) return { kind: 'fail', reason: 'unknown, used or expired login token' };
        if (owner.did !== r.did) return { kind: 'fail', reason: 'login token belongs to another DID' };
        return { kind: 'ok', did: r.did, ...(owner.handle ? { handle: owner.handle } : {}) };
      }
      case 'service-auth': {
        // the claimed DID goes in: a token from another issuer is refused before any lookup
        const { did } = await identity.verifyServiceAuth(r.signature, d.serverDid, r.did);
        if (did !== r.did) return { kind: 'fail', reason: 'service-auth issuer differs from the claimed DID' };
        return { kind: 'ok', did };
      }
    }
  } catch (e) {
    return { kind: 'fail', reason: errorReason(e) };
  }
}

/**
 * The handle to show for a verified login (#12 finding 5): display only, so it is looked up
 * after the mechanism's deadline, never fails the login (any error: the DID is shown), and
 * waits at most http-timeout (identity/handle-check.ts). The one place every mechanism's
 * outcome gets its handle (commands/authenticate.ts).
 */
export async function loginHandle(identity: IdentityService, o: VerifyOutcome & { kind: 'ok' }): Promise<string | undefined> {
  try {
    // service-auth returns no document: the verifier just resolved it, so this is a cache hit
    return safeHandle(await identity.verifiedHandle(o.did, o.doc ?? await identity.resolveDid(o.did)));
  } catch {
    return undefined;
  }
}

/** A loggable reason from an identity failure (IdentityError messages never carry tokens). */
export function errorReason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return 'unknown error';
}
