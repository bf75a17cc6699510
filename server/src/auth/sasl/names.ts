/**
 * DIDs and handles end up in IRC lines (900's account parameter, its text, WHOIS…): only accept
 * shapes that are safe there.
 */

/** did:<method>:<id> per the DID core syntax (no spaces, no controls), bounded for a 512-byte line */
const DID_RE = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-]$/;
export const MAX_DID_LENGTH = 256;

export function isDid(s: string): boolean {
  return s.length <= MAX_DID_LENGTH && DID_RE.test(s);
}

/** atproto handle syntax (lower-cased); anything else is dropped (display only) */
const HANDLE_RE = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function safeHandle(h: string | undefined): string | undefined {
  if (h === undefined) return undefined;
  const l = h.toLowerCase();
  return l.length <= 253 && HANDLE_RE.test(l) ? l : undefined;
}
