import type { Db } from '../db.js';

export interface SigningKeyRow {
  kid: string;
  /** base64url-nopad raw 32-byte ed25519 public key */
  publicKey: string;
  createdAt: number;
  /** undefined: the current key */
  retiredAt?: number;
}

interface Row { kid: string; public_key: string; created_at: number; retired_at: number | null }

/** Every message-signing public key this server has used (never deleted: old signatures must verify). */
export class SigningKeyRepo {
  constructor(private readonly db: Db) {}

  all(): SigningKeyRow[] {
    const rows = this.db.prepare('SELECT * FROM signing_keys ORDER BY created_at, kid').all() as Row[];
    return rows.map((r) => ({ kid: r.kid, publicKey: r.public_key, createdAt: r.created_at, retiredAt: r.retired_at ?? undefined }));
  }

  /**
   * Make `kid` the current key: insert it if unknown (or un-retire it), and retire every other key
   * that is still current. One transaction.
   */
  makeCurrent(kid: string, publicKey: string, now: number): void {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO signing_keys (kid, public_key, created_at, retired_at) VALUES (?, ?, ?, NULL)
        ON CONFLICT (kid) DO UPDATE SET retired_at = NULL`).run(kid, publicKey, now);
      this.db.prepare('UPDATE signing_keys SET retired_at = ? WHERE kid <> ? AND retired_at IS NULL').run(now, kid);
    })();
  }

  /** Record a key as used and retired (e.g. the old key when `freeq-server keys --force` rotates). */
  recordRetired(kid: string, publicKey: string, createdAt: number, retiredAt: number): void {
    this.db.prepare(`INSERT INTO signing_keys (kid, public_key, created_at, retired_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (kid) DO UPDATE SET retired_at = COALESCE(signing_keys.retired_at, excluded.retired_at)`).run(kid, publicKey, createdAt, retiredAt);
  }
}
