/**
 * DID resolution: did:key locally, did:plc from the PLC directory, did:web over HTTPS, all through
 * the SSRF-guarded HttpClient. Documents are cached in memory (bounded, least recently used out)
 * and in SQLite (did_cache) for `ttlMs`; a failed refresh may fall back to a cached document up
 * to 24 h old (hardening.md D4: stale 1 h / max 24 h). "Not found" and "bad document" answers
 * are remembered for at most 60 s; network failures are not remembered.
 */
import type { Logger } from '../observability/log.js';
import { validateDocument } from './did-doc.js';
import { parseJsonBody, type HttpClient } from './http.js';
import type { LookupRequester } from './lookup-limits.js';
import { formatMultikey, parseMultikey } from './keys.js';
import { isLoopbackHost } from './ssrf.js';
import { isValidDid, isValidKeyDid, isValidPlcDid } from './syntax.js';
import { IdentityError, type DidCacheStore, type DidDocument } from './types.js';

export const STALE_MAX_MS = 24 * 3600_000;
export const NEGATIVE_TTL_MS = 60_000;
export const MEMORY_ENTRIES = 10_000;

export interface DidResolverOptions {
  http: HttpClient;
  plcUrl: string;
  allowLoopback: boolean;
  ttlMs: number;
  now: () => number;
  /** the persistent cache (storage/repos/did-cache.ts); without it, memory only */
  repo?: DidCacheStore;
  log?: Logger;
  memoryEntries?: number;
}

export interface Resolved {
  doc: DidDocument;
  fetchedAt: number;
  /** served from a cache (memory or database) rather than fetched just now */
  cached: boolean;
}

/** A did:key document, synthesised: one Multikey VM `did:key:z…#z…` in authentication and assertionMethod. */
export function didKeyDocument(did: string): DidDocument {
  const mb = isValidKeyDid(did) ? did.slice('did:key:'.length) : '';
  const key = mb ? parseMultikey(mb) : undefined;
  // one DID per key: refuse non-canonical encodings (e.g. an uncompressed point)
  if (!key || formatMultikey(key.type, key.publicKey) !== mb) throw new IdentityError('bad-did', 'unsupported or malformed did:key');
  const vm = `${did}#${mb}`;
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{ id: vm, type: 'Multikey', controller: did, publicKeyMultibase: mb }],
    authentication: [vm],
    assertionMethod: [vm],
  };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * did:web:host[%3Aport][:path…] → https://host[:port]/.well-known/did.json or /path…/did.json;
 * http only for a loopback host when loopback is allowed (test stacks).
 */
export function didWebUrl(did: string, allowLoopback: boolean): string {
  const parts = did.slice('did:web:'.length).split(':');
  let host: string;
  let segments: string[];
  try {
    host = decodeURIComponent(parts[0]!);
    segments = parts.slice(1).map((p) => decodeURIComponent(p));
  } catch {
    throw new IdentityError('bad-did', 'malformed did:web');
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) throw new IdentityError('bad-did', 'malformed did:web host');
  if (segments.some((s) => !/^[A-Za-z0-9._~-]+$/.test(s) || s === '.' || s === '..')) throw new IdentityError('bad-did', 'malformed did:web path');
  const scheme = allowLoopback && isLoopbackHost(m[1]!) ? 'http' : 'https';
  const path = segments.length ? `/${segments.join('/')}/did.json` : '/.well-known/did.json';
  return `${scheme}://${host}${path}`;
}

export class DidResolver {
  private readonly mem = new Map<string, { doc: DidDocument; fetchedAt: number }>();
  private readonly neg = new Map<string, { err: IdentityError; until: number }>();
  private readonly inflight = new Map<string, Promise<{ doc: DidDocument; fetchedAt: number }>>();
  /** synthesised did:key documents (frozen, shared): a repeat login re-parses and re-encodes nothing */
  private readonly keyDocs = new Map<string, DidDocument>();
  private readonly memMax: number;
  private puts = 0;

  constructor(private readonly o: DidResolverOptions) {
    this.memMax = o.memoryEntries ?? MEMORY_ENTRIES;
  }

  /** `requester`: the client the fetch (if any) is made for (identity/lookup-limits.ts) */
  async resolve(did: string, opts: { forceRefresh?: boolean; requester?: LookupRequester } = {}): Promise<Resolved> {
    if (typeof did !== 'string' || !isValidDid(did)) throw new IdentityError('bad-did', 'invalid DID syntax');
    const now = this.o.now();
    if (did.startsWith('did:key:')) return { doc: this.keyDocument(did), fetchedAt: now, cached: false };
    if (did.startsWith('did:plc:')) {
      if (!isValidPlcDid(did)) throw new IdentityError('bad-did', 'invalid did:plc');
    } else if (!did.startsWith('did:web:')) {
      throw new IdentityError('bad-did', 'unsupported DID method');
    }

    const neg = this.neg.get(did);
    if (neg && neg.until > now) throw neg.err;
    if (neg) this.neg.delete(did);

    const cached = this.fromCache(did);
    const age = cached ? now - cached.fetchedAt : Infinity;
    if (cached && !opts.forceRefresh && age >= 0 && age < this.o.ttlMs) return { ...cached, cached: true };

    try {
      // refreshing a document we already hold may use the reserved share of the lookup slots
      return { ...(await this.fetchOnce(did, opts.requester, cached !== undefined)), cached: false };
    } catch (e) {
      const err = e instanceof IdentityError ? e : new IdentityError('network', 'resolution failed');
      if ((err.code === 'network' || err.code === 'busy') && cached && age >= 0 && age < Math.max(STALE_MAX_MS, this.o.ttlMs)) {
        this.o.log?.warn({ did, err: err.message }, 'DID refresh failed; using the cached document');
        return { ...cached, cached: true };
      }
      if (err.code === 'not-found' || err.code === 'bad-document') {
        if (this.neg.size >= this.memMax) this.neg.delete(this.neg.keys().next().value!);
        this.neg.set(did, { err, until: now + Math.min(NEGATIVE_TTL_MS, this.o.ttlMs) });
      }
      throw err;
    }
  }

  private keyDocument(did: string): DidDocument {
    let doc = this.keyDocs.get(did);
    if (!doc) {
      doc = deepFreeze(didKeyDocument(did)); // throws on a malformed key: nothing is cached then
      if (this.keyDocs.size >= this.memMax) this.keyDocs.delete(this.keyDocs.keys().next().value!);
      this.keyDocs.set(did, doc);
    }
    return doc;
  }

  /** One fetch per DID at a time; concurrent callers share it. */
  private fetchOnce(did: string, requester: LookupRequester | undefined, priority: boolean): Promise<{ doc: DidDocument; fetchedAt: number }> {
    let p = this.inflight.get(did);
    if (!p) {
      p = this.fetch(did, requester, priority).finally(() => this.inflight.delete(did));
      this.inflight.set(did, p);
    }
    return p;
  }

  private async fetch(did: string, requester: LookupRequester | undefined, priority: boolean): Promise<{ doc: DidDocument; fetchedAt: number }> {
    const url = did.startsWith('did:plc:')
      ? `${this.o.plcUrl.replace(/\/+$/, '')}/${did}`
      : didWebUrl(did, this.o.allowLoopback);
    const res = await this.o.http.request(url, { requester, priority });
    if (res.status === 404 || res.status === 410) throw new IdentityError('not-found', `${did}: not found`);
    if (res.status !== 200) throw new IdentityError('network', `${did}: resolver answered ${res.status}`);
    const doc = validateDocument(parseJsonBody(res.body, did), did);
    const entry = { doc, fetchedAt: this.o.now() };
    this.remember(did, entry);
    return entry;
  }

  private fromCache(did: string): { doc: DidDocument; fetchedAt: number } | undefined {
    const hit = this.mem.get(did);
    if (hit) {
      this.mem.delete(did); // move to the young end
      this.mem.set(did, hit);
      return hit;
    }
    if (!this.o.repo) return undefined;
    try {
      const row = this.o.repo.get(did);
      if (!row) return undefined;
      const entry = { doc: validateDocument(JSON.parse(row.doc), did), fetchedAt: row.fetchedAt };
      this.memSet(did, entry);
      return entry;
    } catch (e) {
      this.o.log?.warn({ did, err: e instanceof Error ? e.message : String(e) }, 'unreadable did_cache row ignored');
      return undefined;
    }
  }

  private remember(did: string, entry: { doc: DidDocument; fetchedAt: number }): void {
    this.memSet(did, entry);
    if (!this.o.repo) return;
    try {
      this.o.repo.put(did, JSON.stringify(entry.doc), entry.fetchedAt);
      if (++this.puts % 500 === 0) this.o.repo.prune(entry.fetchedAt - Math.max(STALE_MAX_MS, this.o.ttlMs));
    } catch (e) {
      this.o.log?.warn({ did, err: e instanceof Error ? e.message : String(e) }, 'did_cache write failed');
    }
  }

  private memSet(did: string, entry: { doc: DidDocument; fetchedAt: number }): void {
    this.mem.delete(did);
    this.mem.set(did, entry);
    while (this.mem.size > this.memMax) this.mem.delete(this.mem.keys().next().value!);
  }
}
