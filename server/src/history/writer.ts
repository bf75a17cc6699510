/**
 * The write side of message history: batches of messages in, one transaction per batch,
 * retention by count in that same transaction, retention by age on request.
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
import type { SqliteMessageRepo } from '../storage/repos/messages.js';
import type { StoredMessage } from './types.js';

export interface HistoryWriter {
  /** queue a batch (written in one transaction) */
  write(batch: StoredMessage[]): void;
  /** return once every batch queued so far is committed (readers call this first) */
  sync(): void;
  /** delete messages older than `minTime` */
  prune(minTime: number): void;
  close(): void;
}

/** Retention by count: rows per venue known since the venue was first written this run. */
export class RetentionCounts {
  private readonly counts = new Map<string, number>();
  constructor(private readonly maxPerTarget: number) {}

  /** insert the batch and trim each venue it touched (call inside a transaction) */
  apply(repo: SqliteMessageRepo, batch: readonly StoredMessage[]): void {
    const added = repo.insertMany(batch);
    for (const [venue, n] of added) {
      let count = this.counts.get(venue);
      count = count === undefined ? repo.count(venue) : count + n;
      if (count > this.maxPerTarget) {
        repo.deleteOldest(venue, count - this.maxPerTarget);
        count = this.maxPerTarget;
      }
      this.counts.set(venue, count);
    }
  }

  clear(): void { this.counts.clear(); }
}

export class InlineWriter implements HistoryWriter {
  private readonly retention: RetentionCounts;
  constructor(private readonly repo: SqliteMessageRepo, maxPerTarget: number, private readonly log: Logger) {
    this.retention = new RetentionCounts(maxPerTarget);
  }

  write(batch: StoredMessage[]): void {
    try {
      this.repo.transaction(() => this.retention.apply(this.repo, batch));
    } catch (e) {
      // a failed write must not take the message path down; the counts may be stale now
      this.retention.clear();
      this.log.error({ err: e, messages: batch.length }, 'history write failed');
    }
  }

  sync(): void {}

  prune(minTime: number): void {
    try {
      const n = this.repo.deleteOlderThan(minTime);
      if (n > 0) {
        this.retention.clear();
        this.log.debug({ deleted: n }, 'history pruned by age');
      }
    } catch (e) {
      this.log.error({ err: e }, 'history prune failed');
    }
  }

  close(): void {}
}

/** state words shared with the thread */
const COMMITTED = 0;
const CLOSED = 1;
/** how long a reader waits for the thread before it reads what is there (it never should) */
const SYNC_TIMEOUT_MS = 5000;

export interface WorkerInit {
  dbPath: string;
  key: Uint8Array;
  maxPerTarget: number;
  state: SharedArrayBuffer;
}

export type WorkerRequest =
  /** msgs: JSON of StoredMessage[] (a string clones as one copy; structured clone of the objects cost ~15 µs each) */
  | { t: 'batch'; seq: number; msgs: string }
  | { t: 'prune'; seq: number; minTime: number }
  | { t: 'close'; seq: number };

export type WorkerReport = { t: 'ready' } | { t: 'error'; what: string; message: string; messages?: number } | { t: 'pruned'; deleted: number };

export class ThreadWriter implements HistoryWriter {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private posted = 0;
  /** the thread is gone: write inline from now on */
  private fallback?: InlineWriter;
  private closed = false;

  /**
   * Start the thread and wait until it has loaded and opened its connection (a reader's
   * synchronous wait must never be the thing that keeps the thread from starting).
   */
  static async start(dbPath: string, cipher: FieldCipher, repo: SqliteMessageRepo, maxPerTarget: number, log: Logger): Promise<ThreadWriter> {
    const w = new ThreadWriter(dbPath, cipher, repo, maxPerTarget, log);
    await new Promise<void>((resolve) => {
      const done = () => { w.worker.off('message', onMsg); resolve(); };
      const onMsg = (r: WorkerReport) => { if (r.t === 'ready') done(); };
      w.worker.on('message', onMsg);
      w.worker.once('error', done);
      w.worker.once('exit', done);
    });
    return w;
  }

  private constructor(dbPath: string, cipher: FieldCipher, private readonly repo: SqliteMessageRepo, private readonly maxPerTarget: number, private readonly log: Logger) {
    const init: WorkerInit = { dbPath, key: cipher.keyForWorker(), maxPerTarget, state: this.state.buffer as SharedArrayBuffer };
    this.worker = startWorker('writer-worker', import.meta.url, { workerData: init });
    this.worker.unref();
    this.worker.on('message', (r: WorkerReport) => {
      if (r.t === 'error') this.log.error({ err: { message: r.message }, messages: r.messages }, `history ${r.what} failed`);
      else if (r.t === 'pruned') this.log.debug({ deleted: r.deleted }, 'history pruned by age');
    });
    this.worker.on('error', (e) => this.lost(e));
    this.worker.on('exit', (code) => { if (!this.closed) this.lost(new Error(`history writer exited with code ${code}`)); });
  }

  /** false once the thread is gone and writes happen inline */
  get threaded(): boolean { return this.fallback === undefined; }

  private lost(e: unknown): void {
    if (this.fallback) return;
    this.log.error({ err: e }, 'history writer thread failed; writing history on the main thread');
    this.fallback = new InlineWriter(this.repo, this.maxPerTarget, this.log);
  }

  write(batch: StoredMessage[]): void {
    if (this.fallback) { this.fallback.write(batch); return; }
    this.worker.postMessage({ t: 'batch', seq: ++this.posted, msgs: JSON.stringify(batch) } satisfies WorkerRequest);
  }

  prune(minTime: number): void {
    if (this.fallback) { this.fallback.prune(minTime); return; }
    this.worker.postMessage({ t: 'prune', seq: ++this.posted, minTime } satisfies WorkerRequest);
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
    void this.worker.terminate();
  }
}
