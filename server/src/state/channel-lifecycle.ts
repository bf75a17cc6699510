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
  /** channels one DID may found (an empty founded channel is kept for foundedChannelExpiry) */
  maxChannelsPerAccount: number;
  /** ms an empty channel without a founder is kept for its state; 0 = dropped when the last member leaves */
  channelExpiry: number;
  /**
   * ms an empty channel with a DID founder is kept; 0 = for good. Without it, did:key founders
   * (free to make) could fill max-channels-total with empty founded channels for good.
   */
  foundedChannelExpiry: number;
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
  /**
   * Empty channels waiting for expiry, oldest first (a Set keeps insertion order): those without
   * a founder, then those with one (foundedChannelExpiry). Two queues, because `expire()` stops at
   * the first channel not yet due, which holds only while insertion order is deadline order — and
   * the two kinds have different grace periods.
   */
  private readonly expiring = new Set<Channel>();
  private readonly expiringFounded = new Set<Channel>();
  /** DID → channels it founded */
  private readonly founded = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly store: ChannelStore,
    private readonly limits: ChannelLifecycleLimits,
    private readonly clock: { now(): number },
    /** a channel left the world (emptied, expired or reclaimed): Ops emits `channel-dropped` */
    private readonly onDropped: (ch: Channel, reason: 'empty' | 'expired' | 'reclaimed') => void = () => {},
  ) {}

  /**
   * A channel read from the database at startup: nobody is connected, so every channel is
   * empty. Returns false (and deletes the row) when it has nothing worth keeping or its grace
   * period ran out; otherwise it waits for expiry from when it was emptied (or from now, if it
   * had members when the server stopped). A founded channel is kept for good with
   * founded-channel-expiry 0.
   */
  restored(ch: Channel, p: PersistedChannel): boolean {
    const now = this.clock.now();
    const since = p.emptySince ?? now;
    if (ch.founder !== undefined) {
      const expiry = this.limits.foundedChannelExpiry;
      if (expiry !== 0 && now - since >= expiry) {
        this.store.deleteChannel(ch.folded);
        return false;
      }
      this.founded.set(ch.founder, (this.founded.get(ch.founder) ?? 0) + 1);
      // with expiry 0 a stored emptySince is kept (not counted): joining clears it
      ch.emptySince = expiry === 0 ? p.emptySince : since;
      if (expiry !== 0 && p.emptySince === undefined) this.store.saveChannel(ch);
      return true;
    }
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
    for (const c of empty) {
      if (c.founder === undefined) this.expiring.add(c);
      else if (this.limits.foundedChannelExpiry !== 0) this.expiringFounded.add(c);
    }
  }

  /** JOIN of a channel that does not exist: throws 405 when a cap refuses it. */
  checkCreate(u: User, name: string): void {
    if (u.isOper) return;
    const gate = this.limits.channelCreation;
    // a peer's user (#14): its own server applied its creation rate (per its connection and IP;
    // here all remote users would share one empty IP); the peer's event rate bounds it here
    if (gate && u.local && !gate.allowed(u, u.ip)) {
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
    if (!u.isOper && u.local) this.limits.channelCreation?.record(u, u.ip);
  }

  /** Someone joined an empty channel: it no longer expires. */
  occupied(ch: Channel): void {
    if (ch.emptySince === undefined) return;
    ch.emptySince = undefined;
    this.expiring.delete(ch);
    this.expiringFounded.delete(ch);
    this.store.saveChannel(ch);
  }

  /**
   * The last member left: drop it, or start its grace period (channel-expiry; a founded channel's
   * founded-channel-expiry, or kept for good when that is 0).
   */
  emptied(ch: Channel): void {
    if (ch.founder !== undefined) {
      if (this.limits.foundedChannelExpiry === 0) return;
      ch.emptySince = this.clock.now();
      this.expiringFounded.add(ch);
      this.store.saveChannel(ch);
      return;
    }
    if (ch.isDefault || this.limits.channelExpiry === 0) { this.drop(ch, 'empty'); return; }
    ch.emptySince = this.clock.now();
    this.expiring.add(ch);
    this.store.saveChannel(ch);
  }

  /** Drop every empty channel whose grace period is over; returns how many (called by the server's sweep). */
  expire(now = this.clock.now()): number {
    let n = 0;
    for (const [queue, expiry] of [[this.expiring, this.limits.channelExpiry], [this.expiringFounded, this.limits.foundedChannelExpiry]] as const) {
      // each queue is in deadline order (one grace period per queue): stop at the first not yet due
      for (const ch of queue) {
        if (ch.emptySince === undefined || now - ch.emptySince < expiry) break;
        this.drop(ch, 'expired');
        n++;
      }
    }
    return n;
  }

  /** channels waiting for expiry (metrics, tests) */
  get expiringCount(): number { return this.expiring.size + this.expiringFounded.size; }

  /**
   * At the global cap: make room by dropping the empty channel closest to its expiry — the head
   * of either queue, whichever deadline comes first (usually one without a founder: its grace
   * period is shorter).
   */
  private reclaimOne(): boolean {
    const plain = this.expiring.values().next();
    const founded = this.expiringFounded.values().next();
    const deadline = (ch: Channel, expiry: number) => ch.emptySince! + expiry;
    let victim: Channel | undefined;
    if (plain.done) victim = founded.done ? undefined : founded.value;
    else if (founded.done) victim = plain.value;
    else {
      victim = deadline(founded.value, this.limits.foundedChannelExpiry) < deadline(plain.value, this.limits.channelExpiry)
        ? founded.value : plain.value;
    }
    if (victim === undefined) return false;
    this.drop(victim, 'reclaimed');
    return true;
  }

  private drop(ch: Channel, reason: 'empty' | 'expired' | 'reclaimed'): void {
    this.expiring.delete(ch);
    this.expiringFounded.delete(ch);
    if (ch.founder !== undefined) {
      const n = (this.founded.get(ch.founder) ?? 0) - 1;
      if (n > 0) this.founded.set(ch.founder, n); else this.founded.delete(ch.founder);
    }
    if (this.world.channels.get(ch.folded) === ch) this.world.channels.delete(ch.folded);
    this.store.deleteChannel(ch.folded);
    this.onDropped(ch, reason);
  }

  private refuse(kind: string, name: string, text: string): never {
    this.limits.limitHit?.(kind);
    throw new ReplyError(N.ERR_TOOMANYCHANNELS, [name], text);
  }
}
