import type { CachedDidDoc, DidCacheStore } from '../../identity/types.js';
import type { Db } from '../db.js';

/** All did_cache SQL (migration 2); prepared statements only. */
export class DidCacheRepo implements DidCacheStore {
  private readonly getStmt;
  private readonly putStmt;
  private readonly delStmt;
  private readonly pruneStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT doc, fetched_at FROM did_cache WHERE did = ?');
    this.putStmt = db.prepare(`INSERT INTO did_cache (did, doc, fetched_at) VALUES (?, ?, ?)
      ON CONFLICT (did) DO UPDATE SET doc = excluded.doc, fetched_at = excluded.fetched_at`);
    this.delStmt = db.prepare('DELETE FROM did_cache WHERE did = ?');
    this.pruneStmt = db.prepare('DELETE FROM did_cache WHERE fetched_at < ?');
  }

  get(did: string): CachedDidDoc | undefined {
    const row = this.getStmt.get(did) as { doc: string; fetched_at: number } | undefined;
    return row ? { doc: row.doc, fetchedAt: row.fetched_at } : undefined;
  }

  put(did: string, doc: string, fetchedAt: number): void {
    this.putStmt.run(did, doc, Math.floor(fetchedAt));
  }

  delete(did: string): void {
    this.delStmt.run(did);
  }

  /** Drop entries fetched before `before`; returns how many. */
  prune(before: number): number {
    return this.pruneStmt.run(Math.floor(before)).changes;
  }
}
