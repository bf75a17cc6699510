/**
 * Strict base64 for SASL payloads. RFC 4648 §4 (standard) and §5 (url-safe) alphabets are both
 * accepted, with or without `=` padding: PLAIN clients send standard base64, ATPROTO-CHALLENGE
 * clients base64url (the reference server accepted only unpadded base64url; we are lenient about
 * the alphabet and padding, never about garbage).
 */
const B64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decoded bytes, or undefined when `text` is not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!B64_RE.test(text)) return undefined;
  const body = text.replace(/=+$/, '');
  // padding only completes a 4-character quantum; a lone trailing character is never valid
  if (body.length !== text.length && text.length % 4 !== 0) return undefined;
  if (body.length % 4 === 1) return undefined;
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** base64url without padding (challenges we send). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
