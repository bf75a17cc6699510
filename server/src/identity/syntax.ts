/**
 * AT Protocol identifier syntax (atproto.com/specs/did, /specs/handle). Pure, no I/O.
 * Checked before any network request so malformed input never reaches a resolver.
 */

/** atproto DID syntax: lowercase method, restricted charset, no trailing `:`/`%`, ≤ 2 KiB. */
const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;
const DID_MAX = 2048;

export function isValidDid(did: string): boolean {
  return typeof did === 'string' && did.length <= DID_MAX && DID_RE.test(did);
}

/** did:plc is 24 characters of lowercase base32 (atproto.com/specs/did#did-plc). */
export function isValidPlcDid(did: string): boolean {
  return /^did:plc:[a-z2-7]{24}$/.test(did);
}

/** did:key with a base58btc multibase value (`z…`). */
export function isValidKeyDid(did: string): boolean {
  return /^did:key:z[1-9A-HJ-NP-Za-km-z]{1,200}$/.test(did);
}

/**
 * atproto handle syntax: DNS hostname, ≥ 2 labels, labels 1–63 chars of [A-Za-z0-9-] not starting
 * or ending with `-`, last label (TLD) starts with a letter, total ≤ 253 chars.
 */
const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export function isValidHandle(handle: string): boolean {
  return typeof handle === 'string' && handle.length <= 253 && HANDLE_RE.test(handle);
}

/** Handles compare case-insensitively; the normal form is lowercase. */
export function normalizeHandle(handle: string): string {
  return handle.toLowerCase();
}
