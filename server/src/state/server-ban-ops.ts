import type { Actor } from './actor.js';
import type { EventSink } from './events.js';
import type { User } from './user.js';
import type { World } from './world.js';

/** A server ban as state sees it (limits/server-bans.ts ServerBan). */
export interface ServerBanRecord {
  target: string;
  kind: 'mask' | 'ip' | 'cidr';
  reason: string;
  setBy: string;
  setAt: number;
  expiresAt?: number;
}

/** The server-ban list (limits/server-bans.ts ServerBans, persisted in storage/repos/server-bans.ts). */
export interface ServerBanPort {
  add(kind: ServerBanRecord['kind'], target: string, durationMs: number | undefined, reason: string, setBy: string): ServerBanRecord;
  remove(kind: ServerBanRecord['kind'], target: string): boolean;
  /** `u` (a local user: its real address is known) is covered by `ban` */
  covers(ban: ServerBanRecord, u: User): boolean;
}

/**
 * UBAN through Ops (#13; it had its own path): the ban is added or removed here, with a
 * `server-ban` event, and the caller learns which connected users it covers. Server bans are
 * this server's policy over its own connections: registered local users it covers, operators
 * excepted (an oper cannot lock the staff out by mistake); remote users are their server's.
 */
export class ServerBanOps {
  constructor(
    private readonly world: World,
    private readonly bans: ServerBanPort,
    private readonly emit: EventSink,
  ) {}

  add(actor: Actor, kind: ServerBanRecord['kind'], target: string, durationMs: number | undefined, reason: string, setBy: string): { ban: ServerBanRecord; covered: User[] } {
    const ban = this.bans.add(kind, target, durationMs, reason, setBy);
    this.emit({ kind: 'server-ban', actor, adding: true, target: ban.target, banKind: ban.kind, reason: ban.reason, expiresAt: ban.expiresAt });
    const covered: User[] = [];
    for (const u of this.world.users.values()) {
      if (u.registered && !u.isOper && u.local && this.bans.covers(ban, u)) covered.push(u);
    }
    return { ban, covered };
  }

  remove(actor: Actor, kind: ServerBanRecord['kind'], target: string): boolean {
    if (!this.bans.remove(kind, target)) return false;
    this.emit({ kind: 'server-ban', actor, adding: false, target, banKind: kind });
    return true;
  }
}
