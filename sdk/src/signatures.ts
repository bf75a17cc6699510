/**
 * Checking the server's message signatures in a client (#15; freeq's `+freeq.at/sig`, the server
 * side is server/src/keys/chat-signature.ts): the server signs every message of a logged-in user
 * it relays, over the JCS (RFC 8785) form of a small document — the sender's DID, the msgid, the
 * venue (the channel in lower case, or `dm:<did>,<did>`), `sha256:` of the body, reply/edit and
 * the coordination tags. A client rebuilds that document from the line it received and checks the
 * signature with the server's published keys (GET /api/v1/signing-key). Browser-safe: @noble.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64UrlDecode, base64UrlEncode, utf8 } from '@freeq/protocol';

export const SIG_TAG = '+freeq.at/sig';
const COORD_KEYS = [
  'event', 'evidence-type', 'link-desc', 'link-image', 'link-title', 'link-url', 'media-alt', 'media-blurhash', 'media-duration',
  'media-filename', 'media-h', 'media-mime', 'media-size', 'media-url', 'media-w', 'payload', 'ref', 'task-id',
] as const;

/** The server's signing keys by kid (GET /api/v1/signing-key: the current one and `previous_keys`). */
export type SigningKeys = Map<string, Uint8Array>;

/** kid of a raw ed25519 public key: base64url of the first 16 bytes of its SHA-256 */
const kidOf = (publicKey: Uint8Array): string => base64UrlEncode(sha256(publicKey).subarray(0, 16));

/** The keys in the JSON of GET /api/v1/signing-key. */
export function signingKeysFrom(info: { public_key?: unknown; previous_keys?: unknown }): SigningKeys {
  const out: SigningKeys = new Map();
  const add = (k: unknown): void => {
    if (typeof k !== 'string') return;
    try {
      const pub = base64UrlDecode(k);
      if (pub.length === 32) out.set(kidOf(pub), pub);
    } catch { /* not a key: left out */ }
  };
  add(info.public_key);
  if (Array.isArray(info.previous_keys)) for (const p of info.previous_keys) add((p as { public_key?: unknown }).public_key);
  return out;
}

/** JCS (RFC 8785) of a document whose values are strings or objects of strings: sorted keys, JSON strings */
function jcs(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${jcs(o[k])}`).join(',')}}`;
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** A received message as the server signed it: who (DID), its msgid, where (venue), the body and its tags. */
export interface SignedMessage { from: string; msgid: string; target: string; body: string; tags: Record<string, string> }

/** The canonical text the server signed for this message (exported for the test vectors). */
export function messageCanonical(m: SignedMessage): string {
  const doc: Record<string, unknown> = { from: m.from, msgid: m.msgid, target: m.target, body: `sha256:${hex(sha256(utf8(m.body)))}` };
  const reply = m.tags['+reply'] ?? m.tags['+draft/reply'];
  const edit = m.tags['+draft/edit'];
  if (reply) doc.reply = reply;
  if (edit) doc.edit = edit;
  const coord: Record<string, string> = {};
  for (const k of COORD_KEYS) {
    const v = m.tags[`+freeq.at/${k}`];
    if (v !== undefined) coord[k] = v;
  }
  if (Object.keys(coord).length) doc.coord = coord;
  return jcs(doc);
}

/** The venue of a message: a channel in lower case; a private message `dm:` and the two DIDs sorted. */
export function venueOf(target: string, from: string, me?: string): string | undefined {
  if (/^[#&]/.test(target)) return target.toLowerCase();
  return me ? `dm:${[from, me].sort().join(',')}` : undefined;
}

/**
 * Is `tag` (`ed25519:<kid>:<sig>`) the server's signature of this message under one of `keys`?
 * False for anything malformed, an unknown kid or a signature that does not verify; never throws.
 */
export function verifySignature(tag: string | undefined, m: SignedMessage, keys: SigningKeys): boolean {
  const parts = tag?.split(':');
  if (!parts || parts.length !== 3 || parts[0] !== 'ed25519') return false;
  const key = keys.get(parts[1]!);
  if (!key) return false;
  try {
    return ed25519.verify(base64UrlDecode(parts[2]!), utf8(messageCanonical(m)), key);
  } catch {
    return false;
  }
}
