import type { Db } from '../db.js';
import { aadFor, type FieldCipher } from '../crypto.js';

/** One federated envelope as the audit log keeps it (federation/peers.ts AuditRecord's shape). */
export interface S2sAuditRecord {
  at: number;
  /** the peer it came through */
  via: string;
  origin: string;
  seq: number;
  hlc: string;
  kind: string;
  outcome: 'applied' | 'refused';
  reason?: string;
  /** the envelope as received (JSON), its signature included */
  envelope: string;
}

/**
 * The federation audit log (#14; migration 10): every envelope whose signature verified, applied
 * or refused. Rows are queued and written together (one transaction per event-loop turn or per
 * 500 rows), the envelope encrypted like message bodies; beyond `maxRows` the oldest go.
 */
export class SqliteS2sAudit {
  private queue: S2sAuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  private sincePrune = 0;
  private readonly insert;
  private readonly prune;
  private readonly listStmt;
  private readonly writeAll: (rows: S2sAuditRecord[]) => void;

  constructor(db: Db, private readonly cipher: FieldCipher, private readonly maxRows: number, private readonly onError: (err: unknown) => void) {
    this.insert = db.prepare(`INSERT INTO s2s_audit (ref, received_at, via, origin, seq, hlc, kind, outcome, reason, envelope)
      VALUES (@ref, @at, @via, @origin, @seq, @hlc, @kind, @outcome, @reason, @envelope)`);
    this.prune = db.prepare('DELETE FROM s2s_audit WHERE rowid <= (SELECT MAX(rowid) FROM s2s_audit) - ?');
    this.listStmt = db.prepare('SELECT * FROM s2s_audit ORDER BY rowid DESC LIMIT ?');
    this.writeAll = db.transaction((rows: S2sAuditRecord[]) => {
      for (const r of rows) {
        const ref = `${r.at}.${(++this.n).toString(36)}.${r.origin.slice(0, 8)}`;
        this.insert.run({ ...r, ref, reason: r.reason ?? null, envelope: this.cipher.encrypt(r.envelope, aadFor('s2s_audit', 'envelope', ref)) });
      }
    });
  }

  record(r: S2sAuditRecord): void {
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
        this.prune.run(this.maxRows);
      }
    } catch (err) {
      this.onError(err);
    }
  }

  /** the newest rows, decrypted (tests, inspection) */
  latest(limit = 100): S2sAuditRecord[] {
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
