/**
 * Public keys and signatures (atproto.com/specs/cryptography): Multikey and legacy verification
 * method encodings → compressed SEC1 (secp256k1, p256) or raw 32 bytes (ed25519); signature checks
 * that never throw. Curves from @noble/curves, base58btc from multiformats.
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base58btc } from 'multiformats/bases/base58';
import type { KeyType, VerificationKey } from './types.js';

/** multicodec varint prefixes (github.com/multiformats/multicodec) */
const PREFIX: Record<KeyType, readonly [number, number]> = {
  secp256k1: [0xe7, 0x01],
  p256: [0x80, 0x24],
  ed25519: [0xed, 0x01],
};

const curveOf = (t: 'secp256k1' | 'p256') => (t === 'secp256k1' ? secp256k1 : p256);

function decodeBase58btc(multibase: unknown): Uint8Array | undefined {
  if (typeof multibase !== 'string' || !multibase.startsWith('z') || multibase.length > 200) return undefined;
  try {
    return base58btc.decode(multibase);
  } catch {
    return undefined;
  }
}

/** Validate a raw public key and normalise it: 33-byte compressed SEC1, or 32 bytes for ed25519. */
export function normalizePublicKey(type: KeyType, raw: Uint8Array): Uint8Array | undefined {
  try {
    if (type === 'ed25519') {
      if (raw.length !== 32) return undefined;
      ed25519.Point.fromBytes(raw); // rejects non-points
      return Uint8Array.from(raw);
    }
    if (raw.length !== 33 && raw.length !== 65) return undefined;
    return curveOf(type).Point.fromBytes(raw).toBytes(true);
  } catch {
    return undefined;
  }
}

/** `z…` Multikey (multicodec-prefixed) → key type + normalised key. */
export function parseMultikey(multibase: string): { type: KeyType; publicKey: Uint8Array } | undefined {
  const bytes = decodeBase58btc(multibase);
  if (!bytes || bytes.length < 3) return undefined;
  for (const type of Object.keys(PREFIX) as KeyType[]) {
    const [a, b] = PREFIX[type];
    if (bytes[0] === a && bytes[1] === b) {
      const publicKey = normalizePublicKey(type, bytes.subarray(2));
      return publicKey ? { type, publicKey } : undefined;
    }
  }
  return undefined;
}

/** Multikey string for a normalised key (used to synthesise did:key documents). */
export function formatMultikey(type: KeyType, publicKey: Uint8Array): string {
  return base58btc.encode(new Uint8Array([...PREFIX[type], ...publicKey]));
}

/** Legacy suites carry the raw key without multicodec (PLC writes the 65-byte uncompressed form). */
const LEGACY_TYPES: Record<string, KeyType> = {
  EcdsaSecp256k1VerificationKey2019: 'secp256k1',
  EcdsaSecp256r1VerificationKey2019: 'p256',
  Ed25519VerificationKey2018: 'ed25519',
  Ed25519VerificationKey2020: 'ed25519',
};

const JWK_CURVES: Record<string, KeyType> = { secp256k1: 'secp256k1', 'P-256': 'p256', Ed25519: 'ed25519' };

function b64urlBytes(s: unknown, len: number): Uint8Array | undefined {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64url');
  return b.length === len ? new Uint8Array(b) : undefined;
}

function parseJwk(jwk: unknown, expect?: KeyType): { type: KeyType; publicKey: Uint8Array } | undefined {
  if (!jwk || typeof jwk !== 'object') return undefined;
  const j = jwk as Record<string, unknown>;
  if ('d' in j) return undefined; // a private key has no business in a DID document
  const type = typeof j.crv === 'string' ? JWK_CURVES[j.crv] : undefined;
  if (!type || (expect && expect !== type)) return undefined;
  if (type === 'ed25519') {
    if (j.kty !== 'OKP') return undefined;
    const x = b64urlBytes(j.x, 32);
    const publicKey = x && normalizePublicKey(type, x);
    return publicKey ? { type, publicKey } : undefined;
  }
  if (j.kty !== 'EC') return undefined;
  const x = b64urlBytes(j.x, 32);
  const y = b64urlBytes(j.y, 32);
  if (!x || !y) return undefined;
  const publicKey = normalizePublicKey(type, new Uint8Array([0x04, ...x, ...y]));
  return publicKey ? { type, publicKey } : undefined;
}

/**
 * A verification method object → key, or undefined for anything unsupported or malformed.
 * `docId` makes a relative id (`#frag`) absolute; VMs whose id belongs to another DID are refused.
 */
export function parseVerificationMethod(vm: unknown, docId: string): VerificationKey | undefined {
  if (!vm || typeof vm !== 'object' || Array.isArray(vm)) return undefined;
  const m = vm as Record<string, unknown>;
  if (typeof m.id !== 'string' || typeof m.type !== 'string') return undefined;
  const id = absoluteId(m.id, docId);
  if (!id) return undefined;
  let parsed: { type: KeyType; publicKey: Uint8Array } | undefined;
  if (m.type === 'Multikey') {
    parsed = typeof m.publicKeyMultibase === 'string' ? parseMultikey(m.publicKeyMultibase) : undefined;
  } else if (m.type in LEGACY_TYPES) {
    const type = LEGACY_TYPES[m.type]!;
    if (typeof m.publicKeyMultibase === 'string') {
      const bytes = decodeBase58btc(m.publicKeyMultibase);
      if (bytes) {
        const [a, b] = PREFIX[type];
        // some writers put a multicodec-prefixed key under a legacy type (Ed25519VerificationKey2020 does by spec)
        const raw = bytes.length > 2 && bytes[0] === a && bytes[1] === b && (bytes.length === 34 || bytes.length === 35 || bytes.length === 67) ? bytes.subarray(2) : bytes;
        const publicKey = normalizePublicKey(type, raw);
        if (publicKey) parsed = { type, publicKey };
      }
    } else if (typeof m.publicKeyBase58 === 'string') {
      const bytes = decodeBase58btc(`z${m.publicKeyBase58}`);
      const publicKey = bytes && normalizePublicKey(type, bytes);
      if (publicKey) parsed = { type, publicKey };
    } else if (m.publicKeyJwk) {
      parsed = parseJwk(m.publicKeyJwk, type);
    }
  } else if (m.type === 'JsonWebKey2020') {
    parsed = parseJwk(m.publicKeyJwk);
  }
  return parsed ? { id, type: parsed.type, publicKey: parsed.publicKey } : undefined;
}

/** `#frag` → `did#frag`; an absolute id must belong to `docId`; anything else → undefined. */
export function absoluteId(ref: string, docId: string): string | undefined {
  if (ref.startsWith('#') && ref.length > 1) return `${docId}${ref}`;
  if (ref.startsWith(`${docId}#`) && ref.length > docId.length + 1) return ref;
  return undefined;
}

/**
 * Signature over raw bytes. ECDSA: SHA-256 prehash (noble default), exactly 64-byte compact r‖s,
 * high-S rejected explicitly; DER (70–72 bytes) fails the length check, and a rare 64-byte DER
 * blob read as r‖s is just a wrong signature. ed25519: RFC 8032 strict (no ZIP-215).
 * Never throws.
 */
export function verifySignature(key: VerificationKey, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (!(sig instanceof Uint8Array) || sig.length !== 64 || !(data instanceof Uint8Array)) return false;
    if (key.type === 'ed25519') {
      if (key.publicKey.length !== 32) return false;
      // Native (OpenSSL) verification: ~50× faster than pure JS, which was 3.3 ms per SASL login
      // (bench sasl profile). OpenSSL is RFC 8032 cofactorless with the S < L check and compares R
      // by encoding; A's canonical encoding is enforced when the key is parsed (strict fromBytes).
      return nodeVerify(null, data, ed25519KeyObject(key.publicKey), sig);
    }
    if (key.type !== 'secp256k1' && key.type !== 'p256') return false;
    const curve = curveOf(key.type);
    const s = curve.Signature.fromBytes(sig, 'compact');
    if (s.hasHighS()) return false;
    return curve.verify(sig, data, key.publicKey, { prehash: true, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}

// SubjectPublicKeyInfo DER prefix for a raw ed25519 key (RFC 8410): SEQUENCE { AlgorithmIdentifier
// id-Ed25519, BIT STRING <32 bytes> }. KeyObjects are cached per key bytes (documents are cached,
// so the same Uint8Array comes back for every login of one identity).
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ed25519KeyObjects = new WeakMap<Uint8Array, KeyObject>();

function ed25519KeyObject(raw: Uint8Array): KeyObject {
  let k = ed25519KeyObjects.get(raw);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    ed25519KeyObjects.set(raw, k);
  }
  return k;
}
