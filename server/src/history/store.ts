import type { Logger } from '../observability/log.js';
import { POS_MAX, POS_MIN, type Pos, type SqliteMessageRepo } from '../storage/repos/messages.js';
import { InlineWriter, type HistoryUsage, type HistoryWriter } from './writer.js';
import type { HistoryPort, HistoryReadOptions, HistoryReader, HistoryRef, StoredMessage } from './types.js';
import type { StoredRef } from '../state/redact-ops.js';

/**
 * H2: a TAGMSG is history only when it carries one of these client tags (reactions, as Ergo's
 * default whitelist); typing notifications and the like are never written.
 */
export const STORED_TAGMSG_TAGS: readonly string[] = ['+draft/react', '+react'];

type ReadOptions = HistoryReadOptions;

/**
 * Messages are handed to the writer at most this long after they were delivered, or sooner when
 * MAX_BATCH are waiting: each hand-over to the writer thread costs a postMessage (~20–40 µs), so
 * one per event-loop turn was ~40 µs per message in a busy channel (bench fanout profile). Reads
 * hand over what is pending first, so nobody can observe the delay.
 */
const BATCH_DELAY_MS = 10;
const MAX_BATCH = 1000;
/**
 * #12: when a sender waits for its message's commit (echo-message, labeled-response), the batch is
 * handed over sooner: at most this often (≤ 500 hand-overs/s, ~30 µs each), so a waiting sender
 * gets its echo ~2 ms + the insert after sending instead of up to BATCH_DELAY_MS.
 */
const ACK_BATCH_INTERVAL_MS = 2;
const COMMITTED: Promise<boolean> = Promise.resolve(true);

export interface HistoryStoreOptions {
  /** history-max-per-target: messages kept per venue (channel or DM pair) */
  maxPerTarget: number;
  /** history-max-age in ms; 0 keeps messages forever */
  maxAge: number;
  /** history-max-bytes (#12): stored bytes of all history; beyond, the oldest messages of any venue go */
  maxBytes: number;
  now(): number;
  log: Logger;
}

/**
 * The history store: the write side (HistoryPort) buffers offered messages and hands them to the
 * writer in batches (every BATCH_DELAY_MS), so the message path never waits on an insert;
 * the writer (history/writer.ts) encrypts and inserts them on its own thread, with retention by
 * count and by stored bytes (history-max-bytes, #12) in the same transaction; retention by age
 * runs on a periodic prune. A sender that must not be acknowledged before its message is stored
 * (echo-message, labeled-response: #12) waits for committed(). The read side (HistoryReader)
 * hands over what is pending and waits for the writer first, so a query always sees every
 * message delivered before it.
 */
export class HistoryStore implements HistoryPort, HistoryReader {
  private pending: StoredMessage[] = [];
  private scheduled = false;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly pruneTimer?: NodeJS.Timeout;
  /** a MAX_BATCH hand-over is queued for the end of this task (so committed() still finds the batch) */
  private flushQueued = false;
  /** someone waits for the pending batch's commit (committed()): settled by the writer */
  private ack?: { promise: Promise<boolean>; resolve: (ok: boolean) => void };
  /** the commit of the last batch handed over with a waiter */
  private lastAck: Promise<boolean> = COMMITTED;
  /** performance.now() of the last hand-over, and a hand-over queued for the end of this turn */
  private lastFlushAt = -Infinity;
  private immediate?: NodeJS.Immediate;

  constructor(private readonly repo: SqliteMessageRepo, private readonly opts: HistoryStoreOptions,
    private readonly writer: HistoryWriter = new InlineWriter(repo, { maxPerTarget: opts.maxPerTarget, maxBytes: opts.maxBytes }, opts.log)) {
    if (opts.maxAge > 0) {
      this.pruneExpired();
      // often enough that expired rows do not pile up, rarely enough to cost nothing
      const every = Math.min(3_600_000, Math.max(1000, Math.floor(opts.maxAge / 10)));
      this.pruneTimer = setInterval(() => this.pruneExpired(), every);
      this.pruneTimer.unref();
    }
  }

  // ---- write side ---------------------------------------------------------------------------

  record(m: StoredMessage): boolean {
    if (this.closed) return false;
    if (m.command === 'TAGMSG' && !STORED_TAGMSG_TAGS.some((t) => m.clientTags?.[t] !== undefined)) return false;
    this.pending.push(m);
    if (this.pending.length >= MAX_BATCH) {
      // at the end of this task, not now: the caller may still ask for this batch's commit
      if (!this.flushQueued) { this.flushQueued = true; queueMicrotask(() => { this.flushQueued = false; this.flush(); }); }
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.timer = setTimeout(() => this.flush(), BATCH_DELAY_MS);
    }
    return true;
  }

  /**
   * #12: settles when everything recorded so far is committed (false: the write failed). Only
   * a batch somebody waits for asks the writer thread for a report, so the message path pays
   * nothing when no echo or label waits.
   */
  committed(): Promise<boolean> {
    if (this.pending.length === 0) return this.lastAck;
    if (!this.ack) {
      let resolve!: (ok: boolean) => void;
      const promise = new Promise<boolean>((r) => { resolve = r; });
      this.ack = { promise, resolve };
      // a waiting sender does not wait out the batch delay: the batch goes at the end of this turn
      // (what else the turn records goes along), or ACK_BATCH_INTERVAL_MS after the last one, so
      // acknowledged traffic costs at most that many hand-overs (bench/echo-latency.mjs)
      const wait = this.lastFlushAt + ACK_BATCH_INTERVAL_MS - performance.now();
      if (wait <= 0) {
        this.immediate ??= setImmediate(() => { this.immediate = undefined; this.flush(); });
      } else if (!this.immediate) {
        if (this.scheduled) clearTimeout(this.timer);
        this.scheduled = true;
        this.timer = setTimeout(() => this.flush(), wait);
      }
    }
    return this.ack.promise;
  }

  /** Hand everything pending to the writer (one transaction). */
  flush(): void {
    if (this.scheduled) { clearTimeout(this.timer); this.scheduled = false; }
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = undefined; }
    if (this.pending.length === 0) return;
    this.lastFlushAt = performance.now();
    const batch = this.pending;
    this.pending = [];
    const ack = this.ack;
    this.ack = undefined;
    if (ack) this.lastAck = ack.promise;
    this.writer.write(batch, ack?.resolve);
  }

  /** #12: stored bytes and evictions by history-max-bytes (metrics) */
  usage(): HistoryUsage {
    return this.writer.usage();
  }

  /** before a read: everything recorded so far is committed */
  private sync(): void {
    this.flush();
    this.writer.sync();
  }

  /** Retention by age: delete what is older than history-max-age. */
  pruneExpired(): void {
    if (this.opts.maxAge <= 0 || this.closed) return;
    this.flush();
    this.writer.prune(this.opts.now() - this.opts.maxAge);
  }

  /** Flush and stop (before the database closes). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.writer.close();
  }

  // ---- read side ----------------------------------------------------------------------------

  latest(venue: string, limit: number, after?: HistoryRef, o?: ReadOptions): StoredMessage[] {
    const lo = after ? this.lower(venue, after) : POS_MIN;
    if (!lo) return [];
    return this.range(venue, lo, POS_MAX, limit, true, o);
  }

  before(venue: string, ref: HistoryRef, limit: number, o?: ReadOptions): StoredMessage[] {
    const hi = this.upper(venue, ref);
    return hi ? this.range(venue, POS_MIN, hi, limit, true, o) : [];
  }

  after(venue: string, ref: HistoryRef, limit: number, o?: ReadOptions): StoredMessage[] {
    const lo = this.lower(venue, ref);
    return lo ? this.range(venue, lo, POS_MAX, limit, false, o) : [];
  }

  /** About half before the reference, the rest from it on (a msgid reference itself is included). */
  around(venue: string, ref: HistoryRef, limit: number, o?: ReadOptions): StoredMessage[] {
    const pivot = this.point(venue, ref);
    if (!pivot) return [];
    const before = this.range(venue, POS_MIN, pivot, Math.floor(limit / 2), true, o);
    // (time, id) > (t, id - 1) ⇔ (time, id) ≥ pivot (ids are integers ≥ 1; a timestamp pivot has id 0)
    const from = { time: pivot.time, id: Math.max(0, pivot.id - 1) };
    return [...before, ...this.range(venue, from, POS_MAX, limit - before.length, false, o)];
  }

  /**
   * Strictly between the two references. The first one is the starting point: when it is the
   * older, the oldest `limit` messages after it; when it is the newer, the newest `limit` before
   * it. Results are oldest → newest either way.
   */
  between(venue: string, start: HistoryRef, end: HistoryRef, limit: number, o?: ReadOptions): StoredMessage[] {
    const s = this.point(venue, start);
    const e = this.point(venue, end);
    if (!s || !e) return [];
    if (cmp(s, e) <= 0) {
      const lo = this.lower(venue, start)!;
      const hi = this.upper(venue, end)!;
      return this.range(venue, lo, hi, limit, false, o);
    }
    const lo = this.lower(venue, end)!;
    const hi = this.upper(venue, start)!;
    return this.range(venue, lo, hi, limit, true, o);
  }

  /** Latest message time per venue in the open interval between `from` and `to`; from > to lists newest first. */
  targets(venues: string[], from: number, to: number, limit: number): { venue: string; latest: number }[] {
    this.sync();
    return this.repo.targets(venues, Math.min(from, to), Math.max(from, to), limit, from > to, this.minTime());
  }

  /** DM venues that include `account` (for CHATHISTORY TARGETS) */
  dmVenuesOf(account: string): string[] {
    this.sync();
    return this.repo.dmVenuesOf(account);
  }

  /**
   * #16 REDACT: the message with this msgid, without its content. Like every read it hands over
   * what is pending and waits for the writer, so a message delivered a moment ago is found; the
   * redaction it leads to is then queued behind it (record), in the same writer order.
   */
  find(msgid: string): StoredRef | undefined {
    if (this.closed) return undefined;
    this.sync();
    const r = this.repo.find(msgid);
    // past history-max-age, not yet pruned: as good as gone
    return r && r.time >= this.minTime() ? r : undefined;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private minTime(): number {
    return this.opts.maxAge > 0 ? this.opts.now() - this.opts.maxAge : 0;
  }

  private range(venue: string, lo: Pos, hi: Pos, limit: number, fromEnd: boolean, o?: ReadOptions): StoredMessage[] {
    if (limit <= 0) return [];
    this.sync();
    return this.repo.range({
      venue, lo, hi, limit, fromEnd, minTime: Math.max(this.minTime(), o?.since ?? 0), tagmsg: o?.tagmsg ?? true, redact: o?.redact ?? false, maxBytes: o?.maxBytes, onMaxBytes: o?.onMaxBytes, restrictedSince: o?.restrictedSince,
    });
  }

  /** the reference as a position: a msgid's row (undefined if not in this venue), a timestamp before any row of its millisecond */
  private point(venue: string, ref: HistoryRef): Pos | undefined {
    if ('msgid' in ref) {
      this.sync();
      return this.repo.position(venue, ref.msgid);
    }
    return { time: ref.time, id: 0 };
  }

  /** exclusive lower bound: after the message / after everything at that timestamp */
  private lower(venue: string, ref: HistoryRef): Pos | undefined {
    return 'msgid' in ref ? this.point(venue, ref) : { time: ref.time, id: Number.MAX_SAFE_INTEGER };
  }

  /** exclusive upper bound: before the message / before everything at that timestamp */
  private upper(venue: string, ref: HistoryRef): Pos | undefined {
    return 'msgid' in ref ? this.point(venue, ref) : { time: ref.time, id: 0 };
  }
}

const cmp = (a: Pos, b: Pos): number => a.time - b.time || a.id - b.id;
