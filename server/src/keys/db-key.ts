import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from '../storage/db.js';
import { aadFor, ENCRYPTED_COLUMNS, FieldCipher, isEncrypted, keyFingerprint } from '../storage/crypto.js';
import { MetaRepo } from '../storage/repos/meta.js';
import { createKeyFile, fsyncDir, KEY_FILES, KeyFileError, keyPath, newKey, readKeyFile, type KeyFileOptions } from './key-file.js';

/** `meta` rows: a known value encrypted under the key, and the key's public fingerprint. */
const CHECK_KEY = 'db-key-check';
const CHECK_PLAIN = 'freeq db-encryption-key check v1';
const CHECK_AAD = aadFor('meta', 'value', CHECK_KEY);
const FP_KEY = 'db-key-fingerprint';

export const dbKeyPath = (dataDir: string): string => keyPath(dataDir, KEY_FILES.dbEncryption);

function matches(meta: MetaRepo, cipher: FieldCipher): boolean {
  const check = meta.get(CHECK_KEY);
  if (check === undefined) return false;
  try {
    return cipher.decrypt(check, CHECK_AAD) === CHECK_PLAIN;
  } catch {
    return false;
  }
}

function writeCheck(meta: MetaRepo, cipher: FieldCipher): void {
  meta.set(CHECK_KEY, cipher.encrypt(CHECK_PLAIN, CHECK_AAD));
  meta.set(FP_KEY, cipher.fingerprint);
}

function anyEncryptedValue(db: Db): boolean {
  return ENCRYPTED_COLUMNS.some(({ table, column }) =>
    db.prepare(`SELECT 1 FROM ${table} WHERE ${column} LIKE 'fq1:%' LIMIT 1`).get() !== undefined);
}

/** Walk every encrypted column: `fn(value, aad)` returns the new stored value. */
function rewriteColumns(db: Db, fn: (value: string, aad: string) => string | undefined): number {
  let n = 0;
  for (const { table, column, rowKey } of ENCRYPTED_COLUMNS) {
    const rows = db.prepare(`SELECT ${rowKey} AS k, ${column} AS v FROM ${table} WHERE ${column} IS NOT NULL`).all() as Array<{ k: string; v: string }>;
    const upd = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${rowKey} = ?`);
    for (const r of rows) {
      const next = fn(r.v, aadFor(table, column, r.k));
      if (next !== undefined) { upd.run(next, r.k); n++; }
    }
  }
  return n;
}

export function mismatchMessage(path: string, dbFp: string | undefined, fileFp: string): string {
  let msg = `${KEY_FILES.dbEncryption} does not match this database (the database was encrypted with key ${dbFp ?? 'unknown'}, ${path} holds key ${fileFp}); ` +
    'restore the key file that belongs to this database. The server will not start with the wrong key';
  if (existsSync(`${path}.new`)) msg += `; ${path}.new exists: an interrupted \`freeq-server db rekey\` — run it again to finish`;
  return msg;
}

export interface UnlockResult {
  cipher: FieldCipher;
  path: string;
  /** a new key file was created (fresh database) */
  created: boolean;
  /** plaintext values found (a database from before encryption at rest) and encrypted now */
  adopted: number;
}

/**
 * Open the database's encryption: load db-encryption-key.secret and prove it is the key of this
 * database (the check value in `meta`). A wrong key, or a missing key file while the database
 * holds encrypted data, throws KeyFileError: the server must not start (never garbage, never a new
 * key over existing data). On a database without a check value (new, or from before encryption)
 * the key is created if needed and every plaintext value is encrypted in one transaction.
 */
export function unlockDatabase(db: Db, dataDir: string, opts: KeyFileOptions & { create?: boolean } = {}): UnlockResult {
  const path = dbKeyPath(dataDir);
  const meta = new MetaRepo(db);
  const hasCheck = meta.get(CHECK_KEY) !== undefined;
  let key = readKeyFile(path, { ...opts, allowRaw: true });
  let created = false;
  if (!key) {
    if (hasCheck || anyEncryptedValue(db)) {
      throw new KeyFileError(`${path} is missing but this database is encrypted (key ${meta.get(FP_KEY) ?? 'unknown'}); ` +
        'restore the key file from your backup. A new key is never created over existing data');
    }
    if (opts.create === false) throw new KeyFileError(`${path} does not exist`);
    key = newKey();
    createKeyFile(path, key);
    created = true;
  }
  const cipher = new FieldCipher(key);
  if (hasCheck) {
    if (!matches(meta, cipher)) throw new KeyFileError(mismatchMessage(path, meta.get(FP_KEY), cipher.fingerprint));
    return { cipher, path, created, adopted: 0 };
  }
  if (anyEncryptedValue(db)) {
    throw new KeyFileError(`this database holds encrypted values but no key check value (meta.${CHECK_KEY}); refusing to start rather than guess`);
  }
  let adopted = 0;
  db.transaction(() => {
    adopted = rewriteColumns(db, (v, aad) => (isEncrypted(v) ? undefined : cipher.encrypt(v, aad)));
    writeCheck(meta, cipher);
  })();
  return { cipher, path, created, adopted };
}

export interface RekeyResult {
  path: string;
  oldFingerprint: string;
  newFingerprint: string;
  /** values re-encrypted */
  values: number;
  /** where the previous key was kept */
  oldKeyPath: string;
  /** finished an interrupted rekey instead of starting a new one */
  resumed: boolean;
}

/**
 * `freeq-server db rekey` (server stopped): a new random key; every encrypted value re-encrypted
 * in one transaction; the key file replaced. Crash-safe order: the new key is written to
 * `<key>.new` first, then the transaction commits, then `<key>` → `<key>.old` and `<key>.new` →
 * `<key>` (renames). Run again after a crash: it finishes whichever step was interrupted.
 */
export function rekeyDatabase(db: Db, dataDir: string, opts: KeyFileOptions = {}): RekeyResult {
  const path = dbKeyPath(dataDir);
  const newPath = `${path}.new`;
  const oldKeyPath = `${path}.old`;
  const meta = new MetaRepo(db);
  const current = readKeyFile(path, { ...opts, allowRaw: true });
  const pending = readKeyFile(newPath, { ...opts, allowRaw: true });
  if (current && pending && !matches(meta, new FieldCipher(current)) && matches(meta, new FieldCipher(pending))) {
    // the transaction committed but the renames did not happen
    renameSync(path, oldKeyPath);
    renameSync(newPath, path);
    fsyncDir(dirname(path));
    return { path, oldFingerprint: keyFingerprint(current), newFingerprint: keyFingerprint(pending), values: 0, oldKeyPath, resumed: true };
  }
  const { cipher: oldCipher } = unlockDatabase(db, dataDir, { ...opts, create: false });
  if (pending) rmSync(newPath); // a rekey that crashed before its commit: start over
  const key = newKey();
  const next = new FieldCipher(key);
  createKeyFile(newPath, key);
  let values = 0;
  db.transaction(() => {
    values = rewriteColumns(db, (v, aad) => next.encrypt(oldCipher.decrypt(v, aad), aad));
    writeCheck(meta, next);
  })();
  // no old ciphertext left in the WAL or in free pages
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('VACUUM');
  renameSync(path, oldKeyPath);
  renameSync(newPath, path);
  fsyncDir(dirname(path));
  return { path, oldFingerprint: oldCipher.fingerprint, newFingerprint: next.fingerprint, values, oldKeyPath, resumed: false };
}
