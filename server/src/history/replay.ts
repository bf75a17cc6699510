import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { IrcMessage } from '../protocol/message.js';
import { serialize } from '../protocol/serialize.js';
import { newBatchId } from '../session/reply-buffer.js';
import { Outgoing, nowIso } from '../session/outgoing.js';
import type { StoredMessage } from './types.js';

/** What replay needs to know about the receiving client. */
export interface ReplayClient {
  readonly tagMask: number;
  hasCap(cap: string): boolean;
}

const withBatch = (m: IrcMessage, batch: string | undefined): IrcMessage =>
  batch === undefined ? m : { ...m, tags: new Map([['batch', batch], ...m.tags]) };

/**
 * The lines of one stored message as this client would have seen them: original source, msgid,
 * time, account and client tags (each only with the cap that shows it), inside `batch` if given.
 * A draft/multiline message goes out as a nested `draft/multiline` batch to clients with that cap
 * and batch, otherwise as one line per original line (the first carries the msgid and tags).
 */
export function storedLines(m: StoredMessage, client: ReplayClient, batch: string | undefined): IrcMessage[] {
  const meta = {
    time: nowIso(m.time), msgid: m.msgid, account: m.account,
    clientTags: m.clientTags ? new Map(Object.entries(m.clientTags)) : undefined,
  };
  const base = { tags: new Map<string, string>(), source: m.source, command: m.command };
  // #16: `REDACT <target> <msgid> [:reason]` at the time of the redaction, with its own msgid
  if (m.command === 'REDACT') {
    const params = m.text === undefined ? [m.target, m.redacts] : [m.target, m.redacts, m.text];
    return [withBatch(new Outgoing({ ...base, params }, { time: meta.time, msgid: meta.msgid, account: meta.account }).messageFor(client.tagMask), batch)];
  }
  if (!m.lines || m.lines.length === 0 || m.command === 'TAGMSG') {
    const params = m.command === 'TAGMSG' ? [m.target] : [m.target, m.text ?? ''];
    return [withBatch(new Outgoing({ ...base, params }, meta).messageFor(client.tagMask), batch)];
  }
  if (client.hasCap('draft/multiline') && client.hasCap('batch')) {
    const inner = newBatchId();
    const open = new Outgoing({ ...base, command: 'BATCH', params: [`+${inner}`, 'draft/multiline', m.target] }, meta).messageFor(client.tagMask);
    const out: IrcMessage[] = [withBatch(open, batch)];
    for (const l of m.lines) {
      const tags = new Map([['batch', inner]]);
      if (l.concat) tags.set('draft/multiline-concat', '');
      out.push({ tags, source: m.source, command: m.command, params: [m.target, l.text] });
    }
    out.push(withBatch({ tags: new Map(), source: m.source, command: 'BATCH', params: [`-${inner}`] }, batch));
    return out;
  }
  return m.lines.map((l, i) => {
    const lineMeta = i === 0 ? meta : { time: meta.time, account: meta.account };
    return withBatch(new Outgoing({ ...base, params: [m.target, l.text] }, lineMeta).messageFor(client.tagMask), batch);
  });
}

/** #12: what one history reply may send, every line counted (history-reply-max-bytes / -lines) */
export interface ReplyBudget { bytes: number; lines: number }

/**
 * Which messages a reply keeps when they do not all fit: the newest (LATEST, BEFORE and a
 * backwards BETWEEN: the client pages further back), the oldest (AFTER, a forward BETWEEN), or
 * those nearest the message at `pivot` (AROUND). The kept messages are always contiguous.
 */
export type Keep = 'newest' | 'oldest' | { pivot: number };

export interface HistoryReply {
  lines: IrcMessage[];
  /** some messages were left out to stay within the budget */
  truncated: boolean;
  kept: number;
  /** what the reply spends of its budget (its bytes on the wire, its lines) */
  spent: ReplyBudget;
}

/**
 * A line's size on the wire, CRLF included, for the budget: the string only (the session encodes
 * the reply once more when it sends it, with the label's tags; a Buffer here would be a third copy).
 */
const wireLength = (m: IrcMessage): number => Buffer.byteLength(serialize(m)) + 2;

/** lines built between two yields to the event loop (historyReplyAsync) */
const SLICE_LINES = 256;

function* order(n: number, keep: Keep): Generator<number> {
  if (keep === 'newest') { for (let i = n - 1; i >= 0; i--) yield i; return; }
  if (keep === 'oldest') { for (let i = 0; i < n; i++) yield i; return; }
  const p = Math.min(Math.max(keep.pivot, 0), n - 1);
  for (let d = 0; p + d < n || p - d - 1 >= 0; d++) {
    if (p + d < n) yield p + d;
    if (p - d - 1 >= 0) yield p - d - 1;
  }
}

/**
 * A history reply within `budget`, built a slice at a time (the generator yields between slices).
 * The chathistory batch's own BATCH lines count too. With `oneAtLeast` (CHATHISTORY) one message is
 * sent even if it alone is over the budget (otherwise a client could never page past it);
 * multiline-max-bytes keeps every message far below the smallest budget.
 */
function* buildReply(serverName: string, target: string, msgs: readonly StoredMessage[], client: ReplayClient, budget: ReplyBudget, keep: Keep, oneAtLeast: boolean): Generator<void, HistoryReply> {
  const batch = client.hasCap('batch') ? newBatchId() : undefined;
  const open: IrcMessage | undefined = batch === undefined ? undefined : { tags: new Map(), source: serverName, command: 'BATCH', params: [`+${batch}`, 'chathistory', target] };
  const close: IrcMessage | undefined = batch === undefined ? undefined : { tags: new Map(), source: serverName, command: 'BATCH', params: [`-${batch}`] };
  let bytes = open && close ? wireLength(open) + wireLength(close) : 0;
  let lines = open ? 2 : 0;
  const chosen = new Array<IrcMessage[] | undefined>(msgs.length);
  let kept = 0;
  let truncated = false;
  let sinceYield = 0;
  for (const i of order(msgs.length, keep)) {
    const ls = storedLines(msgs[i]!, client, batch);
    let b = 0;
    for (const l of ls) b += wireLength(l);
    if ((kept > 0 || !oneAtLeast) && (bytes + b > budget.bytes || lines + ls.length > budget.lines)) { truncated = true; break; }
    chosen[i] = ls;
    bytes += b;
    lines += ls.length;
    kept++;
    sinceYield += ls.length;
    if (sinceYield >= SLICE_LINES) { sinceYield = 0; yield; }
  }
  const out: IrcMessage[] = [];
  if (open) out.push(open);
  for (const ls of chosen) if (ls) for (const l of ls) out.push(l);
  if (close) out.push(close);
  return { lines: out, truncated, kept, spent: { bytes, lines } };
}

/** A chathistory batch (just the lines without `batch`) within a budget, in one go (replay on JOIN: at most history-replay-on-join messages). */
export function historyReply(serverName: string, target: string, msgs: readonly StoredMessage[], client: ReplayClient, budget: ReplyBudget, keep: Keep): HistoryReply {
  // replay on JOIN is a courtesy: what does not fit is not sent, not even one message
  const g = buildReply(serverName, target, msgs, client, budget, keep, false);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** The same, yielding to the event loop between slices (CHATHISTORY, #12). */
export async function historyReplyAsync(serverName: string, target: string, msgs: readonly StoredMessage[], client: ReplayClient, budget: ReplyBudget, keep: Keep): Promise<HistoryReply> {
  const g = buildReply(serverName, target, msgs, client, budget, keep, true);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    await yieldTurn();
  }
}

/** TAGMSGs in history go only to clients that asked for event playback (and can see tags). */
export const wantsTagmsg = (client: ReplayClient): boolean => client.hasCap('draft/event-playback') && client.hasCap('message-tags');

/**
 * #16: REDACTs in history go only to draft/message-redaction clients (IRCv3 message-redaction:
 * "MUST not forward this REDACT to target recipients that have not negotiated this capability");
 * the redacted message itself is never replayed to anyone.
 */
export const wantsRedact = (client: ReplayClient): boolean => client.hasCap('draft/message-redaction');
