import type { MessageRecord } from '../state/message-ops.js';
import type { RedactionRecord, StoredRef } from '../state/redact-ops.js';

/**
 * The history port: every delivered PRIVMSG / NOTICE / TAGMSG is offered here (commands/messaging.ts
 * and the multiline path). The implementation decides what to keep (retention, TAGMSG whitelist)
 * and writes off the hot path (batched transactions).
 */
export type StoredMessage = MessageRecord | RedactionRecord;

/** StoredMessage.vis bits: the channel was +s / +p / +i / +k when the message was said */
export const VIS_SECRET = 1;
export const VIS_PRIVATE = 2;
export const VIS_INVITE = 4;
export const VIS_KEY = 8;

/** The VIS_* bits of a channel's current modes. */
export function visOf(modes: { s: boolean; p: boolean; i: boolean; k?: string }): number {
  return (modes.s ? VIS_SECRET : 0) | (modes.p ? VIS_PRIVATE : 0) | (modes.i ? VIS_INVITE : 0) | (modes.k !== undefined ? VIS_KEY : 0);
}

export interface HistoryPort {
  /** offer a delivered message; true if it will be stored (a TAGMSG without a stored tag is not) */
  record(m: StoredMessage): boolean;
  /**
   * #12: settles once everything recorded so far is committed to the database: true, or false if
   * the write failed (the message was delivered but is not in history). The echo-message echo and
   * the labeled ACK wait for this, so an acknowledged message survives a crash right after.
   */
  committed(): Promise<boolean>;
}

/** A point in a venue's history: by msgid or by time (CHATHISTORY selectors). */
export type HistoryRef = { msgid: string } | { time: number };

/** Read options (an optional extension of the contract). */
export interface HistoryReadOptions {
  /** include stored TAGMSGs (reactions; draft/event-playback); default true */
  tagmsg?: boolean;
  /**
   * #16: include REDACT rows (draft/message-redaction clients); default false. They do not count
   * toward `limit` (IRCv3 message-redaction "Chat history"): up to `limit` of them come along.
   */
  redact?: boolean;
  /** #12: stop reading once this many stored bytes are taken (in the query's direction; at least one message) */
  maxBytes?: number;
  /** called when reading stopped at `maxBytes` while the range held more messages (REST history: has_more) */
  onMaxBytes?: () => void;
  /**
   * #12: a message said while the channel was restricted (vis ≠ 0) is returned only if it is
   * at least this recent (ms; the reader's join time under history-cutoff). A message of the
   * join's own millisecond is returned: it may have come just before the join, but leaving it out
   * would hide from a member what it said itself right after joining (a bot's JOIN, MODE +k,
   * PRIVMSG in one write). Infinity: never (anonymous REST readers); undefined: no such filter.
   */
  restrictedSince?: number;
  /** #12: no message older than this (ms) is returned (history-cutoff always: the reader's join time) */
  since?: number;
}

/** Read side, used by CHATHISTORY, replay on join and the REST API (history/store.ts). */
export interface HistoryReader {
  /** newest first is NOT assumed: results are always returned oldest → newest */
  latest(venue: string, limit: number, after?: HistoryRef, o?: HistoryReadOptions): StoredMessage[];
  before(venue: string, ref: HistoryRef, limit: number, o?: HistoryReadOptions): StoredMessage[];
  after(venue: string, ref: HistoryRef, limit: number, o?: HistoryReadOptions): StoredMessage[];
  around(venue: string, ref: HistoryRef, limit: number, o?: HistoryReadOptions): StoredMessage[];
  between(venue: string, start: HistoryRef, end: HistoryRef, limit: number, o?: HistoryReadOptions): StoredMessage[];
  /** venues (channels the caller may see / DM venues of `account`) with their latest message time, for TARGETS */
  targets(venues: string[], from: number, to: number, limit: number): { venue: string; latest: number }[];
  /** the DM venues (`dm:<a>,<b>`) that have history and include `account` */
  dmVenuesOf(account: string): string[];
  /** #16: the stored message with this msgid, without its content (REDACT's checks); reads wait for queued writes */
  find(msgid: string): StoredRef | undefined;
}

/**
 * draft/read-marker: the newest read time per (account, target), persisted for logged-in users
 * (MARKREAD, join). Implemented by storage/repos/read-markers.ts; the time only moves forward.
 */
export interface ReadMarkerStore {
  get(account: string, target: string): number | undefined;
  /** store `time` if it is newer; returns the marker now stored */
  advance(account: string, target: string, time: number): number;
}
