import type { Db } from './db.js';
import { aadFor, ENCRYPTED_COLUMNS } from './crypto.js';

/**
 * #16: walks over whole tables in batches, for the operator tasks that touch every row (`db
 * rekey`, the first-start encryption of an old database, migrations that rewrite rows). Keyset
 * pagination by rowid: each batch starts with an index seek after the last rowid done, never a scan
 * from the start, and holds at most BATCH_ROWS rows (and, for the encrypted walk, BATCH_BYTES of
 * values) in memory, so memory stays the same whatever the size of the table.
 */
export const BATCH_ROWS = 1000;
export const BATCH_BYTES = 4 * 1024 * 1024;

/** where a walk stands: every row of `table` up to rowid `after` is done (and every earlier table) */
export interface WalkPosition { table: string; after: number }

export interface Advance { advance(rows: number): void }

/** the tables with encrypted columns, in ENCRYPTED_COLUMNS order, with their columns */
export const ENCRYPTED_TABLES: ReadonlyArray<{ table: string; rowKey: string; columns: readonly string[] }> = (() => {
  const out: Array<{ table: string; rowKey: string; columns: string[] }> = [];
  for (const c of ENCRYPTED_COLUMNS) {
    const t = out.find((x) => x.table === c.table);
    if (t) t.columns.push(c.column);
    else out.push({ table: c.table, rowKey: c.rowKey, columns: [c.column] });
  }
  return out;
})();

export function countRows(db: Db, table: string, after = Number.MIN_SAFE_INTEGER): number {
  return db.prepare(`SELECT count(*) FROM ${table} WHERE rowid > ?`).pluck().get(after) as number;
}

/**
 * Consecutive rowid ranges (lo exclusive, hi inclusive) of `table` that cover every row, each
 * holding at most `rows` rows; `fn` gets each range and how many rows it holds.
 */
export function forEachRowidRange(db: Db, table: string, fn: (lo: number, hi: number, rows: number) => void, rows = BATCH_ROWS): void {
  const next = db.prepare(`SELECT count(*) AS n, max(r) AS hi FROM (SELECT rowid AS r FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?)`);
  let lo = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const r = next.get(lo, rows) as { n: number; hi: number | null };
    if (r.n === 0 || r.hi === null) return;
    fn(lo, r.hi, r.n);
    lo = r.hi;
  }
}

/** rows an encrypted walk from `from` (default: the start) still has to visit */
export function countEncryptedRows(db: Db, from?: WalkPosition): number {
  const start = from ? ENCRYPTED_TABLES.findIndex((t) => t.table === from.table) : 0;
  let n = 0;
  ENCRYPTED_TABLES.forEach((t, i) => {
    if (i > start) n += countRows(db, t.table);
    else if (i === start) n += countRows(db, t.table, from?.after);
  });
  return n;
}

export interface RewriteOptions {
  /** continue from here (an interrupted rekey); default: the first row of the first table */
  from?: WalkPosition;
  /**
   * true: each batch commits in a transaction of its own, `onBatch` inside it; false: the caller
   * holds one transaction around the whole walk
   */
  ownTransactions: boolean;
  /** called inside each batch's transaction with the position reached (a rekey records it there) */
  onBatch?: (pos: WalkPosition) => void;
  progress?: Advance;
  batchRows?: number;
  batchBytes?: number;
}

type Row = Record<string, string | number | null> & { r: number; k: string };

/**
 * Every encrypted value of the database (ENCRYPTED_COLUMNS), batch by batch: `fn(value, aad)`
 * returns the new stored value, or undefined to leave it. Returns how many values changed.
 */
export function rewriteEncrypted(db: Db, fn: (value: string, aad: string) => string | undefined, opts: RewriteOptions): number {
  const maxRows = opts.batchRows ?? BATCH_ROWS;
  const maxBytes = opts.batchBytes ?? BATCH_BYTES;
  const start = opts.from ? ENCRYPTED_TABLES.findIndex((t) => t.table === opts.from!.table) : 0;
  if (start < 0) throw new Error(`unknown table in walk position: ${opts.from!.table}`);
  let changed = 0;
  for (let ti = start; ti < ENCRYPTED_TABLES.length; ti++) {
    const { table, rowKey, columns } = ENCRYPTED_TABLES[ti]!;
    const select = db.prepare(`SELECT rowid AS r, ${rowKey} AS k, ${columns.join(', ')} FROM ${table} WHERE rowid > ? ORDER BY rowid`);
    const update = db.prepare(`UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE rowid = ?`);
    let after = ti === start && opts.from ? opts.from.after : Number.MIN_SAFE_INTEGER;
    for (;;) {
      const batch: Row[] = [];
      let bytes = 0;
      for (const row of select.iterate(after) as IterableIterator<Row>) {
        batch.push(row);
        for (const c of columns) {
          const v = row[c];
          if (typeof v === 'string') bytes += v.length;
        }
        if (batch.length >= maxRows || bytes >= maxBytes) break; // ends the statement: the update below may run
      }
      if (batch.length === 0) break;
      const apply = (): void => {
        for (const row of batch) {
          let dirty = false;
          const values = columns.map((c) => {
            const v = row[c];
            if (typeof v !== 'string') return v;
            const next = fn(v, aadFor(table, c, row.k));
            if (next === undefined) return v;
            dirty = true;
            changed++;
            return next;
          });
          if (dirty) update.run(...values, row.r);
        }
        after = batch[batch.length - 1]!.r;
        opts.onBatch?.({ table, after });
      };
      if (opts.ownTransactions) db.transaction(apply)();
      else apply();
      opts.progress?.advance(batch.length);
    }
  }
  return changed;
}
