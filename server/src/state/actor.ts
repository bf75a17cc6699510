import type { User } from './user.js';

/**
 * Who asks Ops for a change (#13; federation.md "One authorization path"). Every op is authorized
 * against its actor, the same way whether the request came from a local command, a federated
 * peer or the admin API:
 *  - `user`: a user on this server or on a linked one (`user.origin`); channel rights are the
 *    user's own (membership, prefixes, founder, DID ops)
 *  - `server`: a server acting on its own authority (this one, or a peer with `full` trust): it
 *    sets modes and kicks without being a channel member, as the server does for founders today
 *  - `operator`: an operator acting through the admin API (`name` = the API key's fingerprint)
 */
export type Actor =
  | { kind: 'user'; user: User }
  | { kind: 'server'; name: string }
  | { kind: 'operator'; name: string };

/** A local command passes its User; Ops reads every actor through this. */
export type ActorLike = User | Actor;

export function toActor(by: ActorLike): Actor {
  return 'kind' in by ? by : { kind: 'user', user: by };
}

/** The actor's user, if it is one. */
export function actorUser(a: Actor): User | undefined {
  return a.kind === 'user' ? a.user : undefined;
}

/** What events and stored state name as the source: the user's mask, else the server or operator name. */
export function actorSource(a: Actor): string {
  return a.kind === 'user' ? a.user.mask : a.name;
}

/** Who a persisted grant (DID op, DID invite) is recorded as given by: the account, else the source. */
export function actorGrantor(a: Actor): string {
  return a.kind === 'user' ? (a.user.account ?? a.user.mask) : a.name;
}
