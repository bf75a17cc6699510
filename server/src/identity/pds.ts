/**
 * Calls to a user's PDS. The PDS URL always comes from the caller (taken from the DID document)
 * and goes through the same SSRF-guarded client. Tokens and passwords go in headers/bodies only,
 * never into error messages or logs. Nothing is retried: DPoP proofs are single-use.
 */
import { parseJsonBody, type HttpClient } from './http.js';
import type { LookupRequester } from './lookup-limits.js';
import { isValidDid } from './syntax.js';
import { IdentityError, type PdsSessionResult } from './types.js';

const xrpc = (pdsUrl: string, nsid: string) => `${pdsUrl.replace(/\/+$/, '')}/xrpc/${nsid}`;

/** A PDS error name, safe to put in a reason string (short, no spaces or control characters). */
function errorName(body: Buffer): string | undefined {
  try {
    const j = JSON.parse(body.toString('utf8')) as { error?: unknown };
    return typeof j?.error === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(j.error) ? j.error : undefined;
  } catch {
    return undefined;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export async function getSession(
  http: HttpClient,
  pdsUrl: string,
  auth: { scheme: 'Bearer' | 'DPoP'; token: string; dpopProof?: string },
  requester?: LookupRequester,
  priority = false,
): Promise<PdsSessionResult> {
  const headers: Record<string, string> = { authorization: `${auth.scheme} ${auth.token}` };
  if (auth.scheme === 'DPoP') {
    if (!auth.dpopProof) return { ok: false, reason: 'missing DPoP proof' };
    headers.dpop = auth.dpopProof;
  }
  if (/[\r\n]/.test(auth.token) || (auth.dpopProof && /[\r\n]/.test(auth.dpopProof))) return { ok: false, reason: 'malformed token' };
  let res;
  try {
    res = await http.request(xrpc(pdsUrl, 'com.atproto.server.getSession'), { headers, requester, priority });
  } catch (e) {
    return e instanceof IdentityError ? { ok: false, reason: `${e.code}: ${e.message}` } : { ok: false, reason: 'request failed' };
  }
  if (res.status === 200) {
    let body: { did?: unknown; handle?: unknown } | null;
    try {
      body = parseJsonBody(res.body, 'getSession') as typeof body;
    } catch {
      return { ok: false, reason: 'getSession: malformed answer' };
    }
    if (!body || typeof body.did !== 'string' || !isValidDid(body.did)) return { ok: false, reason: 'getSession: no valid did in the answer' };
    return typeof body.handle === 'string' ? { ok: true, did: body.did, handle: body.handle } : { ok: true, did: body.did };
  }
  const err = errorName(res.body);
  const nonce = headerValue(res.headers['dpop-nonce']);
  if ((res.status === 400 || res.status === 401) && err === 'use_dpop_nonce' && nonce && /^[\x21-\x7e]{1,256}$/.test(nonce)) {
    return { ok: false, reason: 'use_dpop_nonce', dpopNonce: nonce };
  }
  return { ok: false, reason: `getSession answered ${res.status}${err ? ` ${err}` : ''}` };
}

export async function createSession(
  http: HttpClient,
  pdsUrl: string,
  identifier: string,
  password: string,
  requester?: LookupRequester,
  priority = false,
): Promise<{ did: string; handle?: string; accessJwt: string; refreshJwt: string }> {
  const res = await http.request(xrpc(pdsUrl, 'com.atproto.server.createSession'), {
    method: 'POST',
    body: JSON.stringify({ identifier, password }),
    requester,
    priority,
  });
  if (res.status === 401 || res.status === 400 || res.status === 403) {
    const err = errorName(res.body);
    throw new IdentityError('bad-token', `createSession refused (${res.status}${err ? ` ${err}` : ''})`);
  }
  if (res.status !== 200) throw new IdentityError('network', `createSession answered ${res.status}`);
  const body = parseJsonBody(res.body, 'createSession') as Record<string, unknown> | null;
  if (!body || typeof body.did !== 'string' || !isValidDid(body.did) || typeof body.accessJwt !== 'string' || typeof body.refreshJwt !== 'string') {
    throw new IdentityError('bad-document', 'createSession: malformed answer');
  }
  const out: { did: string; handle?: string; accessJwt: string; refreshJwt: string } = { did: body.did, accessJwt: body.accessJwt, refreshJwt: body.refreshJwt };
  if (typeof body.handle === 'string') out.handle = body.handle;
  return out;
}

/** Best effort: every failure is swallowed. */
export async function deleteSession(http: HttpClient, pdsUrl: string, refreshJwt: string): Promise<void> {
  if (/[\r\n]/.test(refreshJwt)) return;
  try {
    await http.request(xrpc(pdsUrl, 'com.atproto.server.deleteSession'), { method: 'POST', headers: { authorization: `Bearer ${refreshJwt}` } });
  } catch {
    // the session expires on its own
  }
}
