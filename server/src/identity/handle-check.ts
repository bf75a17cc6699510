/**
 * Which handle to show for a DID (#12 finding 5; atproto.com/specs/handle "bidirectional"): a DID
 * document's `alsoKnownAs` is only a claim — a did:web document said `at://jay.bsky.team` and was
 * shown as such. The claimed handle is shown only when it resolves back to the same DID through
 * the configured handle resolution (identity/handle.ts); otherwise the caller shows the DID.
 *
 * The DID is the identity, so a failed or slow check never fails a login: it answers within
 * `timeoutMs` (http-timeout), and a check still running then finishes in the background, for
 * the next login to find in the cache. Verified pairs are kept for `ttlMs` (did-cache-ttl),
 * refuted ones (the handle points elsewhere, does not exist, or is malformed) for at most 60 s,
 * network failures and refused lookups not at all.
 */
import type { Logger } from '../observability/log.js';
import { handleOf } from './did-doc.js';
import { NEGATIVE_TTL_MS } from './did-resolver.js';
import type { HandleResolver } from './handle.js';
import type { LookupRequester } from './lookup-limits.js';
import { IdentityError, type DidDocument } from './types.js';

export interface HandleCheckOptions {
  handles: HandleResolver;
  now: () => number;
  ttlMs: number;
  timeoutMs: number;
  log?: Logger;
  maxEntries?: number;
}

/** bound on remembered results; the oldest goes first */
const MAX_ENTRIES = 10_000;

export class HandleCheck {
  /** `${did} ${handle}` → result, valid until */
  private readonly results = new Map<string, { ok: boolean; until: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly max: number;

  constructor(private readonly o: HandleCheckOptions) {
    this.max = o.maxEntries ?? MAX_ENTRIES;
  }

  /** The verified handle of `did` per its document `doc`, or undefined (show the DID). */
  async verified(did: string, doc: DidDocument, requester?: LookupRequester): Promise<string | undefined> {
    const handle = handleOf(doc);
    if (handle === undefined) return undefined;
    const key = `${did} ${handle}`;
    const hit = this.results.get(key);
    if (hit && hit.until > this.o.now()) return hit.ok ? handle : undefined;
    let p = this.pending.get(key);
    if (!p) {
      p = this.check(key, did, handle, requester).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.o.timeoutMs);
      timer.unref();
    });
    try {
      return (await Promise.race([p, deadline])) ? handle : undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `handle` was just resolved to `did` in both directions (a PLAIN login by handle): remember
   * it, so showing it needs no second lookup.
   */
  confirmed(did: string, handle: string): void {
    this.remember(`${did} ${handle}`, true);
  }

  private async check(key: string, did: string, handle: string, requester: LookupRequester | undefined): Promise<boolean> {
    try {
      const back = await this.o.handles.lookup(handle, requester);
      const ok = back === did;
      this.remember(key, ok);
      if (!ok) this.o.log?.debug({ did, handle, resolvesTo: back }, 'claimed handle resolves to another DID; showing the DID');
      return ok;
    } catch (e) {
      const code = e instanceof IdentityError ? e.code : 'network';
      // an answer about the handle is remembered; a failure to get one is not
      if (code !== 'network' && code !== 'busy') this.remember(key, false);
      this.o.log?.debug({ did, handle, err: e instanceof Error ? e.message : String(e) }, 'claimed handle not verified; showing the DID');
      return false;
    }
  }

  private remember(key: string, ok: boolean): void {
    const ttl = ok ? this.o.ttlMs : Math.min(NEGATIVE_TTL_MS, this.o.ttlMs);
    this.results.delete(key);
    this.results.set(key, { ok, until: this.o.now() + ttl });
    while (this.results.size > this.max) this.results.delete(this.results.keys().next().value!);
  }
}
