import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { pooledRandomBytes } from '../util/random-pool.js';

/**
 * Encryption at rest of user content (AES-256-GCM under db-encryption-key.secret, an independent
 * random key: keys/key-file.ts). Stored form: `fq1:` + base64url-nopad(12-byte random nonce ‖
 * ciphertext ‖ 16-byte tag). The AAD binds a value to its place (`<table>.<column>:<row key>`),
 * so a ciphertext copied into another field or row fails to decrypt. A failure throws
 * DecryptError: never a placeholder, never the raw stored text.
 */
export const ENC_PREFIX = 'fq1:';
const NONCE = 12;
const TAG = 16;

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
}

/** Every encrypted column: `db rekey` and the first-start adoption walk this list. */
export interface EncryptedColumn { table: string; column: string; rowKey: string }
export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'channels', column: 'topic', rowKey: 'name_folded' },
  { table: 'channels', column: 'chan_key', rowKey: 'name_folded' },
  { table: 'messages', column: 'body', rowKey: 'msgid' },
  { table: 'messages', column: 'tags', rowKey: 'msgid' },
  { table: 'messages', column: 'lines', rowKey: 'msgid' },
  { table: 's2s_audit', column: 'envelope', rowKey: 'ref' },
];

export const aadFor = (table: string, column: string, rowKey: string): string => `${table}.${column}:${rowKey}`;

/** Short public fingerprint of a key (safe to print and log: a hash of a random 256-bit key). */
export const keyFingerprint = (key: Buffer): string => createHash('sha256').update('freeq-db-key-fingerprint\0').update(key).digest('hex').slice(0, 16);

export class FieldCipher {
  readonly fingerprint: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
    this.fingerprint = keyFingerprint(key);
  }

  /** A copy of the key for the history writer thread (history/writer.ts); nowhere else. */
  keyForWorker(): Uint8Array {
    return Uint8Array.from(this.key);
  }

  encrypt(plain: string, aad: string): string {
    const nonce = pooledRandomBytes(NONCE); // copied into the output below
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = c.update(plain, 'utf8');
    c.final(); // GCM is a stream mode: final() yields no bytes, only the tag
    return ENC_PREFIX + Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64url');
  }

  decrypt(stored: string, aad: string): string {
    if (!stored.startsWith(ENC_PREFIX)) throw new DecryptError(`${aad}: value is not encrypted (no ${ENC_PREFIX} prefix)`);
    const raw = Buffer.from(stored.slice(ENC_PREFIX.length), 'base64url');
    if (raw.length < NONCE + TAG) throw new DecryptError(`${aad}: ciphertext too short`);
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(raw.subarray(raw.length - TAG));
      return Buffer.concat([d.update(raw.subarray(NONCE, raw.length - TAG)), d.final()]).toString('utf8');
    } catch {
      throw new DecryptError(`${aad}: decryption failed (wrong key or tampered data)`);
    }
  }

  encryptOpt(plain: string | null | undefined, aad: string): string | null {
    return plain === null || plain === undefined ? null : this.encrypt(plain, aad);
  }

  decryptOpt(stored: string | null, aad: string): string | undefined {
    return stored === null ? undefined : this.decrypt(stored, aad);
  }
}

export const isEncrypted = (v: string): boolean => v.startsWith(ENC_PREFIX);
