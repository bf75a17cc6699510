import type { ApiTokenOwner, ApiTokenStore } from '../../auth/api-tokens.js';
import type { Db } from '../db.js';

/**
 * User API tokens (migration 3 `api_tokens`) and the web client's remembered Bluesky logins
 * (migration 13 `web_sessions`, the same shape): only the SHA-256 of a token is stored, never the
 * token. Prepared statements only.
 */
export class SqliteApiTokenStore implements ApiTokenStore {
  private readonly insertStmt;
  private readonly lookupStmt;
  private readonly revokeStmt;
  private readonly purgeStmt;
  private readonly trimStmt;
  private readonly deleteStmt;

  constructor(db: Db, table: 'api_tokens' | 'web_sessions' = 'api_tokens') {
    // `table` is one of two literals, never input
    this.insertStmt = db.prepare(`INSERT INTO ${table} (token_hash, did, created_at, expires_at) VALUES (?, ?, ?, ?)`);
    // the handle comes from the account (display only)
    this.lookupStmt = db.prepare(`
      SELECT t.did AS did, a.handle AS handle FROM ${table} t LEFT JOIN accounts a ON a.did = t.did
      WHERE t.token_hash = ? AND t.expires_at > ?`);
    this.revokeStmt = db.prepare(`DELETE FROM ${table} WHERE did = ?`);
    this.purgeStmt = db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`);
    this.deleteStmt = db.prepare(`DELETE FROM ${table} WHERE token_hash = ?`);
    // keep the newest `keep` tokens of a DID
    this.trimStmt = db.prepare(`
      DELETE FROM ${table} WHERE did = @did AND token_hash NOT IN
        (SELECT token_hash FROM ${table} WHERE did = @did ORDER BY created_at DESC, rowid DESC LIMIT @keep)`);
  }

  insert(hash: string, did: string, createdAt: number, expiresAt: number): void {
    this.insertStmt.run(hash, did, createdAt, expiresAt);
  }

  /** the owner of an unexpired token hash */
  lookup(hash: string, now: number): ApiTokenOwner | undefined {
    const row = this.lookupStmt.get(hash, now) as { did: string; handle: string | null } | undefined;
    if (!row) return undefined;
    return row.handle ? { did: row.did, handle: row.handle } : { did: row.did };
  }

  /** delete every token of a DID; returns how many */
  revokeAll(did: string): number {
    return this.revokeStmt.run(did).changes;
  }

  /** delete one token; true when it existed */
  delete(hash: string): boolean {
    return this.deleteStmt.run(hash).changes > 0;
  }

  purgeExpired(now: number): number {
    return this.purgeStmt.run(now).changes;
  }

  trim(did: string, keep: number): void {
    this.trimStmt.run({ did, keep });
  }
}
