import * as N from '../protocol/numerics.js';
import { ReplyError } from '../protocol/reply-error.js';
import type { Channel } from './channel.js';
import type { ChannelStore, PersistedChannel } from './store.js';
import type { User } from './user.js';
import type { World } from './world.js';

/** Per-connection and per-IP creation rates (limits/channel-creation.ts implements it). */
export interface CreationGate {
  allowed(conn: object, ip: string): boolean;
  record(conn: object, ip: string): void;
}

export interface ChannelLifecycleLimits {
  /** channels that may exist server-wide; at the cap, the oldest empty expiring channel is reclaimed first */
  maxChannelsTotal: number;
  /** channels one DID may found (founded channels are kept for good) */
  maxChannelsPerAccount: number;
  /** ms an empty channel without a founder is kept for its state; 0 = dropped when the last member leaves */
  channelExpiry: number;
  /** per-connection / per-IP creation rates; undefined = none */
  channelCreation?: CreationGate;
  /** metric hook: a creation refused by one of these caps */
  limitHit?: (kind: string) => void;
}

/**
 * #12 finding 8 (guests created ~40 persistent channels/s per IP, never expired): creation caps
 * and the expiry of empty channels. Part of the mutation path — only Ops calls it, inside
 * Ops.join / Ops.leave / Ops.restore — so a federated creation meets the same global and account
 * caps. Operators are exempt from every creation cap.
 *
 * Refusals are `405 ERR_TOOMANYCHANNELS <channel> :<why>`. Considered: Ergo refuses
 * operator-only creation with 403 ERR_NOSUCHCHANNEL (ergo irc/channelmanager.go, Join), which
 * would tell the user the channel does not exist; 437 ERR_UNAVAILRESOURCE is parsed by several
 * client libraries as "nick unavailable" and can make them change nick. 405 is the JOIN failure
 * clients already show verbatim for a channel limit (modern.ircdocs.horse: "the JOIN command
 * failed because the client has joined their maximum number of channels"), and the text says which.
 */
export class ChannelLifecycle {
  /** empty channels waiting for expiry, oldest first (a Set keeps insertion order) */
  private readonly expiring = new Set<Channel>();
  /** DID → channels it founded */
  private readonly founded = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly store: ChannelStore,
    private readonly limits: ChannelLifecycleLimits,
    private readonly clock: { now(): number },
  ) {}

  /**
   * A channel read from the database at startup: nobody is connected, so every channel without a
   * founder is empty. Returns false (and deletes the row) when it has nothing worth keeping or
   * its grace period ran out; otherwise it waits for expiry from when it was emptied (or from
   * now, if it had members when the server stopped).
   */
  restored(ch: Channel, p: PersistedChannel): boolean {
    if (ch.founder !== undefined) {
      this.founded.set(ch.founder, (this.founded.get(ch.founder) ?? 0) + 1);
      return true;
    }
    const now = this.clock.now();
    const since = p.emptySince ?? now;
    if (ch.isDefault || this.limits.channelExpiry === 0 || now - since >= this.limits.channelExpiry) {
      this.store.deleteChannel(ch.folded);
      return false;
    }
    ch.emptySince = since;
    if (p.emptySince === undefined) this.store.saveChannel(ch);
    return true;
  }

  /** After restore: queue the expiring channels oldest first. */
  restoredAll(): void {
    const empty = [...this.world.channels.values()].filter((c) => c.emptySince !== undefined);
    empty.sort((a, b) => a.emptySince! - b.emptySince!);
    for (const c of empty) this.expiring.add(c);
  }

  /** JOIN of a channel that does not exist: throws 405 when a cap refuses it. */
  checkCreate(u: User, name: string): void {
    if (u.isOper) return;
    const gate = this.limits.channelCreation;
    if (gate && !gate.allowed(u, u.ip)) {
      this.refuse('channel-create-rate', name, 'Too many channels created. Please wait a while and try again.');
    }
    const did = u.account;
    const max = this.limits.maxChannelsPerAccount;
    if (did !== undefined && (this.founded.get(did) ?? 0) >= max) {
      this.refuse('channel-account-cap', name, `You have founded the maximum number of channels (${max})`);
    }
    if (this.world.channels.size >= this.limits.maxChannelsTotal && !this.reclaimOne()) {
      this.refuse('channel-total-cap', name, 'The server has too many channels. Please try again later.');
    }
  }

  /** The channel `u` just created: register, persist (only if it has something to keep), count. */
  created(u: User, ch: Channel): void {
    this.world.channels.set(ch.folded, ch);
    // a default channel holds nothing a restart should bring back; the first change persists it
    if (!ch.isDefault) this.store.saveChannel(ch);
    if (ch.founder !== undefined) this.founded.set(ch.founder, (this.founded.get(ch.founder) ?? 0) + 1);
    if (!u.isOper) this.limits.channelCreation?.record(u, u.ip);
  }

  /** Someone joined an empty channel: it no longer expires. */
  occupied(ch: Channel): void {
    if (ch.emptySince === undefined) return;
    ch.emptySince = undefined;
    this.expiring.delete(ch);
    this.store.saveChannel(ch);
  }

  /** The last member left: drop it, keep it (a founder's), or start its grace period. */
  emptied(ch: Channel): void {
    if (ch.founder !== undefined) return;
    if (ch.isDefault || this.limits.channelExpiry === 0) { this.drop(ch); return; }
    ch.emptySince = this.clock.now();
    this.expiring.add(ch);
    this.store.saveChannel(ch);
  }

  /** Drop every empty channel whose grace period is over; returns how many (called by the server's sweep). */
  expire(now = this.clock.now()): number {
    let n = 0;
    for (const ch of this.expiring) {
      if (ch.emptySince === undefined || now - ch.emptySince < this.limits.channelExpiry) break;
      this.drop(ch);
      n++;
    }
    return n;
  }

  /** channels waiting for expiry (metrics, tests) */
  get expiringCount(): number { return this.expiring.size; }

  /** At the global cap: make room by dropping the channel that has been empty longest. */
  private reclaimOne(): boolean {
    const oldest = this.expiring.values().next();
    if (oldest.done) return false;
    this.drop(oldest.value);
    return true;
  }

  private drop(ch: Channel): void {
    this.expiring.delete(ch);
    if (this.world.channels.get(ch.folded) === ch) this.world.channels.delete(ch.folded);
    this.store.deleteChannel(ch.folded);
  }

  private refuse(kind: string, name: string, text: string): never {
    this.limits.limitHit?.(kind);
    throw new ReplyError(N.ERR_TOOMANYCHANNELS, [name], text);
  }
}
