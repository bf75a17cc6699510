import type { EventMeta } from './bus.js';
import type { ChannelStateDelta } from './channel-sync.js';
import type { Actor } from './actor.js';
import type { ModeChange, MessageLine, StateEvent } from './events.js';
import type { User } from './user.js';
import type { LockdownLevel } from './world.js';

/** A user as a peer names it: network-wide id first (state/ids.ts), then what clients see. */
export interface WireUser { uid: string; nick: string; username: string; host: string; account?: string }

/**
 * The plain, serialisable form of an event (#13): ids and names instead of object references,
 * only strings, numbers, booleans, arrays and plain objects, so it survives JSON (a peer link, a
 * multi-process bus, the audit log) unchanged. What only this server may know stays out: real
 * addresses, sessions, audiences (each server computes its own from its channels).
 */
export type WireEvent =
  /** a channel's durable registers, sent when a link comes up (state/channel-sync.ts); toWire never makes it */
  | ({ kind: 'channel-state' } & ChannelStateDelta)
  /** the origin's link with `peer` went up or down (federation/topology.ts); toWire never makes it */
  | { kind: 'peer-link'; peer: string; name: string; up: boolean }
  /**
   * status: the member's prefix modes on the origin (`o`, `ov`…); ts: when the origin created the
   * channel (Ops.join's TS rule); key: the channel's key when it is +k (federation/peers.ts),
   * checked by the receiver like a local JOIN's; netjoin: sent in a burst (a membership from
   * before the link came up: Ops.join); after: the envelope (origin, sequence number) of the peer's
   * INVITE that admitted this join, which a receiver applies first (federation/peers.ts)
   */
  | { kind: 'join'; user: WireUser; channel: string; status: string; ts: number; key?: string; netjoin?: true; after?: { origin: string; seq: number } }
  | { kind: 'part'; user: WireUser; channel: string; reason?: string }
  | { kind: 'kick'; source: string; by?: WireActor; channel: string; target: WireUser; reason: string }
  | { kind: 'quit'; user: WireUser; reason: string }
  | { kind: 'nick'; user: WireUser; oldMask: string }
  | { kind: 'topic'; source: string; by?: WireActor; channel: string; topic?: { text: string; setBy: string; setAt: number } }
  | { kind: 'channel-mode'; source?: string; by?: WireActor; channel: string; changes: ModeChange[] }
  | { kind: 'user-mode'; user: WireUser; changes: ModeChange[] }
  | { kind: 'away'; user: WireUser; away?: string }
  | { kind: 'setname'; user: WireUser; realname: string }
  | { kind: 'chghost'; user: WireUser; oldUsername: string; oldHost: string }
  | { kind: 'invite'; source: WireUser; target: WireUser; channel: string }
  | { kind: 'knock'; user: WireUser; channel: string; reason?: string }
  | { kind: 'server-notice'; target: WireUser; text: string }
  | { kind: 'account'; user: WireUser }
  | { kind: 'channel-dropped'; channel: string; reason: 'empty' | 'expired' | 'reclaimed' }
  | {
    kind: 'message'; from: WireUser; command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG'; target: string; channel?: string; to?: WireUser;
    minRank?: string; text?: string; lines?: MessageLine[]; tags?: Record<string, string>; msgid: string; at: number;
  }
  /** REDACT (#16): target as the redactor wrote it (a channel, or a nick and the `did` it named); id and at: the REDACT's own */
  | { kind: 'redact'; user: WireUser; target: string; did?: string; msgid: string; reason?: string; id: string; at: number }
  | { kind: 'lockdown'; actor: string; from: LockdownLevel; to: LockdownLevel }
  /** netjoin: sent in a burst (a user from before the link came up: its signonAt is believed from a full peer) */
  | { kind: 'register'; user: WireUser & { realname: string; signonAt: number }; netjoin?: true }
  /** claimed: when the DID claimed the nick (HLC stamp): the earlier claim keeps a nick two DIDs claim (state/nick-claims.ts) */
  | { kind: 'nick-owner'; did: string; nick: string; claimed: string }
  | { kind: 'did-op'; channel: string; did: string; adding: boolean; by: string }
  | { kind: 'handle'; user: WireUser; handle?: string }
  | { kind: 'server-ban'; actor: string; adding: boolean; target: string; banKind: 'mask' | 'ip' | 'cidr'; reason?: string; expiresAt?: number };

/** Who made a change, as a peer names it (a user by uid: the receiver authorizes it again, #14). */
export type WireActor = { kind: 'user'; user: WireUser } | { kind: 'server' | 'operator'; name: string };

/** An event with its origin, sequence number and HLC stamp, as it travels. */
export interface Delta { meta: EventMeta; event: WireEvent }

export function wireUser(u: User): WireUser {
  return u.account === undefined
    ? { uid: u.uid, nick: u.nick, username: u.username, host: u.host }
    : { uid: u.uid, nick: u.nick, username: u.username, host: u.host, account: u.account };
}

function wireActor(a: Actor): WireActor {
  return a.kind === 'user' ? { kind: 'user', user: wireUser(a.user) } : { kind: a.kind, name: a.name };
}

/** `by` when the event names its actor */
const by = (a: Actor | undefined): { by?: WireActor } => (a ? { by: wireActor(a) } : {});

const changes = (c: readonly ModeChange[]): ModeChange[] => c.map((x) => (x.param === undefined ? { adding: x.adding, mode: x.mode } : { adding: x.adding, mode: x.mode, param: x.param }));

/** The serialisable form of `ev` (every kind: the switch is exhaustive). */
export function toWire(ev: StateEvent): WireEvent {
  switch (ev.kind) {
    case 'join': return { kind: 'join', user: wireUser(ev.user), channel: ev.channel.name, status: ev.channel.members.get(ev.user)?.modes ?? '', ts: ev.channel.createdAt };
    case 'part': return ev.reason === undefined ? { kind: 'part', user: wireUser(ev.user), channel: ev.channel.name } : { kind: 'part', user: wireUser(ev.user), channel: ev.channel.name, reason: ev.reason };
    case 'kick': return { kind: 'kick', source: ev.source, ...by(ev.actor), channel: ev.channel.name, target: wireUser(ev.target), reason: ev.reason };
    case 'quit': return { kind: 'quit', user: wireUser(ev.user), reason: ev.reason };
    case 'nick': return { kind: 'nick', user: wireUser(ev.user), oldMask: ev.oldMask };
    case 'topic': {
      const t = ev.channel.topic;
      return t ? { kind: 'topic', source: ev.source, ...by(ev.actor), channel: ev.channel.name, topic: { text: t.text, setBy: t.setBy, setAt: t.setAt } } : { kind: 'topic', source: ev.source, ...by(ev.actor), channel: ev.channel.name };
    }
    case 'channel-mode': return ev.source === undefined ? { kind: 'channel-mode', ...by(ev.actor), channel: ev.channel.name, changes: changes(ev.changes) } : { kind: 'channel-mode', source: ev.source, ...by(ev.actor), channel: ev.channel.name, changes: changes(ev.changes) };
    case 'user-mode': return { kind: 'user-mode', user: wireUser(ev.user), changes: changes(ev.changes) };
    case 'away': return ev.user.away === undefined ? { kind: 'away', user: wireUser(ev.user) } : { kind: 'away', user: wireUser(ev.user), away: ev.user.away };
    case 'setname': return { kind: 'setname', user: wireUser(ev.user), realname: ev.user.realname };
    case 'chghost': return { kind: 'chghost', user: wireUser(ev.user), oldUsername: ev.oldUsername, oldHost: ev.oldHost };
    case 'invite': return { kind: 'invite', source: wireUser(ev.source), target: wireUser(ev.target), channel: ev.channel.name };
    case 'knock': return ev.reason === undefined ? { kind: 'knock', user: wireUser(ev.user), channel: ev.channel.name } : { kind: 'knock', user: wireUser(ev.user), channel: ev.channel.name, reason: ev.reason };
    case 'server-notice': return { kind: 'server-notice', target: wireUser(ev.target), text: ev.text };
    case 'account': return { kind: 'account', user: wireUser(ev.user) };
    case 'channel-dropped': return { kind: 'channel-dropped', channel: ev.channel.name, reason: ev.reason };
    case 'message': {
      const w: Extract<WireEvent, { kind: 'message' }> = { kind: 'message', from: wireUser(ev.from), command: ev.command, target: ev.target, msgid: ev.msgid, at: ev.at };
      if (ev.channel) w.channel = ev.channel.name;
      if (ev.to) w.to = wireUser(ev.to);
      if (ev.minRank !== undefined) w.minRank = ev.minRank;
      // a multiline message travels as its lines only (the joined text holds line feeds, which no
      // wire string may: federation/messages.ts); the receiver joins them again
      if (ev.lines) w.lines = ev.lines.map((l) => ({ text: l.text, concat: l.concat }));
      else if (ev.text !== undefined) w.text = ev.text;
      if (ev.tags) w.tags = Object.fromEntries(ev.tags);
      return w;
    }
    case 'redact': {
      const w: Extract<WireEvent, { kind: 'redact' }> = { kind: 'redact', user: wireUser(ev.user), target: ev.target, msgid: ev.msgid, id: ev.id, at: ev.at };
      if (ev.did !== undefined) w.did = ev.did;
      if (ev.reason !== undefined) w.reason = ev.reason;
      return w;
    }
    case 'lockdown': return { kind: 'lockdown', actor: ev.actor.kind === 'user' ? ev.actor.user.mask : ev.actor.name, from: ev.from, to: ev.to };
    case 'register': return { kind: 'register', user: { ...wireUser(ev.user), realname: ev.user.realname, signonAt: ev.user.signonAt } };
    case 'nick-owner': return { kind: 'nick-owner', did: ev.did, nick: ev.nick, claimed: ev.claimed };
    case 'did-op': return { kind: 'did-op', channel: ev.channel.name, did: ev.did, adding: ev.adding, by: ev.by };
    case 'server-ban': {
      const w: Extract<WireEvent, { kind: 'server-ban' }> = { kind: 'server-ban', actor: ev.actor.kind === 'user' ? ev.actor.user.mask : ev.actor.name, adding: ev.adding, target: ev.target, banKind: ev.banKind };
      if (ev.reason !== undefined) w.reason = ev.reason;
      if (ev.expiresAt !== undefined) w.expiresAt = ev.expiresAt;
      return w;
    }
    case 'handle': return ev.user.handle === undefined ? { kind: 'handle', user: wireUser(ev.user) } : { kind: 'handle', user: wireUser(ev.user), handle: ev.user.handle };
  }
}
