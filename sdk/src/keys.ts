/**
 * Key helpers for the ATPROTO-CHALLENGE `crypto` method: signers that produce exactly what the
 * server verifies (ed25519: RFC 8032 over the raw challenge bytes; secp256k1/P-256: ECDSA over
 * SHA-256 of the bytes, 64-byte compact r‖s, low-S) and did:key encoding (multicodec + base58btc).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { base58btc } from 'multiformats/bases/base58';

export type KeyType = 'ed25519' | 'secp256k1' | 'p256';

/** multicodec varint prefixes of the public key types (multicodec table: ed25519-pub, secp256k1-pub, p256-pub) */
const MULTICODEC: Record<KeyType, [number, number]> = {
  ed25519: [0xed, 0x01],
  secp256k1: [0xe7, 0x01],
  p256: [0x80, 0x24],
};

const KEY_LEN: Record<KeyType, number[]> = { ed25519: [32], secp256k1: [33, 65], p256: [33, 65] };

/** A signing function that also carries its public key and did:key. */
export type Signer = ((data: Uint8Array) => Uint8Array) & {
  readonly keyType: KeyType;
  /** ed25519: 32 bytes; secp256k1/p256: 33-byte compressed SEC1 */
  readonly publicKey: Uint8Array;
  readonly did: string;
};

function compress(type: KeyType, pub: Uint8Array): Uint8Array {
  if (type === 'ed25519' || pub.length === 33) return pub;
  const curve = type === 'secp256k1' ? secp256k1 : p256;
  return curve.Point.fromBytes(pub).toBytes(true);
}

/** The multibase (base58btc, `z…`) multikey of a public key. Uncompressed EC keys are compressed. */
export function multikeyFromPublicKey(type: KeyType, publicKey: Uint8Array): string {
  const codec = MULTICODEC[type];
  if (!codec) throw new Error(`unsupported key type ${String(type)}`);
  if (!KEY_LEN[type].includes(publicKey.length)) throw new Error(`a ${type} public key is ${KEY_LEN[type].join(' or ')} bytes, got ${publicKey.length}`);
  const key = compress(type, publicKey);
  const bytes = new Uint8Array(2 + key.length);
  bytes.set(codec, 0);
  bytes.set(key, 2);
  return base58btc.encode(bytes);
}

/** `did:key:z…` for a public key (ed25519 `z6Mk…`, secp256k1 `zQ3s…`, P-256 `zDn…`). */
export function didKeyFromPublicKey(type: KeyType, publicKey: Uint8Array): string {
  return `did:key:${multikeyFromPublicKey(type, publicKey)}`;
}

/** Parse a did:key (or a bare `z…` multikey) back into its key type and public key. */
export function publicKeyFromDidKey(didKey: string): { type: KeyType; publicKey: Uint8Array } {
  const mb = didKey.startsWith('did:key:') ? didKey.slice('did:key:'.length) : didKey;
  if (!mb.startsWith('z')) throw new Error('not a base58btc multikey');
  const bytes = base58btc.decode(mb);
  for (const [type, [a, b]] of Object.entries(MULTICODEC) as Array<[KeyType, [number, number]]>) {
    if (bytes[0] === a && bytes[1] === b) {
      const publicKey = bytes.slice(2);
      if (!KEY_LEN[type].includes(publicKey.length)) throw new Error(`bad ${type} key length ${publicKey.length}`);
      return { type, publicKey };
    }
  }
  throw new Error('unsupported multicodec key type');
}

function makeSigner(keyType: KeyType, publicKey: Uint8Array, sign: (data: Uint8Array) => Uint8Array): Signer {
  const did = didKeyFromPublicKey(keyType, publicKey);
  return Object.assign((data: Uint8Array) => sign(data), { keyType, publicKey, did });
}

/** ed25519 signer from a 32-byte secret key (seed): pure Ed25519 over the raw challenge bytes. */
export function ed25519Signer(secretKey: Uint8Array): Signer {
  if (secretKey.length !== 32) throw new Error('an ed25519 secret key is 32 bytes');
  const sk = Uint8Array.from(secretKey);
  return makeSigner('ed25519', ed25519.getPublicKey(sk), (data) => ed25519.sign(data, sk));
}

/** secp256k1 signer: ECDSA over SHA-256(data), 64-byte compact r‖s, low-S. */
export function secp256k1Signer(privateKey: Uint8Array): Signer {
  if (privateKey.length !== 32) throw new Error('a secp256k1 private key is 32 bytes');
  const sk = Uint8Array.from(privateKey);
  return makeSigner('secp256k1', secp256k1.getPublicKey(sk, true), (data) =>
    secp256k1.sign(data, sk, { prehash: true, lowS: true, format: 'compact' }));
}

/** P-256 signer: ECDSA over SHA-256(data), 64-byte compact r‖s, low-S. */
export function p256Signer(privateKey: Uint8Array): Signer {
  if (privateKey.length !== 32) throw new Error('a P-256 private key is 32 bytes');
  const sk = Uint8Array.from(privateKey);
  return makeSigner('p256', p256.getPublicKey(sk, true), (data) =>
    p256.sign(data, sk, { prehash: true, lowS: true, format: 'compact' }));
}

/** A fresh random 32-byte secret key for the given type. */
export function generateSecretKey(type: KeyType): Uint8Array {
  if (type === 'ed25519') return ed25519.utils.randomSecretKey();
  return (type === 'secp256k1' ? secp256k1 : p256).utils.randomSecretKey();
}
