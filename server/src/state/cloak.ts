import { createHmac } from 'node:crypto';
import { base32 } from 'multiformats/bases/base32';
import { ipKey } from '../util/ip-key.js';
import { CLOAK_HASH_BYTES, cloakTemplateProblem, expandCloak as expand, MAX_METHOD_CHARS } from '../util/cloak-template.js';

/**
 * Cloaks: the host shown for a user instead of their address (#12 finding 9).
 *
 * The suffix is a keyed hash, never a piece of the identity: the old `freeq/plc/<first 8 chars
 * of the DID>` let anyone mine a did:key (or copy a did:web) that shared another user's cloak, so
 * `+b`/`+I`/UBAN on a cloak hit other identities, and every guest shared `freeq/guest`. Now:
 *
 * - a DID login: `{hash}` = HMAC-SHA-256(cloak key, whole DID), 80 bits in lower-case base32
 *   (16 characters; finding 9 asks for ≥ 64 bits), `{method}` = the DID method (`plc`, `web`, `key`);
 * - a guest: `{hash}` = the same HMAC over the IP key (util/ip-key.ts: IPv4 /32, IPv6 /64), so one
 *   guest address has one stable cloak that can be banned without showing the address.
 *
 * The key is `cloak-key.secret` (keys/key-file.ts): it survives restarts, so cloaks — and the bans
 * written against them — stay stable; rotating it (`keys --force cloak`) changes every cloak.
 */

export { CLOAK_HASH_BYTES, cloakTemplateProblem, type CloakKind } from '../util/cloak-template.js';

export const DEFAULT_GUEST_CLOAK = 'freeq/guest/{hash}';
export const DEFAULT_DID_CLOAK = 'freeq/{method}/{hash}';

/** the DID method as a host fragment: lower-case [a-z0-9] (the DID spec's method-char), clipped */
function methodOf(did: string): string {
  const m = /^did:([^:]+):/.exec(did);
  const method = (m?.[1] ?? '').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, MAX_METHOD_CHARS);
  return method || 'did';
}

/** guest cloaks kept so connections from one address share one string (and one HMAC) */
const GUEST_CACHE_MAX = 4096;

export interface CloakTemplates {
  guestCloak: string;
  didCloak: string;
}

/** Refuse unusable templates with the option name, the value and the reason (the server does not start). */
export function checkCloakTemplates(templates: CloakTemplates): void {
  for (const [name, t, kind] of [['guest-cloak', templates.guestCloak, 'guest'], ['did-cloak', templates.didCloak, 'did']] as const) {
    const problem = cloakTemplateProblem(t, kind);
    if (problem) throw new Error(`${name} ${JSON.stringify(t)}: ${problem}`);
  }
}

/** Makes cloaks with one server's key and templates (one instance per server: tests run several). */
export class Cloaks {
  private readonly guests = new Map<string, string>();

  /** throws when a template is unusable (checkCloakTemplates) */
  constructor(private readonly key: Buffer, private templates: CloakTemplates) {
    checkCloakTemplates(templates);
  }

  /**
   * New templates (REHASH, #16): the cloaks of connections and logins from now on; a user keeps
   * the host they have (and bans on it keep matching them) until they reconnect or log in again.
   */
  setTemplates(templates: CloakTemplates): void {
    checkCloakTemplates(templates);
    this.templates = { guestCloak: templates.guestCloak, didCloak: templates.didCloak };
    this.guests.clear();
  }

  /** The cloak of a guest connecting from `ip`: one per IPv4 address / IPv6 /64. */
  guest(ip: string): string {
    const k = ipKey(ip);
    let cloak = this.guests.get(k);
    if (cloak !== undefined) return cloak;
    // domain-separated from DID hashes, so a guest and a DID can never be made to share a hash
    cloak = expand(this.templates.guestCloak, this.hash(`ip\0${k}`), '');
    if (this.guests.size >= GUEST_CACHE_MAX) this.guests.delete(this.guests.keys().next().value!);
    this.guests.set(k, cloak);
    return cloak;
  }

  /** The cloak of a user logged in as `did` (the whole DID is hashed, not a prefix). */
  did(did: string): string {
    return expand(this.templates.didCloak, this.hash(`did\0${did}`), methodOf(did));
  }

  private hash(input: string): string {
    const mac = createHmac('sha256', this.key).update(input, 'utf8').digest().subarray(0, CLOAK_HASH_BYTES);
    // base32 (RFC 4648, lower case, no padding) from multiformats, a dependency already: only
    // [a-z2-7], so the cloak stays a valid host part whatever the template
    return base32.baseEncode(mac);
  }
}
