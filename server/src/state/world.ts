import { foldCase } from '../protocol/casemap.js';
import { Channel } from './channel.js';
import type { User } from './user.js';

/** hardening.md I3: who may connect and register now (LOCKDOWN, PUT /api/v1/admin/lockdown) */
export type LockdownLevel = 'off' | 'sasl-only' | 'closed';
export const LOCKDOWN_LEVELS: readonly LockdownLevel[] = ['off', 'sasl-only', 'closed'];
export const LOCKDOWN_MEANING: Readonly<Record<LockdownLevel, string>> = {
  off: 'new connections are admitted normally',
  'sasl-only': 'new clients must log in with SASL to register',
  closed: 'new connections are refused except from limit-exempt addresses',
};

/** A server of the network this server is linked with (#14): LINKS, MAP, WHOIS of its users. */
export interface NetServer {
  /** its peer id (state/user.ts `origin` of its users) */
  readonly id: string;
  /** its server name, from its hello */
  readonly name: string;
  readonly linkedAt: number;
  /** users it has here now */
  users: number;
  /** hops from this server (1: a direct link) */
  hops: number;
  /** the name of the server it is reached through */
  via: string;
}

export interface WhowasEntry { nick: string; username: string; host: string; realname: string; at: number; account?: string }

/**
 * The in-memory world. Read freely; mutate only through state/ops (one mutation path for local
 * commands and, later, federation).
 */
export class World {
  /** every connected user, registered or not, by id */
  constructor(lockdown: LockdownLevel = 'off') {
    this.lockdown = lockdown;
  }

  readonly users = new Map<number, User>();
  /** nick index (folded) — includes nicks reserved by users still registering */
  readonly nicks = new Map<string, User>();
  readonly channels = new Map<string, Channel>();
  readonly whowas: WhowasEntry[] = [];
  /** nick ownership: folded nick → owning DID (a DID owns at most one nick; persisted in accounts) */
  readonly nickOwners = new Map<string, string>();
  /** DID → the nick it owns, as last used, and when it claimed it (HLC; state/nick-claims.ts) */
  readonly accountNicks = new Map<string, { nick: string; folded: string; claimed: string }>();
  /** the lockdown level (Ops.setLockdown only); starts at the `lockdown` option */
  lockdown: LockdownLevel;
  /** the other servers of the network, by peer id (Ops.serverLinked / serverSplit) */
  readonly servers = new Map<string, NetServer>();
  registeredCount = 0;
  /** registered users of other servers (included in registeredCount) */
  remoteCount = 0;
  maxRegistered = 0;
  /** most local registered users at once */
  maxLocal = 0;
  operCount = 0;
  /** registered users with user mode +i (LUSERS without a scan) */
  invisibleCount = 0;

  findUser(nick: string): User | undefined {
    const u = this.nicks.get(foldCase(nick));
    return u?.registered ? u : undefined;
  }

  findChannel(name: string): Channel | undefined {
    return this.channels.get(foldCase(name));
  }

  /**
   * The channel as `u` may know it: a secret (+s) or private (+p) channel that `u` is not on is
   * answered exactly as a channel that does not exist (#12 finding 14: MODE / TOPIC / PART / KICK /
   * INVITE / NAMES told outsiders a +s channel's existence and modes). Callers echo the name as the
   * user typed it, never `ch.name`, so the case does not give it away either. Server operators
   * see every channel, as WHO and WHOIS show them (a non-member oper still gets 442/482 where
   * membership or channel-operator status is needed, and a +k key shows as `*`).
   */
  visibleChannel(name: string, u: User): Channel | undefined {
    const ch = this.findChannel(name);
    return ch && (!ch.hidden || u.isOper || ch.members.has(u)) ? ch : undefined;
  }

  /** users who share at least one channel with `u`, not including `u` */
  neighbours(u: User): Set<User> {
    const out = new Set<User>();
    for (const ch of u.channels) for (const m of ch.members.keys()) if (m !== u) out.add(m);
    return out;
  }

  sharesChannel(a: User, b: User): boolean {
    for (const ch of a.channels) if (ch.members.has(b)) return true;
    return false;
  }
}
