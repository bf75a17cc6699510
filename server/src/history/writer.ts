/**
 * The write side of message history: batches of messages in, one transaction per batch,
 * retention by count and by stored bytes in that same transaction, retention by age on request.
 *
 * Two implementations. `ThreadWriter` (the server's) does the encryption and the inserts on a
 * worker thread with its own SQLite connection (WAL: readers on the main connection see every
 * committed batch), so a busy channel costs the event loop only a postMessage per turn: inline,
 * AES-GCM plus the insert were ~60–110 µs of main-thread time per message (bench fanout
 * profile), a ceiling of roughly 10,000 messages/s before any delivery work. `InlineWriter` does
 * the same work on the calling thread (`:memory:` databases, and the fallback if the thread dies).
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/log.js';
import { startWorker } from '../util/worker.js';
import type { FieldCipher } from '../storage/crypto.js';
import type { DeletedRow, SqliteMessageRepo } from '../storage/repos/messages.js';
import type { StoredMessage } from './types.js';

/** #12: what history occupies, for the freeq_history_bytes / freeq_history_evicted_total metrics */
export interface HistoryUsage {
  /** stored bytes of all rows (storage/repos/messages.ts ROW_OVERHEAD says what counts) */
  bytes: number;
  /** messages deleted by history-max-bytes since the server started */
  evicted: number;
}

export interface HistoryWriter {
  /** queue a batch (written in one transaction); `done` runs once it committed (true) or failed (false) */
  write(batch: StoredMessage[], done?: (ok: boolean) => void): void;
  /** return once every batch queued so far is committed (readers call this first) */
  sync(): void;
  /** delete messages older than `minTime` */
  prune(minTime: number): void;
  usage(): HistoryUsage;
  close(): void;
}

export interface RetentionLimits {
  /** history-max-per-target */
  maxPerTarget: number;
  /** history-max-bytes (#12) */
  maxBytes: number;
}

/**
 * Retention by count and by bytes. Rows per venue are known since the venue was first written
 * this run; the byte total of all rows is kept in meta (`history_bytes`, written in each batch's
 * transaction, so it never drifts from the table). Every deletion returns its rows' venue and
 * size, so both stay exact whatever deleted them (count, age or bytes).
 */
export class HistoryLedger {
  private readonly counts = new Map<string, number>();
  private bytes: number;
  evicted = 0;

  constructor(private readonly repo: SqliteMessageRepo, private readonly limits: RetentionLimits) {
    this.bytes = repo.storedBytes();
  }

  get storedBytes(): number { return this.bytes; }

  /** insert the batch, trim each venue it touched, then evict oldest-first while over the byte cap (one transaction) */
  write(batch: readonly StoredMessage[]): void {
    this.atomically(() => {
      const { perVenue, bytes } = this.repo.insertMany(batch);
      this.bytes += bytes;
      for (const [venue, n] of perVenue) {
        const known = this.counts.get(venue);
        const count = known === undefined ? this.repo.count(venue) : known + n;
        this.counts.set(venue, count);
        if (count > this.limits.maxPerTarget) this.deleted(this.repo.deleteOldest(venue, count - this.limits.maxPerTarget));
      }
      this.evictOverCap();
    });
  }

  /** retention by age; returns how many rows went */
  prune(minTime: number): number {
    let n = 0;
    this.atomically(() => { n = this.deleted(this.repo.deleteOlderThan(minTime)); });
    return n;
  }

  /** #12 history-max-bytes: the oldest messages of all venues go first, just enough for the total to fit. */
  private evictOverCap(): void {
    while (this.bytes > this.limits.maxBytes) {
      const rows = this.repo.evictOldest(this.bytes - this.limits.maxBytes);
      if (rows.length === 0) { this.bytes = 0; break; } // nothing left to count
      this.deleted(rows, true);
    }
  }

  /** account for deleted rows (`evicted`: by the byte cap); returns how many */
  private deleted(rows: readonly DeletedRow[], evicted = false): number {
    let freed = 0;
    for (const r of rows) {
      freed += r.size;
      const c = this.counts.get(r.venue);
      if (c !== undefined) this.counts.set(r.venue, c - 1);
    }
    this.bytes = Math.max(0, this.bytes - freed);
    if (evicted) this.evicted += rows.length;
    return rows.length;
  }

  /** run `fn` and save the byte total in one transaction; on failure, forget what it changed */
  private atomically(fn: () => void): void {
    const evicted = this.evicted;
    try {
      this.repo.transaction(() => {
        fn();
        this.repo.saveStoredBytes(this.bytes);
      });
    } catch (e) {
      // rolled back: the counts may be stale and the total is what the database still says
      this.counts.clear();
      this.evicted = evicted;
      try { this.bytes = this.repo.storedBytes(); } catch { /* keep the estimate */ }
      throw e;
    }
  }
}

export class InlineWriter implements HistoryWriter {
  private readonly ledger: HistoryLedger;
  constructor(private readonly repo: SqliteMessageRepo, limits: RetentionLimits, private readonly log: Logger, evictedSoFar = 0) {
    this.ledger = new HistoryLedger(repo, limits);
    this.ledger.evicted = evictedSoFar;
  }

  write(batch: StoredMessage[], done?: (ok: boolean) => void): void {
    let ok = true;
    try {
      this.ledger.write(batch);
    } catch (e) {
      // a failed write must not take the message path down
      ok = false;
      this.log.error({ err: e, messages: batch.length }, 'history write failed');
    }
    done?.(ok);
  }

  sync(): void {}

  prune(minTime: number): void {
    try {
      const n = this.ledger.prune(minTime);
      if (n > 0) this.log.debug({ deleted: n }, 'history pruned by age');
    } catch (e) {
      this.log.error({ err: e }, 'history prune failed');
    }
  }

  usage(): HistoryUsage { return { bytes: this.ledger.storedBytes, evicted: this.ledger.evicted }; }

  close(): void {}
}

/** state words shared with the thread */
const COMMITTED = 0;
const CLOSED = 1;
/** the last batch whose write failed (COMMITTED counts it as handled too) */
export const LAST_FAILED = 2;
/** usage words shared with the thread (BigInt64Array): stored bytes, evicted messages */
const USAGE_BYTES = 0;
const USAGE_EVICTED = 1;
/** how long a reader waits for the thread before it reads what is there (it never should) */
const SYNC_TIMEOUT_MS = 5000;

export interface WorkerInit {
  dbPath: string;
  key: Uint8Array;
  limits: RetentionLimits;
  state: SharedArrayBuffer;
  usage: SharedArrayBuffer;
}

export type WorkerRequest =
  /**
   * msgs: JSON of StoredMessage[] (a string clones as one copy; structured clone of the objects
   * cost ~15 µs each); ack: report `committed` for this batch (someone waits for it, #12)
   */
  | { t: 'batch'; seq: number; msgs: string; ack?: true }
  | { t: 'prune'; seq: number; minTime: number }
  | { t: 'close'; seq: number };

export type WorkerReport =
  | { t: 'ready' }
  | { t: 'error'; what: string; message: string; messages?: number }
  | { t: 'pruned'; deleted: number }
  | { t: 'committed'; seq: number; ok: boolean };

/** Publish the thread's ledger figures where the main thread reads them (usage()). */
export function publishUsage(usage: BigInt64Array, ledger: HistoryLedger): void {
  Atomics.store(usage, USAGE_BYTES, BigInt(ledger.storedBytes));
  Atomics.store(usage, USAGE_EVICTED, BigInt(ledger.evicted));
}

export class ThreadWriter implements HistoryWriter {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private readonly usageWords = new BigInt64Array(new SharedArrayBuffer(16));
  private posted = 0;
  /** batches someone waits for (HistoryStore.committed), by seq */
  private readonly acks = new Map<number, (ok: boolean) => void>();
  /** the thread is gone: write inline from now on */
  private fallback?: InlineWriter;
  private closed = false;

  /**
   * Start the thread and wait until it has loaded and opened its connection (a reader's
   * synchronous wait must never be the thing that keeps the thread from starting).
   */
  static async start(dbPath: string, cipher: FieldCipher, repo: SqliteMessageRepo, limits: RetentionLimits, log: Logger): Promise<ThreadWriter> {
    const w = new ThreadWriter(dbPath, cipher, repo, limits, log);
    await new Promise<void>((resolve) => {
      const done = () => { w.worker.off('message', onMsg); resolve(); };
      const onMsg = (r: WorkerReport) => { if (r.t === 'ready') done(); };
      w.worker.on('message', onMsg);
      w.worker.once('error', done);
      w.worker.once('exit', done);
    });
    return w;
  }

  private constructor(dbPath: string, cipher: FieldCipher, private readonly repo: SqliteMessageRepo, private readonly limits: RetentionLimits, private readonly log: Logger) {
    const init: WorkerInit = {
      dbPath, key: cipher.keyForWorker(), limits, state: this.state.buffer, usage: this.usageWords.buffer,
    };
    this.worker = startWorker('writer-worker', import.meta.url, { workerData: init });
    this.worker.unref();
    this.worker.on('message', (r: WorkerReport) => {
      if (r.t === 'committed') this.settle(r.seq, r.ok);
      else if (r.t === 'error') this.log.error({ err: { message: r.message }, messages: r.messages }, `history ${r.what} failed`);
      else if (r.t === 'pruned') this.log.debug({ deleted: r.deleted }, 'history pruned by age');
    });
    this.worker.on('error', (e) => this.lost(e));
    this.worker.on('exit', (code) => { if (!this.closed) this.lost(new Error(`history writer exited with code ${code}`)); });
  }

  /** false once the thread is gone and writes happen inline */
  get threaded(): boolean { return this.fallback === undefined; }

  private settle(seq: number, ok: boolean): void {
    const done = this.acks.get(seq);
    if (!done) return;
    this.acks.delete(seq);
    done(ok);
  }

  /** settle every waiting batch: those the thread committed as committed, the rest as failed */
  private settleAll(): void {
    const committed = Atomics.load(this.state, COMMITTED);
    const failed = Atomics.load(this.state, LAST_FAILED);
    // a batch whose report is still on its way: handled by the thread, and not the last that failed
    // (only at shutdown or when the thread died; two failed batches both unreported at that moment
    // would count the earlier as stored)
    for (const seq of [...this.acks.keys()]) this.settle(seq, seq <= committed && seq !== failed);
  }

  private lost(e: unknown): void {
    if (this.fallback) return;
    this.log.error({ err: e }, 'history writer thread failed; writing history on the main thread');
    // batches the thread did not report may or may not be written: their senders hear "not stored"
    this.settleAll();
    this.fallback = new InlineWriter(this.repo, this.limits, this.log, Number(Atomics.load(this.usageWords, USAGE_EVICTED)));
  }

  write(batch: StoredMessage[], done?: (ok: boolean) => void): void {
    if (this.fallback) { this.fallback.write(batch, done); return; }
    const seq = ++this.posted;
    if (done) this.acks.set(seq, done);
    this.worker.postMessage({ t: 'batch', seq, msgs: JSON.stringify(batch), ...(done ? { ack: true as const } : {}) } satisfies WorkerRequest);
  }

  prune(minTime: number): void {
    if (this.fallback) { this.fallback.prune(minTime); return; }
    this.worker.postMessage({ t: 'prune', seq: ++this.posted, minTime } satisfies WorkerRequest);
  }

  usage(): HistoryUsage {
    if (this.fallback) return this.fallback.usage();
    return { bytes: Number(Atomics.load(this.usageWords, USAGE_BYTES)), evicted: Number(Atomics.load(this.usageWords, USAGE_EVICTED)) };
  }

  sync(): void {
    if (this.fallback) return;
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(this.state, COMMITTED);
      if (done >= this.posted) return;
      const left = deadline - Date.now();
      if (left <= 0) { this.log.warn({ posted: this.posted, committed: done }, 'history writer is behind; reading without its last batches'); return; }
      Atomics.wait(this.state, COMMITTED, done, left);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fallback) return;
    this.worker.postMessage({ t: 'close', seq: ++this.posted } satisfies WorkerRequest);
    // the thread writes what is queued and closes its connection before the main one closes
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    while (Atomics.load(this.state, CLOSED) === 0 && Date.now() < deadline) Atomics.wait(this.state, CLOSED, 0, deadline - Date.now());
    // its `committed` reports would arrive after the connection is gone: settle from the counter
    this.settleAll();
    void this.worker.terminate();
  }
}
