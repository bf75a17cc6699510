import { ed25519PublicKeyOf } from '../util/ed25519.js';
import { KEY_FILES, loadOrCreateKey, type KeyFileOptions } from './key-file.js';

/** File name kept from the product documents so their runbooks still apply (DESIGN.md §7). */
export const PEER_KEY_FILE = KEY_FILES.iroh;

/** PKCS#8 DER prefix of an ed25519 private key; the 32-byte seed follows. */

export interface PeerIdentity {
  /** federation peer ID: the hex ed25519 public key (64 hex chars) */
  peerId: string;
  /** the 32-byte seed (for signing S2S messages later) */
  seed: Buffer;
  path: string;
  created: boolean;
}

/** ed25519 public key (32 bytes) of a 32-byte seed, with node:crypto only. */
export function ed25519PublicKey(seed: Buffer): Buffer {
  return ed25519PublicKeyOf(seed);
}

export const peerIdOf = (seed: Buffer): string => ed25519PublicKey(seed).toString('hex');

/**
 * Load this server's federation identity from `<dataDir>/iroh-key.secret` (64 hex chars of an
 * ed25519 seed), creating it with mode 0600 on first start. Refuses (throws KeyFileError) when the
 * file is readable or writable by group/others (unless `fixPermissions`), or malformed: a key file
 * is never silently replaced.
 */
export function loadPeerIdentity(dataDir: string, opts: KeyFileOptions = {}): PeerIdentity {
  const { key, path, created } = loadOrCreateKey(dataDir, PEER_KEY_FILE, opts);
  return { peerId: peerIdOf(key), seed: key, path, created };
}
