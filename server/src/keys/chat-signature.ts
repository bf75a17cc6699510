import { createHash } from 'node:crypto';
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { ed25519PrivateKey, ed25519PublicKeyOf, ed25519Verify } from '../util/ed25519.js';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS (`module.exports = serialize`); its typings declare an ES default export,
// which NodeNext types as the module object. At run time the default import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/**
 * freeq chat signatures (reference §1.8, test vectors in test/fixtures/freeq/chat-signing-vectors.json):
 * the signed bytes are the JCS (RFC 8785) form of a per-kind document; the tag value is
 * `ed25519:<kid>:<base64url-nopad signature>` with kid = base64url-nopad(sha256(pubkey)[0..16]).
 * Pure functions, no I/O.
 */
export const SIG_TAG = '+freeq.at/sig';
export const SIG_TAG_FORMAT = 'ed25519:<kid>:<base64url-nopad signature>';

/** Client-authored coordination and attachment tags a message document covers (`coord`), wire name `+freeq.at/<key>`. */
export const COORD_KEYS = [
  'event', 'evidence-type', 'link-desc', 'link-image', 'link-title', 'link-url', 'media-alt', 'media-blurhash', 'media-duration',
  'media-filename', 'media-h', 'media-mime', 'media-size', 'media-url', 'media-w', 'payload', 'ref', 'task-id',
] as const;

interface Common { from: string; msgid: string; /** the venue (channelVenue / dmVenue), never the wire target */ target: string }
export type ChatEvent =
  | (Common & { kind: 'message'; body: string; reply?: string; edit?: string; tags?: ReadonlyMap<string, string> | Record<string, string> })
  | (Common & { kind: 'delete'; subject: string })
  | (Common & { kind: 'react' | 'unreact'; subject: string; emoji: string })
  | (Common & { kind: 'coordination'; event: string; payload: string; ref?: string; evidence?: string });

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** A channel's venue: its name lowercased (as the reference and its clients do). */
export const channelVenue = (channel: string): string => channel.toLowerCase();
/** A private message's venue: `dm:<didA>,<didB>`, the two DIDs sorted ascending. */
export const dmVenue = (a: string, b: string): string => `dm:${[a, b].sort().join(',')}`;

/** kid of a raw 32-byte ed25519 public key (22 characters). */
export const kidOf = (publicKey: Uint8Array): string => b64url(createHash('sha256').update(publicKey).digest().subarray(0, 16));

const present = (v: string | undefined): v is string => v !== undefined && v !== '';

/** The document object of an event (optional fields omitted when absent or empty). */
export function chatDocument(ev: ChatEvent): Record<string, unknown> {
  const doc: Record<string, unknown> = { from: ev.from, msgid: ev.msgid, target: ev.target };
  switch (ev.kind) {
    case 'message': {
      doc.body = `sha256:${sha256Hex(ev.body)}`;
      if (present(ev.reply)) doc.reply = ev.reply;
      if (present(ev.edit)) doc.edit = ev.edit;
      const tags = ev.tags instanceof Map ? (ev.tags as ReadonlyMap<string, string>) : new Map<string, string>(Object.entries(ev.tags ?? {}));
      const coord: Record<string, string> = {};
      for (const k of COORD_KEYS) {
        const v = tags.get(`+freeq.at/${k}`);
        if (v !== undefined) coord[k] = v;
      }
      if (Object.keys(coord).length) doc.coord = coord;
      return doc;
    }
    case 'delete':
      return { ...doc, kind: 'delete', subject: ev.subject };
    case 'react':
    case 'unreact':
      return { ...doc, kind: ev.kind, subject: ev.subject, emoji: ev.emoji };
    case 'coordination':
      doc.kind = 'coordination';
      doc.event = ev.event;
      doc.payload = `sha256:${sha256Hex(ev.payload)}`;
      if (present(ev.ref)) doc.ref = ev.ref;
      if (present(ev.evidence)) doc.evidence = ev.evidence;
      return doc;
  }
}

/** The canonical (JCS) text that is signed. */
export function canonicalForm(ev: ChatEvent): string {
  return canonicalize(chatDocument(ev))!;
}

/**
 * The message document of a relayed PRIVMSG/NOTICE, built from what recipients see: the body, the
 * sender's DID, the msgid, the venue, and the client tags (`+reply`/`+draft/reply`, `+draft/edit`,
 * the coord tags), so a client can rebuild the same document from the received line.
 */
export function messageEvent(a: { from: string; msgid: string; target: string; body: string; tags?: ReadonlyMap<string, string> }): ChatEvent {
  const tags = a.tags ?? new Map<string, string>();
  return { kind: 'message', from: a.from, msgid: a.msgid, target: a.target, body: a.body, reply: tags.get('+reply') ?? tags.get('+draft/reply'), edit: tags.get('+draft/edit'), tags };
}

/** Sign canonical text with a 32-byte ed25519 seed: the `+freeq.at/sig` tag value. */
export function signCanonical(seed: Uint8Array, canonical: string): string {
  const k = signingKeyFor(seed);
  // native (OpenSSL) Ed25519: deterministic (RFC 8032), so identical to the pure-JS signature, but
  // this runs for every relayed message of a logged-in user — pure JS cost ~2 ms per message
  const sig = cryptoSign(null, Buffer.from(canonical, 'utf8'), k.key);
  return `ed25519:${k.kid}:${b64url(sig)}`;
}

const signingKeys = new WeakMap<Uint8Array, { key: KeyObject; kid: string }>();

/** The private key object and kid of a seed, computed once per seed (the server has one). */
function signingKeyFor(seed: Uint8Array): { key: KeyObject; kid: string } {
  let k = signingKeys.get(seed);
  if (!k) {
    k = {
      key: ed25519PrivateKey(seed),
      kid: kidOf(ed25519PublicKeyOf(seed)),
    };
    signingKeys.set(seed, k);
  }
  return k;
}

export type Verdict = 'valid' | 'invalid' | 'unverifiable';

/**
 * Check a sig tag against canonical text. Only a signature that fails against the key its kid
 * names is `invalid`; an unknown algorithm, an unknown kid or a malformed tag is `unverifiable`.
 */
export function verifySigTag(tag: string, canonical: string, keyFor: (kid: string) => Uint8Array | undefined): Verdict {
  const m = /^([A-Za-z0-9-]+):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]+)$/.exec(tag);
  if (!m || m[1] !== 'ed25519') return 'unverifiable';
  const pub = keyFor(m[2]!);
  if (!pub || pub.length !== 32) return 'unverifiable';
  const sig = Buffer.from(m[3]!, 'base64url');
  if (sig.length !== 64 || b64url(sig) !== m[3]) return 'unverifiable';
  return ed25519Verify(Buffer.from(pub).toString('hex'), Buffer.from(canonical, 'utf8'), sig) ? 'valid' : 'invalid';
}
