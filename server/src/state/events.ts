import type { Channel } from './channel.js';
import type { Actor } from './actor.js';
import type { User } from './user.js';
import type { LockdownLevel } from './world.js';

export type RelayCommand = 'PRIVMSG' | 'NOTICE' | 'TAGMSG';

/** One line of a draft/multiline message (concat: joins the previous line without a line feed). */
export interface MessageLine { text: string; concat: boolean }

/**
 * A PRIVMSG / NOTICE / TAGMSG that passed every check (state/message-ops.ts): to a channel
 * (`minRank`: STATUSMSG, members with that prefix mode or a higher one) or to one user.
 */
export interface MessageEvent {
  kind: 'message';
  from: User;
  command: RelayCommand;
  /** the target as the sender wrote it (with its STATUSMSG prefix): the relayed line's first parameter */
  target: string;
  channel?: Channel;
  to?: User;
  /** STATUSMSG: the lowest prefix mode that receives it */
  minRank?: string;
  /** undefined for TAGMSG; multiline: the lines joined */
  text?: string;
  lines?: readonly MessageLine[];
  /** the relayed client-only tags, with the origin's signature when signed */
  tags?: ReadonlyMap<string, string>;
  msgid: string;
  /** ms since epoch: the server-time tag */
  at: number;
  /** history keeps it: the sender's acknowledgement waits for the commit */
  stored: boolean;
}

/**
 * REDACT (#16, state/redact-ops.ts): `user` redacted `msgid`, whose content is gone from history.
 * Fan-out gives it to the channel's members (or both sides of the private conversation) that
 * negotiated draft/message-redaction; federation sends it on.
 */
export interface RedactEvent {
  kind: 'redact';
  user: User;
  /** as the redactor wrote it (a channel's own name when the channel exists) */
  target: string;
  channel?: Channel;
  /** a private conversation: its two accounts (history's `dm:<a>,<b>` venue) */
  parties?: readonly [string, string];
  /** a private conversation: the account `target` named */
  did?: string;
  /** the redacted message */
  msgid: string;
  reason?: string;
  /** this REDACT's own msgid and time (the same on every server) */
  id: string;
  at: number;
  /** history keeps it: the redactor's acknowledgement waits for the commit */
  stored: boolean;
}

/** A single mode change as broadcast: '+o nick', '-k', '+b mask'. */
export interface ModeChange { adding: boolean; mode: string; param?: string }

/**
 * What state/ops emits after a mutation. Fan-out (session/fanout.ts) turns each event into
 * lines for the right recipients; federation will forward the same events to peers.
 */
export type StateEvent =
  | { kind: 'join'; user: User; channel: Channel }
  | { kind: 'part'; user: User; channel: Channel; reason?: string }
  | { kind: 'kick'; source: string; /** who kicked (a peer re-authorizes it: #14) */ actor?: Actor; channel: Channel; target: User; reason: string }
  | { kind: 'quit'; user: User; reason: string; /** users who shared a channel (before removal) */ audience: Set<User> }
  | { kind: 'nick'; user: User; oldMask: string; audience: Set<User> }
  | { kind: 'topic'; source: string; actor?: Actor; channel: Channel }
  | { kind: 'channel-mode'; /** mask of the user, or undefined for the server itself */ source?: string; /** who changed them; undefined: this server on its own (auto-op on join) */ actor?: Actor; channel: Channel; changes: ModeChange[] }
  | { kind: 'user-mode'; user: User; changes: ModeChange[] }
  | { kind: 'away'; user: User }
  | { kind: 'setname'; user: User }
  | { kind: 'chghost'; user: User; oldUsername: string; oldHost: string }
  | { kind: 'invite'; source: User; target: User; channel: Channel }
  /** KNOCK (state/knock.ts): `user` asks the operators of `channel` for an invite (710 RPL_KNOCK to them) */
  | { kind: 'knock'; user: User; channel: Channel; reason?: string }
  /** a server NOTICE to one user (e.g. "your nick was taken back by its owner") */
  | { kind: 'server-notice'; target: User; text: string }
  /** the user logged in (account = DID) or out (undefined): IRCv3 account-notify */
  | { kind: 'account'; user: User }
  /**
   * The channel left the world: dropped when its last member left (nothing to keep), by the
   * expiry sweep (channel-expiry / founded-channel-expiry) or reclaimed at max-channels-total.
   * Nobody is on it, so fan-out sends nothing; federation and plugins may follow it.
   */
  | { kind: 'channel-dropped'; channel: Channel; reason: 'empty' | 'expired' | 'reclaimed' }
  | MessageEvent
  | RedactEvent
  /** a user is now on the network: registration completed here (a peer link introduces it), or a peer introduced it (Ops.addRemoteUser) */
  | { kind: 'register'; user: User }
  /** a DID now owns a nick (Ops.bindNick; persisted): federation's nick → DID register */
  | { kind: 'nick-owner'; did: string; nick: string; claimed: string }
  /** a persisted DID op was granted or revoked (also when the user already had +o: no MODE then) */
  | { kind: 'did-op'; channel: Channel; did: string; adding: boolean; by: string }
  /** the handle shown for a user changed (a plugin's displayHandle at login, Ops.setDisplayHandle) */
  | { kind: 'handle'; user: User }
  /** a server ban was added or removed (UBAN, Ops.addServerBan / removeServerBan); its covered users are disconnected by the caller */
  | { kind: 'server-ban'; actor: Actor; adding: boolean; target: string; banKind: 'mask' | 'ip' | 'cidr'; reason?: string; expiresAt?: number }
  /** the lockdown level changed (Ops.setLockdown): operators are told with a server WALLOPS */
  | { kind: 'lockdown'; actor: Actor; from: LockdownLevel; to: LockdownLevel };

export type EventSink = (ev: StateEvent) => void;
