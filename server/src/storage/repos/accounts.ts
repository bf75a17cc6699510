import type { AccountStore, PersistedAccount } from '../../state/store.js';
import type { Db } from '../db.js';

interface AccountRow { did: string; nick: string | null; nick_folded: string | null; nick_claimed: string | null; handle: string | null; last_login_at: number }
/**
 * `nick`: undefined keeps the stored one (with its fold and claim stamp), null releases it;
 * `handle`: undefined keeps the stored one, null clears it (#12: only verified handles are kept)
 */
type AccountWrite = { did: string; nick?: string | null; nickFolded?: string; nickClaimed?: string; handle?: string | null; lastLoginAt: number };
type StoredAccount = { did: string; nick?: string | null; nickFolded?: string; nickClaimed?: string; handle?: string; lastLoginAt: number };

/** last_login_at is kept to this resolution: a login that changes nothing else within it writes nothing */
export const LOGIN_TIME_RESOLUTION_MS = 3600_000;

/**
 * Accounts (DID → owned nick, last handle); prepared statements only. Writes are merged per DID
 * and written in one transaction per event-loop turn (a SASL login saves twice: account, then the
 * nick binding — as separate autocommits that was ~0.3 ms of every login, bench `sasl` profile),
 * and a save that would store what is already stored (login time within the resolution) is
 * skipped. The in-memory world is the source of truth while running; `flush` runs before the
 * database closes and before any read.
 */
export class SqliteAccountStore implements AccountStore {
  private readonly upsert;
  private readonly vacate;
  private pending = new Map<string, AccountWrite>();
  /** what the database holds, per DID (filled by loadAll and by every write) */
  private readonly stored = new Map<string, StoredAccount>();
  private scheduled = false;

  /** `onError`: a row that cannot be written (logged by the caller; the rest of the batch is kept) */
  constructor(private readonly db: Db, private readonly onError: (err: unknown, did: string) => void = () => {}) {
    // the nick (with its fold and claim stamp) and the handle are replaced (NULL included) only when given
    this.upsert = db.prepare(`
      INSERT INTO accounts (did, nick, nick_folded, nick_claimed, handle, last_login_at) VALUES (@did, @nick, @nickFolded, @nickClaimed, @handle, @lastLoginAt)
      ON CONFLICT (did) DO UPDATE SET
        nick = CASE WHEN @nickGiven = 1 THEN excluded.nick ELSE nick END,
        nick_folded = CASE WHEN @nickGiven = 1 THEN excluded.nick_folded ELSE nick_folded END,
        nick_claimed = CASE WHEN @nickGiven = 1 THEN excluded.nick_claimed ELSE nick_claimed END,
        handle = CASE WHEN @handleGiven = 1 THEN excluded.handle ELSE handle END, last_login_at = MAX(excluded.last_login_at, last_login_at)`);
    // a batch may move a nick from one DID to another (federation: an earlier claim): every DID
    // whose nick changes lets go of its old one first, so nick_folded stays UNIQUE in any order
    this.vacate = db.prepare('UPDATE accounts SET nick = NULL, nick_folded = NULL WHERE did = ?');
  }

  loadAll(): PersistedAccount[] {
    this.flush();
    const rows = this.db.prepare('SELECT * FROM accounts').all() as AccountRow[];
    for (const r of rows) this.stored.set(r.did, { did: r.did, nick: r.nick, nickFolded: r.nick_folded ?? undefined, nickClaimed: r.nick_claimed ?? undefined, handle: r.handle ?? undefined, lastLoginAt: r.last_login_at });
    return rows.map((r) => ({ did: r.did, nick: r.nick ?? undefined, nickClaimed: r.nick_claimed ?? undefined, handle: r.handle ?? undefined, lastLoginAt: r.last_login_at }));
  }

  save(a: AccountWrite): void {
    const known = this.stored.get(a.did);
    if (!this.pending.has(a.did) && known && (a.nick === undefined || (a.nick === known.nick && a.nickFolded === known.nickFolded && a.nickClaimed === known.nickClaimed))
      && (a.handle === undefined || (a.handle ?? undefined) === known.handle) && a.lastLoginAt - known.lastLoginAt < LOGIN_TIME_RESOLUTION_MS) return;
    const prev = this.pending.get(a.did);
    // same merge as the upsert: a present field replaces, an absent one keeps; the latest login wins
    this.pending.set(a.did, prev ? {
      did: a.did,
      nick: a.nick !== undefined ? a.nick : prev.nick,
      nickFolded: a.nick !== undefined ? a.nickFolded : prev.nickFolded,
      nickClaimed: a.nick !== undefined ? a.nickClaimed : prev.nickClaimed,
      handle: a.handle !== undefined ? a.handle : prev.handle,
      lastLoginAt: Math.max(a.lastLoginAt, prev.lastLoginAt),
    } : { ...a });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write everything pending in one transaction. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.db.transaction(() => {
      for (const a of batch) if (a.nick !== undefined && this.stored.get(a.did)?.nickFolded !== a.nickFolded) this.vacate.run(a.did);
      for (const a of batch) {
        try {
          this.upsert.run({
            did: a.did, nick: a.nick ?? null, nickFolded: a.nick ? a.nickFolded ?? null : null, nickClaimed: a.nick ? a.nickClaimed ?? null : null, nickGiven: a.nick !== undefined ? 1 : 0,
            handle: a.handle ?? null, handleGiven: a.handle !== undefined ? 1 : 0, lastLoginAt: a.lastLoginAt,
          });
          const known = this.stored.get(a.did);
          this.stored.set(a.did, {
            did: a.did, nick: a.nick !== undefined ? a.nick : known?.nick, nickFolded: a.nick !== undefined ? a.nickFolded : known?.nickFolded,
            nickClaimed: a.nick !== undefined ? a.nickClaimed : known?.nickClaimed,
            handle: a.handle !== undefined ? (a.handle ?? undefined) : known?.handle, lastLoginAt: Math.max(a.lastLoginAt, known?.lastLoginAt ?? 0),
          });
        } catch (e) {
          this.onError(e, a.did);
        }
      }
    })();
  }
}
