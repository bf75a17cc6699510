import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from '../storage/db.js';
import { aadFor, ENCRYPTED_COLUMNS, FieldCipher, isEncrypted, keyFingerprint } from '../storage/crypto.js';
import { MetaRepo } from '../storage/repos/meta.js';
import { countEncryptedRows, rewriteEncrypted, type WalkPosition } from '../storage/row-walk.js';
import { Progress, type ProgressWrite } from '../util/progress.js';
import { createKeyFile, fsyncDir, KEY_FILES, KeyFileError, keyPath, newKey, readKeyFile, type KeyFileOptions } from './key-file.js';

/** `meta` rows: a known value encrypted under the key, and the key's public fingerprint. */
const CHECK_KEY = 'db-key-check';
const CHECK_PLAIN = 'freeq db-encryption-key check v1';
const CHECK_AAD = aadFor('meta', 'value', CHECK_KEY);
const FP_KEY = 'db-key-fingerprint';
/**
 * #16: a rekey in progress (JSON RekeyMarker): `db rekey` commits batch by batch, each batch with
 * the position it reached, so an interrupted run continues where it stopped. While it is there the
 * database is partly under each key and nothing but `db rekey` opens it.
 */
const REKEY_KEY = 'db-rekey-progress';
interface RekeyMarker extends WalkPosition { from: string; to: string }

/** How a long walk over the database reports (#16): lines to stderr or the log, and its clock. */
export interface ReportOptions {
  progress?: ProgressWrite;
  /** the clock of the progress lines (tests) */
  now?: () => number;
  /** rows per batch (tests: several batches on a small database) */
  batchRows?: number;
}

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

function readMarker(meta: MetaRepo): RekeyMarker | undefined {
  const v = meta.get(REKEY_KEY);
  return v === undefined ? undefined : JSON.parse(v) as RekeyMarker;
}

function interruptedRekeyMessage(path: string): string {
  return `an interrupted \`freeq-server db rekey\` left this database partly re-encrypted (${path}.new holds the new key); ` +
    'run `freeq-server db rekey` again to finish it. Nothing else opens the database meanwhile';
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
 * the key is created if needed and every plaintext value is encrypted in one transaction (read in
 * batches, with progress). #16: a database an interrupted `db rekey` left partly re-encrypted is
 * refused until the rekey is run again.
 */
export function unlockDatabase(db: Db, dataDir: string, opts: KeyFileOptions & ReportOptions & { create?: boolean } = {}): UnlockResult {
  const path = dbKeyPath(dataDir);
  const meta = new MetaRepo(db);
  if (meta.get(REKEY_KEY) !== undefined) throw new KeyFileError(interruptedRekeyMessage(path));
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
  // one transaction (a crash leaves the database as it was), read in batches (constant memory)
  const total = countEncryptedRows(db);
  const progress = opts.progress && total > 0 ? new Progress({ what: 'encrypting the existing database', total, write: opts.progress, now: opts.now }) : undefined;
  db.transaction(() => {
    adopted = rewriteEncrypted(db, (v, aad) => (isEncrypted(v) ? undefined : cipher.encrypt(v, aad)), { ownTransactions: false, progress, batchRows: opts.batchRows });
    writeCheck(meta, cipher);
  })();
  progress?.finish();
  return { cipher, path, created, adopted };
}

export interface RekeyResult {
  path: string;
  oldFingerprint: string;
  newFingerprint: string;
  /** values re-encrypted by this run */
  values: number;
  /** where the previous key was kept */
  oldKeyPath: string;
  /** finished an interrupted rekey instead of starting a new one */
  resumed: boolean;
}

/**
 * `freeq-server db rekey` (server stopped): a new random key, every encrypted value re-encrypted,
 * the key file replaced. #16: the tables are walked in batches (storage/row-walk.ts: constant
 * memory), each batch committed with the position it reached (meta `db-rekey-progress`), with
 * progress lines to `opts.progress`. Crash-safe order: the new key is written to `<key>.new`
 * first, then the batches commit, then the check value moves to the new key and the position is
 * dropped (one transaction), then `<key>` → `<key>.old` and `<key>.new` → `<key>` (renames). Run
 * again after a crash: it finishes whichever step was interrupted, continuing from the last
 * committed batch. While the position is recorded, unlockDatabase refuses the database.
 */
export function rekeyDatabase(db: Db, dataDir: string, opts: KeyFileOptions & ReportOptions = {}): RekeyResult {
  const path = dbKeyPath(dataDir);
  const newPath = `${path}.new`;
  const oldKeyPath = `${path}.old`;
  const meta = new MetaRepo(db);
  const current = readKeyFile(path, { ...opts, allowRaw: true });
  const pending = readKeyFile(newPath, { ...opts, allowRaw: true });
  const marker = readMarker(meta);
  let oldCipher: FieldCipher;
  let next: FieldCipher;
  if (marker) {
    // interrupted between batches: the same two keys, from the recorded position on
    if (!current || !pending || keyFingerprint(current) !== marker.from || keyFingerprint(pending) !== marker.to) {
      throw new KeyFileError(`an interrupted \`db rekey\` was re-encrypting this database from key ${marker.from} to key ${marker.to}, ` +
        `but ${path} and ${newPath} do not hold those two keys (restore them to finish the rekey)`);
    }
    oldCipher = new FieldCipher(current);
    next = new FieldCipher(pending);
    if (!matches(meta, oldCipher)) throw new KeyFileError(mismatchMessage(path, meta.get(FP_KEY), oldCipher.fingerprint));
  } else if (current && pending && !matches(meta, new FieldCipher(current)) && matches(meta, new FieldCipher(pending))) {
    // every batch and the check value committed but the renames did not happen
    renameSync(path, oldKeyPath);
    renameSync(newPath, path);
    fsyncDir(dirname(path));
    return { path, oldFingerprint: keyFingerprint(current), newFingerprint: keyFingerprint(pending), values: 0, oldKeyPath, resumed: true };
  } else {
    oldCipher = unlockDatabase(db, dataDir, { ...opts, create: false }).cipher;
    if (pending) rmSync(newPath); // a rekey that crashed before its first batch: start over
    const key = newKey();
    next = new FieldCipher(key);
    createKeyFile(newPath, key);
  }
  const from: WalkPosition | undefined = marker ? { table: marker.table, after: marker.after } : undefined;
  const record = (pos: WalkPosition): void => meta.set(REKEY_KEY, JSON.stringify({ from: oldCipher.fingerprint, to: next.fingerprint, ...pos } satisfies RekeyMarker));
  const total = countEncryptedRows(db, from);
  const progress = opts.progress ? new Progress({ what: marker ? 'db rekey (continued)' : 'db rekey', total, write: opts.progress, now: opts.now }) : undefined;
  const values = rewriteEncrypted(db, (v, aad) => next.encrypt(oldCipher.decrypt(v, aad), aad), {
    from, ownTransactions: true, onBatch: record, progress, batchRows: opts.batchRows,
  });
  db.transaction(() => {
    writeCheck(meta, next);
    meta.delete(REKEY_KEY);
  })();
  progress?.finish();
  // no old ciphertext left in the WAL or in free pages
  opts.progress?.('db rekey: compacting the database file (VACUUM), so that no old ciphertext stays in free pages');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('VACUUM');
  renameSync(path, oldKeyPath);
  renameSync(newPath, path);
  fsyncDir(dirname(path));
  return { path, oldFingerprint: oldCipher.fingerprint, newFingerprint: next.fingerprint, values, oldKeyPath, resumed: marker !== undefined };
}
