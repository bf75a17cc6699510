import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The server's secret key files (DESIGN.md §7). Each is an independent random 32-byte key, stored
 * as 64 hex characters and a newline, created with mode 0600 on first start; none is ever
 * derived from another (the reference derived its DB key from the signing key: §1.10).
 */
export const KEY_FILES = {
  /** ed25519 seed that signs relayed messages (+freeq.at/sig); public key at /api/v1/signing-key */
  msgSigning: 'msg-signing-key.secret',
  /** AES-256-GCM key of the encrypted database columns (storage/crypto.ts) */
  dbEncryption: 'db-encryption-key.secret',
  /** ed25519 seed of the federation identity; its public key is the peer ID */
  iroh: 'iroh-key.secret',
  /** HMAC key of the cloaks (state/cloak.ts, #12): rotating it changes every user's cloak */
  cloak: 'cloak-key.secret',
} as const;

/** A key file problem the operator must fix: the message says what and how. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

export interface KeyFileOptions {
  /** chmod 600 a key file readable by group/others instead of refusing (--fix-key-permissions) */
  fixPermissions?: boolean;
  /** told about a permission fix (never about key material) */
  onFixed?: (path: string, oldMode: number) => void;
}

export interface LoadedKey {
  key: Buffer;
  path: string;
  created: boolean;
}

export const keyPath = (dataDir: string, file: string): string => join(dataDir, file);

/** The exact refusal for a key file accessible by group or others. */
export function loosePermissionsMessage(path: string, mode: number): string {
  return `${path} is accessible by group/others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); run: chmod 600 ${path} (or start with --fix-key-permissions)`;
}

/** Refuse (or, when told, fix) a key file that group or others may read or write. */
export function checkKeyPermissions(path: string, opts: KeyFileOptions = {}): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode;
  if ((mode & 0o077) === 0) return;
  if (!opts.fixPermissions) throw new KeyFileError(loosePermissionsMessage(path, mode));
  chmodSync(path, 0o600);
  opts.onFixed?.(path, mode & 0o777);
}

/**
 * Parse a key file's text: 64 hex characters (surrounding whitespace ignored). A file of exactly
 * 32 raw bytes (the reference server's format) is accepted too when `allowRaw` is set.
 */
export function parseKey(content: Buffer, path: string, allowRaw: boolean): Buffer {
  if (allowRaw && content.length === 32 && !/^[0-9a-fA-F\s]*$/.test(content.toString('latin1'))) return Buffer.from(content);
  const text = content.toString('utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new KeyFileError(`${path} is not 64 hex characters of a 32-byte key; refusing to start (restore the file from a backup)`);
  }
  return Buffer.from(text, 'hex');
}

/** Read an existing key file (permission check first), or undefined when there is none. */
export function readKeyFile(path: string, opts: KeyFileOptions & { allowRaw?: boolean } = {}): Buffer | undefined {
  try {
    checkKeyPermissions(path, opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseKey(readFileSync(path), path, opts.allowRaw ?? false);
}

export const newKey = (): Buffer => randomBytes(32);
const keyText = (key: Buffer): string => key.toString('hex') + '\n';

/**
 * Create the data directory private (0700, DESIGN.md §7) when it is missing. #12: it used to be
 * created 0755 here, by whichever key file came first. An existing directory keeps its mode.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Create a new key file (mode 0600); fails with EEXIST rather than overwrite one. */
export function createKeyFile(path: string, key: Buffer): void {
  ensurePrivateDir(dirname(path));
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, keyText(key));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace (or create) a key file atomically: write `<path>.tmp-<random>` (0600, fsync), then rename
 * over the target, so a crash leaves either the old or the new key, never a torn file.
 */
export function writeKeyFileAtomic(path: string, key: Buffer): void {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  createKeyFile(tmp, key);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch {
    // not supported on every platform; the rename itself is atomic
  }
}

/** Load `<dataDir>/<file>`, creating it with a fresh random key (0600) when absent. */
export function loadOrCreateKey(dataDir: string, file: string, opts: KeyFileOptions & { allowRaw?: boolean } = {}): LoadedKey {
  const path = keyPath(dataDir, file);
  const existing = readKeyFile(path, opts);
  if (existing) return { key: existing, path, created: false };
  const key = newKey();
  try {
    createKeyFile(path, key);
  } catch (e) {
    // another process created it meanwhile: use theirs, never overwrite
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { key: readKeyFile(path, opts)!, path, created: false };
    throw e;
  }
  return { key, path, created: true };
}
