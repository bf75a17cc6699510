import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519PublicKeyOf } from '../util/ed25519.js';
import type { Config } from '../config/schema.js';
import { openDb, type Db } from '../storage/db.js';
import { SigningKeyRepo } from '../storage/repos/signing-keys.js';
import { kidOf } from './chat-signature.js';
import { dbKeyPath, rekeyDatabase, unlockDatabase, type ReportOptions } from './db-key.js';
import { KEY_FILES, keyPath, newKey, readKeyFile, writeKeyFileAtomic, type KeyFileOptions } from './key-file.js';
import { loadCloakKey } from './cloak-key.js';
import { loadPeerIdentity, peerIdOf } from './peer-identity.js';
import { lockDataDir, tryLockDataDir, type DataDirLock } from './server-lock.js';
import { loadSigningSeed } from './signer.js';

/** Names accepted by `freeq-server keys [name...]` (the file name works too). */
export const KEY_NAMES = { 'msg-signing': KEY_FILES.msgSigning, 'db-encryption': KEY_FILES.dbEncryption, iroh: KEY_FILES.iroh, cloak: KEY_FILES.cloak } as const;
type KeyName = keyof typeof KEY_NAMES;

export class CommandError extends Error {}

/** `keys [--force] [name...]`; `report`: progress of a migration or of encrypting an old database (#16) */
export interface KeysArgs { force: boolean; names: string[]; report?: ReportOptions }

const dbPathOf = (config: Config): string => config.dbPath ?? join(config.dataDir, 'freeq.db');

function resolveNames(names: string[]): KeyName[] {
  if (names.length === 0) return Object.keys(KEY_NAMES) as KeyName[];
  return names.map((n) => {
    const hit = (Object.entries(KEY_NAMES) as Array<[KeyName, string]>).find(([k, f]) => n === k || n === f);
    if (!hit) throw new CommandError(`unknown key "${n}" (one of: ${Object.keys(KEY_NAMES).join(', ')})`);
    return hit[0];
  });
}

const pubOf = (seed: Uint8Array) => {
  const pub = ed25519PublicKeyOf(seed);
  return { kid: kidOf(pub), publicKey: Buffer.from(pub).toString('base64url') };
};

/**
 * `freeq-server keys [--force] [name...]`: create the missing key files (0600); with --force,
 * rotate the message-signing key (the old public key stays listed, retired), the federation
 * key (new peer ID) and the cloak key (every cloak changes). The database key is never replaced
 * this way: `db rekey` re-encrypts. Returns the lines to print (public facts only: never key material).
 * #12: --force holds the data directory lock (refused while a server runs); without it the lock
 * is taken when free, and a running server's keys are only read (missing files are created O_EXCL).
 */
/**
 * `freeq-server peer-id`: this server's federation peer ID on one line (the 64-hex ed25519 public
 * key of iroh-key.secret), creating the key file (0600) when it is missing, as the server would at
 * start. Safe while the server runs: it only reads an existing key.
 */
export function runPeerIdCommand(config: Config): string[] {
  return [loadPeerIdentity(config.dataDir, { fixPermissions: config.fixKeyPermissions }).peerId];
}

export function runKeysCommand(config: Config, args: KeysArgs): string[] {
  const names = resolveNames(args.names);
  const dataDir = config.dataDir;
  const lock: DataDirLock | undefined = args.force ? lockDataDir(dataDir, { server: false, what: 'stop it before rotating keys' }) : tryLockDataDir(dataDir);
  try {
    return keysLocked(config, args, names);
  } finally {
    lock?.release();
  }
}

function keysLocked(config: Config, args: KeysArgs, names: KeyName[]): string[] {
  const explicit = args.names.length > 0;
  const kopts: KeyFileOptions = { fixPermissions: config.fixKeyPermissions, onFixed: (p) => out.push(`${p}: permissions fixed (chmod 600)`) };
  const out: string[] = [];
  const dataDir = config.dataDir;
  let db: Db | undefined;
  const database = (): Db => (db ??= openDb(dbPathOf(config), args.report));
  const now = Date.now();
  try {
    if (args.force && explicit && names.includes('db-encryption') && existsSync(dbKeyPath(dataDir))) {
      throw new CommandError(`${KEY_FILES.dbEncryption} cannot be replaced with --force: the database is encrypted under it. Run \`freeq-server db rekey\` (server stopped) to re-encrypt under a new key`);
    }
    for (const name of names) {
      const file = KEY_NAMES[name];
      const path = keyPath(dataDir, file);
      if (name === 'iroh') {
        const old = readKeyFile(path, kopts);
        if (old && args.force) {
          const key = newKey();
          writeKeyFileAtomic(path, key);
          out.push(`${file}: rotated; new peer ID ${peerIdOf(key)} (was ${peerIdOf(old)}). Update --s2s-peers / --s2s-allowed-peers on every peer server`);
        } else {
          const p = loadPeerIdentity(dataDir, kopts);
          out.push(`${file}: ${p.created ? 'created' : 'present'}; peer ID ${p.peerId}`);
        }
      } else if (name === 'cloak') {
        const old = readKeyFile(path, kopts);
        if (old && args.force) {
          writeKeyFileAtomic(path, newKey());
          out.push(`${file}: rotated; every user's cloak changes at the next start, so bans and invite exceptions on cloaks (+b/+I/+e, UBAN masks) no longer match`);
        } else {
          out.push(`${file}: ${loadCloakKey(dataDir, kopts).created ? 'created' : 'present'}`);
        }
      } else if (name === 'msg-signing') {
        const old = readKeyFile(path, { ...kopts, allowRaw: true });
        if (old && args.force) {
          const key = newKey();
          const before = pubOf(old);
          const after = pubOf(key);
          const repo = new SigningKeyRepo(database());
          repo.makeCurrent(before.kid, before.publicKey, now); // known even if no server ever ran with it
          writeKeyFileAtomic(path, key);
          repo.makeCurrent(after.kid, after.publicKey, now);
          out.push(`${file}: rotated; new kid ${after.kid}. The previous kid ${before.kid} stays listed (previous_keys of /api/v1/signing-key) so its signatures still verify`);
        } else {
          const k = loadSigningSeed(dataDir, kopts);
          out.push(`${file}: ${k.created ? 'created' : 'present'}; kid ${pubOf(k.key).kid}`);
        }
      } else {
        const exists = existsSync(dbKeyPath(dataDir));
        if (exists && args.force) {
          readKeyFile(dbKeyPath(dataDir), { ...kopts, allowRaw: true });
          out.push(`${file}: kept (--force does not replace the database key; run \`freeq-server db rekey\` to re-encrypt under a new key)`);
          continue;
        }
        const u = unlockDatabase(database(), dataDir, { ...kopts, ...args.report });
        out.push(`${file}: ${u.created ? 'created' : 'present'}; matches the database (key ${u.cipher.fingerprint})`);
      }
    }
  } finally {
    db?.close();
  }
  return out;
}

/**
 * `freeq-server db rekey`: re-encrypt the database under a new random key (server stopped). #16:
 * progress lines (rows done / total, rate, time left; migrations too) go to `report.progress`
 * (stderr from the CLI), the summary is returned.
 */
export function runDbRekey(config: Config, report: ReportOptions = {}): string[] {
  const dbPath = dbPathOf(config);
  if (!existsSync(dbPath)) throw new CommandError(`no database at ${dbPath}; nothing to re-encrypt`);
  // #12: held for the whole rekey, so no server can start on the data directory meanwhile
  const lock = lockDataDir(config.dataDir, { server: false, what: 'stop it before running db rekey' });
  let db: Db | undefined;
  try {
    db = openDb(dbPath, report);
    const r = rekeyDatabase(db, config.dataDir, { fixPermissions: config.fixKeyPermissions, ...report });
    if (r.resumed && r.values === 0) return [`finished an interrupted rekey: ${r.path} now holds key ${r.newFingerprint}; the previous key (${r.oldFingerprint}) is in ${r.oldKeyPath}`];
    if (r.resumed) {
      return [
        `finished an interrupted rekey: re-encrypted the remaining ${r.values} value(s); ${r.path} now holds key ${r.newFingerprint} (was ${r.oldFingerprint})`,
        `the previous key is kept in ${r.oldKeyPath} (0600) for backups made before this rekey; delete it when you no longer need them`,
      ];
    }
    return [
      `re-encrypted ${r.values} value(s) under a new key: ${r.path} (key ${r.newFingerprint}, was ${r.oldFingerprint})`,
      `the previous key is kept in ${r.oldKeyPath} (0600) for backups made before this rekey; delete it when you no longer need them`,
    ];
  } finally {
    db?.close();
    lock.release();
  }
}
