import { MAX_BODY_BYTES } from '../protocol/limits.js';
import type { IrcMessage } from '../protocol/message.js';
import * as N from '../protocol/numerics.js';
import { relayedBytes } from '../protocol/serialize.js';
import { clipUtf8 } from '../protocol/validate.js';
import { PREFIX_MODES, type Channel } from '../state/channel.js';
import type { MessageEvent, StateEvent } from '../state/events.js';
import { renderModeChanges } from '../state/modes.js';
import type { User } from '../state/user.js';
import { LOCKDOWN_MEANING, type World } from '../state/world.js';
import { MultilineOut } from './multiline-out.js';
import { deliverRedact } from './redact-out.js';
import { Outgoing, newMsgid, nowIso, type OutMeta } from './outgoing.js';

/** A message's lines, built once and shared by its recipients and the sender's echo. */
export interface MessageForms { out: Outgoing; multiline?: MultilineOut }

export interface FanoutDeps {
  world: World;
  serverName: () => string;
  maxModes: () => number;
  now: () => number;
}

function m(source: string, command: string, params: string[]): IrcMessage {
  return { tags: new Map(), source, command, params };
}

/**
 * Turns state events into lines for every recipient. Each distinct message is an Outgoing whose
 * bytes are built once per capability variant; the same Buffer goes to every recipient.
 */
export class Fanout {
  constructor(private readonly d: FanoutDeps) {}

  /** an open netsplit batch (withNetsplit): its servers, its reference, the batch clients it was opened for */
  private split: { servers: [string, string]; ref: string; opened: Set<User> } | undefined;
  private splitN = 0;

  /**
   * Run `fn` (federation: the users of servers no longer reachable quit) inside an IRCv3 `netsplit`
   * batch: a client with the `batch` capability gets `BATCH +ref netsplit <a> <b>`, the QUITs
   * tagged `batch=ref`, then `BATCH -ref` (only if it saw one of the QUITs); others get the QUITs.
   */
  withNetsplit(servers: [string, string], fn: () => void): void {
    const outer = this.split;
    const split = { servers, ref: `ns${(++this.splitN).toString(36)}`, opened: new Set<User>() };
    this.split = split;
    try {
      fn();
    } finally {
      this.split = outer;
      if (split.opened.size) this.toUsers(split.opened, new Outgoing(m(this.d.serverName(), 'BATCH', [`-${split.ref}`]), this.meta()));
    }
  }

  /** a QUIT to its audience, in the open netsplit batch for batch clients */
  private quit(out: Outgoing, audience: Iterable<User>): void {
    const split = this.split;
    if (!split) return this.toUsers(audience, out);
    let line: Outgoing | undefined;
    for (const u of audience) {
      if (!u.link.hasCap('batch')) { u.link.deliver(out); continue; }
      if (!split.opened.has(u)) {
        split.opened.add(u);
        u.link.deliver(new Outgoing(m(this.d.serverName(), 'BATCH', [`+${split.ref}`, 'netsplit', ...split.servers]), this.meta()));
      }
      line ??= new Outgoing(out.base, { ...out.meta, batch: split.ref });
      u.link.deliver(line);
    }
  }

  meta(user?: User, extra?: Partial<OutMeta>): OutMeta {
    const at = this.d.now();
    return { time: nowIso(at), at, msgid: newMsgid(), account: user?.account, bot: user?.isBot, ...extra };
  }

  /** Deliver to every member of a channel (optionally skipping one, e.g. the sender). */
  toChannel(ch: Channel, out: Outgoing, skip?: User, filter?: (u: User) => boolean): void {
    for (const u of ch.members.keys()) {
      if (u === skip) continue;
      if (filter && !filter(u)) continue;
      u.link.deliver(out);
    }
  }

  /** The lines of a message event (built on first use, then shared: recipients, then the sender's echo). */
  messageForms(ev: MessageEvent): MessageForms {
    let f = this.forms.get(ev);
    if (!f) {
      const params = ev.command === 'TAGMSG' ? [ev.target] : [ev.target, ev.text!];
      const meta: OutMeta = { time: nowIso(ev.at), at: ev.at, msgid: ev.msgid, account: ev.from.account, bot: ev.from.isBot, clientTags: ev.tags && new Map(ev.tags) };
      const out = new Outgoing({ tags: new Map(), source: ev.from.mask, command: ev.command, params }, meta);
      f = { out, multiline: ev.lines && new MultilineOut(out, ev.lines) };
      this.forms.set(ev, f);
    }
    return f;
  }

  private readonly forms = new WeakMap<MessageEvent, MessageForms>();

  /** What `link` gets of a message (the line, or the multiline batch or its fallback), each through `sink`. */
  static give(f: MessageForms, link: { hasCap(c: string): boolean }, sink: (o: Outgoing) => void): void {
    if (f.multiline) f.multiline.send(link, sink); else sink(f.out);
  }

  /**
   * A message to its recipients, never to the sender (its echo is the command's: labeled-response).
   * TAGMSG only reaches message-tags clients; STATUSMSG only members with the prefix or a higher one.
   */
  private message(ev: MessageEvent): void {
    const f = this.messageForms(ev);
    const onlyTags = ev.command === 'TAGMSG';
    const ch = ev.channel;
    if (ch) {
      const ranks = ev.minRank === undefined ? undefined : PREFIX_MODES.slice(0, PREFIX_MODES.indexOf(ev.minRank) + 1);
      const ok = (u: User): boolean => {
        if (onlyTags && !u.link.hasCap('message-tags')) return false;
        if (ranks === undefined) return true;
        const mem = ch.members.get(u)!;
        for (const r of ranks) if (mem.has(r)) return true;
        return false;
      };
      if (f.multiline) f.multiline.toChannel(this, ch, ev.from, ok);
      else this.toChannel(ch, f.out, ev.from, ok);
      return;
    }
    const dest = ev.to;
    if (!dest || dest === ev.from || (onlyTags && !dest.link.hasCap('message-tags'))) return;
    Fanout.give(f, dest.link, (o) => dest.link.deliver(o));
  }

  toUsers(users: Iterable<User>, out: Outgoing): void {
    for (const u of users) u.link.deliver(out);
  }

  /** The state-event subscriber wired in server.ts. */
  readonly onEvent = (ev: StateEvent): void => {
    switch (ev.kind) {
      case 'join': return this.join(ev.user, ev.channel);
      case 'part': {
        const out = new Outgoing(m(ev.user.mask, 'PART', ev.reason !== undefined ? [ev.channel.name, ev.reason] : [ev.channel.name]), this.meta(ev.user));
        return this.toChannel(ev.channel, out);
      }
      case 'kick': {
        const out = new Outgoing(m(ev.source, 'KICK', [ev.channel.name, ev.target.nick, ev.reason]), this.meta());
        return this.toChannel(ev.channel, out);
      }
      case 'quit': {
        const out = new Outgoing(m(ev.user.mask, 'QUIT', [ev.reason]), this.meta(ev.user));
        return this.quit(out, ev.audience);
      }
      case 'nick': {
        const out = new Outgoing(m(ev.oldMask, 'NICK', [ev.user.nick]), this.meta(ev.user));
        ev.user.link.deliver(out);
        return this.toUsers(ev.audience, out);
      }
      case 'topic': {
        const out = new Outgoing(m(ev.source, 'TOPIC', [ev.channel.name, ev.channel.topic?.text ?? '']), this.meta());
        return this.toChannel(ev.channel, out);
      }
      case 'channel-mode': {
        // split so no line carries more than MODES parameters
        const max = this.d.maxModes();
        for (let i = 0; i < ev.changes.length; i += max) {
          const chunk = ev.changes.slice(i, i + max);
          const out = new Outgoing(m(ev.source ?? this.d.serverName(), 'MODE', [ev.channel.name, ...renderModeChanges(chunk)]), this.meta());
          this.toChannel(ev.channel, out);
        }
        return;
      }
      case 'user-mode': {
        const out = new Outgoing(m(ev.user.nick, 'MODE', [ev.user.nick, ...renderModeChanges(ev.changes)]), this.meta());
        return ev.user.link.deliver(out);
      }
      case 'away': {
        const out = new Outgoing(m(ev.user.mask, 'AWAY', ev.user.away !== undefined ? [ev.user.away] : []), this.meta(ev.user));
        // the user themself gets 305/306 from AWAY, not an echo (as Ergo)
        for (const u of this.d.world.neighbours(ev.user)) if (u.link.hasCap('away-notify')) u.link.deliver(out);
        return;
      }
      case 'setname': {
        const out = new Outgoing(m(ev.user.mask, 'SETNAME', [ev.user.realname]), this.meta(ev.user));
        for (const u of this.d.world.neighbours(ev.user)) if (u.link.hasCap('setname')) u.link.deliver(out);
        if (ev.user.link.hasCap('setname')) ev.user.link.deliver(out);
        return;
      }
      case 'chghost': return this.chghost(ev.user, ev.oldUsername, ev.oldHost);
      case 'account': {
        // IRCv3 account-notify: `*` when logged out
        const out = new Outgoing(m(ev.user.mask, 'ACCOUNT', [ev.user.account ?? '*']), this.meta(ev.user));
        for (const u of this.d.world.neighbours(ev.user)) if (u.link.hasCap('account-notify')) u.link.deliver(out);
        return;
      }
      case 'server-notice': {
        const out = new Outgoing(m(this.d.serverName(), 'NOTICE', [ev.target.nick, ev.text]), this.meta());
        return ev.target.link.deliver(out);
      }
      // nobody is on a dropped channel: nothing to send
      case 'channel-dropped': return;
      // state only: nothing for clients to see (peers and plugins may follow them)
      case 'register': case 'nick-owner': case 'did-op': case 'handle': case 'server-ban': return;
      case 'message': return this.message(ev);
      case 'redact': return deliverRedact(ev, this.d.world);
      case 'lockdown': {
        const a = ev.actor;
        const text = a.kind === 'operator'
          ? `LOCKDOWN: the HTTP API (key ${a.name}) set the lockdown level to ${ev.to} (was ${ev.from})`
          : `LOCKDOWN: ${a.kind === 'user' ? a.user.nick : a.name} set the lockdown level to ${ev.to} (was ${ev.from}): ${LOCKDOWN_MEANING[ev.to]}`;
        const out = new Outgoing(m(this.d.serverName(), 'WALLOPS', [text]), this.meta());
        for (const u of this.d.world.users.values()) if (u.registered && u.isOper) u.link.deliver(out);
        return;
      }
      case 'invite': {
        const out = new Outgoing(m(ev.source.mask, 'INVITE', [ev.target.nick, ev.channel.name]), this.meta(ev.source));
        ev.target.link.deliver(out);
        // invite-notify: channel operators with the cap learn of it too (not the inviter, who got 341)
        this.toChannel(ev.channel, out, ev.source, (u) => u !== ev.target && ev.channel.isOp(u) && u.link.hasCap('invite-notify'));
        return;
      }
      case 'knock': return this.knock(ev.user, ev.channel, ev.reason);
    }
  };

  /**
   * 710 RPL_KNOCK `<op> <channel> <nick>!<user>@<host> :has asked for an invite[: <reason>]` to
   * each of the channel's operators (here). A numeric names its recipient, so this is one line
   * per operator (a channel has few); the reason is cut at a UTF-8 boundary to keep it in 512 bytes.
   */
  private knock(user: User, ch: Channel, reason: string | undefined): void {
    const server = this.d.serverName();
    for (const op of ch.members.keys()) {
      if (!ch.isOp(op)) continue;
      const params = [op.nick, ch.name, user.mask, 'has asked for an invite'];
      if (reason) {
        const room = MAX_BODY_BYTES - relayedBytes(server, N.RPL_KNOCK, [...params.slice(0, 3), 'has asked for an invite: ']);
        if (room > 0) params[3] = `has asked for an invite: ${clipUtf8(reason, room)}`;
      }
      op.link.deliver(new Outgoing(m(server, N.RPL_KNOCK, params), this.meta()));
    }
  }

  private join(user: User, ch: Channel): void {
    const meta = this.meta(user);
    const plain = new Outgoing(m(user.mask, 'JOIN', [ch.name]), meta);
    const extended = new Outgoing(m(user.mask, 'JOIN', [ch.name, user.account ?? '*', user.realname]), meta);
    const away = user.away !== undefined ? new Outgoing(m(user.mask, 'AWAY', [user.away]), this.meta(user)) : undefined;
    for (const u of ch.members.keys()) {
      u.link.deliver(u.link.hasCap('extended-join') ? extended : plain);
      if (away && u !== user && u.link.hasCap('away-notify')) u.link.deliver(away);
    }
  }

  /** IRCv3 chghost; clients without it see QUIT + JOIN (+ MODE for prefixes), as Ergo does. */
  private chghost(user: User, oldUsername: string, oldHost: string): void {
    const oldMask = `${user.nick}!${oldUsername}@${oldHost}`;
    const cap = new Outgoing(m(oldMask, 'CHGHOST', [user.username, user.host]), this.meta(user));
    const quit = new Outgoing(m(oldMask, 'QUIT', ['Changing host']), this.meta(user));
    if (user.link.hasCap('chghost')) user.link.deliver(cap);
    const seen = new Set<User>();
    for (const u of this.d.world.neighbours(user)) {
      if (u.link.hasCap('chghost')) { u.link.deliver(cap); seen.add(u); }
      else u.link.deliver(quit);
    }
    for (const ch of user.channels) {
      const meta = this.meta(user);
      const plain = new Outgoing(m(user.mask, 'JOIN', [ch.name]), meta);
      const extended = new Outgoing(m(user.mask, 'JOIN', [ch.name, user.account ?? '*', user.realname]), meta);
      const prefixes = ch.members.get(user)?.modes ?? '';
      const mode = prefixes ? new Outgoing(m(this.d.serverName(), 'MODE', [ch.name, `+${prefixes}`, ...[...prefixes].map(() => user.nick)]), this.meta()) : undefined;
      // the "new" user is still away: away-notify clients learn it as after any JOIN
      const away = user.away !== undefined ? new Outgoing(m(user.mask, 'AWAY', [user.away]), this.meta(user)) : undefined;
      for (const u of ch.members.keys()) {
        if (u === user || seen.has(u)) continue;
        u.link.deliver(u.link.hasCap('extended-join') ? extended : plain);
        if (mode) u.link.deliver(mode);
        if (away && u.link.hasCap('away-notify')) u.link.deliver(away);
      }
    }
  }
}
