import type { Logger } from '../observability/log.js';
import { POS_MAX, POS_MIN, type Pos, type SqliteMessageRepo } from '../storage/repos/messages.js';
import { InlineWriter, type HistoryWriter } from './writer.js';
import type { HistoryPort, HistoryReadOptions, HistoryReader, HistoryRef, StoredMessage } from './types.js';

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

export interface HistoryStoreOptions {
  /** history-max-per-target: messages kept per venue (channel or DM pair) */
  maxPerTarget: number;
  /** history-max-age in ms; 0 keeps messages forever */
  maxAge: number;
  now(): number;
  log: Logger;
}

/**
 * The history store: the write side (HistoryPort) buffers offered messages and hands them to the
 * writer in batches (every BATCH_DELAY_MS), so the message path never waits on an insert;
 * the writer (history/writer.ts) encrypts and inserts them on its own thread, with retention by
 * count in the same transaction; retention by age runs on a periodic prune. The read side
 * (HistoryReader) hands over what is pending and waits for the writer first, so a query always
 * sees every message delivered before it.
 */
export class HistoryStore implements HistoryPort, HistoryReader {
  private pending: StoredMessage[] = [];
  private scheduled = false;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly pruneTimer?: NodeJS.Timeout;

  constructor(private readonly repo: SqliteMessageRepo, private readonly opts: HistoryStoreOptions, private readonly writer: HistoryWriter = new InlineWriter(repo, opts.maxPerTarget, opts.log)) {
    if (opts.maxAge > 0) {
      this.pruneExpired();
      // often enough that expired rows do not pile up, rarely enough to cost nothing
      const every = Math.min(3_600_000, Math.max(1000, Math.floor(opts.maxAge / 10)));
      this.pruneTimer = setInterval(() => this.pruneExpired(), every);
      this.pruneTimer.unref();
    }
  }

  // ---- write side ---------------------------------------------------------------------------

  record(m: StoredMessage): void {
    if (this.closed) return;
    if (m.command === 'TAGMSG' && !STORED_TAGMSG_TAGS.some((t) => m.clientTags?.[t] !== undefined)) return;
    this.pending.push(m);
    if (this.pending.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.timer = setTimeout(() => this.flush(), BATCH_DELAY_MS);
    }
  }

  /** Hand everything pending to the writer (one transaction). */
  flush(): void {
    if (this.scheduled) { clearTimeout(this.timer); this.scheduled = false; }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writer.write(batch);
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

  // ---- helpers ------------------------------------------------------------------------------

  private minTime(): number {
    return this.opts.maxAge > 0 ? this.opts.now() - this.opts.maxAge : 0;
  }

  private range(venue: string, lo: Pos, hi: Pos, limit: number, fromEnd: boolean, o?: ReadOptions): StoredMessage[] {
    if (limit <= 0) return [];
    this.sync();
    return this.repo.range({ venue, lo, hi, limit, fromEnd, minTime: this.minTime(), tagmsg: o?.tagmsg ?? true });
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
