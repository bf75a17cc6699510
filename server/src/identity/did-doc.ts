/**
 * Reading DID documents: shape validation, the keys each login method accepts, the PDS endpoint
 * and the claimed handle. Pure, no I/O. Unknown or malformed entries are skipped, never fatal
 * (a document with an object-valued serviceEndpoint still works; freeq-reference.md §1.4).
 */
import { absoluteId, parseVerificationMethod } from './keys.js';
import { isValidHandle, normalizeHandle } from './syntax.js';
import { IdentityError, type DidDocument, type VerificationKey } from './types.js';

const MAX_ENTRIES = 64;

/** Parsed JSON → DidDocument whose `id` is `did`; otherwise IdentityError('bad-document'). */
export function validateDocument(json: unknown, did: string): DidDocument {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new IdentityError('bad-document', `${did}: document is not a JSON object`);
  const doc = json as Record<string, unknown>;
  if (doc.id !== did) throw new IdentityError('bad-document', `${did}: document id does not match the DID`);
  for (const k of ['alsoKnownAs', 'verificationMethod', 'authentication', 'assertionMethod', 'service'] as const) {
    const v = doc[k];
    if (v === undefined) continue;
    if (!Array.isArray(v)) throw new IdentityError('bad-document', `${did}: ${k} is not an array`);
    if (v.length > MAX_ENTRIES) throw new IdentityError('bad-document', `${did}: too many ${k} entries`);
  }
  if (doc.alsoKnownAs !== undefined && !(doc.alsoKnownAs as unknown[]).every((a) => typeof a === 'string')) {
    throw new IdentityError('bad-document', `${did}: alsoKnownAs must hold strings`);
  }
  return doc as DidDocument;
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Resolve one `authentication`/`assertionMethod` entry: a reference (absolute or `#frag`) or an inline VM. */
function resolveEntry(entry: unknown, doc: DidDocument): VerificationKey | undefined {
  if (typeof entry === 'string') {
    const want = absoluteId(entry, doc.id);
    if (!want) return undefined;
    for (const vm of arr(doc.verificationMethod)) {
      const id = vm && typeof vm === 'object' ? (vm as { id?: unknown }).id : undefined;
      if (typeof id === 'string' && absoluteId(id, doc.id) === want) return parseVerificationMethod(vm, doc.id);
    }
    return undefined;
  }
  return parseVerificationMethod(entry, doc.id);
}

const fragment = (id: string) => id.slice(id.indexOf('#'));

/**
 * Keys the `crypto` login accepts: authentication, then assertionMethod, deduplicated by id; for
 * did:plc also every verificationMethod except `#atproto` (PLC documents have no authentication
 * list, and the `#atproto` key belongs to the PDS, not the user).
 */
export function challengeKeys(doc: DidDocument): VerificationKey[] {
  if (Object.isFrozen(doc)) {
    // a shared, immutable document (a cached did:key): its keys cannot change either
    let keys = frozenDocKeys.get(doc);
    if (!keys) frozenDocKeys.set(doc, (keys = collectChallengeKeys(doc)));
    return keys.slice();
  }
  return collectChallengeKeys(doc);
}

const frozenDocKeys = new WeakMap<DidDocument, VerificationKey[]>();

function collectChallengeKeys(doc: DidDocument): VerificationKey[] {
  const out = new Map<string, VerificationKey>();
  const add = (k: VerificationKey | undefined) => { if (k && !out.has(k.id)) out.set(k.id, k); };
  for (const e of arr(doc.authentication)) add(resolveEntry(e, doc));
  for (const e of arr(doc.assertionMethod)) add(resolveEntry(e, doc));
  if (doc.id.startsWith('did:plc:')) {
    for (const vm of arr(doc.verificationMethod)) {
      const k = parseVerificationMethod(vm, doc.id);
      if (k && fragment(k.id) !== '#atproto') add(k);
    }
  }
  return [...out.values()];
}

/** The `#atproto` signing key (service-auth JWTs). */
export function atprotoKey(doc: DidDocument): VerificationKey | undefined {
  for (const vm of arr(doc.verificationMethod)) {
    const k = parseVerificationMethod(vm, doc.id);
    if (k && k.id === `${doc.id}#atproto`) return k;
  }
  return undefined;
}

/** The `#atproto_pds` AtprotoPersonalDataServer endpoint as an http(s) origin+path, no trailing slash. */
export function pdsEndpoint(doc: DidDocument): string | undefined {
  for (const s of arr(doc.service)) {
    if (!s || typeof s !== 'object') continue;
    const svc = s as Record<string, unknown>;
    if (typeof svc.id !== 'string' || absoluteId(svc.id, doc.id) !== `${doc.id}#atproto_pds`) continue;
    if (svc.type !== 'AtprotoPersonalDataServer' || typeof svc.serviceEndpoint !== 'string') continue;
    let u: URL;
    try {
      u = new URL(svc.serviceEndpoint);
    } catch {
      continue;
    }
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash) continue;
    return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
  }
  return undefined;
}

/** First `at://` alias that is a valid handle, lowercased, without the scheme (not verified). */
export function handleOf(doc: DidDocument): string | undefined {
  for (const a of arr(doc.alsoKnownAs)) {
    if (typeof a !== 'string' || !a.toLowerCase().startsWith('at://')) continue;
    const h = a.slice(5);
    if (isValidHandle(h)) return normalizeHandle(h);
  }
  return undefined;
}

/** Does the document claim `handle` (`at://<handle>`, case-insensitive)? */
export function claimsHandle(doc: DidDocument, handle: string): boolean {
  const want = `at://${normalizeHandle(handle)}`;
  return arr(doc.alsoKnownAs).some((a) => typeof a === 'string' && a.toLowerCase() === want);
}
