import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** File name kept from the product documents so their runbooks still apply (DESIGN.md §7). */
export const PEER_KEY_FILE = 'iroh-key.secret';

/** PKCS#8 DER prefix of an ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface PeerIdentity {
  /** federation peer ID: the hex ed25519 public key (64 hex chars) */
  peerId: string;
  /** the 32-byte seed (for signing S2S messages later) */
  seed: Buffer;
  path: string;
}

/** ed25519 public key (32 bytes) of a 32-byte seed, with node:crypto only. */
export function ed25519PublicKey(seed: Buffer): Buffer {
  const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

/**
 * Load this server's federation identity from `<dataDir>/iroh-key.secret` (64 hex chars of an
 * ed25519 seed), creating it with mode 0600 on first start. Refuses (throws) when the file is
 * readable or writable by group/others, or malformed: a key file must never be silently replaced.
 */
export function loadPeerIdentity(dataDir: string): PeerIdentity {
  const path = join(dataDir, PEER_KEY_FILE);
  let text: string;
  try {
    const st = statSync(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new Error(`${path} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
    }
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dataDir, { recursive: true });
    text = randomBytes(32).toString('hex');
    // 'wx': never overwrite a key another process created meanwhile
    writeFileSync(path, text + '\n', { mode: 0o600, flag: 'wx' });
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${path} is not 64 hex characters of an ed25519 seed; refusing to start`);
  const seed = Buffer.from(text, 'hex');
  return { peerId: ed25519PublicKey(seed).toString('hex'), seed, path };
}
