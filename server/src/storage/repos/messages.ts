import type { StoredMessage } from '../../history/types.js';
import type { Db } from '../db.js';
import { aadFor, type FieldCipher } from '../crypto.js';

interface MessageRow {
  id: number; msgid: string; venue: string; time: number; command: StoredMessage['command']; source: string;
  account: string | null; target: string; body: string | null; tags: string | null; lines: string | null;
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
  private readonly targetsAsc;
  private readonly targetsDesc;
  private readonly dmVenues;

  constructor(private readonly db: Db, private readonly cipher: FieldCipher) {
    this.insert = db.prepare(`INSERT OR IGNORE INTO messages (msgid, venue, time, command, source, account, target, body, tags, lines)
      VALUES (@msgid, @venue, @time, @command, @source, @account, @target, @body, @tags, @lines)`);
    this.byMsgid = db.prepare('SELECT time, id FROM messages WHERE msgid = ? AND venue = ?');
    const range = `SELECT * FROM messages WHERE venue = @venue AND time >= @minTime
      AND (time, id) > (@loT, @loI) AND (time, id) < (@hiT, @hiI) AND (@tagmsg = 1 OR command <> 'TAGMSG')`;
    this.asc = db.prepare(`${range} ORDER BY time ASC, id ASC LIMIT @limit`);
    this.desc = db.prepare(`${range} ORDER BY time DESC, id DESC LIMIT @limit`);
    this.countVenue = db.prepare('SELECT COUNT(*) AS n FROM messages WHERE venue = ?').pluck();
    this.deleteOldestStmt = db.prepare(`DELETE FROM messages WHERE id IN
      (SELECT id FROM messages WHERE venue = ? ORDER BY time ASC, id ASC LIMIT ?)`);
    this.deleteOlder = db.prepare('DELETE FROM messages WHERE time < ?');
    const targets = `SELECT venue, MAX(time) AS latest FROM messages
      WHERE venue IN (SELECT value FROM json_each(@venues)) AND time > @lo AND time < @hi AND time >= @minTime GROUP BY venue`;
    this.targetsAsc = db.prepare(`${targets} ORDER BY latest ASC, venue ASC LIMIT @limit`);
    this.targetsDesc = db.prepare(`${targets} ORDER BY latest DESC, venue ASC LIMIT @limit`);
    this.dmVenues = db.prepare(`SELECT DISTINCT venue FROM messages WHERE venue >= 'dm:' AND venue < 'dm;' AND instr(venue, ?) > 0`).pluck();
  }

  /** Insert a batch in one transaction; returns how many rows were added per venue (duplicates by msgid are ignored). */
  insertMany(msgs: readonly StoredMessage[]): Map<string, number> {
    const added = new Map<string, number>();
    for (const m of msgs) {
      const r = this.insert.run({
        msgid: m.msgid, venue: m.venue, time: m.time, command: m.command, source: m.source, account: m.account ?? null, target: m.target,
        body: this.cipher.encryptOpt(m.text, aadFor('messages', 'body', m.msgid)),
        tags: m.clientTags && Object.keys(m.clientTags).length > 0 ? this.cipher.encrypt(JSON.stringify(m.clientTags), aadFor('messages', 'tags', m.msgid)) : null,
        lines: m.lines ? this.cipher.encrypt(JSON.stringify(m.lines), aadFor('messages', 'lines', m.msgid)) : null,
      });
      if (r.changes > 0) added.set(m.venue, (added.get(m.venue) ?? 0) + 1);
    }
    return added;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  position(venue: string, msgid: string): Pos | undefined {
    return this.byMsgid.get(msgid, venue) as Pos | undefined;
  }

  range(q: RangeQuery): StoredMessage[] {
    if (q.limit <= 0) return [];
    const params = { venue: q.venue, minTime: q.minTime, loT: q.lo.time, loI: q.lo.id, hiT: q.hi.time, hiI: q.hi.id, tagmsg: q.tagmsg ? 1 : 0, limit: q.limit };
    const rows = (q.fromEnd ? this.desc : this.asc).all(params) as MessageRow[];
    if (q.fromEnd) rows.reverse();
    return rows.map((r) => this.decode(r));
  }

  count(venue: string): number {
    return this.countVenue.get(venue) as number;
  }

  deleteOldest(venue: string, n: number): number {
    return this.deleteOldestStmt.run(venue, n).changes;
  }

  deleteOlderThan(time: number): number {
    return this.deleteOlder.run(time).changes;
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
    const m: StoredMessage = { msgid: r.msgid, time: r.time, command: r.command, venue: r.venue, target: r.target, source: r.source };
    if (r.account !== null) m.account = r.account;
    // a value that does not decrypt throws (DecryptError): never a placeholder
    if (r.body !== null) m.text = this.cipher.decrypt(r.body, aadFor('messages', 'body', r.msgid));
    if (r.tags !== null) m.clientTags = JSON.parse(this.cipher.decrypt(r.tags, aadFor('messages', 'tags', r.msgid))) as Record<string, string>;
    if (r.lines !== null) m.lines = JSON.parse(this.cipher.decrypt(r.lines, aadFor('messages', 'lines', r.msgid))) as StoredMessage['lines'];
    return m;
  }
}
