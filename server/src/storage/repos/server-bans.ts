import type { ServerBan, ServerBanKind, ServerBanStore } from '../../limits/server-bans.js';
import type { Db } from '../db.js';

interface Row { target: string; kind: ServerBanKind; reason: string; set_by: string; set_at: number; expires_at: number | null }

/** UBAN bans in `server_bans` (migration 3); prepared statements only. */
export class SqliteServerBanStore implements ServerBanStore {
  private readonly all;
  private readonly upsert;
  private readonly del;

  constructor(db: Db) {
    this.all = db.prepare('SELECT target, kind, reason, set_by, set_at, expires_at FROM server_bans ORDER BY set_at');
    this.upsert = db.prepare(`INSERT INTO server_bans (target, kind, reason, set_by, set_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (target) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, set_by = excluded.set_by,
        set_at = excluded.set_at, expires_at = excluded.expires_at`);
    this.del = db.prepare('DELETE FROM server_bans WHERE target = ?');
  }

  loadAll(): ServerBan[] {
    return (this.all.all() as Row[]).map((r) => ({
      target: r.target, kind: r.kind, reason: r.reason, setBy: r.set_by, setAt: r.set_at,
      ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    }));
  }

  save(b: ServerBan): void {
    this.upsert.run(b.target, b.kind, b.reason, b.setBy, b.setAt, b.expiresAt ?? null);
  }

  remove(target: string): void {
    this.del.run(target);
  }
}
