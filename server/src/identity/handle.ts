/**
 * Handle → DID (atproto.com/specs/handle): an XRPC resolver when configured, else DNS TXT
 * `_atproto.<handle>` then https://<handle>/.well-known/atproto-did. Always bidirectional: the
 * DID document must list `at://<handle>`, otherwise 'mismatch'. The DNS step takes a lookup slot
 * like any request (pseudo-host DNS_HOST, identity/lookup-limits.ts) and uses one shared resolver.
 */
import { Resolver } from 'node:dns/promises';
import { claimsHandle } from './did-doc.js';
import type { DidResolver } from './did-resolver.js';
import { parseJsonBody, type HttpClient } from './http.js';
import { DNS_HOST, type LookupRequester } from './lookup-limits.js';
import { isValidDid, isValidHandle, normalizeHandle } from './syntax.js';
import { IdentityError } from './types.js';

export interface HandleResolverOptions {
  http: HttpClient;
  dids: DidResolver;
  timeoutMs: number;
  /** XRPC service for com.atproto.identity.resolveHandle (config handle-resolver-url) */
  resolverUrl?: string;
  /** DNS servers for the TXT lookup (tests); default: the system's */
  dnsServers?: string[];
}

const DID_METHODS = /^did:(plc|web):/;

export class HandleResolver {
  /** one resolver for every TXT lookup (c-ares keeps its own timeout per query) */
  private readonly resolver: Resolver;

  constructor(private readonly o: HandleResolverOptions) {
    this.resolver = new Resolver({ timeout: o.timeoutMs, tries: 1 });
    if (o.dnsServers?.length) this.resolver.setServers(o.dnsServers);
  }

  /** handle → DID, confirmed by the DID document listing the handle (both directions). */
  async resolve(input: string, requester?: LookupRequester): Promise<string> {
    const did = await this.lookup(input, requester); // checks the syntax first
    const handle = normalizeHandle(input);
    const { doc } = await this.o.dids.resolve(did, { requester });
    if (!claimsHandle(doc, handle)) throw new IdentityError('mismatch', `${did} does not claim the handle ${handle}`);
    return did;
  }

  /** handle → the DID it points to (one direction only: the caller compares). */
  async lookup(input: string, requester?: LookupRequester): Promise<string> {
    if (typeof input !== 'string' || !isValidHandle(input)) throw new IdentityError('bad-did', 'invalid handle syntax');
    const handle = normalizeHandle(input);
    const did = this.o.resolverUrl ? await this.viaXrpc(handle, this.o.resolverUrl, requester) : await this.viaDnsThenHttps(handle, requester);
    if (!isValidDid(did) || !DID_METHODS.test(did)) throw new IdentityError('bad-document', `${handle}: resolved to an unusable DID`);
    return did;
  }

  private async viaXrpc(handle: string, base: string, requester?: LookupRequester): Promise<string> {
    const url = `${base.replace(/\/+$/, '')}/xrpc/com.atproto.identity.resolveHandle?handle=${encodeURIComponent(handle)}`;
    const res = await this.o.http.request(url, { requester });
    if (res.status === 400 || res.status === 404) throw new IdentityError('not-found', `${handle}: handle not found`);
    if (res.status !== 200) throw new IdentityError('network', `${handle}: handle resolver answered ${res.status}`);
    const body = parseJsonBody(res.body, 'resolveHandle') as { did?: unknown } | null;
    if (!body || typeof body.did !== 'string') throw new IdentityError('bad-document', 'resolveHandle: no did in the answer');
    return body.did;
  }

  private async viaDnsThenHttps(handle: string, requester?: LookupRequester): Promise<string> {
    const fromDns = await this.viaDns(handle, requester);
    if (fromDns) return fromDns;
    return this.viaWellKnown(handle, requester);
  }

  /**
   * TXT `_atproto.<handle>` = `did=<did>`; exactly one distinct DID, else nothing. A refused slot
   * throws IdentityError('busy') (no answer is no reason to try HTTPS). The slot is given back
   * when the answer comes or at the deadline, whichever is first.
   */
  private async viaDns(handle: string, requester?: LookupRequester): Promise<string | undefined> {
    const release = this.o.http.acquire(DNS_HOST, requester);
    let timer: NodeJS.Timeout | undefined;
    // not resolver.cancel() at the deadline: that would end every other login's query on the
    // shared resolver; c-ares ends this one after its own timeout (the same http-timeout)
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), this.o.timeoutMs);
    });
    try {
      const records = await Promise.race([this.resolver.resolveTxt(`_atproto.${handle}`), deadline]);
      const dids = new Set(records.map((chunks) => chunks.join('')).filter((t) => t.startsWith('did=')).map((t) => t.slice(4).trim()));
      return dids.size === 1 ? [...dids][0] : undefined;
    } catch {
      return undefined; // NXDOMAIN, no TXT, timeout: fall through to HTTPS
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  private async viaWellKnown(handle: string, requester?: LookupRequester): Promise<string> {
    const res = await this.o.http.request(`https://${handle}/.well-known/atproto-did`, { requester });
    if (res.status === 404) throw new IdentityError('not-found', `${handle}: handle not found`);
    if (res.status !== 200) throw new IdentityError('network', `${handle}: well-known answered ${res.status}`);
    const text = res.body.toString('utf8').trim();
    if (!isValidDid(text)) throw new IdentityError('bad-document', `${handle}: well-known is not a DID`);
    return text;
  }
}
