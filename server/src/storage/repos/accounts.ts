import type { AccountStore, PersistedAccount } from '../../state/store.js';
import type { Db } from '../db.js';

interface AccountRow { did: string; nick: string | null; nick_folded: string | null; handle: string | null; last_login_at: number }

/** Accounts (DID → owned nick, last handle); prepared statements only. */
export class SqliteAccountStore implements AccountStore {
  private readonly upsert;

  constructor(private readonly db: Db) {
    // COALESCE: an absent nick/handle keeps the stored one
    this.upsert = db.prepare(`
      INSERT INTO accounts (did, nick, nick_folded, handle, last_login_at) VALUES (@did, @nick, @nickFolded, @handle, @lastLoginAt)
      ON CONFLICT (did) DO UPDATE SET nick = COALESCE(excluded.nick, nick), nick_folded = COALESCE(excluded.nick_folded, nick_folded),
        handle = COALESCE(excluded.handle, handle), last_login_at = MAX(excluded.last_login_at, last_login_at)`);
  }

  loadAll(): PersistedAccount[] {
    const rows = this.db.prepare('SELECT * FROM accounts').all() as AccountRow[];
    return rows.map((r) => ({ did: r.did, nick: r.nick ?? undefined, handle: r.handle ?? undefined, lastLoginAt: r.last_login_at }));
  }

  save(a: { did: string; nick?: string; nickFolded?: string; handle?: string; lastLoginAt: number }): void {
    this.upsert.run({ did: a.did, nick: a.nick ?? null, nickFolded: a.nickFolded ?? null, handle: a.handle ?? null, lastLoginAt: a.lastLoginAt });
  }
}
