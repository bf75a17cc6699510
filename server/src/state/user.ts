import { foldCase } from '../protocol/casemap.js';
import type { Channel } from './channel.js';

/**
 * A prepared line as state/ sees it: opaque (session/outgoing.ts Outgoing is one). Declared here so
 * state/ does not depend on the delivery layer (#13).
 */
export interface Deliverable { readonly base: { readonly command: string } }

/** What fan-out needs from a connection; implemented by session/Session. */
export interface Recipient {
  /** bitmask of tag-affecting caps (session/outgoing.ts TagCap) */
  readonly tagMask: number;
  hasCap(cap: string): boolean;
  /**
   * One prepared line (session/outgoing.ts Outgoing, built once and shared by every recipient).
   * Opaque to state/: only the delivery side (session/fanout.ts, a peer link) builds and reads it.
   */
  deliver(out: Deliverable): void;
  /**
   * End this user's presence: a local connection is closed with `ERROR :<reason>` (its QUIT
   * follows through Ops.removeUser); a remote user's link asks its server (#13: commands never
   * tell local from remote users by their class).
   */
  disconnect(reason: string): void;
  /**
   * The iroh endpoint id of a local client connected over iroh (WHOIS 672); undefined for every
   * other transport and for remote users (their endpoint is their own server's to know).
   */
  readonly irohId?: string;
}

const NO_CHANNELS: ReadonlySet<Channel> = new Set();

export type OperClass = 'admin' | 'moderator';

/** A user's mode letters with the Set methods callers use; stored as a short string. */
export class UserModes {
  private letters = '';
  has(m: string): boolean { return m.length === 1 && this.letters.includes(m); }
  add(m: string): this { if (m.length === 1 && !this.letters.includes(m)) this.letters += m; return this; }
  delete(m: string): boolean {
    if (!this.has(m)) return false;
    this.letters = this.letters.replace(m, '');
    return true;
  }
  get size(): number { return this.letters.length; }
  [Symbol.iterator](): IterableIterator<string> { return this.letters[Symbol.iterator](); }
}

export class User {
  /**
   * Network-wide id (#13): the origin server's id prefix and a per-server counter (state/ids.ts
   * UserIds), assigned by Ops.addUser; unique across linked servers, unlike `id`, which is this
   * process's connection number.
   */
  uid = '';
  /**
   * The server the user is connected to: undefined for a local user, else the peer's id. Only
   * a local user has a real address (`ip`); a remote user's is '' and never matched.
   */
  origin?: string;
  nick = '*';
  nickFolded = '';
  username = '';
  realname = '';
  /** displayed host; real addresses are never shown to other users */
  host: string;
  registered = false;
  /** user mode letters (a string, not a Set: an empty Set costs ~165 B per client) */
  readonly modes = new UserModes();
  operClass?: OperClass;
  operName?: string;
  away?: string;
  /** account = the DID the user logged in as with SASL; undefined for guests */
  account?: string;
  /** AT Protocol handle of the account (display only; never used for authorization) */
  handle?: string;
  /** channels joined (a shared empty set until the first join: ~165 B per idle client) */
  private chanSet?: Set<Channel>;
  get channels(): ReadonlySet<Channel> { return this.chanSet ?? NO_CHANNELS; }
  /** Ops.join / Ops.leave only */
  addChannel(ch: Channel): void { (this.chanSet ??= new Set()).add(ch); }
  removeChannel(ch: Channel): void { this.chanSet?.delete(ch); }
  signonAt: number;
  /** last PRIVMSG/NOTICE, for WHOIS idle */
  lastSpokeAt: number;
  /**
   * Pending INVITEs. Channel objects, not names: a channel that is deleted and re-created is a
   * new object, so a stale invite never opens it. Bounded (oldest dropped) in Ops.invite.
   * Created on the first invite (most users never get one; an empty Set is ~100 B per client).
   */
  invitedTo?: Set<Channel>;

  constructor(
    readonly id: number,
    readonly ip: string,
    readonly secure: boolean,
    readonly link: Recipient,
    now: number,
    host: string,
  ) {
    this.signonAt = now;
    this.lastSpokeAt = now;
    this.host = host;
  }

  get mask(): string {
    return `${this.nick}!${this.username}@${this.host}`;
  }

  /**
   * What channel bans/excepts/invexes match globs against (Ops.maskSubject): `nick!user@host` and
   * `nick!user@ip`, folded. Built on the first check and kept: every message to a channel checks
   * its bans, and folding two strings per channel per message was the cost (#12). Whoever changes
   * nick, username or host calls `masksChanged()` (Ops.changeNick, Ops.setHost, USER).
   */
  get foldedMasks(): readonly string[] {
    // the real IP is known for local users only: a remote user is matched on what every server knows
    return (this.folded ??= this.origin === undefined ? [foldCase(this.mask), foldCase(`${this.nick}!${this.username}@${this.ip}`)] : [foldCase(this.mask)]);
  }

  /** connected to this server (not introduced by a peer) */
  get local(): boolean {
    return this.origin === undefined;
  }

  /** nick, username or host changed: the folded masks are built again on the next check */
  masksChanged(): void {
    this.folded = undefined;
  }

  private folded?: string[];

  get isOper(): boolean {
    return this.modes.has('o');
  }

  get isBot(): boolean {
    return this.modes.has('B');
  }
}
