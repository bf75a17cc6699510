/**
 * Base64 and base64url without Node's Buffer (browsers have none): through btoa/atob, which both
 * Node (16+) and browsers provide, over UTF-8 bytes.
 */

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const encoder = new TextEncoder();

function binary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

/** UTF-8 bytes of a string */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Standard base64 (RFC 4648 §4), padded. */
export function base64Encode(data: Uint8Array | string): string {
  return btoa(binary(typeof data === 'string' ? utf8(data) : data));
}

/** Base64url (RFC 4648 §5) without padding. */
export function base64UrlEncode(data: Uint8Array | string): string {
  return base64Encode(data).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64url decoding (padding tolerated); throws on characters outside the alphabet. */
export function base64UrlDecode(s: string): Uint8Array {
  if (!B64URL.test(s) || s.replace(/=+$/, '').length % 4 === 1) throw new Error('invalid base64url');
  const std = s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
