import type { StoredMessage } from '../../history/types.js';
import type { StoredRef } from '../../state/redact-ops.js';
import type { Db } from '../db.js';
import { aadFor, type FieldCipher } from '../crypto.js';

interface MessageRow {
  id: number; msgid: string; venue: string; time: number; command: StoredMessage['command']; source: string;
  account: string | null; target: string; body: string | null; tags: string | null; lines: string | null;
  vis: number; size: number; uid: string | null; redacts: string | null; redacted: number;
}

/** a deleted row: which venue lost one, and how many bytes (history-max-bytes accounting) */
export interface DeletedRow { venue: string; size: number }

/**
 * #12 history-max-bytes: what one row stores, in bytes: its text columns as stored (encrypted
 * ones as base64) plus 16 for the integer columns. Indexes and SQLite's page overhead are not
 * counted, so the file is larger than the sum (docs/operator-guide.md says by how much).
 * Migration 5 computes the same sum for rows written before it.
 */
export const ROW_OVERHEAD = 16;
const byteLen = (v: string | null | undefined): number => (v === null || v === undefined ? 0 : Buffer.byteLength(v));

/** what a row stores (ROW_OVERHEAD): the same sum at insert and after a redaction (#16) */
function rowSize(r: Pick<MessageRow, 'msgid' | 'venue' | 'command' | 'source' | 'account' | 'target' | 'body' | 'tags' | 'lines' | 'uid' | 'redacts'>): number {
  return ROW_OVERHEAD + byteLen(r.msgid) + byteLen(r.venue) + byteLen(r.command) + byteLen(r.source) + byteLen(r.account)
    + byteLen(r.target) + byteLen(r.body) + byteLen(r.tags) + byteLen(r.lines) + byteLen(r.uid) + byteLen(r.redacts);
}

/** A position in a venue's history: messages are ordered by (time, id). */
export interface Pos { time: number; id: number }

/** below every stored position / above every stored position */
export const POS_MIN: Pos = { time: -1, id: 0 };
export const POS_MAX: Pos = { time: Number.MAX_SAFE_INTEGER, id: 0 };

export interface RangeQuery {
  venue: string;
  /** exclusive bounds */
  lo: Pos;
  hi: Pos;
  limit: number;
  /** take the newest `limit` of the range (results are still returned oldest → newest) */
  fromEnd: boolean;
  /** messages older than this (ms) are not returned (history-max-age) */
  minTime: number;
  /** include TAGMSG rows */
  tagmsg: boolean;
  /** #16: include REDACT rows; they do not count toward `limit` (at most `limit` of them come along) */
  redact?: boolean;
  /** #12: rows said while the channel was restricted (vis ≠ 0) only from this time on (undefined: all) */
  restrictedSince?: number;
  /**
   * #12: stop once the stored sizes of the rows read so far (in the order taken: newest first
   * with fromEnd) exceed this; at least one row is returned. Rows past the budget are never
   * decrypted, so a request for 500 large multiline messages costs what fits, not all of it.
   */
  maxBytes?: number;
  /** called when the read stopped at `maxBytes` with a row of the range (within `limit`) left unread */
  onMaxBytes?: () => void;
}

/**
 * All message-history SQL; prepared statements only. What users wrote (the text, the relayed
 * client tags, multiline lines) is stored encrypted (AAD `messages.<column>:<msgid>`); the venue,
 * time, sender and target stay plaintext: they are what the indexes and access checks need.
 */
export class SqliteMessageRepo {
  private readonly insert;
  private readonly byMsgid;
  private readonly asc;
  private readonly desc;
  private readonly countVenue;
  private readonly deleteOldestStmt;
  private readonly deleteOlder;
  private readonly evictStmt;
  private readonly oldestStmt;
  private readonly getBytes;
  private readonly setBytes;
  private readonly targetsAsc;
  private readonly targetsDesc;
  private readonly dmVenues;
  private readonly refStmt;
  private readonly toRedact;
  private readonly blank;

  constructor(private readonly db: Db, private readonly cipher: FieldCipher) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO messages (msgid, venue, time, command, source, account, target, body, tags, lines, vis, size, uid, redacts)
      VALUES (@msgid, @venue, @time, @command, @source, @account, @target, @body, @tags, @lines, @vis, @size, @uid, @redacts)`);
    this.byMsgid = db.prepare('SELECT time, id FROM messages WHERE msgid = ? AND venue = ?');
    const range = `SELECT * FROM messages WHERE venue = @venue AND time >= @minTime
      AND (time, id) > (@loT, @loI) AND (time, id) < (@hiT, @hiI) AND (@tagmsg = 1 OR command <> 'TAGMSG')
      AND (vis = 0 OR time >= @restrictedSince) AND redacted = 0 AND (@redact = 1 OR command <> 'REDACT')`;
    this.asc = db.prepare(`${range} ORDER BY time ASC, id ASC LIMIT @limit`);
    this.desc = db.prepare(`${range} ORDER BY time DESC, id DESC LIMIT @limit`);
    this.countVenue = db.prepare('SELECT COUNT(*) AS n FROM messages WHERE venue = ?').pluck();
    // RETURNING: the byte total and the per-venue counts follow every deletion (history/writer.ts HistoryLedger)
    this.deleteOldestStmt = db.prepare(`DELETE FROM messages WHERE id IN
      (SELECT id FROM messages WHERE venue = ? ORDER BY time ASC, id ASC LIMIT ?) RETURNING venue, size`);
    this.deleteOlder = db.prepare('DELETE FROM messages WHERE time < ? RETURNING venue, size');
    // oldest first across every venue (messages_time index: time, then rowid)
    this.oldestStmt = db.prepare('SELECT time, id, size FROM messages ORDER BY time ASC, id ASC');
    this.evictStmt = db.prepare('DELETE FROM messages WHERE time <= @time AND (time < @time OR id <= @id) RETURNING venue, size');
    this.getBytes = db.prepare(`SELECT value FROM meta WHERE key = 'history_bytes'`).pluck();
    this.setBytes = db.prepare(`INSERT INTO meta (key, value) VALUES ('history_bytes', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    const targets = `SELECT venue, MAX(time) AS latest FROM messages
      WHERE venue IN (SELECT value FROM json_each(@venues)) AND time > @lo AND time < @hi AND time >= @minTime GROUP BY venue`;
    this.targetsAsc = db.prepare(`${targets} ORDER BY latest ASC, venue ASC LIMIT @limit`);
    this.targetsDesc = db.prepare(`${targets} ORDER BY latest DESC, venue ASC LIMIT @limit`);
    this.dmVenues = db.prepare(`SELECT DISTINCT venue FROM messages WHERE venue >= 'dm:' AND venue < 'dm;' AND instr(venue, ?) > 0`).pluck();
    this.refStmt = db.prepare('SELECT msgid, venue, time, command, source, account, uid, vis, redacted FROM messages WHERE msgid = ?');
    this.toRedact = db.prepare(`SELECT id, msgid, venue, command, source, account, target, uid, redacts, size FROM messages
      WHERE msgid = ? AND redacted = 0 AND command <> 'REDACT'`);
    this.blank = db.prepare('UPDATE messages SET body = NULL, tags = NULL, lines = NULL, redacted = 1, size = ? WHERE id = ?');
  }

  /**
   * Insert a batch (call inside a transaction); returns how many rows were added per venue and
   * their bytes (duplicates by msgid are ignored).
   */
  insertMany(msgs: readonly StoredMessage[]): { perVenue: Map<string, number>; bytes: number } {
    const perVenue = new Map<string, number>();
    let bytes = 0;
    for (const m of msgs) {
      // #16: a REDACT first takes its message's content (queued before it, so inserted by now)
      if (m.command === 'REDACT') bytes -= this.redactContent(m.redacts);
      const row = {
        msgid: m.msgid, venue: m.venue, time: m.time, command: m.command, source: m.source, account: m.account ?? null, target: m.target,
        body: this.cipher.encryptOpt(m.text, aadFor('messages', 'body', m.msgid)),
        tags: m.clientTags && Object.keys(m.clientTags).length > 0 ? this.cipher.encrypt(JSON.stringify(m.clientTags), aadFor('messages', 'tags', m.msgid)) : null,
        lines: m.lines ? this.cipher.encrypt(JSON.stringify(m.lines), aadFor('messages', 'lines', m.msgid)) : null,
        vis: m.vis ?? 0, size: 0, uid: m.uid ?? null, redacts: m.command === 'REDACT' ? m.redacts : null,
      };
      row.size = rowSize(row);
      if (this.insert.run(row).changes > 0) {
        perVenue.set(m.venue, (perVenue.get(m.venue) ?? 0) + 1);
        bytes += row.size;
      }
    }
    return { perVenue, bytes };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  position(venue: string, msgid: string): Pos | undefined {
    return this.byMsgid.get(msgid, venue) as Pos | undefined;
  }

  /** #16: the row with this msgid (any venue: msgids are unique), without its content */
  find(msgid: string): StoredRef | undefined {
    const r = this.refStmt.get(msgid) as Pick<MessageRow, 'msgid' | 'venue' | 'time' | 'command' | 'source' | 'account' | 'uid' | 'vis' | 'redacted'> | undefined;
    if (!r) return undefined;
    const ref: StoredRef = { msgid: r.msgid, venue: r.venue, time: r.time, command: r.command, source: r.source, vis: r.vis, redacted: r.redacted !== 0 };
    if (r.account !== null) ref.account = r.account;
    if (r.uid !== null) ref.uid = r.uid;
    return ref;
  }

  /**
   * #16 (call inside a transaction): the content of message `msgid` (its text, client tags with
   * their signature, multiline lines) is deleted; the row stays, marked redacted, so a reference to
   * it keeps its place. secure_delete overwrites the freed bytes in the database file instead of
   * leaving them in free space. Returns the bytes the row no longer stores (history-max-bytes).
   */
  redactContent(msgid: string): number {
    const r = this.toRedact.get(msgid) as (Pick<MessageRow, 'id' | 'msgid' | 'venue' | 'command' | 'source' | 'account' | 'target' | 'uid' | 'redacts' | 'size'>) | undefined;
    if (!r) return 0;
    const size = rowSize({ ...r, body: null, tags: null, lines: null });
    const was = this.db.pragma('secure_delete', { simple: true }) as number;
    this.db.pragma('secure_delete = ON');
    try {
      this.blank.run(size, r.id);
    } finally {
      this.db.pragma(`secure_delete = ${was ? 'ON' : 'OFF'}`);
    }
    return r.size - size;
  }

  range(q: RangeQuery): StoredMessage[] {
    if (q.limit <= 0) return [];
    const params = {
      venue: q.venue, minTime: q.minTime, loT: q.lo.time, loI: q.lo.id, hiT: q.hi.time, hiI: q.hi.id, tagmsg: q.tagmsg ? 1 : 0,
      // #16: REDACT rows do not count toward the limit; up to `limit` of them come along
      redact: q.redact ? 1 : 0, limit: q.redact ? q.limit * 2 : q.limit,
      // SQLite integers: "never" is a time no row has
      restrictedSince: Math.min(q.restrictedSince ?? -1, Number.MAX_SAFE_INTEGER),
    };
    const stmt = q.fromEnd ? this.desc : this.asc;
    let rows: MessageRow[];
    if (q.maxBytes === undefined && !q.redact) {
      rows = stmt.all(params) as MessageRow[];
    } else {
      rows = [];
      let bytes = 0;
      let messages = 0;
      for (const r of stmt.iterate(params) as IterableIterator<MessageRow>) {
        // the read ends at the limit-th message: the REDACTs after it go with the next page
        if (messages >= q.limit) break; // returning from iterate() ends the statement
        if (q.maxBytes !== undefined && rows.length > 0 && bytes > q.maxBytes) { q.onMaxBytes?.(); break; }
        rows.push(r);
        if (r.command !== 'REDACT') messages++;
        // an under-estimate of the row's wire size (base64 → bytes; a multiline body is stored twice,
        // as text and as lines: count the lines), so the caller's exact cut always has the last word
        bytes += (((r.lines ?? r.body)?.length ?? 0) + (r.tags?.length ?? 0)) * 3 / 4;
      }
    }
    if (q.fromEnd) rows.reverse();
    return rows.map((r) => this.decode(r));
  }

  count(venue: string): number {
    return this.countVenue.get(venue) as number;
  }

  /** delete the venue's `n` oldest rows */
  deleteOldest(venue: string, n: number): DeletedRow[] {
    return this.deleteOldestStmt.all(venue, n) as DeletedRow[];
  }

  deleteOlderThan(time: number): DeletedRow[] {
    return this.deleteOlder.all(time) as DeletedRow[];
  }

  /**
   * #12 history-max-bytes: delete the fewest oldest rows of all venues whose sizes add up to at
   * least `bytes` (all rows if they add up to less).
   */
  evictOldest(bytes: number): DeletedRow[] {
    let sum = 0;
    let last: Pos | undefined;
    for (const r of this.oldestStmt.iterate() as IterableIterator<Pos & { size: number }>) {
      last = r;
      sum += r.size;
      if (sum >= bytes) break; // leaving the loop ends the statement
    }
    return last ? this.evictStmt.all({ time: last.time, id: last.id }) as DeletedRow[] : [];
  }

  /** the running byte total of all rows (kept in meta by history/writer.ts; migration 5 sets it first) */
  storedBytes(): number {
    const v = this.getBytes.get() as string | undefined;
    return v === undefined ? 0 : Number(v);
  }

  saveStoredBytes(n: number): void {
    this.setBytes.run(String(n));
  }

  /** venues with their latest message time in the open interval (lo, hi) */
  targets(venues: readonly string[], lo: number, hi: number, limit: number, newestFirst: boolean, minTime: number): { venue: string; latest: number }[] {
    if (venues.length === 0 || limit <= 0) return [];
    return (newestFirst ? this.targetsDesc : this.targetsAsc).all({ venues: JSON.stringify(venues), lo, hi, limit, minTime }) as { venue: string; latest: number }[];
  }

  /** DM venues (`dm:<a>,<b>`) one of whose two accounts is `did` */
  dmVenuesOf(did: string): string[] {
    return (this.dmVenues.all(did) as string[]).filter((v) => v.slice(3).split(',').includes(did));
  }

  private decode(r: MessageRow): StoredMessage {
    if (r.command === 'REDACT') {
      const x: StoredMessage = { msgid: r.msgid, time: r.time, command: 'REDACT', venue: r.venue, target: r.target, source: r.source, redacts: r.redacts ?? '' };
      if (r.account !== null) x.account = r.account;
      if (r.body !== null) x.text = this.cipher.decrypt(r.body, aadFor('messages', 'body', r.msgid));
      return x;
    }
    const m: StoredMessage = { msgid: r.msgid, time: r.time, command: r.command, venue: r.venue, target: r.target, source: r.source };
    if (r.account !== null) m.account = r.account;
    // a value that does not decrypt throws (DecryptError): never a placeholder
    if (r.body !== null) m.text = this.cipher.decrypt(r.body, aadFor('messages', 'body', r.msgid));
    if (r.tags !== null) m.clientTags = JSON.parse(this.cipher.decrypt(r.tags, aadFor('messages', 'tags', r.msgid))) as Record<string, string>;
    if (r.lines !== null) m.lines = JSON.parse(this.cipher.decrypt(r.lines, aadFor('messages', 'lines', r.msgid))) as StoredMessage['lines'];
    return m;
  }
}
