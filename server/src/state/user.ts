import type { Channel } from './channel.js';

/** What fan-out needs from a connection; implemented by session/Session. */
export interface Recipient {
  /** bitmask of tag-affecting caps (session/outgoing.ts TagCap) */
  readonly tagMask: number;
  hasCap(cap: string): boolean;
  deliver(out: import('../session/outgoing.js').Outgoing): void;
}

export type OperClass = 'admin' | 'moderator';

export class User {
  nick = '*';
  nickFolded = '';
  username = '';
  realname = '';
  /** displayed host; real addresses are never shown to other users */
  host: string;
  registered = false;
  modes = new Set<string>();
  operClass?: OperClass;
  operName?: string;
  away?: string;
  /** account = the DID the user logged in as with SASL; undefined for guests */
  account?: string;
  /** AT Protocol handle of the account (display only; never used for authorization) */
  handle?: string;
  channels = new Set<Channel>();
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

  get isOper(): boolean {
    return this.modes.has('o');
  }

  get isBot(): boolean {
    return this.modes.has('B');
  }
}
