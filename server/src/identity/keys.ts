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
      // rejects non-points; a small-order key (e.g. all zeros) verifies forged signatures under
      // OpenSSL's cofactorless check for a share of messages, so nobody could own such a DID
      if (ed25519.Point.fromBytes(raw).isSmallOrder()) return undefined;
      return Uint8Array.from(raw);
    }
    if (raw.length !== 33 && raw.length !== 65) return undefined;
    return curveOf(type).Point.fromBytes(raw).toBytes(true);
  } catch {
    return undefined;
  }
}

type ParsedKey = { readonly type: KeyType; readonly publicKey: Uint8Array };

// Parsed Multikeys, most recently used last (bounded). Strict point validation is pure JS (~0.25 ms
// for ed25519, more for ECDSA) and a did:key login parses the same key twice (document, then
// challenge keys); with this a warm login parses nothing. Values are never mutated by callers,
// and the same publicKey array also keys the KeyObject cache below.
const MULTIKEY_CACHE_MAX = 10_000;
const multikeyCache = new Map<string, ParsedKey | null>();

/** `z…` Multikey (multicodec-prefixed) → key type + normalised key. */
export function parseMultikey(multibase: string): ParsedKey | undefined {
  const hit = multikeyCache.get(multibase);
  if (hit !== undefined) {
    multikeyCache.delete(multibase);
    multikeyCache.set(multibase, hit);
    return hit ?? undefined;
  }
  const parsed = parseMultikeyUncached(multibase);
  if (typeof multibase === 'string' && multibase.length <= 200) {
    if (multikeyCache.size >= MULTIKEY_CACHE_MAX) multikeyCache.delete(multikeyCache.keys().next().value!);
    multikeyCache.set(multibase, parsed ?? null);
  }
  return parsed;
}

function parseMultikeyUncached(multibase: string): ParsedKey | undefined {
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
 * Signature over raw bytes, verified natively (OpenSSL). ECDSA: SHA-256, exactly 64-byte compact
 * r‖s, high-S rejected explicitly; DER (70–72 bytes) fails the length check, and a rare 64-byte DER
 * blob read as r‖s is just a wrong signature. ed25519: RFC 8032 strict (no ZIP-215).
 * Never throws.
 */
export function verifySignature(key: VerificationKey, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    const p = prepareVerify(key, data, sig);
    return p !== undefined && nodeVerify(p.alg, data, p.key, sig);
  } catch {
    return false;
  }
}

/**
 * The same check on libuv's thread pool (crypto.verify with a callback), so a burst of SASL
 * logins verifies on the other cores instead of the event loop (~0.1–0.2 ms each). Never rejects.
 */
export function verifySignatureAsync(key: VerificationKey, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const p = prepareVerify(key, data, sig);
      if (p === undefined) { resolve(false); return; }
      nodeVerify(p.alg, data, p.key, sig, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

/** What `crypto.verify(alg, data, key, sig)` needs; KeyObjects cross to worker threads as clones. */
export type NativeCheck = { alg: string | null; key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } };

/**
 * Shape checks and the cached key object; undefined when the signature cannot be valid. May throw
 * on a bad key. Exported for the signature thread (identity/verifier.ts), which then needs no
 * curve library of its own.
 */
export function prepareVerify(key: VerificationKey, data: Uint8Array, sig: Uint8Array): NativeCheck | undefined {
  if (!(sig instanceof Uint8Array) || sig.length !== 64 || !(data instanceof Uint8Array)) return undefined;
  if (key.type === 'ed25519') {
    if (key.publicKey.length !== 32) return undefined;
    // Native (OpenSSL) verification: ~50× faster than pure JS, which was 3.3 ms per SASL login
    // (bench sasl profile). OpenSSL is RFC 8032 cofactorless with the S < L check and compares R
    // by encoding; A's canonical encoding is enforced when the key is parsed (strict fromBytes).
    return { alg: null, key: ed25519KeyObject(key.publicKey) };
  }
  if (key.type !== 'secp256k1' && key.type !== 'p256') return undefined;
  // low-S only (atproto): S must be ≤ n/2; r, s in [1, n−1] are checked by OpenSSL
  const curve = curveOf(key.type);
  const sVal = bytesToBigInt(sig.subarray(32));
  if (sVal === 0n || sVal > curve.Point.CURVE().n >> 1n) return undefined;
  // native (OpenSSL) ECDSA over SHA-256 with r‖s (IEEE P1363) encoding, as for ed25519 above
  return { alg: 'sha256', key: { key: ecKeyObject(key.type, key.publicKey), dsaEncoding: 'ieee-p1363' } };
}

// KeyObjects are cached per key bytes (parsed keys are cached, so the same Uint8Array comes back
// for every login of one identity). Imported as a JWK: ~12 µs, against ~100 µs for the same key
// as SPKI DER (OpenSSL's DER decoder path).
const ed25519KeyObjects = new WeakMap<Uint8Array, KeyObject>();

// one cache per curve: the same bytes must never verify under another curve's key
const ecKeyObjects = { secp256k1: new WeakMap<Uint8Array, KeyObject>(), p256: new WeakMap<Uint8Array, KeyObject>() };

/** compressed SEC1 → KeyObject (decompressed once per key; JWK needs x and y) */
function ecKeyObject(type: 'secp256k1' | 'p256', compressed: Uint8Array): KeyObject {
  let k = ecKeyObjects[type].get(compressed);
  if (!k) {
    const full = curveOf(type).Point.fromBytes(compressed).toBytes(false);
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    k = createPublicKey({ key: { kty: 'EC', crv: type === 'p256' ? 'P-256' : 'secp256k1', x: b64(full.subarray(1, 33)), y: b64(full.subarray(33, 65)) }, format: 'jwk' });
    ecKeyObjects[type].set(compressed, k);
  }
  return k;
}

function bytesToBigInt(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') || '0'}`);
}

function ed25519KeyObject(raw: Uint8Array): KeyObject {
  let k = ed25519KeyObjects.get(raw);
  if (!k) {
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
    ed25519KeyObjects.set(raw, k);
  }
  return k;
}
