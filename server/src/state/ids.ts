import type { User } from './user.js';

/**
 * Network-wide user ids (#13), TS6-style: the origin server's id prefix, then a per-server
 * counter in base 36. The prefix is the first 8 hex digits of the server's peer id (its ed25519
 * federation key), upper-cased, so ids from different servers never meet; the counter starts
 * again at a restart, when links re-introduce every user anyway.
 */
export class UserIds {
  readonly prefix: string;
  private n = 0;

  constructor(serverId: string) {
    this.prefix = serverIdPrefix(serverId);
  }

  next(): string {
    return `${this.prefix}${(this.n++).toString(36).toUpperCase().padStart(6, '0')}`;
  }
}

/** The uid prefix of a server: the first 8 characters of its peer id, upper-cased. */
export function serverIdPrefix(serverId: string): string {
  return serverId.slice(0, 8).toUpperCase();
}

/**
 * The nick-collision rule federation uses (#13; written down in docs/architecture.md): when two
 * users hold one nick (a peer introduced a user or a nick change onto a nick held here, or two
 * peers raced), the user logged in as the DID that owns the nick wins; otherwise the earlier
 * registration (`signonAt`), then the smaller uid. Every server computes the same winner without
 * asking the others. The loser is renamed, never killed. Returns the loser.
 */
export function collisionLoser(a: User, b: User, owner: string | undefined): User {
  if (owner !== undefined) {
    const aOwns = a.account === owner, bOwns = b.account === owner;
    if (aOwns !== bOwns) return aOwns ? b : a;
  }
  if (a.signonAt !== b.signonAt) return a.signonAt < b.signonAt ? b : a;
  return a.uid < b.uid ? b : a;
}
