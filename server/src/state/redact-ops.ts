import { foldCase } from '../protocol/casemap.js';
import { MAX_BODY_BYTES } from '../protocol/limits.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { relayedBytes } from '../protocol/serialize.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import type { Channel } from './channel.js';
import type { EventSink, RedactEvent, RelayCommand } from './events.js';
import { MAX_HLC_DRIFT_MS } from './hlc.js';
import type { User } from './user.js';
import type { World } from './world.js';

/**
 * What history keeps of a REDACT (#16): a row of its own, at the redaction's time, naming the
 * message it redacted; the reason is its text. history/types.ts StoredMessage is this or a
 * MessageRecord (declared here, where the offer is made).
 */
export interface RedactionRecord {
  /** the REDACT's own msgid */
  msgid: string;
  time: number;
  command: 'REDACT';
  /** the redacted message's venue */
  venue: string;
  /** as the redactor wrote it (a channel's own name when it exists) */
  target: string;
  /** redactor nick!user@host at the time */
  source: string;
  account?: string;
  uid?: string;
  /** the reason, if one was given */
  text?: string;
  /** the msgid of the redacted message */
  redacts: string;
  /** history/types.ts VIS_* bits */
  vis?: number;
  lines?: undefined;
  clientTags?: undefined;
}

/** A stored message as a redaction needs it (never its content): who said it, where and when. */
export interface StoredRef {
  msgid: string;
  venue: string;
  time: number;
  command: RelayCommand | 'REDACT';
  /** the sender's nick!user@host at the time */
  source: string;
  account?: string;
  /** the sender's network-wide id (state/ids.ts), when history recorded it */
  uid?: string;
  /** VIS_* bits (history/types.ts) */
  vis: number;
  /** its content is gone already */
  redacted: boolean;
}

/** What a redaction needs from outside state/ (server.ts: history/store.ts, keys/chat-signature.ts, the redact-window option). */
export interface RedactPorts {
  /** the stored message with this msgid; history waits for its queued writes first (history/store.ts find) */
  find(msgid: string): StoredRef | undefined;
  /** history: record the redaction, queued behind every message recorded before it; true if it will be stored */
  record(r: RedactionRecord): boolean;
  newMsgid(): string;
  /** a channel's history venue (keys/chat-signature.ts channelVenue) */
  channelVenue(name: string): string;
  /** the channel's restricting modes as history visibility bits (history/types.ts visOf) */
  visibility(ch: Channel): number;
  /** redact-window in ms: how long senders may redact their own messages (0: never) */
  readonly windowMs: number;
}

/** One REDACT, as a command (or a linked server, #14) asks for it. */
export interface RedactRequest {
  /** as written: a channel, or the nick or DID of the other side of a private conversation */
  target: string;
  msgid: string;
  reason?: string;
  /** a private conversation: the DID `target` names, when the caller knows it (a peer says it) */
  did?: string;
  /** from a linked server: the REDACT's own msgid and time as its origin made them */
  fromOrigin?: { msgid: string; at: number };
}

/**
 * A refusal with one of the spec's codes (`FAIL REDACT <code> <params…> :<text>`, IRCv3
 * message-redaction "Errors"): a ReplyError whose code is the FAIL code, so the command answers
 * with a standard reply and federation logs it like any refusal.
 */
export class RedactRefusal extends ReplyError {}

/** `dm:<didA>,<didB>` → the two DIDs (keys/chat-signature.ts dmVenue), or undefined for a channel venue */
export function dmParties(venue: string): [string, string] | undefined {
  if (!venue.startsWith('dm:')) return undefined;
  const comma = venue.indexOf(',', 3);
  return comma < 0 ? undefined : [venue.slice(3, comma), venue.slice(comma + 1)];
}

/**
 * REDACT through the one mutation path (#16; IRCv3 draft/message-redaction). Who may redact:
 * - the sender, within redact-window of sending (logged in: any connection of its account; a
 *   guest: the connection that said it, by its network-wide id);
 * - a channel operator of the channel, any message of it;
 * - a server operator of this server, any message (a linked server's operators have no rights
 *   here, docs/federation.md "No server authority").
 * A private message only by its sender, or a server operator. The message must be in history:
 * what the server did not keep (STATUSMSG, guests' private messages, what retention dropped) is
 * `UNKNOWN_MSGID`. The same checks run for a peer's redaction, with the remote user as actor.
 */
export class RedactOps {
  constructor(
    private readonly world: World,
    private readonly emit: EventSink,
    private readonly ports: RedactPorts,
    private readonly now: () => number,
  ) {}

  redact(by: User, req: RedactRequest): RedactEvent {
    const { target, msgid } = req;
    const at = req.fromOrigin?.at ?? this.now();
    const p = [safeParam(target), safeParam(msgid)];
    const unknown = (): RedactRefusal => new RedactRefusal('UNKNOWN_MSGID', p, 'This message does not exist or is too old');
    let channel: Channel | undefined;
    let did: string | undefined;
    if (isChannelName(target)) {
      channel = this.world.findChannel(target);
    } else {
      did = req.did ?? (target.startsWith('did:') ? target : this.world.findUser(target)?.account ?? this.world.nickOwners.get(foldCase(target)));
      // only conversations between two accounts are kept (a guest's private messages never are)
      if (did === undefined) throw new RedactRefusal('INVALID_TARGET', [safeParam(target)], `You cannot delete messages from ${target}`);
    }
    // msgids are at most 64 characters here and on the wire (federation/messages.ts)
    const row = msgid.length > 0 && msgid.length <= 64 ? this.ports.find(msgid) : undefined;
    if (!row || row.redacted || row.command === 'REDACT') throw unknown();
    const operator = by.local && by.isOper;
    let parties: [string, string] | undefined;
    if (did === undefined) {
      // the venue as Ops.message recorded it: of the channel's own name when it exists (the casemap
      // may fold a name the redactor typed differently, rfc1459 `[` / `{`)
      if (row.venue !== this.ports.channelVenue(channel?.name ?? target)) throw unknown();
    } else {
      // the conversation `target` names: the redactor's own with that account, or (a server operator) any of that account's
      parties = dmParties(row.venue);
      if (!parties || !parties.includes(did)) throw unknown();
      const other = parties[0] === did ? parties[1] : parties[0];
      if (by.account !== other && !operator) throw unknown();
    }
    const chanop = channel !== undefined && channel.isOp(by);
    if (!operator && !chanop) {
      if (!this.owns(by, row)) {
        // a channel the redactor cannot see (+s/+p, or gone) answers as if the message did not exist
        // (the other side of a private conversation can see it: forbidden)
        if (!parties && (!channel || (channel.hidden && !channel.members.has(by)))) throw unknown();
        throw new RedactRefusal('REDACT_FORBIDDEN', p, 'You are not authorised to delete this message');
      }
      const window = this.ports.windowMs;
      if (window <= 0) throw new RedactRefusal('REDACT_FORBIDDEN', p, 'You are not authorised to delete this message');
      // a peer's redaction is as old as its origin says, but never older than the clock drift
      // peers are allowed (a backdated one cannot reopen the window)
      const when = req.fromOrigin ? Math.max(at, this.now() - MAX_HLC_DRIFT_MS) : at;
      // the window in seconds (the spec leaves its unit open)
      if (when - row.time > window) throw new RedactRefusal('REDACT_WINDOW_EXPIRED', [...p, String(Math.floor(window / 1000))], 'You can no longer delete this message');
    }
    const reason = req.reason === '' ? undefined : req.reason;
    const shown = channel?.name ?? target;
    // B2: the relayed line must fit in 512 bytes; refuse, never truncate
    if (relayedBytes(by.mask, 'REDACT', reason === undefined ? [shown, row.msgid] : [shown, row.msgid, reason]) > MAX_BODY_BYTES) {
      throw new ReplyError(N.ERR_INPUTTOOLONG, [], 'Line too long to be relayed without truncation');
    }
    const id = req.fromOrigin?.msgid ?? this.ports.newMsgid();
    // the REDACT is as restricted as the message and the channel now (history-cutoff, #12)
    const vis = row.vis | (channel ? this.ports.visibility(channel) : 0);
    const stored = this.ports.record({
      msgid: id, time: at, command: 'REDACT', venue: row.venue, target: shown, source: by.mask, redacts: row.msgid,
      ...(by.account !== undefined ? { account: by.account } : {}), uid: by.uid,
      ...(reason !== undefined ? { text: reason } : {}), ...(vis !== 0 ? { vis } : {}),
    });
    const ev: RedactEvent = { kind: 'redact', user: by, target: shown, channel, parties, did, msgid: row.msgid, reason, id, at, stored };
    this.emit(ev);
    return ev;
  }

  /**
   * `by` said the message: its account (logged in), or, for a guest's message, the same
   * network-wide id on a connection that was there when it was said (ids start again when their
   * server restarts, state/ids.ts); a peer's user within the clock drift peers are allowed.
   */
  private owns(by: User, row: StoredRef): boolean {
    if (row.account !== undefined) return by.account === row.account;
    if (row.uid === undefined || row.uid !== by.uid) return false;
    return row.time >= by.signonAt - (by.local ? 0 : MAX_HLC_DRIFT_MS);
  }
}
