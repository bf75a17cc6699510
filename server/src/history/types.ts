/**
 * The history port: every delivered PRIVMSG / NOTICE / TAGMSG is offered here (commands/messaging.ts
 * and the multiline path). The implementation decides what to keep (retention, TAGMSG whitelist)
 * and writes off the hot path (batched transactions).
 */
export interface StoredMessage {
  msgid: string;
  /** ms since epoch, the same instant as the message's server-time tag */
  time: number;
  command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG';
  /** where it belongs: folded channel name, or `dm:<didA>,<didB>` (sorted, as keys/chat-signature dmVenue) for a DM between two accounts */
  venue: string;
  /** the target as the sender wrote it (channel name or nick) */
  target: string;
  /** sender nick!user@host at the time */
  source: string;
  /** sender account (DID), if logged in */
  account?: string;
  /** message text (undefined for TAGMSG); multiline: the lines joined with \n */
  text?: string;
  /** client-only tags that were relayed (+…), e.g. +draft/reply */
  clientTags?: Record<string, string>;
  /** draft/multiline: the original lines (with their concat flags) */
  lines?: { text: string; concat: boolean }[];
}

export interface HistoryPort {
  record(m: StoredMessage): void;
}

/** A point in a venue's history: by msgid or by time (CHATHISTORY selectors). */
export type HistoryRef = { msgid: string } | { time: number };

/** Read options (an optional extension of the contract). */
export interface HistoryReadOptions {
  /** include stored TAGMSGs (reactions; draft/event-playback); default true */
  tagmsg?: boolean;
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
}
