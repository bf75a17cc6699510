import { foldCase } from '../protocol/casemap.js';
import { User, type Recipient } from './user.js';

/** A user another server introduced (federation/apply.ts `register`), as Ops.addRemoteUser takes it. */
export interface RemoteUserSpec {
  /** the introducing server's peer id */
  origin: string;
  /** network-wide id (state/ids.ts), with the origin's prefix (the caller checked it) */
  uid: string;
  nick: string;
  username: string;
  host: string;
  realname: string;
  /** the DID it is logged in as (the caller decides whether to believe it: trust) */
  account?: string;
  signonAt: number;
}

/**
 * The User object of a remote user (#14): no address (`ip` is '', never matched), its origin and
 * uid set. Not yet in the world: Ops.addRemoteUser adds it (and settles a nick collision).
 */
export function remoteUser(id: number, spec: RemoteUserSpec, link: Recipient): User {
  const u = new User(id, '', false, link, spec.signonAt, spec.host);
  u.origin = spec.origin;
  u.uid = spec.uid;
  u.nick = spec.nick;
  u.nickFolded = foldCase(spec.nick);
  u.username = spec.username;
  u.realname = spec.realname;
  if (spec.account !== undefined) u.account = spec.account;
  return u;
}
