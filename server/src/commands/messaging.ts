import { foldCase } from '../protocol/casemap.js';
import { isClientOnlyTag } from '../protocol/tags.js';
import { channelVenue, dmVenue, SIG_TAG } from '../keys/chat-signature.js';
import { stampSignature } from '../keys/signer.js';
import { SlidingWindow } from '../limits/rate.js';
import * as N from '../protocol/numerics.js';
import { MAX_BODY_BYTES } from '../protocol/limits.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import { PREFIX_CHARS, PREFIX_MODES, type Channel } from '../state/channel.js';
import type { User } from '../state/user.js';
import { Outgoing } from '../session/outgoing.js';
import type { CommandContext } from './context.js';
import { MultilineOut, type MultilineLine } from './multiline.js';
import { visOf } from '../history/types.js';

export type RelayCommand = 'PRIVMSG' | 'NOTICE' | 'TAGMSG';

/**
 * C2 (freeq parity, messaging.rs:1784-1807,985-1020): per connection, `message-rate` PRIVMSG+NOTICE
 * and separately `message-rate` TAGMSG per `message-rate-window`. Keyed by the User, which lives
 * as long as its connection; a WeakMap so nothing needs cleaning up.
 */
const rates = new WeakMap<User, { text: SlidingWindow; tags: SlidingWindow }>();

/** false (and the refusal sent) when this message is over the sender's rate */
function withinRate(ctx: CommandContext, command: RelayCommand, targets: string): boolean {
  const { server, user } = ctx;
  const cfg = server.config;
  let r = rates.get(user);
  if (!r) {
    r = { text: new SlidingWindow(cfg.messageRate, cfg.messageRateWindow), tags: new SlidingWindow(cfg.messageRate, cfg.messageRateWindow) };
    rates.set(user, r);
  }
  if ((command === 'TAGMSG' ? r.tags : r.text).take(server.clock.now())) return true;
  server.metrics.limitHit('message-rate');
  // NOTICE is dropped silently (never answer a NOTICE with an error)
  if (command === 'PRIVMSG') ctx.numeric(N.ERR_CANNOTSENDTOCHAN, safeParam(targets), 'Flood protection: sending too fast');
  else if (command === 'TAGMSG') ctx.fail('TAGMSG', 'RATE_LIMITED', safeParam(targets), 'Sending too fast');
  return false;
}

/** Why a user may not speak in a channel, or undefined if they may. */
export function cannotSend(ctx: CommandContext, ch: Channel, u: User): string | undefined {
  const mem = ch.members.get(u);
  if (!mem && ch.modes.n) return 'Cannot send to channel (no external messages)';
  const privileged = mem !== undefined && mem.modes !== '';
  if (ch.modes.m && !privileged) return 'Cannot send to channel (+m)';
  if (!privileged && ctx.server.ops.isBanned(ch, u)) return 'Cannot send to channel (you are banned)';
  return undefined;
}

/**
 * PRIVMSG / NOTICE / TAGMSG to channels (with STATUSMSG prefixes) and nicks. NOTICE never
 * produces an error reply (RFC 2812 §3.3.2). Client-only tags are relayed; others are dropped.
 * `multiline`: the lines of a completed draft/multiline batch (commands/batch.ts; `text` is
 * their combined message): one message for every check, delivered as a batch or its fallback.
 *
 * #12: recipients get the message at once, but the sender's acknowledgement (the echo-message
 * echo, the labeled-response ACK or echo) waits until history has committed it, so a message
 * the sender saw acknowledged survives a crash right after. Then relay() returns a promise: the
 * session holds this command's replies and stops reading the client until it settles. Nothing
 * waits when there is nothing to acknowledge or nothing was stored.
 */
export function relay(ctx: CommandContext, command: RelayCommand, targets: string, text: string | undefined, multiline?: readonly MultilineLine[]): void | Promise<void> {
  const { server, user, session } = ctx;
  /** targets of this command's messages that history keeps (the acknowledgement waits; a failed write names them) */
  let stored: string[] | undefined;
  const remember = (out: Outgoing, venue: string, target: string, body: string | undefined, clientTags: Map<string, string> | undefined, lines: readonly MultilineLine[] | undefined, vis: number): void => {
    if (offer(ctx, out, command, venue, target, body, clientTags, lines, vis)) (stored ??= []).push(target);
  };
  const quiet = command === 'NOTICE';
  const err = (code: string, ...p: string[]) => { if (!quiet) ctx.numeric(code, ...p); };
  // each target once, whatever its case (rfc1459 casemapping)
  const seen = new Set<string>();
  const list = targets.split(',').filter((t) => t !== '' && !seen.has(foldCase(t)) && seen.add(foldCase(t)));
  if (list.length === 0) { err(N.ERR_NORECIPIENT, `No recipient given (${command})`); return; }
  if (command !== 'TAGMSG' && (text === undefined || text === '')) { err(N.ERR_NOTEXTTOSEND, 'No text to send'); return; }
  if (list.length > server.config.maxTargets) { err(N.ERR_TOOMANYTARGETS, safeParam(list[server.config.maxTargets]), `Too many targets. Maximum is ${server.config.maxTargets}`); return; }

  let clientTags: Map<string, string> | undefined;
  // a client's +freeq.at/sig is dropped, never relayed unverified (verifying client signatures: future work)
  for (const [k, v] of ctx.msg.tags) if (isClientOnlyTag(k) && k !== SIG_TAG) (clientTags ??= new Map()).set(k, v);
  if (command === 'TAGMSG' && !clientTags) return; // nothing to relay
  if (!withinRate(ctx, command, targets)) return;
  if (command !== 'TAGMSG') user.lastSpokeAt = server.clock.now();
  server.metrics.message(command);
  const onlyTags = command === 'TAGMSG';
  // TAGMSG (and its echo) only ever reaches message-tags clients
  const canReceive = (u: User): boolean => !onlyTags || u.link.hasCap('message-tags');

  for (const target of list) {
    let statusPrefix = '';
    let name = target;
    while (name.length > 1 && PREFIX_CHARS.includes(name[0]!) && isChannelName(name.slice(1))) { statusPrefix = name[0]!; name = name.slice(1); }
    // plugins (onMessage) may allow, rewrite or suppress a text message; suppression is silent
    let body = text;
    let lines = multiline;
    if (command !== 'TAGMSG') {
      const d = server.plugins.onMessage({ nick: user.nick, account: user.account, command, target, text: body! });
      if (d.action === 'suppress') continue;
      if (d.action === 'rewrite') {
        body = d.text;
        // a rewritten multiline message is delivered as the rewritten text's lines
        if (lines) lines = d.text.split('\n').map((t) => ({ text: t, concat: false }));
      }
    }
    const params = command === 'TAGMSG' ? [target] : [target, body!];
    // B2: the relayed line (with our full prefix) must fit in 512 bytes; reject, never truncate
    if (command !== 'TAGMSG') {
      const relayedLen = Math.max(...(lines ?? [{ text: body! }]).map((l) => Buffer.byteLength(`:${user.mask} ${command} ${target} :${l.text}\r\n`)));
      if (relayedLen > MAX_BODY_BYTES) { err(N.ERR_INPUTTOOLONG, 'Line too long to be relayed without truncation'); continue; }
    }
    // one msgid per message delivered to one target; recipients and the echo share it
    const out = new Outgoing({ tags: new Map(), source: user.mask, command, params }, server.fanout.meta(user, { clientTags }));
    // what one recipient gets: this line, or the multiline batch (or its fallback lines)
    const ml = lines ? new MultilineOut(out, lines) : undefined;
    const give = (link: { hasCap(c: string): boolean }, sink: (o: Outgoing) => void): void => { if (ml) ml.send(link, sink); else sink(out); };
    if (isChannelName(name)) {
      const ch = server.world.findChannel(name);
      if (!ch) { err(N.ERR_NOSUCHCHANNEL, safeParam(target), 'No such channel'); continue; }
      const why = cannotSend(ctx, ch, user);
      // a +s/+p channel that refuses a non-member answers as a missing one (#12 finding 14)
      if (why && ch.hidden && !ch.members.has(user)) { err(N.ERR_NOSUCHCHANNEL, safeParam(target), 'No such channel'); continue; }
      if (why) { err(N.ERR_CANNOTSENDTOCHAN, ch.name, why); continue; }
      const minRank = statusPrefix ? PREFIX_MODES[PREFIX_CHARS.indexOf(statusPrefix)]! : undefined;
      const rankOk = (u: User): boolean => {
        if (!canReceive(u)) return false;
        if (!minRank) return true;
        const mem = ch.members.get(u)!;
        // a member with the prefix or any higher one receives it
        return [...PREFIX_MODES.slice(0, PREFIX_MODES.indexOf(minRank) + 1)].some((m) => mem.has(m));
      };
      stampSignature(server.signing, out, { command, from: user.account, body, venue: channelVenue(ch.name) });
      if (ml) ml.toChannel(server.fanout, ch, user, rankOk);
      else server.fanout.toChannel(ch, out, user, rankOk);
      // STATUSMSG (@#chan) is not channel history: not everyone in the channel saw it
      // #12: with the channel's restricting modes of this moment (history/cutoff.ts)
      if (!statusPrefix) remember(out, ch.folded, target, body, clientTags, lines, visOf(ch.modes));
    } else {
      const dest = server.world.findUser(name);
      if (!dest) { err(N.ERR_NOSUCHNICK, safeParam(target), 'No such nick/channel'); continue; }
      if (command === 'PRIVMSG' && dest.away !== undefined) ctx.numeric(N.RPL_AWAY, dest.nick, dest.away);
      const venue = user.account && dest.account ? dmVenue(user.account, dest.account) : undefined;
      stampSignature(server.signing, out, { command, from: user.account, body, venue });
      // DM history only between two accounts, visible only to them (issue 5)
      if (venue) remember(out, venue, target, body, clientTags, lines, 0);
      if (canReceive(dest)) {
        // to oneself it is a delivered message, not a response: never labeled (labeled-response)
        if (dest === user) give(session, (o) => session.deliverSideEffect(o));
        else give(dest.link, (o) => dest.link.deliver(o));
      }
    }
    if (session.hasCap('echo-message') && canReceive(user)) give(session, (o) => session.deliver(o));
  }
  // the echo (above, in this command's reply buffer) and a labeled ACK leave when the session
  // flushes that buffer, i.e. when this promise settles
  const acknowledged = session.hasCap('echo-message') || ctx.reply.label !== undefined;
  if (stored && acknowledged) return afterCommit(ctx, command, stored);
}

/**
 * #12: wait for history's commit. A failed write cannot be undone (the recipients have the
 * message), so the sender still gets its echo / ACK, preceded by a standard-replies warning per
 * target: `WARN <command> HISTORY_NOT_STORED <target> :…` (never for NOTICE, which gets no replies).
 */
async function afterCommit(ctx: CommandContext, command: RelayCommand, targets: readonly string[]): Promise<void> {
  if (await ctx.server.history.committed()) return;
  if (command === 'NOTICE') return;
  for (const t of targets) {
    ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'WARN', params: [command, 'HISTORY_NOT_STORED', safeParam(t), 'Message delivered but not stored in history'] });
  }
}

/** Offer a delivered message to history (the store decides what it keeps); true if it will be stored. */
function offer(ctx: CommandContext, out: Outgoing, command: RelayCommand, venue: string, target: string, text: string | undefined, clientTags: Map<string, string> | undefined, lines: readonly MultilineLine[] | undefined, vis: number): boolean {
  const { user, server } = ctx;
  return server.history.record({
    msgid: out.meta.msgid!, time: out.meta.at ?? Date.parse(out.meta.time), command, venue, target,
    source: user.mask, account: user.account, text,
    // as delivered: with the server's +freeq.at/sig (stamped on out.meta), so replayed history still verifies
    clientTags: (out.meta.clientTags ?? clientTags) ? Object.fromEntries(out.meta.clientTags ?? clientTags!) : undefined,
    ...(lines ? { lines: lines.map((l) => ({ ...l })) } : {}),
    ...(vis !== 0 ? { vis } : {}),
  });
}
