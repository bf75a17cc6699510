import { BlockList, isIP } from 'node:net';
import { foldCase } from '../protocol/casemap.js';
import { CompiledMask } from '../protocol/mask-match.js';
import { canonicalMask } from '../protocol/validate.js';
import type { Clock } from './rate.js';

export type ServerBanKind = 'mask' | 'ip' | 'cidr';

export interface ServerBan {
  /** canonical target: `nick!user@host` glob, an IP address, or `address/prefix` */
  target: string;
  kind: ServerBanKind;
  reason: string;
  /** who set it (oper nick) */
  setBy: string;
  setAt: number;
  /** ms since the epoch; undefined = permanent */
  expiresAt?: number;
}

/** Persistence port (storage/repos/server-bans.ts; table server_bans of migration 3). */
export interface ServerBanStore {
  loadAll(): ServerBan[];
  save(ban: ServerBan): void;
  remove(target: string): void;
}

/** What a ban is checked against: the mask with the displayed host (cloak) and with the real IP. */
export interface BanSubject { nick: string; username: string; host: string; ip: string }

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) → `1.2.3.4`; IPv6 lower-case */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return m ? m[1]! : ip.toLowerCase();
}

/** Classify and canonicalise a UBAN target; undefined when it is none of mask, IP, CIDR. */
export function parseBanTarget(raw: string): { kind: ServerBanKind; target: string } | undefined {
  const t = raw.trim();
  if (t === '' || /[\s,\0]/.test(t)) return undefined;
  if (isIP(t)) return { kind: 'ip', target: normalizeIp(t) };
  const slash = t.indexOf('/');
  if (slash !== -1 && !t.includes('@') && !t.includes('!')) {
    const addr = normalizeIp(t.slice(0, slash));
    const bitsText = t.slice(slash + 1);
    const v = isIP(addr);
    if (!v || !/^\d{1,3}$/.test(bitsText)) return undefined;
    const bits = Number(bitsText);
    if (bits > (v === 4 ? 32 : 128)) return undefined;
    return { kind: 'cidr', target: `${addr}/${bits}` };
  }
  // a bare host-ish word without ! or @ would become `*!*@word`: require a real mask
  if (!t.includes('!') && !t.includes('@')) return undefined;
  const mask = canonicalMask(t);
  if (mask === '*!*@*') return undefined; // would ban everyone
  return { kind: 'mask', target: mask };
}

/** "30m", "2h", "1d", "1w", "90s" → ms; undefined when not a duration */
export function parseBanDuration(s: string): number | undefined {
  const m = /^(\d{1,6})([smhdw])$/i.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n === 0) return undefined;
  return n * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!.toLowerCase() as 's'];
}

/** a ban with its matcher, built once when the ban is added or loaded (#12 finding 13) */
interface Entry { ban: ServerBan; net?: BlockList; glob?: CompiledMask }

function entryOf(ban: ServerBan): Entry {
  return ban.kind === 'mask' ? { ban, glob: new CompiledMask(ban.target) } : { ban, net: netOf(ban) };
}

function netOf(ban: ServerBan): BlockList | undefined {
  if (ban.kind === 'mask') return undefined;
  const bl = new BlockList();
  if (ban.kind === 'ip') bl.addAddress(ban.target, isIP(ban.target) === 6 ? 'ipv6' : 'ipv4');
  else {
    const [addr, bits] = ban.target.split('/') as [string, string];
    bl.addSubnet(addr, Number(bits), isIP(addr) === 6 ? 'ipv6' : 'ipv4');
  }
  return bl;
}

/**
 * Server bans (hardening.md I3, oper command UBAN): by nick!user@host glob mask, IP or CIDR,
 * persisted, with optional expiry. Expired bans are ignored at once and pruned (memory and
 * database) whenever the list is read or checked.
 */
export class ServerBans {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly store: ServerBanStore, private readonly clock: Clock) {}

  /** Load the persisted bans (startup); expired ones are deleted. */
  load(): void {
    this.entries.clear();
    for (const ban of this.store.loadAll()) {
      if (parseBanTarget(ban.target)?.kind !== ban.kind) continue; // not ours to interpret
      this.entries.set(this.key(ban.target, ban.kind), entryOf(ban));
    }
    this.prune();
  }

  /** Add or replace a ban on a target produced by parseBanTarget. */
  add(kind: ServerBanKind, target: string, durationMs: number | undefined, reason: string, setBy: string): ServerBan {
    const now = this.clock.now();
    const ban: ServerBan = { target, kind, reason, setBy, setAt: now, ...(durationMs !== undefined ? { expiresAt: now + durationMs } : {}) };
    const k = this.key(target, kind);
    const old = this.entries.get(k);
    if (old && old.ban.target !== target) this.store.remove(old.ban.target); // same mask, other case
    this.store.save(ban);
    this.entries.set(k, entryOf(ban));
    return ban;
  }

  /** Remove a ban; false if there was none (an expired one counts as none). */
  remove(kind: ServerBanKind, target: string): boolean {
    this.prune();
    const k = this.key(target, kind);
    const e = this.entries.get(k);
    if (!e) return false;
    this.entries.delete(k);
    this.store.remove(e.ban.target);
    return true;
  }

  /** Active bans, oldest first. */
  list(): ServerBan[] {
    this.prune();
    return [...this.entries.values()].map((e) => e.ban).sort((a, b) => a.setAt - b.setAt);
  }

  /** Reason of an active IP or CIDR ban covering `ip`, else undefined (for admission checks). */
  isIpBanned(ip: string): string | undefined {
    const hit = this.findIp(normalizeIp(ip));
    return hit?.reason;
  }

  /** The first active ban matching a user: IP/CIDR on the real IP, masks on the cloak and the IP. */
  match(u: BanSubject): ServerBan | undefined {
    const byIp = this.findIp(normalizeIp(u.ip));
    if (byIp) return byIp;
    const texts = subjectTexts(u);
    for (const e of this.entries.values()) {
      if (e.glob && !this.expired(e.ban) && globCovers(e.glob, texts)) return e.ban;
    }
    return undefined;
  }

  /** Does this (active) ban match `u`? */
  covers(ban: ServerBan, u: BanSubject): boolean {
    const e = this.entries.get(this.key(ban.target, ban.kind));
    return e !== undefined && e.ban === ban && !this.expired(ban) && this.entryCovers(e, u);
  }

  private entryCovers(e: Entry, u: BanSubject): boolean {
    if (e.glob) return globCovers(e.glob, subjectTexts(u));
    const ip = normalizeIp(u.ip);
    const v = isIP(ip);
    return v !== 0 && e.net !== undefined && e.net.check(ip, v === 6 ? 'ipv6' : 'ipv4');
  }

  private findIp(ip: string): ServerBan | undefined {
    const v = isIP(ip);
    if (!v) return undefined;
    const type = v === 6 ? 'ipv6' : 'ipv4';
    let found: ServerBan | undefined;
    let stale = false;
    for (const e of this.entries.values()) {
      if (!e.net) continue;
      if (this.expired(e.ban)) { stale = true; continue; }
      if (!found && e.net.check(ip, type)) found = e.ban;
    }
    if (stale) this.prune();
    return found;
  }

  private expired(b: ServerBan): boolean {
    return b.expiresAt !== undefined && b.expiresAt <= this.clock.now();
  }

  /** Drop expired bans from memory and storage. */
  prune(): void {
    for (const [k, e] of this.entries) {
      if (!this.expired(e.ban)) continue;
      this.entries.delete(k);
      this.store.remove(e.ban.target);
    }
  }

  private key(target: string, kind: ServerBanKind): string {
    return kind === 'mask' ? foldCase(target) : target;
  }
}

/** `nick!user@cloak` and `nick!user@ip`, folded once per check rather than once per mask. */
function subjectTexts(u: BanSubject): [string, string] {
  return [foldCase(`${u.nick}!${u.username}@${u.host}`), foldCase(`${u.nick}!${u.username}@${normalizeIp(u.ip)}`)];
}

function globCovers(g: CompiledMask, texts: [string, string]): boolean {
  return g.test(texts[0]) || g.test(texts[1]);
}
