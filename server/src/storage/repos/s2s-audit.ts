import type { Db } from '../db.js';
import { aadFor, type FieldCipher } from '../crypto.js';
import type { AuditRecord } from '../../federation/audit.js';

/**
 * The federation audit log (#14; migration 10): every envelope whose signature verified, applied
 * or refused. Rows are queued and written together (one transaction per event-loop turn or per
 * 500 rows), the envelope encrypted like message bodies. Bounded twice: beyond `maxRows` rows or
 * `maxBytes` of stored envelopes the oldest go (an allowed peer can send 1 MiB frames: the row
 * count alone would let it fill the disk).
 */
export class SqliteS2sAudit {
  private queue: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  private sincePrune = 0;
  private readonly insert;
  private readonly prune;
  private readonly listStmt;
  private readonly writeAll: (rows: AuditRecord[]) => void;
  /** stored bytes of every envelope column (kept in step with inserts and deletes) */
  private bytes: number;
  private readonly oldest;
  private readonly sum;
  private readonly delUpTo;

  constructor(db: Db, private readonly cipher: FieldCipher, private readonly maxRows: number, private readonly maxBytes: number, private readonly onError: (err: unknown) => void) {
    this.sum = db.prepare('SELECT COALESCE(SUM(LENGTH(envelope)), 0) FROM s2s_audit').pluck();
    this.bytes = this.sum.get() as number;
    this.oldest = db.prepare('SELECT rowid, LENGTH(envelope) AS n FROM s2s_audit ORDER BY rowid LIMIT 500');
    this.delUpTo = db.prepare('DELETE FROM s2s_audit WHERE rowid <= ?');
    this.insert = db.prepare(`INSERT INTO s2s_audit (ref, received_at, via, origin, seq, hlc, kind, outcome, reason, envelope)
      VALUES (@ref, @at, @via, @origin, @seq, @hlc, @kind, @outcome, @reason, @envelope)`);
    this.prune = db.prepare('DELETE FROM s2s_audit WHERE rowid <= (SELECT MAX(rowid) FROM s2s_audit) - ?');
    this.listStmt = db.prepare('SELECT * FROM s2s_audit ORDER BY rowid DESC LIMIT ?');
    this.writeAll = db.transaction((rows: AuditRecord[]) => {
      for (const r of rows) {
        const ref = `${r.at}.${(++this.n).toString(36)}.${r.origin.slice(0, 8)}`;
        const envelope = this.cipher.encrypt(r.envelope, aadFor('s2s_audit', 'envelope', ref));
        this.insert.run({ ...r, ref, reason: r.reason ?? null, envelope });
        this.bytes += envelope.length;
      }
    });
  }

  record(r: AuditRecord): void {
    if (this.maxRows === 0) return;
    this.queue.push(r);
    if (this.queue.length >= 500) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 50);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.queue;
    if (rows.length === 0) return;
    this.queue = [];
    try {
      this.writeAll(rows);
      this.sincePrune += rows.length;
      if (this.sincePrune >= Math.max(100, this.maxRows / 10)) {
        this.sincePrune = 0;
        if (this.prune.run(this.maxRows).changes > 0) this.bytes = this.sum.get() as number;
      }
      // over the byte budget: the oldest rows go until a tenth of it is free again
      while (this.bytes > this.maxBytes) {
        const rows = this.oldest.all() as Array<{ rowid: number; n: number }>;
        if (rows.length === 0) { this.bytes = 0; break; }
        let last = 0;
        for (const r of rows) {
          last = r.rowid;
          this.bytes -= r.n;
          if (this.bytes <= this.maxBytes * 0.9) break;
        }
        this.delUpTo.run(last);
      }
    } catch (err) {
      this.onError(err);
    }
  }

  /** the newest rows, decrypted (tests, inspection) */
  latest(limit = 100): AuditRecord[] {
    this.flush();
    return (this.listStmt.all(limit) as Array<Record<string, unknown>>).map((r) => ({
      at: r.received_at as number, via: r.via as string, origin: r.origin as string, seq: r.seq as number, hlc: r.hlc as string,
      kind: r.kind as string, outcome: r.outcome as 'applied' | 'refused', ...(r.reason !== null ? { reason: r.reason as string } : {}),
      envelope: this.cipher.decrypt(r.envelope as string, aadFor('s2s_audit', 'envelope', r.ref as string)),
    }));
  }

  close(): void {
    this.flush();
  }
}
