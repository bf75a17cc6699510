import { MAX_BODY_BYTES } from '../protocol/limits.js';
import { relayedBytes } from '../protocol/serialize.js';
import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import { PREFIX_CHARS, PREFIX_MODES, type Channel } from './channel.js';
import type { EventSink, MessageEvent, MessageLine, RelayCommand } from './events.js';
import type { User } from './user.js';
import type { World } from './world.js';

/** One message to one target, as a command (or, later, a federated peer) asks for it. */
export interface MessageRequest {
  command: RelayCommand;
  /** the target as written, with a STATUSMSG prefix if any (`@#chan`) */
  target: string;
  /** PRIVMSG/NOTICE text (multiline: the lines joined); undefined for TAGMSG */
  text?: string;
  /** draft/multiline: the message's lines */
  lines?: readonly MessageLine[];
  /** client-only tags to relay (never a signature: the origin signs) */
  clientTags?: ReadonlyMap<string, string>;
  /**
   * A message from a linked server (#14): its id, time and tags as its origin sent them. The
   * origin's signature (in `clientTags`) is kept, never replaced by ours, and the msgid is the
   * same on every server.
   */
  fromOrigin?: { msgid: string; at: number };
}

/**
 * What history keeps of a message: the record Ops.message offers through `MessagePorts.record`,
 * history/types.ts StoredMessage (declared here, where the offer is made; history/ imports it).
 */
export interface MessageRecord {
  msgid: string;
  /** ms since epoch, the same instant as the message's server-time tag */
  time: number;
  command: RelayCommand;
  /** where it belongs: folded channel name, or `dm:<didA>,<didB>` (sorted, as keys/chat-signature dmVenue) for a DM between two accounts */
  venue: string;
  /** the target as the sender wrote it (channel name or nick) */
  target: string;
  /** sender nick!user@host at the time */
  source: string;
  /** sender account (DID), if logged in */
  account?: string;
  /** sender's network-wide id (state/ids.ts): a guest may redact what it said (#16, state/redact-ops.ts) */
  uid?: string;
  /** message text (undefined for TAGMSG); multiline: the lines joined with \n */
  text?: string;
  /** client-only tags that were relayed (+…), e.g. +draft/reply */
  clientTags?: Record<string, string>;
  /** draft/multiline: the original lines (with their concat flags) */
  lines?: { text: string; concat: boolean }[];
  /**
   * #12: the channel's restricting modes when the message was said (VIS_* bits; 0 or absent:
   * public). Readers filter on it (HistoryReadOptions.restrictedSince), so a message said while
   * +s/+k never becomes readable to outsiders after -s/-k.
   */
  vis?: number;
}

/**
 * What a message needs from outside state/: plugins, ids, signing, history. Wired in server.ts
 * (plugins/manager.ts, session/outgoing.ts newMsgid, keys/signer.ts, history/store.ts).
 */
export interface MessagePorts {
  /** plugins' onMessage: allow, rewrite the text, or suppress (silently) */
  onMessage(m: { nick: string; account: string | undefined; command: 'PRIVMSG' | 'NOTICE'; target: string; text: string }): { action: 'allow' } | { action: 'suppress' } | { action: 'rewrite'; text: string };
  newMsgid(): string;
  /** the signature venue of a channel (keys/chat-signature.ts channelVenue), also its history venue */
  channelVenue(name: string): string;
  /** the venue of a DM between two accounts (keys/chat-signature.ts dmVenue) */
  dmVenue(a: string, b: string): string;
  /** the relayed client tags with this server's signature added when the message is signed (keys/signer.ts) */
  sign(m: { command: RelayCommand; from: string | undefined; msgid: string; venue: string | undefined; body: string | undefined; tags: ReadonlyMap<string, string> | undefined }): ReadonlyMap<string, string> | undefined;
  /** history: offer the message; true if it will be stored (history/types.ts HistoryPort.record) */
  record(m: MessageRecord): boolean;
  /** the channel's restricting modes as history visibility bits (history/types.ts visOf) */
  visibility(ch: Channel): number;
}

/** A multiline message's text: its lines joined by \n, except a concat line, which joins directly. */
export function joinLines(lines: readonly MessageLine[]): string {
  let s = '';
  lines.forEach((l, i) => { s += i > 0 && !l.concat ? `\n${l.text}` : l.text; });
  return s;
}

/** Why `u` may not speak in `ch` (the 404 text), or undefined if it may: +n, +m, +b (with +e). */
export function cannotSend(ch: Channel, u: User, isBanned: (ch: Channel, u: User) => boolean): string | undefined {
  const mem = ch.members.get(u);
  if (!mem && ch.modes.n) return 'Cannot send to channel (no external messages)';
  const privileged = mem !== undefined && mem.modes !== '';
  if (ch.modes.m && !privileged) return 'Cannot send to channel (+m)';
  if (!privileged && isBanned(ch, u)) return 'Cannot send to channel (you are banned)';
  return undefined;
}

/**
 * PRIVMSG / NOTICE / TAGMSG through the one mutation path (#13): the sender is authorized here,
 * plugins are asked, the message gets its id, time and signature, history is offered it, and a
 * `message` event goes out; delivery is the event's subscribers' (session/fanout.ts). Refusals
 * are ReplyErrors (the caller stays silent for NOTICE). Per-connection checks (rate, target
 * count) and the sender's own echo stay with the command.
 */
export class MessageOps {
  constructor(
    private readonly world: World,
    private readonly emit: EventSink,
    private readonly ports: MessagePorts,
    private readonly now: () => number,
    private readonly isBanned: (ch: Channel, u: User) => boolean,
  ) {}

  /**
   * Returns the event sent, or undefined when a plugin suppressed the message. Order: the target
   * and the sender's right to reach it first (plugins never see a message that could not be
   * sent), then plugins, then the relayed length of the text as the plugins left it.
   */
  send(from: User, req: MessageRequest): MessageEvent | undefined {
    const { command, target } = req;
    let statusPrefix = '';
    let name = target;
    while (name.length > 1 && PREFIX_CHARS.includes(name[0]!) && isChannelName(name.slice(1))) { statusPrefix = name[0]!; name = name.slice(1); }
    let channel: Channel | undefined;
    let to: User | undefined;
    let venue: string | undefined;
    let minRank: string | undefined;
    if (isChannelName(name)) {
      channel = this.world.findChannel(name);
      if (!channel) throw new ReplyError(N.ERR_NOSUCHCHANNEL, [safeParam(target)], 'No such channel');
      const why = cannotSend(channel, from, this.isBanned);
      // a +s/+p channel that refuses a non-member answers as a missing one (#12 finding 14)
      if (why && channel.hidden && !channel.members.has(from)) throw new ReplyError(N.ERR_NOSUCHCHANNEL, [safeParam(target)], 'No such channel');
      if (why) throw new ReplyError(N.ERR_CANNOTSENDTOCHAN, [channel.name], why);
      venue = this.ports.channelVenue(channel.name);
      if (statusPrefix) minRank = PREFIX_MODES[PREFIX_CHARS.indexOf(statusPrefix)]!;
    } else {
      to = this.world.findUser(name);
      if (!to) throw new ReplyError(N.ERR_NOSUCHNICK, [safeParam(target)], 'No such nick/channel');
      venue = from.account && to.account ? this.ports.dmVenue(from.account, to.account) : undefined;
    }
    let body = req.text;
    let lines = req.lines;
    if (command !== 'TAGMSG') {
      const d = this.ports.onMessage({ nick: from.nick, account: from.account, command, target, text: body! });
      if (d.action === 'suppress') return undefined;
      if (d.action === 'rewrite') {
        body = d.text;
        // a rewritten multiline message is delivered as the rewritten text's lines
        if (lines) lines = d.text.split('\n').map((t) => ({ text: t, concat: false }));
      }
      // B2: the relayed line (with the sender's full prefix) must fit in 512 bytes; refuse, never truncate
      let longest = 0;
      for (const l of lines ?? [{ text: body! }]) longest = Math.max(longest, relayedBytes(from.mask, command, [target, l.text]));
      if (longest > MAX_BODY_BYTES) throw new ReplyError(N.ERR_INPUTTOOLONG, [], 'Line too long to be relayed without truncation');
    }
    const msgid = req.fromOrigin?.msgid ?? this.ports.newMsgid();
    const at = req.fromOrigin?.at ?? this.now();
    if (command !== 'TAGMSG') from.lastSpokeAt = at; // WHOIS idle
    const tags = req.fromOrigin ? req.clientTags : this.ports.sign({ command, from: from.account, msgid, venue, body, tags: req.clientTags });
    // channel history (STATUSMSG is not: not everyone in the channel saw it), with the channel's
    // restricting modes of this moment (#12, history/cutoff.ts); DM history only between two accounts
    const keep = channel ? (minRank === undefined ? this.ports.visibility(channel) : undefined) : venue !== undefined ? 0 : undefined;
    const stored = keep !== undefined && venue !== undefined && this.ports.record({
      msgid, time: at, command, venue, target, source: from.mask, account: from.account, uid: from.uid, text: body,
      // as delivered: with the server's signature, so replayed history still verifies
      clientTags: tags ? Object.fromEntries(tags) : undefined,
      ...(lines ? { lines: lines.map((l) => ({ text: l.text, concat: l.concat })) } : {}),
      ...(keep !== 0 ? { vis: keep } : {}),
    });
    const ev: MessageEvent = { kind: 'message', from, command, target, channel, to, minRank, text: body, lines, tags, msgid, at, stored };
    this.emit(ev);
    return ev;
  }
}
