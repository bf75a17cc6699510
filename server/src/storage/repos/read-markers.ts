import type { ReadMarkerStore } from '../../history/types.js';
import type { Db } from '../db.js';

/**
 * draft/read-marker: the newest read time per (account, target); prepared statements only. The
 * stored time only moves forward (`MAX` in the upsert), whichever session writes it.
 */
export class SqliteReadMarkerRepo implements ReadMarkerStore {
  private readonly getStmt;
  private readonly upsert;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT time FROM read_markers WHERE account = ? AND target = ?').pluck();
    this.upsert = db.prepare(`INSERT INTO read_markers (account, target, time) VALUES (?, ?, ?)
      ON CONFLICT (account, target) DO UPDATE SET time = MAX(time, excluded.time)`);
  }

  get(account: string, target: string): number | undefined {
    return this.getStmt.get(account, target) as number | undefined;
  }

  /** store `time` if it is newer; returns the marker now stored */
  advance(account: string, target: string, time: number): number {
    this.upsert.run(account, target, time);
    return this.get(account, target)!;
  }
}
